"""Up and down votes on questions and answers.

One vote per member per post (a database unique constraint); voting again with the same
value changes nothing, another value changes the vote, 0 withdraws it. Scores move with
atomic UPDATEs and every reputation effect goes through the ledger (services/reputation.py),
all in the caller's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Answer, Question, User, Vote
from ..models.base import utcnow
from . import badges, reputation
from .errors import FieldError, InvalidState, NotFound
from .permissions import can, require

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
    post = db.session.get(model, post_id) if model is not None else None
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


def cast_vote(voter: User, post_type: str, post_id: int, value: int) -> VoteResult:
    """Set ``voter``'s vote on a post to ``value`` (1 up, -1 down, 0 withdraw).

    Raises NotFound (missing or invisible post), FieldError("value"), PermissionDenied (own
    post, locked thread, hidden or deleted post, a member who may not post) and InvalidState
    (a concurrent duplicate the constraint refused; the caller rolls back).
    """
    if value not in VALUES:
        raise FieldError("value", "A vote is up (1), down (-1) or withdrawn (0).")
    post = get_votable(voter, post_type, post_id)
    require(voter, "vote", post, "You can't vote on this post.")
    _lock_post(post)
    reputation.lock_users(post.author_id, voter.id)
    vote = current_vote(voter.id, post_type, post.id)
    old = vote.value if vote is not None else 0
    if old != value:
        if old:
            reputation.revoke_vote(post, voter.id)
        if value == 0:
            db.session.delete(vote)
        elif vote is not None:
            vote.value = value
            vote.updated_at = utcnow()
        else:
            db.session.add(Vote(user_id=voter.id, post_type=post_type, post_id=post.id, value=value))
        try:
            db.session.flush()
        except IntegrityError:
            raise InvalidState("You already voted on this post.") from None
        model = type(post)
        db.session.execute(update(model).where(model.id == post.id).values(score=model.score + (value - old))
                           .execution_options(synchronize_session=False))
        if value:
            reputation.grant_vote(post, voter.id, value)
    db.session.refresh(post, ["score"])
    if old != value:
        badges.on_event("vote", post=post, user=voter, value=value, delta=value - old)
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
