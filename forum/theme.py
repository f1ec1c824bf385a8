"""The colour theme a visitor chose: light, dark, or "system" (follow ``prefers-color-scheme``).

Kept in a cookie (``theme``) that ``POST /theme`` sets (forum/views/main.py), read on every
page and written server-side onto ``<html data-theme="...">``, so the first paint already has
the right colours (no flash, no JavaScript needed). The anonymous page cache keys pages by it
(forum/pagecache ``_cache_key``): a page rendered for one theme is never served for another.
See docs/theming.md.
"""
from __future__ import annotations

from flask import has_request_context, request

THEMES = ("light", "dark", "system")
DEFAULT = "system"
COOKIE = "theme"
COOKIE_MAX_AGE = 365 * 24 * 3600


def current_theme() -> str:
    """This visitor's theme; anything but a known value (no cookie, a forged one) is "system"."""
    if not has_request_context():
        return DEFAULT
    return theme_of(request.cookies.get(COOKIE))


def theme_of(cookie: str | None) -> str:
    """The theme a ``theme`` cookie's value names ("system" for none or an unknown value)."""
    return cookie if cookie in THEMES else DEFAULT
