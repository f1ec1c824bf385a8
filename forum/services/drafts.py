"""Drafts: a member's unsent text in a composer, kept on the server as they type.

A composer (ask, answer, comment, case message, case resolution) is named by a *key*:
"ask", "answer:<question id>", "comment:q<question id>", "comment:a<answer id>",
"case:<case id>", "resolve:<case id>". One row per member and key (unique), saved with an
upsert so two tabs saving at once both succeed and the later text wins. Limits, all on the
server: a draft is at most DRAFT_MAX_BYTES (title, body and tags in UTF-8; the posting limits
still apply when it is posted), and a member keeps at most DRAFT_MAX_PER_MEMBER drafts: saving
one more drops the least recently saved. ``purge`` (``flask drafts purge``, from cron) removes
drafts not saved for DRAFT_MAX_AGE_DAYS.

Posting from a composer discards its draft in the posting transaction: ``post_written`` is a
subscriber of QuestionAsked, AnswerPosted, CommentAdded, CaseMessageAdded and CaseResolved
(forum/subscribers.py), so a refused post (a field error, a posting limit) keeps the draft.

A draft is text the member wrote, shown back only to them: no rendering, no permission on the
composer's target (a draft for a question that has since closed is still theirs to copy).
Anonymous visitors have no server drafts; static/js/drafts.js keeps theirs in the browser.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..events import AnswerPosted, CaseMessageAdded, CaseResolved, CommentAdded, QuestionAsked
from ..extensions import db
from ..models import Answer, Draft, Question, User
from ..models.base import table_of, utcnow
from .errors import FieldError, PermissionDenied
from .posts import without_nul

KEY_RE = re.compile(r"^(?:ask|answer:[1-9]\d{0,11}|comment:[qa][1-9]\d{0,11}|case:[1-9]\d{0,11}|resolve:[1-9]\d{0,11})$")
TITLE_MAX_CHARS = 300
TAGS_MAX_CHARS = 300


@dataclass(frozen=True, slots=True)
class DraftText:
    """What a composer holds; a composer without a title or tags field leaves them empty."""

    title: str = ""
    body: str = ""
    tags: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.title.strip() or self.body.strip() or self.tags.strip())

    @property
    def size(self) -> int:
        return sum(len(part.encode("utf-8", "surrogatepass")) for part in (self.title, self.body, self.tags))


def check_key(key: str) -> str:
    """Return ``key`` when it names a composer; raises FieldError("key") otherwise."""
    if not KEY_RE.match(key or ""):
        raise FieldError("key", "That is not a composer's draft.")
    return key


def _member(user: User | None) -> User:
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied("Sign in to keep drafts on the server.")
    return user


def check_text(text: DraftText) -> DraftText:
    """The text as stored (NUL characters dropped). Raises FieldError("body") above DRAFT_MAX_BYTES
    and FieldError("title"/"tags") for a title or tags field longer than any composer allows."""
    text = DraftText(without_nul(text.title), without_nul(text.body), without_nul(text.tags))
    limit = int(current_app.config["DRAFT_MAX_BYTES"])
    if text.size > limit:
        raise FieldError("body", f"This draft is too long to keep on the server ({text.size:,} bytes; "
                                 f"the limit is {limit:,}). It is still in the form: shorten it or post it.")
    if len(text.title) > TITLE_MAX_CHARS:
        raise FieldError("title", f"A draft's title is at most {TITLE_MAX_CHARS} characters.")
    if len(text.tags) > TAGS_MAX_CHARS:
        raise FieldError("tags", f"A draft's tags are at most {TAGS_MAX_CHARS} characters.")
    return text


def save_draft(user: User | None, key: str, text: DraftText) -> Draft | None:
    """Save the member's draft for ``key`` (replacing the one before); empty text deletes it
    and returns None. Saving a new key beyond DRAFT_MAX_PER_MEMBER drops the oldest drafts.

    Raises PermissionDenied for a visitor who is not signed in, FieldError("key") for an
    unknown composer and FieldError for a draft over the limits (nothing is stored then).
    """
    member = _member(user)
    key = check_key(key)
    if text.is_empty:
        discard(member.id, key)
        return None
    text = check_text(text)
    now = utcnow()
    values = {"user_id": member.id, "key": key, "title": text.title, "body": text.body, "tags": text.tags,
              "updated_at": now}
    table = table_of(Draft)
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.key],
        set_={"title": stmt.excluded.title, "body": stmt.excluded.body, "tags": stmt.excluded.tags,
              "updated_at": stmt.excluded.updated_at},
    )
    db.session.execute(stmt)
    _evict(member.id)
    draft = db.session.scalar(select(Draft).where(Draft.user_id == member.id, Draft.key == key)
                              .execution_options(populate_existing=True))
    assert draft is not None
    return draft


def _evict(user_id: int) -> None:
    """Keep the member's DRAFT_MAX_PER_MEMBER most recently saved drafts."""
    keep = int(current_app.config["DRAFT_MAX_PER_MEMBER"])
    count = db.session.scalar(select(func.count()).select_from(Draft).where(Draft.user_id == user_id)) or 0
    if count <= keep:
        return
    newest = (select(Draft.id).where(Draft.user_id == user_id)
              .order_by(Draft.updated_at.desc(), Draft.id.desc()).limit(keep))
    db.session.execute(delete(Draft).where(Draft.user_id == user_id, Draft.id.not_in(newest))
                       .execution_options(synchronize_session=False))


def discard(user_id: int, key: str) -> bool:
    """Delete the member's draft for ``key``; True when there was one."""
    result = db.session.execute(_DISCARD, {"user_id": user_id, "key": key})
    return bool(getattr(result, "rowcount", 0))


#: `discard`'s DELETE, built once and on the table (every post runs it; building an ORM DELETE per
#: call and the ORM's bulk DELETE machinery cost more than running it; like before, a Draft this
#: session holds is not synchronised).
_DRAFTS = cast(Table, Draft.__table__)
_DISCARD = delete(_DRAFTS).where(_DRAFTS.c.user_id == bindparam("user_id"), _DRAFTS.c.key == bindparam("key"))


def draft_for(user: User | None, key: str) -> Draft | None:
    """The signed-in member's draft for one composer (None for visitors and for no draft)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.key == key))


def drafts_for(user: User | None, keys: list[str]) -> dict[str, Draft]:
    """The member's drafts for several composers of one page, by key, in one query."""
    if user is None or not getattr(user, "is_authenticated", False) or not keys:
        return {}
    rows = db.session.scalars(select(Draft).where(Draft.user_id == user.id, Draft.key.in_(keys)))
    return {d.key: d for d in rows}


def thread_keys(question: Question, answers: list[Answer]) -> list[str]:
    """The composers of a question page: its answer box and a comment box per post."""
    return [f"answer:{question.id}", f"comment:q{question.id}", *(f"comment:a{a.id}" for a in answers)]


def purge(max_age_days: int | None = None, now: datetime | None = None) -> int:
    """Delete every draft not saved for ``max_age_days`` (default DRAFT_MAX_AGE_DAYS); the count."""
    days = int(current_app.config["DRAFT_MAX_AGE_DAYS"] if max_age_days is None else max_age_days)
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = db.session.execute(delete(Draft).where(Draft.updated_at < cutoff)
                                .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------- subscriber: posted, so discarded

PostedEvent = QuestionAsked | AnswerPosted | CommentAdded | CaseMessageAdded | CaseResolved


def posted_key(event: PostedEvent) -> tuple[int, str] | None:
    """(author id, key) of the composer an event's post was written in; None when none was."""
    if isinstance(event, QuestionAsked):
        return event.author_id, "ask"
    if isinstance(event, AnswerPosted):
        # A case resolution is posted as an answer; it was written in the "resolve" composer,
        # so the agent's own answer draft on that question stays (CaseResolved discards it).
        if event.case_resolution or event.question_id is None:
            return None
        return event.author_id, f"answer:{event.question_id}"
    if isinstance(event, CommentAdded):
        return event.author_id, f"comment:{event.post_type[0]}{event.post_id}"
    if isinstance(event, CaseMessageAdded):
        return event.actor_id, f"case:{event.case_id}"
    return event.actor_id, f"resolve:{event.case_id}"


def post_written(event: PostedEvent) -> None:
    """Subscriber (in the transaction): the composer's draft is gone once its post is stored.
    Held posts count as stored: the text is safe in the review queue."""
    found = posted_key(event)
    if found is not None:
        discard(*found)
