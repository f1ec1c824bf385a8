"""The followers of a large thread: a post tells the first FOLLOWERS_INLINE itself and a job the
rest after the commit, in batches, each member once (services/notifications.fan_out)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from forum import jobs
from forum.extensions import db
from forum.models import Notification, NotificationFanout, NotificationPreference, OutboxMail, Question
from forum.models.base import utcnow
from forum.services import answers, following, notifications
from tests.services.test_jobs_redis import redis_app  # noqa: F401 - the Redis app fixture


def told(user_id: int, question: Question) -> list[str]:
    """The events a member's bell holds about the question."""
    return list(db.session.scalars(select(Notification.event).where(
        Notification.user_id == user_id, Notification.target == f"question:{question.id}").order_by(Notification.id)))


def answer_telling_two_followers(app: Flask, question: Question, author: object) -> None:
    """An answer (not committed) while a post tells two followers itself."""
    app.config["FOLLOWERS_INLINE"] = 2
    answers.post_answer(author, question, "Same here since this morning; the status page says it is fixed.")


@pytest.fixture
def big_thread(make_user, make_question) -> tuple[Question, list, object]:
    """A question, its asker, and eight followers (in id order) of different kinds."""
    asker = make_user()
    question = make_question(author=asker, title="Hub offline for everyone since the outage")
    followers = [make_user() for _ in range(8)]
    for member in followers:
        following.follow_question(member, question)
    followers[4].suspended_until = utcnow() + timedelta(days=3)  # told nothing while suspended
    db.session.add(NotificationPreference(user_id=followers[5].id, event="follow", in_app=False, email=False))
    db.session.add(NotificationPreference(user_id=followers[6].id, event="follow", in_app=True, email=True))
    db.session.commit()
    return question, followers, asker


@pytest.mark.usefixtures("redis_app")  # REDIS_URL and a queue of its own (tests/services/test_jobs_redis.py)
def test_a_post_tells_the_first_followers_and_a_job_the_rest_each_once(
        app: Flask, big_thread, make_user, monkeypatch: pytest.MonkeyPatch) -> None:
    question, followers, asker = big_thread
    app.config["FOLLOWERS_INLINE"] = 3
    monkeypatch.setattr(notifications, "FANOUT_BATCH", 2)  # three batches for five members
    helper = make_user()
    # The last follower is mentioned: they hear "mention", and not "follow" again from the job.
    answers.post_answer(helper, question, f"Power-cycle the hub, then re-pair. @{followers[7].username} saw this too.")
    db.session.commit()

    assert told(asker.id, question) == ["answer"]
    assert [told(f.id, question) for f in followers[:3]] == [["follow"]] * 3  # in the request
    assert [told(f.id, question) for f in followers[3:7]] == [[]] * 4  # not yet
    assert told(followers[7].id, question) == ["mention"]
    fanout = db.session.scalars(select(NotificationFanout)).one()
    assert fanout.after_user_id == followers[2].id and fanout.done_at is None
    assert {helper.id, asker.id, followers[7].id} <= {int(uid) for uid in fanout.exclude.split()}

    assert jobs.make_worker(app).work(burst=True)  # the fan-out job (and the e-mails)

    db.session.expire_all()
    assert told(followers[3].id, question) == ["follow"]
    assert told(followers[4].id, question) == []  # suspended
    assert told(followers[5].id, question) == []  # turned "follow" off
    assert told(followers[6].id, question) == ["follow"]
    assert db.session.scalars(select(OutboxMail.recipient).where(OutboxMail.event == "follow")).all() == [
        followers[6].email]  # the only one who asked for e-mail about followed threads
    assert told(followers[7].id, question) == ["mention"]
    assert [told(f.id, question) for f in followers[:3]] == [["follow"]] * 3  # nobody twice
    assert told(helper.id, question) == [] and told(asker.id, question) == ["answer"]
    assert db.session.get(NotificationFanout, fanout.id).done_at is not None
    assert notifications.fan_out(fanout.id) == 0  # run again: nothing more


@pytest.mark.usefixtures("redis_app")
def test_a_fan_out_whose_job_was_lost_is_run_by_the_sweep(app: Flask, big_thread, make_user) -> None:
    question, followers, _ = big_thread
    answer_telling_two_followers(app, question, make_user())
    db.session.commit()
    jobs.get_jobs(app).queue.empty()  # Redis lost the job

    assert jobs.sweep_fanouts() == 0  # a minute's grace: its job may still be on its way
    assert jobs.sweep_fanouts(now=utcnow() + timedelta(minutes=2)) == 4  # followers 2, 3, 6 and 7 (4 and 5 not)
    db.session.expire_all()
    assert [len(told(f.id, question)) for f in followers] == [1, 1, 1, 1, 0, 0, 1, 1]
    assert jobs.sweep_fanouts(now=utcnow() + timedelta(minutes=2)) == 0


def test_without_a_job_queue_a_post_tells_every_follower_itself(app: Flask, big_thread, make_user) -> None:
    question, followers, _ = big_thread
    answer_telling_two_followers(app, question, make_user())
    db.session.commit()
    assert [len(told(f.id, question)) for f in followers] == [1, 1, 1, 1, 0, 0, 1, 1]
    assert db.session.scalars(select(NotificationFanout)).all() == []


@pytest.mark.usefixtures("redis_app")
def test_a_rolled_back_post_leaves_no_fan_out(app: Flask, big_thread, make_user) -> None:
    question, _, _ = big_thread
    answer_telling_two_followers(app, question, make_user())
    db.session.rollback()
    assert db.session.scalars(select(NotificationFanout)).all() == []
    assert jobs.get_jobs(app).queue.count == 0


@pytest.mark.usefixtures("redis_app")
def test_the_fan_out_mails_a_follower_once_per_unread_line(app: Flask, big_thread, make_user) -> None:
    question, followers, _ = big_thread
    mailed = followers[6]  # "follow" in the bell and by e-mail; beyond the two told in the request

    def mails() -> int:
        return db.session.scalar(select(db.func.count()).select_from(OutboxMail).where(
            OutboxMail.user_id == mailed.id, OutboxMail.event == "follow")) or 0

    for _ in range(3):
        answer_telling_two_followers(app, question, make_user())
        db.session.commit()
        assert jobs.make_worker(app).work(burst=True)
    db.session.expire_all()
    assert db.session.scalars(select(Notification.count).where(Notification.user_id == mailed.id)).all() == [3]
    assert mails() == 1  # the line's first answer; the next two counted it up

    notifications.read_target(mailed, f"question:{question.id}", 1)
    answer_telling_two_followers(app, question, make_user())
    db.session.commit()
    assert jobs.make_worker(app).work(burst=True)
    db.session.expire_all()
    assert mails() == 2  # a new line, a new e-mail
