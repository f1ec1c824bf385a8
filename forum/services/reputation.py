"""The reputation ledger: every change is an appended ReputationEvent row.

User.reputation moves in the same transaction with an atomic UPDATE, so it always equals
1 + the sum of the user's ledger rows (``recompute`` checks and repairs that). Undoing
anything writes reversing rows for exactly what is still outstanding, so a vote whose
gain was cut by the daily cap gives back only what it actually granted.

Reasons: "upvote" (+10 answer, +5 question), "downvote" (-2 to the author), "downvote_cast"
(-1 to a voter downvoting an answer), "accepted" (+15 to the answer's author), "accept" (+2 to
the asker for accepting someone else's answer), "suggested_edit" (+2 to the member whose
suggested edit was approved); a reversal is "undo:<reason>".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timezone

from sqlalchemy import func, select, update

from ..extensions import db
from ..models import Answer, Question, ReputationEvent, User
from ..models.base import utcnow
from ..models.kinds import UNDO, LedgerReason

UPVOTE = {"answer": 10, "question": 5}
DOWNVOTE_RECEIVED = -2
DOWNVOTE_CAST = -1  # answers only
ACCEPTED = 15
ACCEPTER = 2
SUGGESTED_EDIT = 2
DAILY_VOTE_CAP = 200

VOTE_REASONS = (LedgerReason.UPVOTE, LedgerReason.DOWNVOTE, LedgerReason.DOWNVOTE_CAST)
ACCEPT_REASONS = (LedgerReason.ACCEPTED, LedgerReason.ACCEPT)
CAPPED_REASONS = (LedgerReason.UPVOTE, LedgerReason.UNDO_UPVOTE)

Post = Question | Answer


def _record(user_id: int, amount: int, reason: LedgerReason, post_type: str | None, post_id: int | None,
            actor_id: int | None) -> ReputationEvent | None:
    """Append one ledger row and move the user's total by the same amount (atomic UPDATE)."""
    if amount == 0:
        return None
    event = ReputationEvent(user_id=user_id, amount=amount, reason=reason, post_type=post_type,
                            post_id=post_id, actor_id=actor_id, created_at=utcnow())
    db.session.add(event)
    db.session.execute(update(User).where(User.id == user_id).values(reputation=User.reputation + amount)
                       .execution_options(synchronize_session=False))
    db.session.flush()
    return event


def lock_users(*user_ids: int) -> None:
    """Lock these users' rows in id order before any reputation moves.

    FOR NO KEY UPDATE (not FOR UPDATE) so that the KEY SHARE locks taken by inserts that
    reference a user (votes, ledger rows) don't conflict; one id order for every transaction,
    so two members voting on each other's posts at once cannot deadlock.
    """
    ids = sorted(set(user_ids))
    db.session.execute(select(User.id).where(User.id.in_(ids)).order_by(User.id).with_for_update(key_share=True))


def day_start(now: datetime) -> datetime:
    """00:00 UTC of ``now``'s day: daily caps reset then."""
    return datetime.combine(now.astimezone(timezone.utc).date(), time.min, tzinfo=timezone.utc)


def vote_earnings_today(user_id: int, now: datetime | None = None) -> int:
    """Net upvote reputation granted to ``user_id`` since 00:00 UTC today, from the ledger."""
    start = day_start(now or utcnow())
    return int(db.session.scalar(
        select(func.coalesce(func.sum(ReputationEvent.amount), 0)).where(
            ReputationEvent.user_id == user_id, ReputationEvent.reason.in_(CAPPED_REASONS),
            ReputationEvent.created_at >= start)
    ) or 0)


def grant_vote(post: Post, voter_id: int, value: int) -> None:
    """Ledger rows for a new vote (``value`` is 1 or -1) by ``voter_id`` on ``post``."""
    post_type = post.kind
    if value == 1:
        lock_users(post.author_id)  # the daily cap is read, then written: one voter at a time per author
        room = max(0, DAILY_VOTE_CAP - vote_earnings_today(post.author_id))
        _record(post.author_id, min(UPVOTE[post_type], room), LedgerReason.UPVOTE, post_type, post.id, voter_id)
    elif value == -1:
        rows = [(post.author_id, DOWNVOTE_RECEIVED, LedgerReason.DOWNVOTE)]
        if post_type == "answer":
            rows.append((voter_id, DOWNVOTE_CAST, LedgerReason.DOWNVOTE_CAST))
        # Users' rows are updated in id order, as _reverse does: two members downvoting each
        # other's answers at the same moment would otherwise deadlock on PostgreSQL.
        for user_id, amount, reason in sorted(rows):
            _record(user_id, amount, reason, post_type, post.id, voter_id)


def _reverse(post_type: str, post_id: int, reasons: tuple[LedgerReason, ...], actor_id: int | None,
             undo_actor_id: int | None) -> None:
    """Write rows cancelling what is still outstanding for ``reasons`` on one post.

    ``actor_id`` limits it to events caused by one actor (a voter); None means any actor.
    """
    stmt = (select(ReputationEvent.user_id, ReputationEvent.reason, func.sum(ReputationEvent.amount))
            .where(ReputationEvent.post_type == post_type, ReputationEvent.post_id == post_id,
                   ReputationEvent.reason.in_([*reasons, *(r.undone() for r in reasons)]))
            .group_by(ReputationEvent.user_id, ReputationEvent.reason)
            .order_by(ReputationEvent.user_id, ReputationEvent.reason))
    if actor_id is not None:
        stmt = stmt.where(ReputationEvent.actor_id == actor_id)
    outstanding: dict[tuple[int, LedgerReason], int] = {}
    for user_id, reason, total in db.session.execute(stmt):
        key = (user_id, LedgerReason(reason.removeprefix(UNDO)))
        outstanding[key] = outstanding.get(key, 0) + int(total)
    for (user_id, reason), total in sorted(outstanding.items()):
        _record(user_id, -total, reason.undone(), post_type, post_id, undo_actor_id)


def revoke_vote(post: Post, voter_id: int) -> None:
    """Reverse exactly what ``voter_id``'s vote on ``post`` granted or charged."""
    _reverse(post.kind, post.id, VOTE_REASONS, voter_id, voter_id)


def answer_accepted(actor: User, question: Question, answer: Answer, previous_id: int | None) -> None:
    """+15 to the answer's author, +2 to the asker who accepted; reverses an earlier acceptance.

    Accepting one's own answer to one's own question earns nothing.
    """
    previous = db.session.get(Answer, previous_id) if previous_id is not None else None
    lock_users(answer.author_id, actor.id, question.author_id, *([previous.author_id] if previous else []))
    if previous_id is not None:
        _reverse("answer", previous_id, ACCEPT_REASONS, None, actor.id)
    # Whatever is still outstanding for this answer (an earlier acceptance) is settled first,
    # so accepting it again never pays twice.
    _reverse("answer", answer.id, ACCEPT_REASONS, None, actor.id)
    if answer.author_id == question.author_id:
        return
    _record(answer.author_id, ACCEPTED, LedgerReason.ACCEPTED, "answer", answer.id, actor.id)
    if actor.id == question.author_id:
        _record(actor.id, ACCEPTER, LedgerReason.ACCEPT, "answer", answer.id, actor.id)


def acceptance_released(answer: Answer) -> None:
    """The accepted answer was deleted or hidden: reverse its outstanding acceptance rewards
    (no actor: the system undoes them)."""
    lock_users(answer.author_id, *([answer.question.author_id] if answer.question else []))
    _reverse("answer", answer.id, ACCEPT_REASONS, None, None)


def answer_unaccepted(actor: User, answer_id: int) -> None:
    """Reverse every outstanding acceptance reward for the answer."""
    answer = db.session.get(Answer, answer_id)
    lock_users(actor.id, *([answer.author_id, answer.question.author_id] if answer else []))
    _reverse("answer", answer_id, ACCEPT_REASONS, None, actor.id)


def record_adjustment(user_id: int, amount: int, reason: LedgerReason) -> None:
    """A ledger row not tied to a post (the demo's reputation from before its recorded history)."""
    lock_users(user_id)
    _record(user_id, amount, reason, None, None, None)


def suggested_edit_approved(reviewer: User, proposer_id: int, post_type: str, post_id: int) -> None:
    """+2 to the member whose suggested edit to a post was approved by ``reviewer``."""
    lock_users(proposer_id)
    _record(proposer_id, SUGGESTED_EDIT, LedgerReason.SUGGESTED_EDIT, post_type, post_id, reviewer.id)


@dataclass(frozen=True)
class Drift:
    user_id: int
    stored: int
    expected: int


def recompute(fix: bool = True) -> tuple[int, list[Drift]]:
    """Compare every user's reputation with 1 + their ledger sum; repair drift when ``fix``.

    Returns (users checked, drifted users). The caller commits.
    """
    sums = (select(ReputationEvent.user_id, func.sum(ReputationEvent.amount).label("total"))
            .group_by(ReputationEvent.user_id).subquery())
    rows = db.session.execute(
        select(User.id, User.reputation, func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.user_id == User.id).order_by(User.id)
    ).all()
    drift = [Drift(uid, stored, 1 + int(total)) for uid, stored, total in rows if stored != 1 + int(total)]
    if fix:
        for d in drift:
            db.session.execute(update(User).where(User.id == d.user_id).values(reputation=d.expected)
                               .execution_options(synchronize_session=False))
        db.session.flush()
    return len(rows), drift
