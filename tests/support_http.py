"""A real multi-process server (gunicorn) and a small cookie-keeping HTTP client, for tests
that must cross process boundaries."""
from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.serving import free_port, stop, wait_for_http

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 4, log: Path | None = None) -> Iterator[str]:
    """Serve ``forum:create_app()`` with ``workers`` processes; yields the base URL.

    The server's output goes to ``log`` (a file) when given, so a failing test can show it.
    """
    port = free_port()
    full_env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
    out = log.open("wb") if log else None
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "60",
         "--graceful-timeout", "5", "forum:create_app()"],
        cwd=REPO, env=full_env, stdout=out or subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(proc, base + "/login", what="gunicorn", log=log, timeout=30, request_timeout=2)
        yield base
    finally:
        stop(proc, timeout=15)
        if out:
            out.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browserish:
    """Keeps cookies, reads CSRF tokens from pages, posts forms; never follows redirects.

    ``headers`` go with every request (``X-Forwarded-For`` to play a visitor behind a proxy).
    ``at(base)`` is the same browser talking to another host (a load balancer sending its next
    request elsewhere: one cookie jar); ``copy()`` is another browser holding the same cookies.
    Cookies are kept per host name, not per port, so hosts on 127.0.0.1 see one another's.
    """

    def __init__(self, base: str, headers: dict[str, str] | None = None,
                 jar: http.cookiejar.CookieJar | None = None) -> None:
        self.base = base
        self.headers = dict(headers or {})
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def at(self, base: str) -> Browserish:
        """This browser (same cookie jar, same headers) sending its requests to ``base``."""
        return Browserish(base, self.headers, self.jar)

    def copy(self, base: str | None = None) -> Browserish:
        """Another browser with a copy of this one's cookies and headers, at ``base`` (default: the same)."""
        jar = http.cookiejar.CookieJar()
        for cookie in self.jar:
            jar.set_cookie(cookie)
        return Browserish(base or self.base, self.headers, jar)

    def request(self, method: str, path: str, data: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers={**self.headers, **(headers or {})})
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, resp.read().decode(errors="replace"), dict(resp.headers)
        except urllib.error.HTTPError as err:
            text = err.read().decode(errors="replace")
            headers = dict(err.headers)
            err.close()
            return err.code, text, headers

    def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        return self.request("GET", path)

    def token(self, path: str = "/") -> str:
        _, page, _ = self.request("GET", path)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        if not match:
            raise AssertionError(f"no CSRF token on {path}")
        return match.group(1)

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        return self.request("POST", path, {**data, "csrf_token": self.token()})

    def login(self, login: str, password: str) -> int:
        status, _, _ = self.request("POST", "/login", {"login": login, "password": password, "csrf_token": self.token("/login")})
        return status
