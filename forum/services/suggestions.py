"""Suggested edits: below the edit privilege, an edit to someone else's post waits for review.

A suggestion stores the whole proposed text and the post's revision number at that moment
(``base_revision``). At most one suggestion per post is pending (a partial unique index, so
two members suggesting at the same instant get one row and a clear message for the other).

Reviewers (the "review_edits" rule: the review privilege, or staff) approve or reject.
Approving applies the text through the same path as an edit (``apply_question_edit`` /
``apply_answer_edit``: watched words, new members' links, rendering, tag counts, search),
as a revision credited to the proposer, and gives the proposer +2 reputation through the
ledger. A suggestion whose post changed since it was made is never applied: approving it
marks it "superseded" instead. Approvals, rejections and supersessions go to the moderation log.
An approval is announced as SuggestionApproved, after the PostEdited of the edit itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from ..events import SuggestionApproved, publish
from ..extensions import db
from ..models import Answer, Question, Revision, SuggestedEdit, User
from ..models.base import utcnow
from . import reputation
from .answers import apply_answer_edit
from .audit import log_action
from .errors import FieldError, InvalidState, NotFound
from .pagination import Page, paginate
from .permissions import require
from .posts import check_body
from .questions import QuestionInput, apply_question_edit, check_question_input
from .rows import get_row
from .safety import check_edited_post

REASON_MAX = 500
Post = Question | Answer
MODELS: dict[str, type[Question] | type[Answer]] = {"question": Question, "answer": Answer}


def _revision_column(post_type: str) -> InstrumentedAttribute[int | None]:
    return Revision.question_id if post_type == "question" else Revision.answer_id


def current_revision(post: Post) -> int:
    """The number of the post's latest revision (0 if it has none)."""
    column = _revision_column(post.kind)
    return db.session.scalar(select(func.max(Revision.number)).where(column == post.id)) or 0


def pending_for(post: Post) -> SuggestedEdit | None:
    """The suggestion waiting for review on ``post``, if any."""
    return db.session.scalar(select(SuggestedEdit).where(
        SuggestedEdit.post_type == post.kind, SuggestedEdit.post_id == post.id, SuggestedEdit.status == "pending"))


def _already_pending(proposer: User, pending: SuggestedEdit) -> InvalidState:
    if pending.proposer_id == proposer.id:
        return InvalidState("You already suggested an edit to this post; it is waiting for review.")
    return InvalidState("Another member's edit to this post is already waiting for review. "
                        "You can suggest yours once it has been reviewed.")


def _create(proposer: User, post: Post, title: str, body: str, tags: str, summary: str) -> SuggestedEdit:
    pending = pending_for(post)
    if pending is not None:
        raise _already_pending(proposer, pending)
    # A blocked word refuses the suggestion now (FieldError on the body); review words and
    # links are judged again when it is approved, as for any edit.
    check_edited_post(proposer, f"{title}\n{body}" if title else body)
    question_id = post.id if isinstance(post, Question) else post.question_id
    suggestion = SuggestedEdit(post_type=post.kind, post_id=post.id, question_id=question_id, proposer_id=proposer.id,
                               title=title, body=body, tags=tags, summary=summary[:200],
                               base_revision=current_revision(post), status="pending", created_at=utcnow())
    db.session.add(suggestion)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone else's suggestion for the same post committed first (the partial unique
        # index); the caller rolls back.
        raise InvalidState("Another member's edit to this post was suggested a moment ago and is waiting "
                           "for review. You can suggest yours once it has been reviewed.") from None
    return suggestion


def suggest_question_edit(proposer: User, question: Question, data: QuestionInput, summary: str = "") -> SuggestedEdit:
    """Propose an edit of someone else's question.

    Raises PermissionDenied (the proposer may edit directly, or may not suggest here),
    FieldError for bad input or a blocked word, and InvalidState when nothing changed or an
    edit to this question is already pending.
    """
    require(proposer, "suggest_edit", question, "You can't suggest an edit to this question.")
    title, body, names = check_question_input(data, creator=proposer)
    if title == question.title and body == question.body and names == [t.name for t in question.tags]:
        raise InvalidState("Nothing changed.")
    return _create(proposer, question, title, body, " ".join(names), summary)


def suggest_answer_edit(proposer: User, answer: Answer, body: str, summary: str = "") -> SuggestedEdit:
    """Propose an edit of someone else's answer. Raises as suggest_question_edit does."""
    require(proposer, "suggest_edit", answer, "You can't suggest an edit to this answer.")
    body = check_body(body, limit_key="ANSWER_MAX_LENGTH")
    if body == answer.body:
        raise InvalidState("Nothing changed.")
    return _create(proposer, answer, "", body, "", summary)


def get_suggestion(suggestion_id: int) -> SuggestedEdit:
    suggestion = db.session.get(SuggestedEdit, suggestion_id, populate_existing=True)
    if suggestion is None:
        raise NotFound("That suggested edit does not exist.")
    return suggestion


def _post_of(suggestion: SuggestedEdit) -> Post | None:
    return get_row(MODELS[suggestion.post_type], suggestion.post_id)


def _close(reviewer: User, suggestion: SuggestedEdit, status: str, reason: str = "") -> None:
    """Move a pending suggestion to ``status`` exactly once: a conditional UPDATE, so two
    reviewers acting at the same moment cannot both apply it (the second gets InvalidState)."""
    now = utcnow()
    result = cast(CursorResult[Any], db.session.execute(
        update(SuggestedEdit).where(SuggestedEdit.id == suggestion.id, SuggestedEdit.status == "pending")
        .values(status=status, reviewer_id=reviewer.id, reviewed_at=now, reject_reason=reason)
        .execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        raise InvalidState("Someone else reviewed this suggestion a moment ago.")
    db.session.refresh(suggestion)


def _outdated_reason(suggestion: SuggestedEdit, post: Post | None) -> str | None:
    """Why the suggestion can no longer be applied as it stands, or None."""
    if post is None or not post.is_visible:
        return "The post was deleted or hidden after this edit was suggested."
    question = post if isinstance(post, Question) else post.question
    if question is None or not question.is_visible or question.is_locked:
        return "The thread was locked, deleted or hidden after this edit was suggested."
    if current_revision(post) != suggestion.base_revision:
        return "The post was edited after this suggestion was made, so applying it would undo that edit."
    return None


def approve(reviewer: User, suggestion: SuggestedEdit) -> SuggestedEdit:
    """Apply a pending suggestion as a revision credited to its proposer, +2 reputation to them.

    When the post changed since the suggestion (or was deleted, hidden, locked), nothing is
    applied: the suggestion becomes "superseded" (check ``status`` on the result).
    Raises PermissionDenied (not a reviewer, or one's own suggestion), InvalidState (already
    reviewed), FieldError when the text now contains a blocked word (the caller rolls back).
    """
    require(reviewer, "review_edits", suggestion, "You can't review this suggested edit.")
    if not suggestion.is_pending:
        raise InvalidState("This suggestion was already reviewed.")
    post = _post_of(suggestion)
    outdated = _outdated_reason(suggestion, post)
    target_type, target_id = suggestion.post_type, suggestion.post_id
    if outdated:
        _close(reviewer, suggestion, "superseded", outdated)
        log_action(reviewer, "supersede_suggested_edit", target_type, target_id, reason=outdated,
                   before={"suggestion": suggestion.id, "status": "pending"},
                   after={"suggestion": suggestion.id, "status": "superseded"})
        db.session.flush()
        return suggestion
    # Not outdated means the post still exists (_outdated_reason checks that first).
    assert post is not None
    _close(reviewer, suggestion, "approved")
    proposer = suggestion.proposer
    if isinstance(post, Question):
        # Judged as the reviewer's: a new member's one-word fix must not send a trusted post
        # (with its author's links) back to the review queue.
        apply_question_edit(proposer, post, QuestionInput(suggestion.title, suggestion.body, suggestion.tags),
                            suggestion.summary, checked_by=reviewer)
    else:
        apply_answer_edit(proposer, post, suggestion.body, suggestion.summary, checked_by=reviewer)
    suggestion.revision_number = current_revision(post)
    reputation.suggested_edit_approved(reviewer, proposer.id, target_type, target_id)
    log_action(reviewer, "approve_suggested_edit", target_type, target_id,
               before={"suggestion": suggestion.id, "status": "pending"},
               after={"suggestion": suggestion.id, "status": "approved", "revision": suggestion.revision_number,
                      "proposer": proposer.username})
    db.session.flush()
    publish(SuggestionApproved(question_id=suggestion.question_id, suggestion_id=suggestion.id, reviewer_id=reviewer.id,
                               proposer_id=proposer.id, post_type="question" if isinstance(post, Question) else "answer",
                               post_id=target_id))
    return suggestion


def reject(reviewer: User, suggestion: SuggestedEdit, reason: str) -> SuggestedEdit:
    """Reject a pending suggestion with a reason the proposer sees.

    Raises PermissionDenied, FieldError("reason") when the reason is empty or too long,
    InvalidState when it was already reviewed.
    """
    require(reviewer, "review_edits", suggestion, "You can't review this suggested edit.")
    reason = " ".join(reason.split())
    if not reason:
        raise FieldError("reason", "Say why, so the member can do better next time.")
    if len(reason) > REASON_MAX:
        raise FieldError("reason", f"Keep the reason under {REASON_MAX} characters.")
    if not suggestion.is_pending:
        raise InvalidState("This suggestion was already reviewed.")
    _close(reviewer, suggestion, "rejected", reason)
    log_action(reviewer, "reject_suggested_edit", suggestion.post_type, suggestion.post_id, reason=reason,
               before={"suggestion": suggestion.id, "status": "pending"},
               after={"suggestion": suggestion.id, "status": "rejected"})
    db.session.flush()
    return suggestion


# ---------------------------------------------------------------- lists


@dataclass(frozen=True)
class Item:
    """A suggestion with what a page needs to show it: the post, its thread and the base text."""

    suggestion: SuggestedEdit
    post: Post | None
    question: Question | None
    base: Revision | None  # the revision the proposer edited
    current: int  # the post's latest revision number now

    @property
    def outdated(self) -> bool:
        return self.suggestion.is_pending and self.current != self.suggestion.base_revision


def _items(suggestions: list[SuggestedEdit]) -> list[Item]:
    """Load posts, threads and base revisions for a page in a fixed number of queries."""
    posts: dict[tuple[str, int], Post] = {}
    bases: dict[tuple[str, int, int], Revision] = {}
    latest: dict[tuple[str, int], int] = {}
    for kind, model in MODELS.items():
        ids = [s.post_id for s in suggestions if s.post_type == kind]
        if not ids:
            continue
        rows: list[Post] = list(db.session.scalars(select(model).where(model.id.in_(ids))))
        posts.update({(kind, p.id): p for p in rows})
        column = _revision_column(kind)
        wanted = [(s.post_id, s.base_revision) for s in suggestions if s.post_type == kind]
        for rev in db.session.scalars(select(Revision).where(tuple_(column, Revision.number).in_(wanted))):
            bases[(kind, rev.question_id if kind == "question" else rev.answer_id, rev.number)] = rev  # type: ignore[index]
        latest.update({(kind, pid): n for pid, n in db.session.execute(
            select(column, func.max(Revision.number)).where(column.in_(ids)).group_by(column)) if pid is not None})
    question_ids = {s.question_id for s in suggestions}
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(question_ids)))} \
        if question_ids else {}
    return [Item(s, posts.get((s.post_type, s.post_id)), questions.get(s.question_id),
                 bases.get((s.post_type, s.post_id, s.base_revision)),
                 latest.get((s.post_type, s.post_id), 0)) for s in suggestions]


def review_queue(viewer: User, page: int) -> tuple[Page[SuggestedEdit], list[Item]]:
    """Pending suggestions, oldest first. Raises PermissionDenied for non-reviewers."""
    require(viewer, "review_edits", None, "Reviewing suggested edits needs the review privilege.")
    result = paginate(select(SuggestedEdit).where(SuggestedEdit.status == "pending")
                      .order_by(SuggestedEdit.created_at, SuggestedEdit.id), page, per_page=10)
    return result, _items(result.items)


def my_suggestions(user: User, page: int) -> tuple[Page[SuggestedEdit], list[Item]]:
    """The user's own suggestions, newest first, with their outcome."""
    result = paginate(select(SuggestedEdit).where(SuggestedEdit.proposer_id == user.id)
                      .order_by(SuggestedEdit.created_at.desc(), SuggestedEdit.id.desc()), page)
    return result, _items(result.items)

