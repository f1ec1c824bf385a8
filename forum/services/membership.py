"""Who is a new member: the line that both the privilege ladder and the posting checks draw.

A *new member* has reputation below ``NEW_MEMBER_REPUTATION`` (default 10) **and** fewer than
``NEW_MEMBER_POSTS`` (default 3) visible questions + answers (deleted or hidden posts do not
count). Staff are never new. services/safety.py applies the limits (links held for review, a
lower posting rate); services/privileges.py describes them on ``/help/privileges``.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import Answer, Question, User


def visible_post_count(user: User) -> int:
    """Visible (not deleted, not hidden) questions plus answers written by ``user``."""
    counts = [
        db.session.scalar(select(func.count(model.id)).where(
            model.author_id == user.id, model.is_visible)) or 0
        for model in (Question, Answer)
    ]
    return sum(counts)


def is_new_member(user: User) -> bool:
    """Reputation below NEW_MEMBER_REPUTATION and fewer than NEW_MEMBER_POSTS visible posts; staff never."""
    if user.is_staff:
        return False
    cfg = current_app.config
    if user.reputation >= cfg["NEW_MEMBER_REPUTATION"]:
        return False
    return visible_post_count(user) < int(cfg["NEW_MEMBER_POSTS"])


def links_held(user: User) -> bool:
    """True when a post of ``user``'s with a link to another site would wait for review
    (services/safety.py ``check_new_post``), so the composer can say so before they post."""
    return bool(current_app.config["NEW_MEMBER_LINK_REVIEW"]) and is_new_member(user)


def may_be_held(user: User) -> bool:
    """Like ``links_held`` from attributes alone (no query: for composers on busy pages). It may
    say "maybe" to a low-reputation member who has posted enough to be new no longer."""
    return (bool(current_app.config["NEW_MEMBER_LINK_REVIEW"]) and not user.is_staff
            and user.reputation < current_app.config["NEW_MEMBER_REPUTATION"])


def held_message(kind: str) -> str:
    """What the author of a ``kind`` just held for review is told, once, after posting."""
    hours = int(current_app.config["REVIEW_USUAL_WAIT_HOURS"])
    return (f"Your {kind} is waiting for a moderator: new members' posts with links, and posts with "
            f"certain words, are checked before they appear. That usually takes under {hours} hours. "
            "Until then only you and staff can see it; you'll get a notification when it is published.")
