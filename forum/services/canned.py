"""Canned replies: the agents' shared library of reply templates, and placeholder filling.

Placeholders are ``{asker}``, ``{question_link}`` and ``{article_link}``. Filling is plain
text substitution into Markdown the agent then edits and posts; the post goes through the
normal Markdown -> sanitiser pipeline, so a hostile display name stays inert.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import CannedReply, User
from ..models.base import utcnow
from .errors import FieldError, NotFound, check_fields
from .permissions import require
from .posts import CANNED_PLACEHOLDERS, check_body, without_nul

PLACEHOLDERS = CANNED_PLACEHOLDERS
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,40})\}")


@dataclass(frozen=True)
class Filled:
    text: str
    unknown: tuple[str, ...]  # placeholders nobody knows: left visible for the agent
    unfilled: tuple[str, ...]  # known placeholders without a value here (e.g. no article chosen)


def fill(template: str, values: dict[str, str]) -> Filled:
    """Replace known placeholders that have a value; leave the rest as typed and report them."""
    unknown: list[str] = []
    unfilled: list[str] = []

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            unknown.append(name)
        elif values.get(name):
            return values[name]
        else:
            unfilled.append(name)
        return match.group(0)

    text = PLACEHOLDER_RE.sub(sub, template)
    return Filled(text, tuple(dict.fromkeys(unknown)), tuple(dict.fromkeys(unfilled)))


@dataclass(frozen=True)
class ReplyInput:
    title: str
    body: str


def _check(data: ReplyInput, exclude_id: int | None = None) -> tuple[str, str]:
    title = " ".join(without_nul(data.title).split())

    def check_title() -> None:
        if not 3 <= len(title) <= 100:
            raise FieldError("title", "Give the reply a title of 3 to 100 characters.")

    _, body = check_fields(check_title, lambda: check_body(data.body, limit_key="CANNED_REPLY_MAX_LENGTH",
                                                           placeholders=True))
    clash = db.session.scalar(select(CannedReply.id).where(func.lower(CannedReply.title) == title.lower()))
    if clash is not None and clash != exclude_id:
        raise FieldError("title", "Another reply already has that title.")
    return title, body


def create_reply(actor: User, data: ReplyInput) -> CannedReply:
    """Raises PermissionDenied (staff only) or FieldError."""
    require(actor, "support", None, "Canned replies are for staff.")
    title, body = _check(data)
    reply = CannedReply(title=title, body=body, created_by_id=actor.id, updated_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(reply)
    except IntegrityError:
        raise FieldError("title", "Another reply already has that title.") from None
    return reply


def update_reply(actor: User, reply: CannedReply, data: ReplyInput) -> CannedReply:
    require(actor, "support", None, "Canned replies are for staff.")
    reply.title, reply.body = _check(data, exclude_id=reply.id)
    reply.updated_by_id, reply.updated_at = actor.id, utcnow()
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise FieldError("title", "Another reply already has that title.") from None
    return reply


def delete_reply(actor: User, reply: CannedReply) -> None:
    require(actor, "support", None, "Canned replies are for staff.")
    db.session.delete(reply)
    db.session.flush()


def get_reply(actor: User, reply_id: int) -> CannedReply:
    """Raises PermissionDenied for non-staff, NotFound for a missing reply."""
    require(actor, "support", None, "Canned replies are for staff.")
    reply = db.session.get(CannedReply, reply_id)
    if reply is None:
        raise NotFound("That reply does not exist.")
    return reply


def all_replies(actor: User) -> list[CannedReply]:
    """The whole library, by title (bounded: a library is tens of replies, not thousands)."""
    require(actor, "support", None, "Canned replies are for staff.")
    limit = current_app.config.get("CANNED_REPLY_LIST_MAX", 500)
    return list(db.session.scalars(select(CannedReply).order_by(func.lower(CannedReply.title)).limit(limit)))
