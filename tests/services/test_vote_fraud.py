"""Vote fraud: the daily vote cap and the serial-voting reversal command."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from forum.extensions import db
from forum.models import Answer, ModerationLog, Question, User, Vote
from forum.models.base import utcnow
from forum.services import fraud, reputation, votes
from forum.services.errors import PermissionDenied, RateLimited
from tests.support import run_together, set_reputation


def _rep(user_id: int) -> int:
    return db.session.scalar(select(User.reputation).where(User.id == user_id))


def _score(post: Question | Answer) -> int:
    model = type(post)
    return db.session.scalar(select(model.score).where(model.id == post.id))


def _vote(voter: User, post: Question | Answer, value: int) -> None:
    votes.cast_vote(voter, post.kind, post.id, value)
    db.session.commit()


def test_a_member_casts_at_most_votes_per_day_new_votes(app: Flask, make_question, make_user) -> None:
    app.config["VOTES_PER_DAY"] = 3
    voter = make_user()
    qs = [make_question() for _ in range(5)]
    for q in qs[:3]:
        _vote(voter, q, 1)
    with pytest.raises(RateLimited, match="all 3 of your votes for today"):
        votes.cast_vote(voter, "question", qs[3].id, 1)
    db.session.rollback()
    assert _score(qs[3]) == 0
    _vote(voter, qs[0], -1)  # changing a vote costs nothing
    assert _score(qs[0]) == -1
    _vote(voter, qs[1], 0)  # withdrawing gives the slot back
    _vote(voter, qs[3], 1)
    assert [_score(q) for q in qs] == [-1, 0, 1, 1, 0]
    with pytest.raises(RateLimited):
        votes.cast_vote(voter, "question", qs[4].id, -1)
    db.session.rollback()


def test_votes_cast_on_earlier_days_do_not_count_and_zero_means_no_cap(app: Flask, make_question, make_user) -> None:
    app.config["VOTES_PER_DAY"] = 2
    voter = make_user()
    qs = [make_question() for _ in range(5)]
    _vote(voter, qs[0], 1)
    _vote(voter, qs[1], 1)
    db.session.execute(update(Vote).values(created_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    _vote(voter, qs[2], 1)
    _vote(voter, qs[3], 1)
    with pytest.raises(RateLimited):
        votes.cast_vote(voter, "question", qs[4].id, 1)
    db.session.rollback()
    app.config["VOTES_PER_DAY"] = 0
    _vote(voter, qs[4], 1)
    assert db.session.scalar(select(func.count(Vote.id)).where(Vote.user_id == voter.id)) == 5


def test_concurrent_votes_never_exceed_the_daily_cap(app: Flask, make_question, make_user) -> None:
    app.config["VOTES_PER_DAY"] = 4
    voter = make_user()
    qids = [make_question().id for _ in range(10)]
    vid = voter.id

    def worker(i: int) -> str:
        with app.app_context():
            try:
                votes.cast_vote(db.session.get(User, vid), "question", qids[i], 1)
                db.session.commit()
                return "ok"
            except RateLimited:
                db.session.rollback()
                return "capped"
            finally:
                db.session.remove()

    outcomes = run_together(len(qids), worker)
    assert sorted(outcomes) == ["capped"] * 6 + ["ok"] * 4
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Vote.id)).where(Vote.user_id == vid)) == 4


def _serial_scene(make_question, make_answer, make_user):
    """A fan upvotes six of one author's answers; an honest voter upvotes three."""
    author, fan, honest = make_user(), make_user(), make_user()
    q = make_question()
    answers = [make_answer(q, author=author) for _ in range(6)]
    for a in answers:
        _vote(fan, a, 1)
    for a in answers[:3]:
        _vote(honest, a, 1)
    return author, fan, honest, answers


def test_reverse_serial_withdraws_a_serial_voters_votes_exactly(runner, make_question, make_answer, make_user) -> None:
    author, fan, honest, answers = _serial_scene(make_question, make_answer, make_user)
    assert _rep(author.id) == 1 + 90
    dry = runner.invoke(args=["reputation", "reverse-serial", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"{fan.username} -> {author.username}: 6 votes (6 up, 0 down)" in dry.output
    assert "nothing changed" in dry.output and honest.username not in dry.output
    db.session.expire_all()
    assert _rep(author.id) == 91 and db.session.scalar(select(func.count(ModerationLog.id))) == 0

    result = runner.invoke(args=["reputation", "reverse-serial"])
    assert result.exit_code == 0, result.output
    assert "Reversed 6 votes in 1 serial voting pairs" in result.output
    assert f"{author.username}'s reputation 91 -> 31" in result.output
    db.session.expire_all()
    assert _rep(author.id) == 1 + 30  # the honest voter's three upvotes stay
    assert [_score(a) for a in answers] == [1, 1, 1, 0, 0, 0]
    assert db.session.scalar(select(func.count(Vote.id)).where(Vote.user_id == fan.id)) == 0
    entry = db.session.scalars(select(ModerationLog)).one()
    assert (entry.action, entry.target_type, entry.target_id, entry.actor_id) == ("reverse_serial_votes", "user", fan.id, None)
    assert json.loads(entry.before)["author_reputation"] == 91 and json.loads(entry.after)["author_reputation"] == 31
    assert reputation.recompute(fix=False)[1] == []

    again = runner.invoke(args=["reputation", "reverse-serial"])
    assert "Reversed 0 votes in 0 serial voting pairs" in again.output
    db.session.expire_all()
    assert _rep(author.id) == 31 and db.session.scalar(select(func.count(ModerationLog.id))) == 1


def test_serial_downvotes_are_reversed_with_the_voters_own_charge(make_question, make_answer, make_user) -> None:
    target, hater = make_user(), set_reputation(make_user(), 200)  # enough to keep downvoting
    q = make_question(author=target)
    answers = [make_answer(q, author=target) for _ in range(4)]
    _vote(hater, q, -1)
    for a in answers:
        _vote(hater, a, -1)
    assert (_rep(target.id), _rep(hater.id)) == (1 - 10, 200 - 4)
    reversals = fraud.reverse_serial(None, 5, 24)
    db.session.commit()
    assert [(r.pair.ups, r.pair.downs) for r in reversals] == [(0, 5)]
    db.session.expire_all()
    assert (_rep(target.id), _rep(hater.id)) == (1, 200)
    assert _score(q) == 0 and reputation.recompute(fix=False)[1] == []


def test_votes_outside_the_window_or_below_the_threshold_stay(runner, make_question, make_answer, make_user) -> None:
    author, fan, _, answers = _serial_scene(make_question, make_answer, make_user)
    assert fraud.find_serial_votes(7, 24) == []
    db.session.execute(update(Vote).where(Vote.user_id == fan.id, Vote.post_id.in_([a.id for a in answers[:2]]))
                       .values(updated_at=utcnow() - timedelta(hours=30)))
    db.session.commit()
    assert fraud.find_serial_votes(5, 24) == []  # only four fall inside the last 24 h
    pairs = fraud.find_serial_votes(5, 48)
    assert [(p.voter_id, p.author_id, len(p.vote_ids)) for p in pairs] == [(fan.id, author.id, 6)]
    result = runner.invoke(args=["reputation", "reverse-serial", "--min-votes", "1"])
    assert result.exit_code != 0 and "at least 2 votes" in result.output


def test_the_log_names_the_moderator_given_and_members_cannot_run_it(runner, make_question, make_answer, make_user) -> None:
    _, fan, _, _ = _serial_scene(make_question, make_answer, make_user)
    member = make_user()
    with pytest.raises(PermissionDenied):
        fraud.reverse_serial(member, 5, 24)
    db.session.rollback()
    refused = runner.invoke(args=["reputation", "reverse-serial", "--actor", member.username])
    assert refused.exit_code != 0 and "Only moderators and admins" in refused.output
    admin = make_user(role="admin")
    result = runner.invoke(args=["reputation", "reverse-serial", "--actor", admin.username])
    assert result.exit_code == 0, result.output
    entry = db.session.scalars(select(ModerationLog)).one()
    assert (entry.actor_id, entry.target_id) == (admin.id, fan.id)
