"""Sign-in throttle: failed sign-ins counted per account and per client IP, across hosts.

Failures are counted in a moving window by the maintained ``limits`` package, in Redis when
``REDIS_URL`` is set (every web host and worker shares the counts) and in this process's
memory otherwise (each gunicorn worker then counts on its own: the single-host default,
see docs/deploy.md). Posting limits are counted in the database instead (``safety.py``);
sign-in failures write no row, so they need a shared store of their own.

The rules:

- While either limit is used up, every sign-in for that account or from that IP is refused
  with ``LoginThrottled`` (429) *before* the password is checked, so a correct password does
  not unlock an attacker early and a refused guess teaches nothing.
- A successful sign-in resets nothing: only time frees the window. Otherwise an attacker
  could sign in to an account of their own between guesses to clear the IP count.
- The per-account limit is generous and short (``LOGIN_THROTTLE_PER_ACCOUNT``), the per-IP
  limit tighter (``LOGIN_THROTTLE_PER_IP``): one attacker meets the IP limit long before the
  account's, and an account locked by many IPs at once unlocks minutes after they stop.
- An account that does not exist is counted under the name typed (hashed), so the throttle
  answers the same for real and unknown accounts.
- A browser where the account signed in before is trusted for it (a signed *device cookie*,
  OWASP's "device cookies" defence against lock-out): there the account's own limit is
  replaced by the same limit counted for that browser alone. Guesses at an account from many
  addresses then lock out only browsers the account never used, never the customer's own;
  the per-IP limit still applies everywhere.
- If Redis cannot be reached, the throttle lets the sign-in through and logs a warning: an
  outage of the shared store must not lock every customer out.
"""
from __future__ import annotations

import hashlib
import logging
import math
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.wrappers import Response

from ..models import User
from . import accounts
from .errors import RateLimited

log = logging.getLogger(__name__)
EXTENSION = "forum.login_throttle"
DEVICE_COOKIE = "forum_device"
DEVICE_SALT = "forum.login-device"
_BUILDING = threading.Lock()


class LoginThrottled(RateLimited):
    """Too many failed sign-ins for this account or from this IP; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            "Too many failed sign-ins for this account or from your network. "
            f"Wait {minutes} minute{'s' if minutes != 1 else ''} and try again.")
        self.retry_after = retry_after


@dataclass
class Throttle:
    """The limiter of one app and its parsed limits."""

    limiter: MovingWindowRateLimiter
    storage: Storage
    per_account: list[RateLimitItem]
    per_ip: list[RateLimitItem]
    enabled: bool


def parse_limits(config: Mapping[str, Any]) -> tuple[list[RateLimitItem], list[RateLimitItem]]:
    """The per-account and per-IP limits of ``config``.

    Raises ValueError naming the setting when one is not a limit in the ``limits`` notation
    ("10 per 15 minutes"), so a typo in a deployment fails at start-up (``web.init_app`` calls
    this), not at the first sign-in.
    """
    parsed = []
    for name in ("LOGIN_THROTTLE_PER_ACCOUNT", "LOGIN_THROTTLE_PER_IP"):
        try:
            parsed.append(parse_many(str(config[name])))
        except ValueError as exc:
            raise ValueError(f"{name}={config[name]!r} is not a limit such as '10 per 15 minutes': {exc}") from exc
    return parsed[0], parsed[1]


def _build() -> Throttle:
    """Raises RuntimeError when REDIS_URL names an asyncio storage, and ValueError when a
    LOGIN_THROTTLE_PER_* setting is not a limit."""
    cfg = current_app.config
    url = cfg.get("REDIS_URL")
    storage: Storage
    if url:
        # Short timeouts: a sign-in should not hang on an unreachable Redis (it fails open).
        found = storage_from_string(
            url, key_prefix=f"{cfg['REDIS_KEY_PREFIX']}:limits", wrap_exceptions=True,
            socket_timeout=2.0, socket_connect_timeout=2.0)
        if not isinstance(found, Storage):  # an "async+redis://" URL: not for a sync app
            raise RuntimeError(f"REDIS_URL {url!r} names an asyncio storage; use redis:// or rediss://.")
        storage = found
    else:
        storage = MemoryStorage()
    per_account, per_ip = parse_limits(cfg)
    return Throttle(MovingWindowRateLimiter(storage), storage, per_account, per_ip, bool(cfg["LOGIN_THROTTLE_ENABLED"]))


def get_throttle() -> Throttle:
    """This app's throttle, built at first use (after tests and the factory set the config)."""
    throttle: Throttle | None = current_app.extensions.get(EXTENSION)
    if throttle is None:
        # Threads signing in at the first use must share one store (in memory: one count).
        with _BUILDING:
            throttle = current_app.extensions.get(EXTENSION)
            if throttle is None:
                throttle = current_app.extensions[EXTENSION] = _build()
    return throttle


def _account_key(login: str, user: User | None) -> str:
    if user is not None:
        return f"user:{user.id}"
    # No personal data in the store: the typed name of an unknown account is kept only as a hash.
    return "name:" + hashlib.sha256(login.strip().lower().encode()).hexdigest()[:32]


def _checks(throttle: Throttle, account: str, ip: str) -> list[tuple[RateLimitItem, str, str]]:
    return ([(item, "login-account", account) for item in throttle.per_account]
            + [(item, "login-ip", ip) for item in throttle.per_ip])


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.secret_key), salt=DEVICE_SALT)


def trusted_device(user: User | None, cookie: str | None) -> str | None:
    """The id of this browser when its device cookie was issued to ``user`` and is still valid
    (LOGIN_DEVICE_DAYS), else None. A forged, expired or other account's cookie is None."""
    if user is None or not cookie:
        return None
    try:
        data = _devices().loads(cookie, max_age=int(current_app.config["LOGIN_DEVICE_DAYS"]) * 86400)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("u") != user.id or not isinstance(data.get("d"), str):
        return None
    return str(data["d"])


def remember_device(response: Response, user: User) -> None:
    """After a successful sign-in: mark this browser as one ``user`` signs in from."""
    cfg = current_app.config
    value = _devices().dumps({"u": user.id, "d": secrets.token_urlsafe(12)})
    response.set_cookie(DEVICE_COOKIE, value, max_age=int(cfg["LOGIN_DEVICE_DAYS"]) * 86400, httponly=True,
                        samesite="Lax", secure=bool(cfg.get("SESSION_COOKIE_SECURE")))


def _refuse(throttle: Throttle, blocked: list[tuple[RateLimitItem, str, str]], user: User | None,
            ip: str | None) -> LoginThrottled:
    now = time.time()
    wait = max(throttle.limiter.get_window_stats(item, ns, key).reset_time - now for item, ns, key in blocked)
    log.info("sign-in throttled for %s from %s", "an account" if user is None else f"user {user.id}", ip)
    return LoginThrottled(max(1, math.ceil(wait)))


def sign_in(login: str, password: str, ip: str | None, device_cookie: str | None = None) -> User | None:
    """Return the user whose login and password match, else None, counting the failure.

    ``ip`` is the client's address as the app sees it (``request.remote_addr``; set
    PROXY_FIX_X_FOR behind a reverse proxy); ``device_cookie`` the browser's DEVICE_COOKIE.
    Raises LoginThrottled (429) while the account (or, from a browser the account signed in
    from before, that browser) or the IP has used up its failures, without checking the password.

    Attempts racing on other workers are settled after the check, so none learns more than the
    limit allows: a failure is counted with the atomic ``hit`` and, if concurrent failures
    filled the window meanwhile, answered as throttled rather than "wrong password"; a right
    password is let in only if the window is still open (otherwise throttled too).
    """
    user = accounts.find_by_login(login)
    throttle = get_throttle()
    if not throttle.enabled:
        return accounts.check_password(user, password)
    device = trusted_device(user, device_cookie)
    account = f"device:{device}" if device else _account_key(login, user)
    checks = _checks(throttle, account, ip or "unknown")
    try:
        blocked = [(item, ns, key) for item, ns, key in checks if not throttle.limiter.test(item, ns, key)]
        if blocked:
            raise _refuse(throttle, blocked, user, ip)
    except StorageError:
        log.warning("sign-in throttle store unreachable; letting this sign-in through", exc_info=True)
        return accounts.check_password(user, password)
    found = accounts.check_password(user, password)
    try:
        if found is None:
            blocked = [(item, ns, key) for item, ns, key in checks if not throttle.limiter.hit(item, ns, key)]
        else:
            blocked = [(item, ns, key) for item, ns, key in checks if not throttle.limiter.test(item, ns, key)]
        if blocked:
            raise _refuse(throttle, blocked, user, ip)
    except StorageError:
        log.warning("sign-in throttle store unreachable; failure not counted", exc_info=True)
    return found
