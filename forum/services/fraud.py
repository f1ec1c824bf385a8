"""Vote fraud: serial voting (many votes from one member on another member's posts).

``reverse_serial`` finds voter -> author pairs with at least ``min_votes`` standing votes
cast or changed within the last ``hours`` and withdraws every one of those votes through the
same path as a member's own undo (votes.remove_vote): scores move back, and the ledger gets
reversing rows for exactly what each vote granted or charged, so ``flask reputation
recompute`` finds no drift. The vote rows are deleted, which makes a second run find nothing
more. Each reversed pair is one entry in the moderation log.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Subquery, and_, func, literal, select, union_all

from ..extensions import db
from ..models import Answer, Question, User, Vote
from ..models.base import utcnow
from . import votes
from .audit import log_action
from .errors import FieldError
from .permissions import require

ACTION = "reverse_serial_votes"


@dataclass(frozen=True)
class SerialPair:
    """One voter's votes on one author's posts within the window."""

    voter_id: int
    author_id: int
    vote_ids: tuple[int, ...]
    ups: int
    downs: int


@dataclass(frozen=True)
class Reversal:
    pair: SerialPair
    voter: User
    author: User
    reputation_before: int
    reputation_after: int


def _votes_with_authors(since: datetime) -> Subquery:
    """Votes changed since ``since`` with the author of the post each one is on."""
    on_questions = (select(Vote.id.label("vote_id"), Vote.user_id.label("voter_id"),
                           Question.author_id.label("author_id"), Vote.value.label("value"))
                    .join(Question, and_(Vote.post_type == literal("question"), Question.id == Vote.post_id))
                    .where(Vote.updated_at >= since))
    on_answers = (select(Vote.id, Vote.user_id, Answer.author_id, Vote.value)
                  .join(Answer, and_(Vote.post_type == literal("answer"), Answer.id == Vote.post_id))
                  .where(Vote.updated_at >= since))
    return union_all(on_questions, on_answers).subquery()


def find_serial_votes(min_votes: int, hours: float, now: datetime | None = None) -> list[SerialPair]:
    """Voter -> author pairs with at least ``min_votes`` standing votes in the last ``hours``.

    Raises FieldError for a minimum below 2 or a window that is not positive.
    """
    if min_votes < 2:
        raise FieldError("min_votes", "Serial voting needs at least 2 votes per pair.")
    if hours <= 0:
        raise FieldError("hours", "The window must be a positive number of hours.")
    since = (now or utcnow()) - timedelta(hours=hours)
    rows = _votes_with_authors(since)
    flagged = (select(rows.c.voter_id, rows.c.author_id).group_by(rows.c.voter_id, rows.c.author_id)
               .having(func.count() >= min_votes).subquery())
    found: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for voter_id, author_id, vote_id, value in db.session.execute(
            select(rows.c.voter_id, rows.c.author_id, rows.c.vote_id, rows.c.value)
            .join(flagged, and_(flagged.c.voter_id == rows.c.voter_id, flagged.c.author_id == rows.c.author_id))
            .order_by(rows.c.voter_id, rows.c.author_id, rows.c.vote_id)):
        found.setdefault((voter_id, author_id), []).append((vote_id, value))
    return [SerialPair(voter_id, author_id, tuple(v for v, _ in items),
                       sum(1 for _, val in items if val > 0), sum(1 for _, val in items if val < 0))
            for (voter_id, author_id), items in found.items()]


def reverse_serial(actor: User | None, min_votes: int, hours: float, *, dry_run: bool = False) -> list[Reversal]:
    """Withdraw every vote of each serial pair and log one moderation entry per pair.

    ``actor`` None is the system (the command line, cron). Raises PermissionDenied when
    ``actor`` may not moderate and FieldError for a bad threshold or window. With ``dry_run``
    nothing changes; the reputations shown are the current ones. The caller commits.
    """
    if actor is not None:
        require(actor, "moderate", None, "Only moderators and admins reverse votes.")
    reversals: list[Reversal] = []
    for pair in find_serial_votes(min_votes, hours):
        voter, author = db.session.get_one(User, pair.voter_id), db.session.get_one(User, pair.author_id)
        before = db.session.scalar(select(User.reputation).where(User.id == pair.author_id)) or 0
        after = before
        if not dry_run:
            for vote in db.session.scalars(select(Vote).where(Vote.id.in_(pair.vote_ids)).order_by(Vote.id)):
                votes.remove_vote(vote)
            after = db.session.scalar(select(User.reputation).where(User.id == pair.author_id)
                                      .execution_options(populate_existing=True)) or 0
            db.session.expire(author, ["reputation"])
            log_action(actor, ACTION, "user", pair.voter_id,
                       reason=f"Serial voting: {len(pair.vote_ids)} votes on {author.username}'s posts "
                              f"within {hours:g} h ({pair.ups} up, {pair.downs} down); all reversed.",
                       before={"votes_on_author": len(pair.vote_ids), "author": author.username,
                               "author_reputation": before},
                       after={"votes_on_author": 0, "author": author.username, "author_reputation": after})
        reversals.append(Reversal(pair, voter, author, before, after))
    db.session.flush()
    return reversals
