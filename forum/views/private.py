"""Private pages: ``Cache-Control: no-store``, so no browser, proxy or our page cache keeps them.

A member's cases, settings, notifications, unsubscribe links and data download hold what only they (and staff)
may read; a shared computer's back button or a caching proxy must not show them to the next
person. Every page under PRIVATE_PREFIXES gets the header (new settings pages included,
whoever writes them); another view opts in with ``@no_store``. The anonymous page cache
(``forum/pagecache``) never stores a response that carries it.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Final, ParamSpec

from flask import Flask, Response, after_this_request, current_app, request
from flask.typing import ResponseReturnValue

P = ParamSpec("P")

PRIVATE_PREFIXES: Final = ("/settings", "/cases", "/notifications", "/unsubscribe")
NO_STORE: Final = "no-store"


def _set_no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = NO_STORE
    response.headers["Pragma"] = "no-cache"  # HTTP/1.0 proxies
    return response


def _private_paths() -> None:
    """before_request: mark the response of a private path, whatever the view answers (errors too).

    ``after_this_request`` runs before every after_request hook, so the page cache sees the header.
    """
    path = request.path
    if any(path == p or path.startswith(p + "/") for p in PRIVATE_PREFIXES):
        after_this_request(_set_no_store)


def no_store(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Send the view's answer with ``Cache-Control: no-store``."""

    @wraps(view)
    def run(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        return _set_no_store(current_app.make_response(view(*args, **kwargs)))

    return run


def init_app(app: Flask) -> None:
    app.before_request(_private_paths)
