"""Atom feeds (docs/feeds.md): which entries, in services/feeds.py; the XML, in forum/atom.py.

Anonymous fetches are served from the page cache like the pages they follow (forum/pagecache/
keys.py lists the endpoints), so a new answer, an edit or a hide shows on the next fetch. Every
answer carries an ETag of its bytes, and a reader sending it back in ``If-None-Match`` gets
304 Not Modified, from the cache or not.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from flask.typing import ResponseReturnValue

from .. import atom
from ..services import feeds

bp = Blueprint("feeds", __name__)


def _url(endpoint: str, /, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _atom(build: Callable[[feeds.UrlFor], feeds.Feed]) -> Response:
    """The feed ``build`` returns, as an Atom response. NotFound raised by ``build`` is the 404 page."""
    body = atom.render(build(_url), current_app.config["SITE_NAME"])
    return Response(body, content_type=atom.CONTENT_TYPE)


@bp.after_request
def _conditional(response: Response) -> Response:
    """ETag on every 200 feed (a page-cache hit too, which passes here as well); 304 when it matches.

    Runs before the app's hooks, so a 304 is never what the page cache stores.
    """
    if response.status_code == 200 and not response.direct_passthrough:
        response.add_etag()
        response.make_conditional(request)
    return response


@bp.route("/feeds/questions.atom")
def questions() -> ResponseReturnValue:
    return _atom(feeds.newest_questions)


@bp.route("/feeds/unanswered.atom")
def unanswered() -> ResponseReturnValue:
    return _atom(feeds.unanswered_questions)


@bp.route("/feeds/tags/<name>.atom")
def tag(name: str) -> ResponseReturnValue:
    return _atom(lambda url: feeds.tag_questions(url, name))


@bp.route("/questions/<int:question_id>/feed.atom")
def question(question_id: int) -> ResponseReturnValue:
    return _atom(lambda url: feeds.question_thread(url, question_id))


@bp.route("/feeds/articles.atom")
def articles() -> ResponseReturnValue:
    return _atom(feeds.published_articles)


@bp.route("/users/<int:user_id>/feed.atom")
def member(user_id: int) -> ResponseReturnValue:
    return _atom(lambda url: feeds.member_activity(url, user_id))
