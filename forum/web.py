"""HTTP wiring: blueprints, error handlers, security headers and sign-in (template globals: templating.py)."""
from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, current_app, flash, g, jsonify, make_response, session, url_for
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from . import ratelimit, templating, views
from .api.core import ApiError
from .extensions import db, login_manager
from .headers import security_headers
from .models import User
from .models.base import utcnow
from .services import devices, mail_throttle
from .services.errors import FieldError, ServiceError
from .services.moderation import suspension_message
from .services.posts import without_nul
from .services.sso import check_settings as check_sso_settings
from .services.throttle import parse_limits
from .views import private
from .views.errorpages import error_response, is_api, wants_json

# Uploaded images are larger than any form: the upload route reads up to this much more than
# UPLOAD_MAX_BYTES (multipart framing), so a file a little over the limit gets the service's
# clear 413 and anything larger werkzeug's.
UPLOAD_FORM_SLACK = 64 * 1024


class ForumRequest(Request):
    """Drops NUL characters from submitted form values (``services.posts.without_nul``, the rule
    the API's parser follows too). Cleaning them at the boundary protects every form, present
    and future.
    """

    @property
    def max_content_length(self) -> int | None:
        """MAX_CONTENT_LENGTH, except for the image upload route (UPLOAD_MAX_BYTES)."""
        if self.url_rule is not None and self.url_rule.endpoint == "uploads.create" and current_app:
            return int(current_app.config["UPLOAD_MAX_BYTES"]) + UPLOAD_FORM_SLACK
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form is not None and any("\x00" in v for _, v in form.items(multi=True)):
            self.__dict__["form"] = ImmutableMultiDict([(k, without_nul(v)) for k, v in form.items(multi=True)])


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # The cookie holds "id:session_token:device_key"; a rotated token (password change or
    # reset) or a deleted device row (signed out, ended on /settings/sessions) no longer
    # matches, so a replayed cookie signs nobody in. Cookies from before device rows
    # ("id:token") sign in no more.
    ident, _, rest = user_id.partition(":")
    token, _, key = rest.partition(":")
    if not ident.isdigit() or not token or not key:
        return None
    found = devices.load(int(ident), key)
    if found is None:
        return None
    user, device = found
    if user.session_token != token or user.deleted_at is not None:
        return None
    now = utcnow()
    if user.is_suspended(now):
        _sign_out_suspended(user)
        return None
    user.device_key = key
    if devices.touch_due(device, now):
        g.touch_device = device.id  # written after the request (_touch_device), not on every page
    return user


def _touch_device(response: Response) -> Response:
    """after_request: note when a signed-in device was last seen (at most every SESSION_LAST_SEEN_MINUTES)."""
    device_id = g.pop("touch_device", None)
    if device_id is not None:
        try:
            devices.touch(device_id, utcnow())
        except Exception:  # "last seen" is a convenience; the page must not fail for it
            current_app.logger.warning("could not note when device %s was last seen", device_id, exc_info=True)
    return response


def _sign_out_suspended(user: User) -> None:
    """End this browser's session of a suspended user, once, telling them why."""
    for key in ("_user_id", "_fresh", "_id"):
        session.pop(key, None)
    session["_remember"] = "clear"  # Flask-Login drops the remember-me cookie too
    flash(suspension_message(user), "error")


def _first_invalid(exc: HTTPException) -> tuple[str, None, str | None]:
    """The message and field of the first error webargs found, e.g. ("Missing data for required
    field.", None, "title"), from ``{"json": {"title": ["Missing data ..."]}}``."""
    messages: Any = (getattr(exc, "data", None) or {}).get("messages") or {}
    path: list[str] = []
    while isinstance(messages, dict) and messages:
        key, messages = next(iter(messages.items()))
        path.append(str(key))
    while isinstance(messages, list) and messages:
        messages = messages[0]
    location = path[0] if path and path[0] in ("json", "query", "form", "headers", "view_args", "path") else None
    field = ".".join(path[1:] if location else path) or None
    text = messages if isinstance(messages, str) else "The request's data is not valid."
    return (f"{field}: {text}" if field else text), None, field


PROXY_FIX_HEADERS = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")


def install_proxy_fix(app: Flask) -> None:
    """Trust the X-Forwarded-* headers of as many reverse proxies as PROXY_FIX_X_* say.

    Behind nginx, ``request.remote_addr`` is otherwise the proxy's address for every visitor,
    so the sign-in throttle would count all of them as one IP. Off by default (all 0): without
    a proxy that overwrites them, the headers are the client's to invent.
    """
    counts = {name: int(app.config[f"PROXY_FIX_{name.upper()}"]) for name in PROXY_FIX_HEADERS}
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)  # type: ignore[method-assign]


#: The largest id a row can have: the keys are SQL ``INTEGER`` (32-bit in PostgreSQL, which
#: refuses a larger value in ``WHERE id = %s::INTEGER`` with an error).
ID_MAX = 2**31 - 1


class BoundedInt(IntegerConverter):
    """``<int:…>`` in a path, at most :data:`ID_MAX`: a longer number is a 404 like any unknown
    id, where the database would refuse the query (a 500) and the OpenAPI document would promise
    ids no column can hold."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, ID_MAX if max is None else max, signed)


def init_app(app: Flask) -> None:
    app.request_class = ForumRequest
    app.url_map.converters["int"] = BoundedInt  # before any rule is added
    install_proxy_fix(app)
    parse_limits(app.config)  # a mistyped LOGIN_THROTTLE_PER_* stops the start, not a sign-in
    ratelimit.init_app(app)  # the same for RATE_LIMIT_*
    mail_throttle.check_settings(app.config)  # and so does a mistyped *_THROTTLE_PER_* of account mail
    check_sso_settings(app.config)  # likewise SSO_ONLY without a provider
    views.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    templating.init_app(app)
    app.after_request(_touch_device)
    private.init_app(app)

    # Each handler rolls back first: the page (bell count, banners) must not read from a
    # transaction that failed, which PostgreSQL refuses. A write view's own transaction was
    # already rolled back by @writes (forum/views/formglue.py).
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Response:
        db.session.rollback()
        # A refusal for lack of reputation links to the page listing the privileges.
        help_url = url_for("help.privileges") if getattr(exc, "privilege", None) else None
        field = exc.field if isinstance(exc, FieldError) else None
        # The API answers every invalid input with 422 "invalid", the schema's and the rules' alike.
        status = 422 if field is not None and is_api() else exc.status
        response = make_response(error_response(status, exc.message or None, help_url, field))
        retry_after = getattr(exc, "retry_after", None)
        if exc.status == 429 and retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(exc: RateLimitExceeded) -> Response:
        # A form page comes back with what was typed, the composer's helpers get JSON, the rest
        # the error page; all with Retry-After (forum/ratelimit.py).
        db.session.rollback()
        spec, message, wait = ratelimit.refusal()
        if spec is not None and spec.json:
            response = make_response(jsonify(error={"code": "rate_limited", "status": 429, "message": message}), 429)
        elif spec is not None and spec.page is not None and not wants_json():
            response = make_response(spec.page(message), 429)
        else:
            response = make_response(error_response(429, message))
        response.headers["Retry-After"] = str(wait)
        return response

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        db.session.rollback()
        response = make_response(error_response(exc.status, exc.message, field=exc.field, code=exc.code))
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> tuple[Any, int]:
        db.session.rollback()
        current_app.logger.info("CSRF rejected: %s", exc.description)
        return error_response(400, "Your form expired or came from another site. Reload the page and try again; "
                                   "your text is not saved.")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        db.session.rollback()
        if exc.code == 422 and is_api():  # the API's input schema refused (webargs): name the first field
            return error_response(422, *_first_invalid(exc))
        response = error_response(exc.code, None)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            body, status = response
            return body, status, {"Allow": ", ".join(exc.valid_methods)}  # type: ignore[attr-defined]
        return response

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in security_headers(app.config):
            response.headers.setdefault(name, value)
        return response
