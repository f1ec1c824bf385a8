"""Where a ``next=`` parameter may send the user: only to a path on this site."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def safe_next(target: str | None, default: str = "/") -> str:
    """Return ``target`` when it is a local path, else ``default``.

    Browsers treat a backslash as a slash and ignore tabs and newlines inside URLs, so
    ``/\\evil.test`` and ``/\\t/evil.test`` mean ``//evil.test``: anything with those, a scheme, a
    host, or a leading double slash is refused rather than cleaned.
    """
    if not target or len(target) > 2000:
        return default
    if any(ord(ch) < 0x21 or ch in "\\\x7f" for ch in target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def next_from_request(default: str = "/") -> str:
    return safe_next(request.values.get("next"), default)
