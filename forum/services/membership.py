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
