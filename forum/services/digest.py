"""The daily digest: new unanswered questions in the tags a member follows, one e-mail a day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..mail import absolute_url, compose
from ..models import DigestSent, NotificationPreference, Question, TagFollow, User, question_tags
from ..models.base import utcnow
from .activity import question_path
from .notifications import DIGEST


@dataclass(frozen=True)
class DigestRun:
    sent: int
    skipped_already_sent: int
    nothing_new: int


def _digest_on(user_ids: list[int]) -> set[int]:
    """The members among ``user_ids`` who did not turn the digest off (it is on by default)."""
    off = set(db.session.scalars(select(NotificationPreference.user_id).where(
        NotificationPreference.user_id.in_(user_ids), NotificationPreference.event == DIGEST,
        NotificationPreference.email.is_(False))))
    return set(user_ids) - off


def questions_for(user: User, since: datetime, limit: int) -> list[Question]:
    """Visible, open, unanswered questions asked since ``since`` in ``user``'s tags, not by them."""
    followed = select(TagFollow.tag_id).where(TagFollow.user_id == user.id)
    in_tags = select(question_tags.c.question_id).where(question_tags.c.tag_id.in_(followed))
    return list(db.session.scalars(
        select(Question).where(Question.id.in_(in_tags), Question.created_at >= since, Question.answer_count == 0,
                               Question.is_visible,
                               Question.closed_at.is_(None), Question.author_id != user.id)
        .options(selectinload(Question.tags)).order_by(Question.created_at.desc(), Question.id.desc()).limit(limit)))


def send_digests(now: datetime | None = None) -> DigestRun:
    """Compose today's digest for every member who follows tags and has the digest on.

    Idempotent per member per day: a ``digests_sent`` row (primary key user + day) is written in
    the same transaction as the outbox mail, so a second run the same day sends nothing again.
    Members with nothing new get no e-mail (and may still get one later that day). The caller
    commits; the mails then leave through the job layer.
    """
    now = now or utcnow()
    today: date = now.date()
    since = now - timedelta(hours=24)
    limit = current_app.config["DIGEST_MAX_QUESTIONS"]
    user_ids = list(db.session.scalars(select(TagFollow.user_id).distinct().order_by(TagFollow.user_id)))
    wanted = _digest_on(user_ids)
    done = set(db.session.scalars(select(DigestSent.user_id).where(DigestSent.day == today)))
    sent = skipped = empty = 0
    for user_id in user_ids:
        if user_id not in wanted:
            continue
        if user_id in done:
            skipped += 1
            continue
        user = db.session.get(User, user_id)
        if user is None or user.is_suspended(now) or not user.email_verified:
            continue  # an unconfirmed address gets account mail only (services/verification.py)
        questions = questions_for(user, since, limit)
        if not questions:
            empty += 1
            continue
        items = [{"title": q.title, "url": absolute_url(question_path(q)), "tags": [t.name for t in q.tags],
                  "created_at": q.created_at} for q in questions]
        noun = "question" if len(items) == 1 else "questions"
        compose(user, DIGEST, f"{len(items)} new unanswered {noun} in your tags", {"questions": items})
        db.session.add(DigestSent(user_id=user.id, day=today, created_at=now))
        db.session.flush()
        sent += 1
    return DigestRun(sent, skipped, empty)
