"""The security headers every response carries (a module of its own, importing nothing of the
forum, so that the page cache's WSGI fast path and ``web`` can both use it)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CSP = (
    "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# With REMOTE_IMAGES on, posts show images from other hosts (docs/uploads.md).
CSP_REMOTE_IMAGES = CSP.replace("img-src 'self';", "img-src 'self' https:;")


def security_headers(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The headers every response carries unless its view set its own (CSP, framing, sniffing,
    referrer, HSTS behind HTTPS); also sent by the page cache's WSGI fast path (forum/pagecache/hits.py)."""
    headers = []
    if config["CSP_ENABLED"]:
        headers.append(("Content-Security-Policy", CSP_REMOTE_IMAGES if config["REMOTE_IMAGES"] else CSP))
    headers += [("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin")]
    if config.get("SESSION_COOKIE_SECURE"):
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


__all__ = ["CSP", "CSP_REMOTE_IMAGES", "security_headers"]
