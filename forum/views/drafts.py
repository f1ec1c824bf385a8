"""Drafts: the composers' autosave (static/js/drafts.js) and the "Discard draft" button.

``POST /drafts/<key>`` saves the signed-in member's draft for one composer (``title``, ``body``,
``tags``), or deletes it when they are all empty or ``discard=1`` is sent. Scripts ask for JSON
and get ``{"saved": bool, "key", "updated_at"}``, or ``{"error": …}`` (403 for a visitor who is
not signed in, 400 for a bad key or a draft over the limits); the button, without JavaScript,
goes back to ``next`` with a flash. The rules are in services/drafts.py.

After a post, the view that stored it calls ``posted(key)``: the next page the member sees
carries ``<meta name="drafts-posted">`` so drafts.js forgets its browser copy of that composer.
"""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, request, session
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..ratelimit import limited
from ..services import drafts as svc
from ..templating import DRAFTS_POSTED as POSTED
from .errorpages import wants_json
from .formglue import NOT_SAVED, flashed, save, writes
from .private import no_store
from .redirects import safe_next

bp = Blueprint("drafts", __name__)


@bp.route("/drafts/<string:key>", methods=["POST"])
@limited("drafts", json=True)
@no_store
@writes
def save_draft(key: str) -> ResponseReturnValue:
    form = request.form
    text = svc.DraftText() if form.get("discard") == "1" else svc.DraftText(
        form.get("title", ""), form.get("body", ""), form.get("tags", ""))
    draft = save(None, lambda: svc.save_draft(current_user, key, text), refused=flashed("error"))
    if wants_json():
        assert draft is not NOT_SAVED  # a JSON client's refusal was raised to the error handler
        return jsonify(saved=draft is not None, key=key,
                       updated_at=draft.updated_at.isoformat() if draft is not None else None)
    if draft is None:
        flash("Draft discarded.", "info")
    elif draft is not NOT_SAVED:
        flash("Draft saved.", "info")
    return redirect(safe_next(request.args.get("next"), "/"))


def posted(key: str) -> None:
    """Note that the post written in composer ``key`` is stored (call once the view succeeded)."""
    keys = [k for k in session.get(POSTED, []) if k != key][-9:]
    session[POSTED] = [*keys, key]
