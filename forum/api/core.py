"""What every API view shares: the token check, scopes, errors, cursors, ETags, idempotency.

The API is a thin layer over the same services as the pages (``forum/services``): a view parses
its input with a marshmallow schema (flask-smorest documents it in the OpenAPI), makes one
service call and dumps the result with a schema. Writes commit once through ``@writes`` like
the pages' POST views (``forum/views/formglue.py``). Nothing here reads the session cookie:
``authenticate`` (a before_request of every API blueprint) sets Flask-Login's user for the
request from the ``Authorization: Bearer`` token, or leaves it anonymous, so a browser's
cookies never act on the API and the API needs no CSRF token.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Request, Response, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_smorest import Blueprint
from flask_smorest.utils import load_info_from_docstring
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import ImmutableMultiDict

from ..extensions import db, login_manager
from ..models import ApiIdempotencyKey, User
from ..models.base import utcnow
from ..services import api_tokens
from ..services.posts import without_nul
from ..views.formglue import writes
from .schemas import Error

P = ParamSpec("P")
R = TypeVar("R")

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 255


class ApiError(Exception):
    """An API refusal that is not a service's: answered as ``{"error": {"code", "message", "field"}}``
    with ``status`` (and ``headers``) by the error handler in ``forum/web.py``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def _without_nul_deep(value: Any) -> Any:
    """``without_nul`` applied to every string in a JSON value (keys included)."""
    if isinstance(value, str):
        return without_nul(value)
    if isinstance(value, list):
        return [_without_nul_deep(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul_deep(k): _without_nul_deep(v) for k, v in value.items()}
    return value


class _Parser(FlaskParser):
    """webargs' parser, with NUL characters dropped from the query's and the JSON body's strings
    (``services.posts.without_nul``), as ``ForumRequest`` drops them from forms."""

    def load_json(self, req: Request, schema: Any) -> Any:
        return _without_nul_deep(super().load_json(req, schema))

    def load_querystring(self, req: Request, schema: Any) -> Any:
        return self._makeproxy(ImmutableMultiDict([(without_nul(k), without_nul(v))
                                                   for k, v in req.args.items(multi=True)]), schema)


class ApiBlueprint(Blueprint):
    """A resource of the API: its operations are tagged ``title`` in the OpenAPI document (and
    grouped under it on /api/docs) rather than by the blueprint's endpoint prefix."""

    ARGUMENTS_PARSER = _Parser()

    def __init__(self, name: str, import_name: str, *, title: str, **options: Any) -> None:
        super().__init__(name, import_name, **options)
        self.title = title

    def route(self, rule: str, *, parameters: Any = None, tags: Any = None, **options: Any) -> Any:
        return super().route(rule, parameters=parameters, tags=tags or [self.title], **options)


def api_blueprint(name: str, description: str, title: str | None = None) -> Blueprint:
    """A blueprint of the API under /api/v1; ``api_<name>`` is its endpoint prefix (the site's
    blueprints have the plain names); ``title`` (default: the name, capitalised) its OpenAPI tag."""
    bp = ApiBlueprint(f"api_{name}", __name__, title=title or name.capitalize(), url_prefix="/api/v1",
                      description=description)
    bp.before_request(authenticate)
    bp.before_request(no_nul_in_path)
    bp.after_request(finish)
    return bp


# --------------------------------------------------------------------------- authentication

def _unauthorized(message: str, error: str = "invalid_token") -> ApiError:
    return ApiError(401, "unauthorized", message,
                    headers={"WWW-Authenticate": f'Bearer realm="api", error="{error}"'})


def authenticate() -> None:
    """before_request: the request's user is the token's member, or anonymous without a token.

    Raises ApiError(401) for a malformed Authorization header or a token that is unknown,
    revoked or expired, or whose member is suspended or deleted.
    """
    g._login_user = login_manager.anonymous_user()  # never the session cookie's member
    header = request.headers.get("Authorization")
    if header is None:
        return
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise _unauthorized("Send the token as 'Authorization: Bearer <token>'.", "invalid_request")
    now = utcnow()
    token = api_tokens.authenticate(secret.strip(), now)
    if token is None:
        raise _unauthorized("This token is not valid: it may have been revoked or have expired.")
    g.api_token = token
    g._login_user = token.user
    if api_tokens.touch_due(token, now):
        g.api_token_touch = token.id


def no_nul_in_path() -> None:
    """before_request: raises ApiError(404) for a path segment with a NUL character (no name has
    one, and PostgreSQL would refuse the query: a 500). ``<int:…>`` parts are bounded by the
    site's converter (``web.BoundedInt``)."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and "\x00" in value:
            raise ApiError(404, "not_found", "There is nothing here.")


def finish(response: Response) -> Response:
    """after_request: note the token's use, never cache another member's answer, answer a
    GET whose ETag the client already has with 304."""
    token_id = g.pop("api_token_touch", None)
    if token_id is not None:
        try:
            api_tokens.touch(token_id, utcnow())
        except Exception:
            current_app.logger.warning("could not note when API token %s was last used", token_id, exc_info=True)
    response.headers["Cache-Control"] = "private, no-cache" if g.get("api_token") else "no-cache"
    response.vary.add("Authorization")
    if request.method in ("GET", "HEAD") and response.status_code == 200 and response.is_json:
        response.add_etag()
        response.make_conditional(request)
    return response


def viewer() -> User | None:
    """The token's member, or None for an anonymous call."""
    user = current_user._get_current_object()
    return user if getattr(user, "is_authenticated", False) else None


def member() -> User:
    """The token's member. Raises ApiError(401) for an anonymous call."""
    user = viewer()
    if user is None:
        raise _unauthorized("Sign this call with a personal access token (Authorization: Bearer).", "invalid_request")
    return user


def _require_scope(scope: str) -> None:
    token = g.get("api_token")
    if token is None:
        if scope == "read":
            return  # public reads need no token
        raise _unauthorized("Sign this call with a personal access token (Authorization: Bearer).",
                            "invalid_request")
    if not token.has_scope(scope):
        raise ApiError(403, "insufficient_scope", f"This token lacks the '{scope}' scope.",
                       headers={"WWW-Authenticate": f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'})


def reads(scopes: Sequence[str] = ("read",)) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A read: open to anonymous callers for ``("read",)``; a token must carry every scope."""
    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            for scope in scopes:
                _require_scope(scope)
            if "read" not in scopes:
                raise RuntimeError("a read needs the read scope")
            return view(*args, **kwargs)
        return _documented(run, scopes, anonymous=tuple(scopes) == ("read",), read=True)
    return decorate


def changes(scope: str = "write") -> Callable[[Callable[P, ResponseReturnValue]], Callable[P, ResponseReturnValue]]:
    """A write: a token with ``scope`` is required (401 without one, 403 without the scope),
    and the view runs as one transaction (``@writes``: committed when it answers below 400)."""
    def decorate(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
        committed = writes(view)

        @wraps(committed)
        def run(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            _require_scope(scope)
            return committed(*args, **kwargs)
        return _documented(run, (scope,), anonymous=False, read=False)
    return decorate


#: Documents responses only: ``alt_response`` is a Blueprint method, and these are every view's.
_errors_doc = Blueprint("api_errors_doc", __name__)

_WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "`Bearer realm=\"api\", error=\"…\"`",
                                          "schema": {"type": "string"}}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                                "schema": {"type": "string"}}}
#: What any call can be answered, whatever the view: documented once here (schemathesis checks
#: every status the API answers against the document).
_COMMON_ERRORS: dict[int, dict[str, Any]] = {
    401: {"description": "The Authorization header is malformed, or the token is unknown, revoked or expired "
                         "(for a write, also: no token).", "headers": _WWW_AUTHENTICATE},
    403: {"description": "The token lacks a scope this call needs (`insufficient_scope`), or the member may "
                         "not do this (as on the pages).", "headers": _WWW_AUTHENTICATE},
    429: {"description": "Too many calls from this token or address (`rate_limited`).", "headers": _RETRY_AFTER},
}
_INPUT_ERRORS: dict[int, dict[str, Any]] = {
    400: {"description": "A body that is not JSON, a cursor this API did not hand out, or a bad "
                         f"{IDEMPOTENCY_HEADER} (`invalid`, naming the `field`)."},
    422: {"description": "Invalid input (`invalid`, naming the `field`)."},
}
_BODY_ERRORS: dict[int, dict[str, Any]] = {
    413: {"description": "The body is larger than the site accepts (`too_large`)."},
}


def _documented(view: Callable[P, R], scopes: Sequence[str], *, anonymous: bool, read: bool) -> Callable[P, R]:
    """The view's scopes, security and the error responses every such call may get.

    Reads answer 304 to a matching If-None-Match; a view that takes input may answer 400 and
    422 (a write always may: its service's FieldErrors are 422). flask-smorest documents 422
    itself for a view with ``@bp.arguments``, so it is not added twice.
    """
    note = "Scopes: " + ", ".join(f"`{s}`" for s in scopes) + (" (or no token: public data only)." if anonymous else ".")
    security: list[dict[str, list[str]]] = ([{}] + BEARER) if anonymous else BEARER
    apidoc = getattr(view, "_apidoc", {})
    takes_input = bool(apidoc.get("arguments")) or not anonymous
    documented = {int(status) for part in ("response", "arguments")
                  for status in apidoc.get(part, {}).get("responses", {}) if str(status).isdigit()}
    errors = dict(_COMMON_ERRORS)
    if takes_input:
        errors.update(_INPUT_ERRORS)
    if not read:
        errors.update(_BODY_ERRORS)
    for status, doc in sorted(errors.items()):
        if status not in documented:
            view = _errors_doc.alt_response(status, schema=Error, **doc)(view)
    if read and 304 not in documented:
        view = _errors_doc.alt_response(304, description="Not Modified: the If-None-Match ETag is current.")(view)
    # The scopes lead the operation's description; the docstring's paragraphs after its first
    # line (which flask-smorest makes the summary) follow them instead of being replaced.
    details = load_info_from_docstring(view.__doc__ or "").get("description")
    return Blueprint.doc(security=security, description=f"{note}\n\n{details}" if details else note)(view)


# --------------------------------------------------------------------------- cursors

def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor for the position after the row whose sort key is ``values``."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


#: The largest number a cursor may hold: the database's INTEGER (ids, counts, scores).
CURSOR_INT_MAX = 2**31 - 1


def decode_cursor(cursor: str | None, types: Sequence[type]) -> list[Any] | None:
    """The sort key a cursor holds, each value checked against ``types`` (int, str or datetime).

    Raises ApiError(400, field "cursor") for a cursor this API did not hand out.
    """
    if not cursor:
        return None
    bad = ApiError(400, "invalid", "This cursor is not valid; start again from the first page.", "cursor")
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if not isinstance(raw, list) or len(raw) != len(types):
        raise bad
    values: list[Any] = []
    for value, kind in zip(raw, types, strict=True):
        # Only what a column can hold: PostgreSQL refuses to compare an INTEGER with a larger
        # number, or text with a NUL (a 500 instead of this 400), and a time must have a UTC.
        if kind is datetime and isinstance(value, str):
            try:
                when = datetime.fromisoformat(value)
                values.append(when if when.tzinfo is None else when.astimezone(timezone.utc))
            except (ValueError, OverflowError):
                raise bad from None
        elif (kind is int and isinstance(value, int) and not isinstance(value, bool)
              and -CURSOR_INT_MAX <= value <= CURSOR_INT_MAX):
            values.append(value)
        elif kind is str and isinstance(value, str) and "\x00" not in value:
            values.append(value)
        else:
            raise bad
    return values


def page_of(items: list[Any], limit: int, key: Callable[[Any], Sequence[Any]]) -> dict[str, Any]:
    """``{"items", "next_cursor"}`` from up to ``limit + 1`` rows (the extra one says a next page exists)."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode_cursor(key(items[-1])) if more and items else None}


def page_limit(raw: int | None) -> int:
    return min(int(raw or current_app.config["API_PAGE_SIZE"]), int(current_app.config["API_PAGE_MAX"]))


# --------------------------------------------------------------------------- idempotency

def idempotent(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """A create that an ``Idempotency-Key`` header makes safe to retry.

    Inside the ``changes`` transaction: a key this token used before for the same method, path
    and body answers the stored response again (``Idempotent-Replayed: true``) and writes
    nothing; the same key with another body or path is refused (422). A first use runs the
    view and stores its response with the write, so both commit or neither; two concurrent
    requests with one key meet at the unique index, and the loser rolls back and replays.
    Refusals (4xx) are not stored: a retry after one runs again.
    """
    @wraps(view)
    def run(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        token = g.get("api_token")
        if key is None or token is None:
            return view(*args, **kwargs)
        key = key.strip()
        if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
            raise ApiError(400, "invalid", f"{IDEMPOTENCY_HEADER} must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters.",
                           IDEMPOTENCY_HEADER)
        fingerprint = hashlib.sha256(request.get_data()).hexdigest()
        stored = _stored(token.id, key)
        if stored is not None:
            return _replay(stored, fingerprint)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code >= 400:
            return response
        row = ApiIdempotencyKey(token_id=token.id, key=key, method=request.method, path=request.path,
                                fingerprint=fingerprint, status=response.status_code,
                                body=response.get_data(as_text=True), location=response.headers.get("Location", ""))
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            # Another request with this key committed first: undo ours, answer theirs.
            db.session.rollback()
            stored = _stored(token.id, key)
            if stored is None:
                raise
            return _replay(stored, fingerprint)
        return response

    return Blueprint.doc(parameters=[{
        "in": "header", "name": IDEMPOTENCY_HEADER, "required": False,
        "description": "Any unique string (a UUID): a retry with the same key returns the first response "
                       "instead of creating again (kept for API_IDEMPOTENCY_HOURS).",
        "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
    }])(run)


def _stored(token_id: int, key: str) -> ApiIdempotencyKey | None:
    return db.session.scalar(select(ApiIdempotencyKey).where(ApiIdempotencyKey.token_id == token_id,
                                                             ApiIdempotencyKey.key == key))


def _replay(stored: ApiIdempotencyKey, fingerprint: str) -> Response:
    if stored.method != request.method or stored.path != request.path or stored.fingerprint != fingerprint:
        raise ApiError(422, "idempotency_key_reused",
                       f"This {IDEMPOTENCY_HEADER} was used for a different request; use a new key.",
                       IDEMPOTENCY_HEADER)
    response = Response(stored.body, status=stored.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    if stored.location:
        response.headers["Location"] = stored.location
    return response
