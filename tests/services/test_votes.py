"""Votes: one per member per post, change and undo, who may vote, and concurrency."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import Answer, Question, User, Vote
from forum.services import curation, votes
from forum.services.errors import FieldError, NotFound, PermissionDenied
from tests.support import run_together, set_reputation


def test_database_refuses_a_second_vote_by_the_same_member(make_question, make_user) -> None:
    q = make_question()
    voter = make_user()
    db.session.add(Vote(user_id=voter.id, post_type="question", post_id=q.id, value=1))
    db.session.commit()
    db.session.add(Vote(user_id=voter.id, post_type="question", post_id=q.id, value=-1))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_database_refuses_a_vote_value_other_than_plus_or_minus_one(make_question, make_user) -> None:
    q = make_question()
    db.session.add(Vote(user_id=make_user().id, post_type="question", post_id=q.id, value=2))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_upvote_change_and_undo_move_the_score(make_question, make_answer, make_user) -> None:
    a = make_answer(make_question())
    voter = make_user()
    r = votes.cast_vote(voter, "answer", a.id, 1)
    db.session.commit()
    assert (r.score, r.my_vote) == (1, 1)
    r = votes.cast_vote(voter, "answer", a.id, 1)  # the same vote again changes nothing
    db.session.commit()
    assert r.score == 1
    r = votes.cast_vote(voter, "answer", a.id, -1)
    db.session.commit()
    assert (r.score, r.my_vote) == (-1, -1)
    r = votes.cast_vote(voter, "answer", a.id, 0)
    db.session.commit()
    assert (r.score, r.my_vote) == (0, 0)
    assert db.session.scalar(select(func.count(Vote.id))) == 0
    assert db.session.get(Answer, a.id).score == 0


def test_withdrawing_without_a_vote_is_a_no_op(make_question, make_user) -> None:
    q = make_question()
    r = votes.cast_vote(make_user(), "question", q.id, 0)
    db.session.commit()
    assert (r.score, r.my_vote) == (0, 0)


def test_bad_value_is_a_field_error(make_question, make_user) -> None:
    q = make_question()
    with pytest.raises(FieldError):
        votes.cast_vote(make_user(), "question", q.id, 5)


def test_cannot_vote_on_own_post(make_question, make_answer) -> None:
    q = make_question()
    a = make_answer(q)
    with pytest.raises(PermissionDenied):
        votes.cast_vote(q.author, "question", q.id, 1)
    with pytest.raises(PermissionDenied):
        votes.cast_vote(a.author, "answer", a.id, -1)


def test_cannot_vote_in_a_locked_thread(make_question, make_answer, make_user) -> None:
    q = make_question()
    a = make_answer(q)
    voter = make_user()
    votes.cast_vote(voter, "answer", a.id, 1)
    curation.set_locked(make_user(role="moderator"), q, True)
    db.session.commit()
    for post_type, post_id, value in (("question", q.id, 1), ("answer", a.id, 0), ("answer", a.id, -1)):
        with pytest.raises(PermissionDenied):
            votes.cast_vote(voter, post_type, post_id, value)
    db.session.rollback()
    assert db.session.get(Answer, a.id).score == 1


def test_cannot_vote_on_deleted_or_hidden_posts(make_question, make_answer, make_user) -> None:
    from forum.models.base import utcnow

    q = make_question()
    a = make_answer(q)
    a.deleted_at = utcnow()
    q2 = make_question()
    q2.hidden_at = utcnow()
    db.session.commit()
    voter = make_user()
    with pytest.raises(NotFound):
        votes.cast_vote(voter, "answer", a.id, 1)
    with pytest.raises(NotFound):
        votes.cast_vote(voter, "question", q2.id, 1)
    staff = make_user(role="moderator")  # staff can see them, still can't vote
    with pytest.raises(PermissionDenied):
        votes.cast_vote(staff, "answer", a.id, 1)


def test_silenced_or_anonymous_members_cannot_vote(make_question, make_user) -> None:
    from datetime import timedelta

    from forum.models.base import utcnow
    from forum.services.permissions import can

    q = make_question()
    silenced = make_user()
    silenced.silenced_until = utcnow() + timedelta(days=1)
    db.session.commit()
    with pytest.raises(PermissionDenied):
        votes.cast_vote(silenced, "question", q.id, 1)
    assert not can(None, "vote", q)


def test_twenty_identical_concurrent_votes_count_once(app: Flask, make_question, make_user) -> None:
    q = make_question()
    voter = make_user()
    qid, vid, author_id = q.id, voter.id, q.author_id

    def worker(i: int) -> None:
        with app.app_context():  # released together, before touching the pool
            user = db.session.get(User, vid)
            votes.cast_vote(user, "question", qid, 1)
            db.session.commit()
            db.session.remove()

    run_together(20, worker)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Vote.id)).where(Vote.post_id == qid)) == 1
    assert db.session.get(Question, qid).score == 1
    assert db.session.get(User, author_id).reputation == 1 + 5


def test_thirty_members_voting_at_once_all_count(app: Flask, make_question, make_answer, make_user) -> None:
    a = make_answer(make_question())
    voters = [make_user() for _ in range(30)]
    aid, author_id = a.id, a.author_id
    ids = [v.id for v in voters]

    def worker(i: int) -> None:
        with app.app_context():
            user = db.session.get(User, ids[i])
            votes.cast_vote(user, "answer", aid, 1 if i % 3 else -1)
            db.session.commit()
            db.session.remove()

    run_together(30, worker)
    db.session.expire_all()
    ups, downs = 20, 10
    assert db.session.get(Answer, aid).score == ups - downs
    assert db.session.get(User, author_id).reputation == 1 + min(ups * 10, 200) - 2 * downs
    for i, uid in enumerate(ids):
        assert db.session.get(User, uid).reputation == (1 if i % 3 else 0)


def test_two_members_downvoting_each_other_at_once_never_deadlock(app: Flask, make_question, make_answer, make_user) -> None:
    q = make_question()
    a_user, b_user = make_user(), make_user()
    # Enough reputation that whichever downvote lands first cannot take the other voter below
    # the voting privilege: this test is about locks, not privileges.
    set_reputation(a_user, 100)
    set_reputation(b_user, 100)
    answers = {a_user.id: make_answer(q, author=a_user).id, b_user.id: make_answer(q, author=b_user).id}
    pairs = [(a_user.id, answers[b_user.id]), (b_user.id, answers[a_user.id])] * 5

    def worker(i: int) -> None:
        voter_id, answer_id = pairs[i]
        with app.app_context():
            votes.cast_vote(db.session.get(User, voter_id), "answer", answer_id, -1 if i < 2 else (1 if i % 4 < 2 else -1))
            db.session.commit()
            db.session.remove()

    run_together(len(pairs), worker)
    db.session.expire_all()
    from forum.services import reputation
    assert reputation.recompute(fix=False)[1] == []
