"""Rate limits per route: per client IP and, for a signed-in member, per account (Flask-Limiter).

A view opts in with ``@limited(name, ...)`` placed under ``@bp.route`` and ``@writes`` (so a
refusal from inside a write view is rolled back like any other). The limits are settings,
read at each request so tests and operators can change them:

* ``RATE_LIMIT_<NAME>_PER_IP``: every request from one client address
  (``request.remote_addr``; right behind a proxy only with ``PROXY_FIX_X_FOR``);
* ``RATE_LIMIT_<NAME>_PER_ACCOUNT``: every request of one signed-in member.

Each is in the ``limits`` notation ("60 per minute", several joined with ";"); an empty
setting turns that one off, ``RATE_LIMITS_ENABLED = False`` all of them. ``staff_exempt=True``
lets agents, moderators and admins through (a support agent searching all day). The named
limits are listed in :data:`LIMITS`; a new one is a name there and its settings in config.py::

    @bp.route("/register", methods=["GET", "POST"])
    @writes
    @limited("register", methods=["POST"], page=form_page("auth/register.html", RegisterForm))
    def register() -> ResponseReturnValue: ...

Password-reset and confirmation mail are throttled by ``services/mail_throttle.py`` (per
address, IP and account, in the same store), not here.

Counts live in Redis when ``REDIS_URL`` is set (every worker and host shares them), in the
process's memory otherwise; moving windows. If Redis cannot be reached the request goes
through and Flask-Limiter logs the error: an outage of the store must not take the site down.

A refused request answers (``web.py``, ``refusal``) 429 with ``Retry-After`` (seconds) and,
by what the view said: ``page``: the same form again, with what the user typed and the wait above it (``form_page``);
``json=True`` (the composer's helpers): ``{"error": {"status": 429, "message": ...}}``;
otherwise the error page in the site layout (JSON for clients that ask for it).

One ``Limiter`` for the process, as the decorators need it at import; ``init_app`` points it at
the app's storage (one app per process in production; tests build an app per test, each with
fresh in-memory counts). Decorate a view once, at import: Flask-Limiter keys its limits by the
function's qualified name, so a second decoration would count every request twice. Costs
about 0.06 ms a request (a before-request hook on every route, measured on /help/privileges).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_login import current_user
from limits import parse_many

V = TypeVar("V", bound=Callable[..., Any])
Page = Callable[[str], ResponseReturnValue]

#: The named limits and what a refusal says (settings ``RATE_LIMIT_<NAME>_PER_*`` in config.py).
LIMITS: dict[str, str] = {
    "login": "Too many sign-in attempts from your network.",
    "register": "Too many new accounts from your network.",
    "preview": "The preview is updating too often.",
    "search": "You're searching faster than we can answer.",
    "similar": "Too many lookups of similar questions.",
    "upload": "You're adding images faster than we accept them.",
    "drafts": "Your draft is being saved too often; it is kept in this browser meanwhile.",
    "tag_suggestions": "Too many tag lookups.",
    "beacon": "Too many reports from this page.",
    "api": "Too many API calls.",
}
SCOPES = ("PER_IP", "PER_ACCOUNT")
ATTRIBUTE = "_forum_rate_limit"

limiter = Limiter(
    key_func=lambda: request.remote_addr or "unknown",
    strategy="moving-window",
    swallow_errors=True,  # a store outage lets requests through (logged by "flask-limiter")
    headers_enabled=False,  # Retry-After is set on the 429 only (see _too_many)
)


@dataclass(frozen=True)
class Spec:
    """What ``limited`` said about a view: its limit's name and how to answer a refusal."""

    name: str
    page: Page | None
    json: bool


def setting_name(name: str, scope: str) -> str:
    return f"RATE_LIMIT_{name.upper()}_{scope}"


def _value(name: str, scope: str) -> str:
    return str(current_app.config.get(setting_name(name, scope)) or "")


def _is_staff() -> bool:
    return bool(current_user.is_authenticated and current_user.is_staff)


def _account_key() -> str:
    # An API call counts against its token, not the member's pages (forum/api/auth.py).
    token = g.get("api_token")
    if token is not None:
        return f"token:{token.id}"
    return f"account:{current_user.id}"


def limited(name: str, *, methods: Sequence[str] | None = None, staff_exempt: bool = False,
            page: Page | None = None, json: bool = False) -> Callable[[V], V]:
    """Rate limit a view by the limits named ``name`` (see the module docstring).

    ``methods``: only these HTTP methods count (default: all). ``page(message)``: what a refused
    request answers (status and ``Retry-After`` are added); ``json``: answer JSON.
    Raises ValueError at import for a name not in :data:`LIMITS`.
    """
    if name not in LIMITS:
        raise ValueError(f"unknown rate limit {name!r}; add it to forum.ratelimit.LIMITS and config.py")
    wanted = [m.upper() for m in methods] if methods else None

    def off(scope: str) -> bool:
        return (not current_app.config["RATE_LIMITS_ENABLED"] or not _value(name, scope)
                or (staff_exempt and _is_staff()))

    def decorate(view: V) -> V:
        wrapped: Any = view
        wrapped = limiter.limit(lambda: _value(name, "PER_IP"), methods=wanted,
                                exempt_when=lambda: off("PER_IP"))(wrapped)
        wrapped = limiter.limit(lambda: _value(name, "PER_ACCOUNT"), key_func=_account_key, methods=wanted,
                                exempt_when=lambda: off("PER_ACCOUNT") or not current_user.is_authenticated)(wrapped)
        setattr(wrapped, ATTRIBUTE, Spec(name, page, json))
        return wrapped

    return decorate


def form_page(template: str, form_class: Callable[[], Any], clear: Sequence[str] = ("password",),
              **context: Any) -> Page:
    """A ``page`` for ``limited``: ``template`` with the submitted form (the user's text kept,
    the fields in ``clear`` emptied, as a failed sign-in does) and the message above it."""
    def page(message: str) -> ResponseReturnValue:
        form = form_class()  # Flask-WTF fills it from request.form
        for name in clear:
            getattr(form, name).data = ""
        form.form_errors.append(message)
        return render_template(template, form=form, **context)
    return page


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def retry_after() -> int:
    """Seconds until the breached limit of this request lets one more through (at least 1)."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    try:
        # reset_at is rounded up to a whole second; no wait is longer than the window itself.
        return max(1, min(math.ceil(breached.reset_at - time.time()), breached.limit.get_expiry()))
    except Exception:  # noqa: BLE001 - the store failed after refusing: a guess beats a 500
        return 60


def refusal() -> tuple[Spec | None, str, int]:
    """For the 429 handler (``web.py``): the refused view's ``Spec`` (None for a view not
    decorated here), the message to show and the seconds to put in ``Retry-After``."""
    view = current_app.view_functions.get(request.endpoint or "")
    spec: Spec | None = getattr(view, ATTRIBUTE, None)
    wait = retry_after()
    lead = LIMITS[spec.name] if spec else "You're doing that too often."
    return spec, f"{lead} Try again in {_wait_text(wait)}.", wait


def check_settings(config: dict[str, Any] | Any) -> None:
    """Raise ValueError naming the setting when a RATE_LIMIT_* value is not a limit, so a typo
    in a deployment stops the start rather than the first request."""
    for name in LIMITS:
        for scope in SCOPES:
            key = setting_name(name, scope)
            value = str(config.get(key) or "")
            if not value:
                continue
            try:
                parse_many(value)
            except ValueError as exc:
                raise ValueError(f"{key}={value!r} is not a limit such as '60 per minute': {exc}") from exc


def init_app(app: Flask) -> None:
    """Point the limiter at this app's store (``web.init_app`` answers its refusals). Raises
    ValueError for a mistyped RATE_LIMIT_* setting."""
    cfg = app.config
    check_settings(cfg)
    url = cfg.get("REDIS_URL")
    cfg["RATELIMIT_STORAGE_URI"] = url or "memory://"
    cfg["RATELIMIT_STORAGE_OPTIONS"] = (
        {"key_prefix": f"{cfg['REDIS_KEY_PREFIX']}:ratelimit", "socket_timeout": 2.0, "socket_connect_timeout": 2.0}
        if url else {})
    cfg["RATELIMIT_ENABLED"] = True  # switched per request by RATE_LIMITS_ENABLED (tests turn it on)
    limiter.init_app(app)
