"""Finding a stored page, and answering the commonest hit before Flask runs (``FastHits``).

In a crisis most requests are anonymous GETs of the same few pages: the incident thread, home,
the lists. Answered by the ``before_request`` hook in ``forum/pagecache/__init__.py``, each of
them still went through Flask's request machinery: the request context, opening the session,
five other before-request hooks (CSRF, Flask-Limiter, site settings, private paths), seven
after-request hooks and saving the session. Profiled, that was most of a hit's cost: a cached
question page served at 36-38% of a Flask hello-world on this machine.

``FastHits`` is a WSGI middleware around the Flask app that answers the same hits with the same
bytes and headers without any of that, when nothing about the request can make it differ:

* a GET of one of ``FAST_ENDPOINTS``: the public pages with no per-request work of their own
  after the view. Not search: each results page is counted for the insights by an after-request
  hook (``views/deflection._count_search``); not the Atom feeds: they answer conditional GETs
  with 304 (``feeds._conditional``);
* no session cookie and no remember-me cookie: then the session is empty (not signed in, no
  flash message, no dismissed banner), which is what the hook would have read;
* the page is in the cache and exact (``lookup``: the same check as the hook's).

Anything else, and any error, goes on to Flask unchanged, where the hook serves or renders the
page as before. A hit is counted as a view (forum/viewcounts.py) as the hook's hits are, and
carries the headers Flask would have added: the security headers (``web.security_headers``)
and ``Vary: Cookie`` (Flask's session adds it when the hook reads the session).
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, Request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ..headers import security_headers
from ..services import site_settings
from ..theme import COOKIE as THEME_COOKIE
from ..theme import theme_of
from .keys import HEADER, SEQ
from .store import Checked

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .store import MemoryPages, PageCache, TwoLevelPages

log = logging.getLogger(__name__)

#: The pages answered here. Which of them count a view (question and article pages) is the view
#: counter's business (``COUNT_VIEW``: forum/viewcounts.py, ``PAGES``).
FAST_ENDPOINTS: frozenset[str] = frozenset({
    "main.index",
    "questions.index",
    "questions.tags",
    "questions.tag",
    "questions.show",
    "articles.index",
    "articles.show",
})


def page_key(req: Request, dismissed: Iterable[int], theme: str, app: Flask | None = None) -> str:
    """The key of the page ``req`` asks for, seen by a visitor who dismissed the banners
    ``dismissed`` and chose ``theme`` (the site settings' version is ``app``'s, default the
    current app's)."""
    query = "&".join(f"{k}={v}" for k, v in sorted(req.args.items(multi=True)))
    # Banners an anonymous visitor dismissed live in their session: one variant per set.
    dismissed_ids = ",".join(str(i) for i in sorted(dismissed))
    # The theme is written into <html data-theme> server-side (forum/theme.py): one variant each.
    key = f"{req.host}{req.path}?{query}|d={dismissed_ids}|t={theme}"
    # Pages rendered with other stored site settings (the tagline) are other pages: a process
    # that has not reloaded a change yet neither serves nor stores under the new values' key.
    version = site_settings.pages_version(app)
    return f"{key}|s={version}" if version else key


def lookup(cache: PageCache, key: str, pages: MemoryPages | TwoLevelPages | None = None) -> tuple[bytes, str] | None:
    """The stored page (body, content type) under ``key`` in ``pages`` (default the shared
    pages) if it is still exact: not past its time and every generation it read unchanged.
    Raises the store's error (Redis, database).

    Every bump of any generation also bumps ``seq`` in the same transaction (or MULTI), so a page
    this process found exact at ``seq`` = n is still exact while ``seq`` reads n: then one key is
    read instead of the page's dozens, and its header is not parsed again (``cache.checked``).
    """
    raw = (cache.pages if pages is None else pages).get(key)
    if raw is None:
        return None
    known = cache.checked.get(key)
    if known is not None and known.raw is raw:  # the same stored entry we checked before
        if known.until <= time.time():
            return None
        if cache.generations.read((SEQ,))[SEQ] == known.seq:
            return raw[known.offset:], known.content_type
        deps, until, content_type, offset = known.deps, known.until, known.content_type, known.offset
    else:
        head, _, _ = raw.partition(b"\n")
        meta = json.loads(head)
        deps, until, content_type, offset = meta["deps"], meta["until"], meta["type"], len(head) + 1
        if until <= time.time():
            return None
    current = cache.generations.read([*deps, SEQ])  # one read: seq and the deps of one moment
    seq = current.pop(SEQ)
    if current != deps:
        return None
    cache.remember(key, Checked(raw, offset, content_type, until, deps, seq))
    return raw[offset:], content_type


#: The app extension holding the view counter: ``(app, endpoint, view arguments, user agent) -> None``.
COUNT_VIEW = "pagecache_count_view"
#: Paths whose routing a process remembers; past it the memory starts again.
ROUTES_MAX = 10_000
_UNKNOWN = object()


class FastHits:
    """WSGI middleware: an anonymous, cookie-less GET of a stored page, answered without Flask."""

    def __init__(self, app: Flask, wrapped: WSGIApplication) -> None:
        self.app = app
        self.wrapped = wrapped
        self.routes: dict[tuple[str, str], object] = {}
        self.private_cookies = (app.config["SESSION_COOKIE_NAME"],
                                app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET":
            try:
                answered = self._hit(environ, start_response)
            except Exception:  # the cache must never cost the page: Flask serves it
                log.warning("page cache fast path failed", exc_info=True)
                answered = None
            if answered is not None:
                return answered
        return self.wrapped(environ, start_response)

    def _hit(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes] | None:
        req = self.app.request_class(environ)
        cookies = req.cookies
        if any(name in cookies for name in self.private_cookies):
            return None
        route = self._route(environ, req.host, req.path)
        if route is None:
            return None
        endpoint, args = route
        cache: PageCache | None = self.app.extensions.get("pagecache")
        if cache is None:
            return None
        found = lookup(cache, page_key(req, (), theme_of(cookies.get(THEME_COOKIE)), self.app))
        if found is None:
            return None
        self._count(endpoint, args, environ.get("HTTP_USER_AGENT"))
        body, content_type = found
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), (HEADER, "HIT"),
                   ("Vary", "Cookie"), *security_headers(self.app.config)]
        start_response("200 OK", headers)
        return [body]

    def _route(self, environ: WSGIEnvironment, host: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """The fast endpoint and view arguments of a GET of ``path`` on ``host``, or None.

        Remembered per host and path (routing was a fifth of a hit's cost, profiled): the URL map
        is fixed once the app serves, so the answer for a path never changes.
        """
        known = self.routes.get((host, path), _UNKNOWN)
        if known is not _UNKNOWN:
            return cast("tuple[str, dict[str, Any]] | None", known)
        adapter = self.app.url_map.bind_to_environ(environ, server_name=self.app.config["SERVER_NAME"])
        try:
            endpoint, args = adapter.match()
        except HTTPException:  # 404, 405, a redirect for a missing slash: Flask answers those
            endpoint, args = None, {}
        route = (str(endpoint), dict(args)) if endpoint in FAST_ENDPOINTS else None
        if len(self.routes) >= ROUTES_MAX:
            self.routes = {}  # replaced whole: safe under threads without a lock
        self.routes[(host, path)] = route
        return route

    def _count(self, endpoint: str, args: dict[str, Any], user_agent: str | None) -> None:
        # forum/viewcounts.py puts its counter in the app (it imports this package, so this
        # module cannot import it); it knows which pages count and which argument names the page.
        count: Callable[[Flask, str, dict[str, Any], str | None], None] | None = self.app.extensions.get(COUNT_VIEW)
        if count is not None:
            count(self.app, endpoint, args, user_agent)


def install(app: Flask) -> None:
    """Put ``FastHits`` in front of the app's Flask WSGI callable, inside ProxyFix when there is
    one (so the key sees the forwarded host as the hook does); once per app."""
    if app.extensions.get("pagecache_fast"):
        return
    app.extensions["pagecache_fast"] = True
    outer: Any = app.wsgi_app
    if isinstance(outer, ProxyFix):
        outer.app = FastHits(app, outer.app)
    else:
        app.wsgi_app = FastHits(app, app.wsgi_app)  # type: ignore[method-assign]


__all__ = ["COUNT_VIEW", "FAST_ENDPOINTS", "FastHits", "install", "lookup", "page_key"]
