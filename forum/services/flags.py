"""Members flag posts; enough spam/rude flags hide a post until a moderator reviews it.

A flag belongs to one post (question, answer or comment) and one member; the database
allows one flag per member per post. Flags stay "pending" until a moderator resolves them
("dismissed" or "actioned", see services/moderation/flags.py); the flagger follows the outcome
on their "My flags" page. A new flag is announced (FlagRaised); ``auto_hide`` subscribes.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..events import FlagRaised, publish
from ..extensions import db
from ..models import FLAG_REASONS, Answer, Comment, Flag, Question, User
from .audit import log_action
from .errors import FieldError, InvalidState, NotFound, PermissionDenied
from .pagination import Page, paginate
from .permissions import can, require
from .rows import get_row
from .visibility import hide_post

Post = Question | Answer | Comment
POST_MODELS: dict[str, type[Question] | type[Answer] | type[Comment]] = {
    "question": Question, "answer": Answer, "comment": Comment,
}
REASON_LABELS = {
    "spam": "Spam",
    "rude": "Rude or abusive",
    "off_topic": "Off-topic",
    "needs_staff": "Needs staff attention",
    "other": "Other",
}
AUTO_HIDE_REASONS = ("spam", "rude")
NOTE_MAX = 500
STATUS_TEXT = {
    "pending": "Waiting for a moderator.",
    "dismissed": "A moderator reviewed the post and left it up.",
    "actioned": "A moderator acted on it.",
}
AUTO_HIDDEN_OUTCOME = "Hidden after several flags; a moderator will review it."


class AlreadyFlagged(InvalidState):
    """The member flagged this post before (one flag per member per post)."""


@dataclass
class PostRef:
    """A post with what a list needs to show and link it: its type and its question."""

    post_type: str
    post: Post
    question: Question | None

    @property
    def anchor(self) -> str | None:
        if self.post_type == "answer":
            return f"answer-{self.post.id}"
        if self.post_type == "comment":
            return f"comment-{self.post.id}"
        return None


def post_type_of(post: Post) -> str:
    return {Question: "question", Answer: "answer", Comment: "comment"}[type(post)]


def post_state(post: Post) -> dict[str, Any]:
    """The moderation-relevant columns of a post, for the log's before/after."""
    return {"hidden_at": post.hidden_at, "hidden_reason": post.hidden_reason,
            "deleted_at": post.deleted_at, "deleted_by_id": post.deleted_by_id}


def find_post(post_type: str, post_id: int) -> Post:
    """Any post, whatever its state (for moderators). Raises NotFound for an unknown type or id."""
    model = POST_MODELS.get(post_type)
    post = get_row(model, post_id) if model is not None else None
    if post is None:
        raise NotFound("That post does not exist.")
    return post


def get_flaggable(viewer: User, post_type: str, post_id: int) -> Post:
    """The post if ``viewer`` may see it; NotFound otherwise (no existence leak)."""
    model = POST_MODELS.get(post_type)
    if model is None:
        raise NotFound("That post does not exist.")
    post = get_row(model, post_id)
    if post is None or not can(viewer, "view", post):
        raise NotFound("That post does not exist or was deleted.")
    question_id = post.id if isinstance(post, Question) else post.question_id
    question = db.session.get(Question, question_id)
    if question is None or not can(viewer, "view", question):
        raise NotFound("That post does not exist or was deleted.")
    if isinstance(post, Comment) and post.answer_id is not None:
        answer = db.session.get(Answer, post.answer_id)
        if answer is None or not can(viewer, "view", answer):
            raise NotFound("That post does not exist or was deleted.")
    return post


def question_of(post: Post) -> Question | None:
    if isinstance(post, Question):
        return post
    return db.session.get(Question, post.question_id)


def _lock(post: Post) -> None:
    """Serialise concurrent flags on one post (row lock on PostgreSQL; SQLite writes are serial)."""
    model = type(post)
    db.session.execute(select(model.id).where(model.id == post.id).with_for_update())


def flag_post(flagger: User, post_type: str, post_id: int, reason: str, note: str = "") -> Flag:
    """Flag a post the flagger can see.

    Raises NotFound for a missing or invisible post, PermissionDenied for one's own post (or
    when the flagger may not post), FieldError("reason"/"note") for bad input, and
    AlreadyFlagged (an InvalidState) when this member flagged the post before.
    Enough spam/rude flags from different members hide the post (see ``auto_hide``).
    """
    post = get_flaggable(flagger, post_type, post_id)
    if post.author_id == flagger.id:
        raise PermissionDenied("You can't flag your own post.")
    require(flagger, "flag", post, "You can't flag this post.")
    if reason not in FLAG_REASONS:
        raise FieldError("reason", "Choose why you are flagging this post.")
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        raise FieldError("note", f"Keep the note under {NOTE_MAX} characters (this is {len(note)}).")
    if reason == "other" and not note:
        raise FieldError("note", "Tell the moderators what is wrong: a note is required for “Other”.")
    _lock(post)
    already = db.session.scalar(select(Flag.id).where(
        Flag.post_type == post_type, Flag.post_id == post.id, Flag.flagger_id == flagger.id))
    if already is not None:
        raise AlreadyFlagged("You already flagged this post. A moderator will look at it.")
    flag = Flag(post_type=post_type, post_id=post.id, flagger_id=flagger.id, reason=reason, note=note,
                status="pending", outcome="")
    db.session.add(flag)
    try:
        db.session.flush()
    except IntegrityError:
        # The same member flagging twice at the same instant; the caller rolls back.
        raise AlreadyFlagged("You already flagged this post. A moderator will look at it.") from None
    publish(FlagRaised(question_id=post.id if isinstance(post, Question) else post.question_id, flag_id=flag.id,
                       post_type=post.kind, post_id=post.id, flagger_id=flagger.id))
    return flag


def auto_hide(event: FlagRaised) -> None:
    """Subscriber: hide the post once FLAG_HIDE_THRESHOLD different members flagged it as spam or rude.

    Logged as a system action (no actor). The flags stay pending: a moderator decides.
    """
    threshold = int(current_app.config["FLAG_HIDE_THRESHOLD"])
    post_type = event.post_type
    post = find_post(post_type, event.post_id)
    if threshold <= 0 or not post.is_visible:
        return
    flaggers = db.session.scalar(
        select(func.count(func.distinct(Flag.flagger_id))).where(
            Flag.post_type == post_type, Flag.post_id == post.id, Flag.status == "pending",
            Flag.reason.in_(AUTO_HIDE_REASONS))
    ) or 0
    if flaggers < threshold:
        return
    before = post_state(post)
    hide_post(post, "flags")
    db.session.execute(
        update(Flag).where(Flag.post_type == post_type, Flag.post_id == post.id, Flag.status == "pending")
        .values(outcome=AUTO_HIDDEN_OUTCOME)
    )
    log_action(None, "auto_hide", post_type, post.id,
               reason=f"{flaggers} members flagged it as spam or rude", before=before, after=post_state(post))
    db.session.flush()


def load_posts(keys: list[tuple[str, int]]) -> dict[tuple[str, int], PostRef]:
    """PostRefs for (type, id) keys: one query per post type plus one for the comments' questions."""
    refs: dict[tuple[str, int], PostRef] = {}
    by_type: dict[str, set[int]] = {}
    for post_type, post_id in keys:
        by_type.setdefault(post_type, set()).add(post_id)
    if ids := by_type.get("question"):
        for q in db.session.scalars(select(Question).where(Question.id.in_(ids))):
            refs[("question", q.id)] = PostRef("question", q, q)
    if ids := by_type.get("answer"):
        for a in db.session.scalars(select(Answer).where(Answer.id.in_(ids)).options(joinedload(Answer.question))):
            refs[("answer", a.id)] = PostRef("answer", a, a.question)
    if ids := by_type.get("comment"):
        comments = list(db.session.scalars(select(Comment).where(Comment.id.in_(ids))))
        qids = {c.question_id for c in comments}
        questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(qids)))} if qids else {}
        for c in comments:
            refs[("comment", c.id)] = PostRef("comment", c, questions.get(c.question_id))
    return refs


@dataclass
class MyFlag:
    flag: Flag
    ref: PostRef | None
    visible: bool  # the flagger may still see the post's content

    @property
    def outcome(self) -> str:
        return self.flag.outcome or STATUS_TEXT.get(self.flag.status, "")


def my_flags(user: User, page: int) -> tuple[Page[Flag], list[MyFlag]]:
    """The member's flags, newest first, with their posts (content only while still visible)."""
    result = paginate(select(Flag).where(Flag.flagger_id == user.id).order_by(Flag.created_at.desc(), Flag.id.desc()),
                      page)
    refs = load_posts([(f.post_type, f.post_id) for f in result.items])
    rows = []
    for f in result.items:
        ref = refs.get((f.post_type, f.post_id))
        visible = ref is not None and ref.post.is_visible and (ref.question is None or ref.question.is_visible)
        rows.append(MyFlag(f, ref, visible))
    return result, rows


@dataclass
class FlagGroup:
    """The pending flags on one post, for the moderation queue."""

    post_type: str
    post_id: int
    first_at: datetime
    ref: PostRef | None
    flags: list[Flag] = field(default_factory=list)

    @property
    def counts(self) -> list[tuple[str, str, int]]:
        """(reason, label, count) in the order of FLAG_REASONS, only reasons that were used."""
        c = Counter(f.reason for f in self.flags)
        return [(r, REASON_LABELS[r], c[r]) for r in FLAG_REASONS if c[r]]

    @property
    def notes(self) -> list[Flag]:
        return [f for f in self.flags if f.note]


def pending_groups(page: int) -> Page[FlagGroup]:
    """Pending flags grouped by post, the longest-waiting post first; a fixed number of queries."""
    first = func.min(Flag.created_at).label("first_at")
    stmt = (select(Flag.post_type, Flag.post_id, first).where(Flag.status == "pending")
            .group_by(Flag.post_type, Flag.post_id).order_by(first, Flag.post_type, Flag.post_id))
    per_page = current_app.config["PER_PAGE"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    keys = [(r.post_type, r.post_id) for r in rows]
    refs = load_posts(keys)
    groups = {k: FlagGroup(k[0], k[1], r.first_at, refs.get(k)) for k, r in zip(keys, rows)}
    if keys:
        by_type: dict[str, list[int]] = {}
        for t, i in keys:
            by_type.setdefault(t, []).append(i)
        cond = or_(*[and_(Flag.post_type == t, Flag.post_id.in_(ids)) for t, ids in by_type.items()])
        for f in db.session.scalars(select(Flag).where(Flag.status == "pending", cond)
                                    .order_by(Flag.created_at, Flag.id)):
            groups[(f.post_type, f.post_id)].flags.append(f)
    return Page(items=list(groups.values()), page=page, per_page=per_page, total=total)


def pending_count() -> int:
    """Posts with pending flags."""
    sub = select(Flag.post_type, Flag.post_id).where(Flag.status == "pending").group_by(Flag.post_type, Flag.post_id)
    return db.session.scalar(select(func.count()).select_from(sub.subquery())) or 0
