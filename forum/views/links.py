"""JSON helpers of the composers: find a thread or article to link, suggest @usernames.

Both are progressive enhancement for static/js/composer.js; without them a member still
pastes a link or types a full @username. Signed-in members only (they are the ones writing).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..models import Article
from ..services import links as svc
from ..services.mentions import suggest_users
from .articles import article_url
from .questions import question_url

bp = Blueprint("links", __name__)


@bp.route("/links/search")
@login_required
def search() -> ResponseReturnValue:
    """``?q=`` words, "#12" or a link -> {results: [{id, kind, title, url, path, solved}]}.

    ``path`` is the short site-relative link the composer inserts (``/questions/12``).
    """
    rows = svc.find_link_targets(current_user, request.args.get("q", ""))
    return jsonify(results=[
        {"id": r.id, "kind": "article", "title": r.title, "url": article_url(r), "path": f"/articles/{r.id}",
         "solved": False}
        if isinstance(r, Article) else
        {"id": r.id, "kind": "question", "title": r.title, "url": question_url(r), "path": f"/questions/{r.id}",
         "solved": r.is_solved}
        for r in rows
    ])


@bp.route("/users/suggest")
@login_required
def suggest() -> ResponseReturnValue:
    """``?q=`` a username prefix -> {results: [{username, name, url}]} (at most 8, active users)."""
    users = suggest_users(request.args.get("q", ""))
    return jsonify(results=[
        {"username": u.username, "name": u.name, "url": url_for("users.profile", user_id=u.id)} for u in users
    ])
