"""Up and down votes on questions and answers.

One vote per member per post (a database unique constraint); voting again with the same
value changes nothing, another value changes the vote, 0 withdraws it. Scores move with
atomic UPDATEs and every reputation effect goes through the ledger (services/reputation.py),
all in the caller's transaction; then VoteCast announces the change (badges subscribe).

Each member casts at most VOTES_PER_DAY new votes per UTC day (0: no limit), counted from the
votes table under the voter's row lock, so the cap holds across processes. What counts is the
standing votes first cast today: changing a vote's direction keeps its row and costs nothing,
and withdrawing a vote cast today gives its slot back (the withdrawn vote no longer has any
effect, so it cannot be used to move scores or reputation beyond the cap).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..events import VoteCast, publish
from ..extensions import db
from ..models import Answer, Question, User, Vote
from ..models.base import utcnow
from . import reputation
from .errors import FieldError, InvalidState, NotFound, RateLimited
from .permissions import can, require
from .rows import get_row

MODELS: dict[str, type[Question] | type[Answer]] = {"question": Question, "answer": Answer}
VALUES = (-1, 0, 1)


@dataclass(frozen=True)
class VoteResult:
    post: Question | Answer
    question: Question
    score: int
    my_vote: int


def get_votable(viewer: User | None, post_type: str, post_id: int) -> Question | Answer:
    """The question or answer the viewer can see. Raises NotFound otherwise."""
    model = MODELS.get(post_type)
    post = get_row(model, post_id) if model is not None else None
    if post is None or not can(viewer, "view", post):
        raise NotFound("That post does not exist or was deleted.")
    return post


def _lock_post(post: Question | Answer) -> None:
    """Serialise votes on one post: a no-op UPDATE takes the row lock on PostgreSQL and the
    write lock on SQLite before we read the voter's current vote."""
    model = type(post)
    db.session.execute(update(model).where(model.id == post.id).values(score=model.score)
                       .execution_options(synchronize_session=False))


def current_vote(user_id: int, post_type: str, post_id: int) -> Vote | None:
    return db.session.scalar(
        select(Vote).where(Vote.user_id == user_id, Vote.post_type == post_type, Vote.post_id == post_id)
        .execution_options(populate_existing=True))


def _lock_and_read(post: Question | Answer, voter_id: int) -> Vote | None:
    """Lock the post, then the voter and the author in id order; return the voter's vote."""
    _lock_post(post)
    reputation.lock_users(post.author_id, voter_id)
    return current_vote(voter_id, post.kind, post.id)


def _apply(post: Question | Answer, voter_id: int, vote: Vote | None, value: int) -> None:
    """Move ``voter_id``'s vote (locked and read by _lock_and_read) to ``value``: vote row,
    score and ledger together, then announce it (VoteCast; badges follow). Raises
    InvalidState when the one-vote constraint refuses."""
    old = vote.value if vote is not None else 0
    if old == value:
        return
    if old:
        reputation.revoke_vote(post, voter_id)
    if value == 0:
        db.session.delete(vote)
    elif vote is not None:
        vote.value = value
        vote.updated_at = utcnow()
    else:
        db.session.add(Vote(user_id=voter_id, post_type=post.kind, post_id=post.id, value=value))
    try:
        db.session.flush()
    except IntegrityError:
        raise InvalidState("You already voted on this post.") from None
    model = type(post)
    db.session.execute(update(model).where(model.id == post.id).values(score=model.score + (value - old))
                       .execution_options(synchronize_session=False))
    # Read again on first use (by the badge subscriber or the caller): the UPDATE moved it in SQL.
    db.session.expire(post, ["score"])
    if value:
        reputation.grant_vote(post, voter_id, value)
    question_id = post.id if isinstance(post, Question) else post.question_id
    publish(VoteCast(question_id=question_id, voter_id=voter_id, post_type=post.kind, post_id=post.id,
                     value=value, previous=old))


def remove_vote(vote: Vote) -> int:
    """Withdraw ``vote`` on its voter's behalf, whatever the post's state now (locked thread,
    hidden post, suspended voter): fraud reversal uses it. The score and every ledger effect
    are reversed exactly. Returns the value removed (0 when it was already gone)."""
    model = MODELS[vote.post_type]
    post = get_row(model, vote.post_id)
    if post is None:
        return 0
    current = _lock_and_read(post, vote.user_id)
    if current is None:
        return 0
    value = current.value
    _apply(post, vote.user_id, current, 0)
    return value


def votes_cast_today(user_id: int, now: datetime | None = None) -> int:
    """Standing votes ``user_id`` first cast since 00:00 UTC today."""
    start = reputation.day_start(now or utcnow())
    return db.session.scalar(select(func.count(Vote.id)).where(Vote.user_id == user_id, Vote.created_at >= start)) or 0


def check_daily_votes(voter: User) -> None:
    """Raise RateLimited when ``voter`` already cast VOTES_PER_DAY votes today (UTC).

    Call it with the voter's row locked (cast_vote does), so two requests cannot both take
    the last slot.
    """
    limit = int(current_app.config.get("VOTES_PER_DAY", 0) or 0)
    if limit <= 0:
        return
    now = utcnow()
    if votes_cast_today(voter.id, now) < limit:
        return
    seconds = (reputation.day_start(now) + timedelta(days=1) - now).total_seconds()
    hours = max(1, round(seconds / 3600))
    raise RateLimited(f"You've used all {limit} of your votes for today. Votes renew at 00:00 UTC, "
                      f"in about {hours} hour{'s' if hours != 1 else ''}; changing or withdrawing "
                      "a vote you already cast still works.", retry_after=max(1, math.ceil(seconds)))


def cast_vote(voter: User, post_type: str, post_id: int, value: int) -> VoteResult:
    """Set ``voter``'s vote on a post to ``value`` (1 up, -1 down, 0 withdraw).

    Raises NotFound (missing or invisible post), FieldError("value"), PermissionDenied (own
    post, locked thread, hidden or deleted post, a member who may not post; PrivilegeRequired
    when the voter's reputation is below the upvote or downvote threshold), RateLimited (a
    new vote beyond VOTES_PER_DAY) and InvalidState (a concurrent duplicate the constraint
    refused; the caller rolls back).
    """
    if value not in VALUES:
        raise FieldError("value", "A vote is up (1), down (-1) or withdrawn (0).")
    post = get_votable(voter, post_type, post_id)
    require(voter, "vote", post, "You can't vote on this post.")
    if value:
        # Withdrawing needs no privilege, so a vote cast before a threshold rose can be undone.
        require(voter, "vote_up" if value == 1 else "vote_down", post)
    vote = _lock_and_read(post, voter.id)
    if vote is None and value != 0:
        check_daily_votes(voter)
    if (vote.value if vote is not None else 0) == value:
        db.session.refresh(post, ["score"])  # unchanged by us, perhaps by others since it was read
    else:
        _apply(post, voter.id, vote, value)
    question = post if isinstance(post, Question) else post.question
    return VoteResult(post, question, post.score, value)


def my_votes(user: User | None, question: Question, answers: list[Answer]) -> dict[str, int]:
    """The user's votes on a thread in one query: {"q<id>": 1, "a<id>": -1, ...}."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    ids = [a.id for a in answers]
    rows = db.session.execute(
        select(Vote.post_type, Vote.post_id, Vote.value).where(
            Vote.user_id == user.id,
            ((Vote.post_type == "question") & (Vote.post_id == question.id))
            | ((Vote.post_type == "answer") & Vote.post_id.in_(ids)))
    )
    return {f"{t[0]}{pid}": value for t, pid, value in rows}
