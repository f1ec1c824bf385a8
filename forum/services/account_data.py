"""A member's own data: download it all, or delete the account.

Deleting keeps what the member wrote (questions, answers, comments and their revisions stay,
so threads others answered still read), shown under "Deleted member"; everything that says who
they were or reaches them goes: e-mail, username, display name, bio, password, signed-in
devices, notifications, follows, preferences, mail waiting in the outbox. The account can't
sign in again, and the deletion is in the moderation log (``audit.log_action``), with no
personal data in the entry.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from ..events import AccountDeleted, publish
from ..extensions import db
from ..models import (
    AnnouncementDismissal,
    Answer,
    Comment,
    DeflectionEvent,
    DigestSent,
    Draft,
    InsightMailSent,
    Notification,
    NotificationPreference,
    OutboxMail,
    Question,
    QuestionFollow,
    Role,
    SolvedToo,
    Tag,
    TagFollow,
    User,
    UserIdentity,
    UserSession,
    Vote,
)
from ..models.base import utcnow
from ..models.support import OnDuty, playbook_watchers
from ..models.user import new_session_token
from . import accounts, audit, devices, names
from .errors import FieldError

DELETED_NAME = "Deleted member"
# Not an Argon2 hash: verifying any password against it fails (accounts.check_password).
UNUSABLE_PASSWORD = "!deleted"
EXPORT_FORMAT = 1


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _state(post: Question | Answer | Comment) -> str:
    if post.deleted_at is not None:
        return "deleted"
    if post.hidden_at is not None:
        return "hidden"
    return "visible"


def export(user: User) -> dict[str, Any]:
    """Everything the forum keeps that ``user`` wrote or set, as JSON-ready data.

    Their profile, questions, answers and comments (deleted and hidden ones too: they are still
    theirs), votes, "solved my problem too" marks, follows, unsent drafts and signed-in
    devices. Other members' data is not included.
    """
    questions = db.session.scalars(select(Question).where(Question.author_id == user.id).order_by(Question.id)).all()
    answers = db.session.scalars(select(Answer).where(Answer.author_id == user.id).order_by(Answer.id)).all()
    comments = db.session.scalars(select(Comment).where(Comment.author_id == user.id).order_by(Comment.id)).all()
    votes = db.session.scalars(select(Vote).where(Vote.user_id == user.id).order_by(Vote.id)).all()
    followed = db.session.scalars(select(QuestionFollow.question_id).where(QuestionFollow.user_id == user.id)
                                  .order_by(QuestionFollow.question_id)).all()
    tags = db.session.scalars(select(Tag.name).join(TagFollow, TagFollow.tag_id == Tag.id)
                              .where(TagFollow.user_id == user.id).order_by(Tag.name)).all()
    marks = db.session.scalars(select(SolvedToo).where(SolvedToo.user_id == user.id).order_by(SolvedToo.id)).all()
    drafts = db.session.scalars(select(Draft).where(Draft.user_id == user.id).order_by(Draft.id)).all()
    return {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "profile": {
            "id": user.id, "username": user.username, "display_name": user.display_name, "email": user.email,
            "bio": user.bio, "role": user.role, "reputation": user.reputation, "created_at": _when(user.created_at),
        },
        "questions": [{"id": q.id, "title": q.title, "body": q.body, "tags": [t.name for t in q.tags],
                       "score": q.score, "created_at": _when(q.created_at), "edited_at": _when(q.edited_at),
                       "state": _state(q)} for q in questions],
        "answers": [{"id": a.id, "question_id": a.question_id, "body": a.body, "score": a.score,
                     "created_at": _when(a.created_at), "edited_at": _when(a.edited_at), "state": _state(a)}
                    for a in answers],
        "comments": [{"id": c.id, "question_id": c.question_id, "answer_id": c.answer_id, "body": c.body,
                      "created_at": _when(c.created_at), "state": _state(c)} for c in comments],
        "votes": [{"post_type": v.post_type, "post_id": v.post_id, "value": v.value, "created_at": _when(v.created_at)}
                  for v in votes],
        "solved_too": [{"question_id": m.question_id, "created_at": _when(m.created_at)} for m in marks],
        "drafts": [{"key": d.key, "title": d.title, "body": d.body, "tags": d.tags, "updated_at": _when(d.updated_at)}
                   for d in drafts],
        "following": {"questions": list(followed), "tags": list(tags)},
        "devices": [{"browser": d.browser, "os": d.os, "network": d.ip_prefix, "signed_in_at": _when(d.created_at),
                     "last_seen_at": _when(d.last_seen_at)} for d in devices.list_devices(user)],
    }


def has_password(user: User) -> bool:
    """False for members created by single sign-on, whose password hash never verifies."""
    return not user.password_hash.startswith("!")


def delete_account(user: User, password: str) -> None:
    """Delete ``user``'s personal data and keep their posts under "Deleted member"; flushes.

    Raises FieldError("password", ...) when ``password`` is not theirs (someone at an unlocked
    computer can't delete the account).
    """
    if not has_password(user):
        # Signs in only through the company's account (services/sso.py): typing the username
        # stands for the password, against a stray click, as the form says.
        if password.strip() != user.username:
            raise FieldError("password", "Type your username to confirm.")
    elif accounts.check_password(user, password) is None:
        raise FieldError("password", "That is not your password.")
    audit.log_action(user, "delete_account", "user", user.id, reason="Deleted by the member.")
    for model in (Notification, NotificationPreference, QuestionFollow, TagFollow, DigestSent,
                  AnnouncementDismissal, OnDuty, UserSession, OutboxMail, UserIdentity, Draft, InsightMailSent):
        db.session.execute(delete(model).where(model.user_id == user.id))
    # A pending deflection keeps counting, but no longer says whose it was.
    db.session.execute(update(DeflectionEvent).where(DeflectionEvent.user_id == user.id)
                       .values(user_id=None, visitor=None))
    db.session.execute(delete(playbook_watchers).where(playbook_watchers.c.user_id == user.id))
    placeholder = f"deleted_{user.id}"
    user.username = placeholder
    user.username_key = placeholder
    user.username_skeleton = names.skeleton(placeholder)
    user.email = f"{placeholder}@deleted.invalid"
    user.display_name = DELETED_NAME
    user.display_name_skeleton = names.skeleton(DELETED_NAME)
    user.bio = ""
    user.bio_html = ""
    user.password_hash = UNUSABLE_PASSWORD
    user.session_token = new_session_token()
    user.role = Role.MEMBER.value  # no Staff badge on what a former staff member wrote
    user.suspension_reason = ""
    user.silence_reason = ""
    user.deleted_at = utcnow()
    db.session.flush()
    publish(AccountDeleted(user_id=user.id))
