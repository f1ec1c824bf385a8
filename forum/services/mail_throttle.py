"""Throttles for the mail a visitor can make the site send: reset links and confirmation links.

Each request is counted (moving windows of the ``limits`` package) in the sign-in throttle's
store (``throttle.get_throttle().storage``: Redis when ``REDIS_URL`` is set, shared by every
host; this process's memory otherwise), so these limits hold across workers exactly as the
sign-in limits do. Unlike sign-in, *every* request counts, not only failures: each one sends
an e-mail to someone, and the point is to stop the site being used to flood a mailbox.

Keys hold no personal data: an address is kept only as a hash. If the store cannot be reached
the request goes through (logged): an outage must not stop customers resetting passwords.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.errors import StorageError

from .errors import RateLimited
from .throttle import get_throttle

log = logging.getLogger(__name__)

SETTINGS = ("PASSWORD_RESET_THROTTLE_PER_ADDRESS", "PASSWORD_RESET_THROTTLE_PER_IP",
            "EMAIL_VERIFY_THROTTLE_PER_ACCOUNT")


class MailThrottled(RateLimited):
    """Too many requests for this kind of mail; ``retry_after`` in seconds (429)."""

    def __init__(self, what: str, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(f"Too many {what}. Wait {minutes} minute{'s' if minutes != 1 else ''} and try again.")
        self.retry_after = retry_after


def check_settings(config: Mapping[str, Any]) -> None:
    """Raises ValueError naming the setting when one is not a limit ("3 per hour"), so a typo
    stops the start (``web.init_app``), not the first customer who forgot a password."""
    for name in SETTINGS:
        try:
            parse_many(str(config[name]))
        except ValueError as exc:
            raise ValueError(f"{name}={config[name]!r} is not a limit such as '3 per hour': {exc}") from exc


def address_key(address: str) -> str:
    return "addr:" + hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]


def _items(checks: list[tuple[str, str, str]]) -> list[tuple[RateLimitItem, str, str]]:
    cfg = current_app.config
    return [(item, namespace, key) for setting, namespace, key in checks for item in parse_many(str(cfg[setting]))]


def hit(what: str, checks: list[tuple[str, str, str]]) -> None:
    """Count one request against each ``(setting, namespace, key)``.

    Raises MailThrottled (nothing is counted then) while any of them is used up; ``what``
    names the requests in the message ("password reset requests").
    """
    throttle = get_throttle()
    if not throttle.enabled:
        return
    items = _items(checks)
    try:
        blocked = [(item, ns, key) for item, ns, key in items if not throttle.limiter.test(item, ns, key)]
        if blocked:
            now = time.time()
            wait = max(throttle.limiter.get_window_stats(item, ns, key).reset_time - now for item, ns, key in blocked)
            raise MailThrottled(what, max(1, math.ceil(wait)))
        for item, ns, key in items:
            throttle.limiter.hit(item, ns, key)
    except StorageError:
        log.warning("mail throttle store unreachable; letting this request through", exc_info=True)


def allow(checks: list[tuple[str, str, str]]) -> bool:
    """Count one mail against each limit and say whether it may go; never raises. For mail
    whose refusal must not show (the note to the owner of an address someone signed up with:
    a 429 there would tell the address is taken), so it is silently left unsent."""
    throttle = get_throttle()
    if not throttle.enabled:
        return True
    items = _items(checks)
    try:
        if not all(throttle.limiter.test(item, ns, key) for item, ns, key in items):
            return False
        for item, ns, key in items:
            throttle.limiter.hit(item, ns, key)
    except StorageError:
        log.warning("mail throttle store unreachable; sending this mail", exc_info=True)
    return True
