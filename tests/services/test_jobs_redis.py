"""The Redis path: mails leave the request as RQ jobs and a worker delivers them (local Redis)."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta, timezone

import pytest
from flask import Flask
from sqlalchemy import select

from forum import jobs
from forum.extensions import db
from forum.models import OutboxMail
from forum.services import notifications
from tests.mailserver import smtp_server
from tests.support import redis_url_or_skip
from tools.serving import free_port


@pytest.fixture
def redis_app(app: Flask) -> Iterator[Flask]:
    """The app with REDIS_URL set and a queue of its own (so parallel runs never share jobs)."""
    app.config.update(REDIS_URL=redis_url_or_skip(), JOBS_QUEUE=f"test-{uuid.uuid4().hex[:12]}")
    jobs.init_app(app)
    queue = jobs.get_jobs(app).queue
    queue.connection.ping()
    yield app
    queue.empty()
    for registry in (queue.scheduled_job_registry, queue.failed_job_registry, queue.finished_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
    queue.connection.close()


def test_mail_goes_through_the_queue_and_a_worker_delivers_it(redis_app, make_user, make_question, make_answer) -> None:
    asker = make_user(email="queued@example.com")
    q = make_question(author=asker)
    with smtp_server() as (inbox, port):
        redis_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        make_answer(q)
        queue = jobs.get_jobs(redis_app).queue
        assert queue.count == 1 and inbox.messages == []  # the request only queued it
        assert db.session.scalar(select(OutboxMail.status)) == "pending"

        worked = jobs.make_worker(redis_app).work(burst=True)

    assert worked is True
    [msg] = inbox.to("queued@example.com")
    assert "answered your question" in msg["Subject"]
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMail.status)) == "sent"


def test_rolled_back_work_queues_nothing(redis_app, make_user, make_question) -> None:
    asker = make_user()
    q = make_question(author=asker)
    notifications.notify([asker], "answer", actor=None, subject="An answer", url=f"/questions/{q.id}")
    db.session.rollback()
    assert jobs.get_jobs(redis_app).queue.count == 0


def test_a_failed_send_is_rescheduled_with_back_off(redis_app, make_user) -> None:
    redis_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), MAIL_RETRY_BASE_SECONDS=30)
    user = make_user(email="later@example.com")
    notifications.notify([user], "answer", actor=None, subject="An answer", url="/")
    db.session.commit()
    queue = jobs.get_jobs(redis_app).queue

    jobs.make_worker(redis_app).work(burst=True)

    row = db.session.scalars(select(OutboxMail)).one()
    assert (row.status, row.attempts) == ("pending", 1)
    [job_id] = queue.scheduled_job_registry.get_job_ids()  # the retry waits in RQ's scheduler
    scheduled = queue.scheduled_job_registry.get_scheduled_time(job_id)
    if scheduled.tzinfo is None:
        scheduled = scheduled.replace(tzinfo=timezone.utc)
    assert abs(scheduled - row.next_attempt_at) < timedelta(seconds=3)  # the row's back-off: 30 s after the try


def test_unreachable_redis_leaves_the_mail_pending_for_the_sweep(app, make_user, tmp_path) -> None:
    app.config.update(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", MAIL_DIR=str(tmp_path))
    jobs.init_app(app)
    user = make_user()
    notifications.notify([user], "answer", actor=None, subject="An answer", url="/")
    db.session.commit()  # enqueue fails after commit; the request is not broken
    assert db.session.scalar(select(OutboxMail.status)) == "pending"

    app.config["REDIS_URL"] = None
    jobs.init_app(app)
    assert jobs.sweep() == 1  # `flask mail retry` from cron: inline now
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMail.status)) == "sent" and len(list(tmp_path.iterdir())) == 1


def test_flask_jobs_worker_burst_sends_queued_and_due_mails(redis_app, runner, make_user) -> None:
    user = make_user(email="cli@example.com")
    with smtp_server() as (inbox, port):
        redis_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        notifications.notify([user], "answer", actor=None, subject="Queued for the CLI worker", url="/")
        db.session.commit()
        result = runner.invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert [m["Subject"] for m in inbox.to("cli@example.com")] == ["Queued for the CLI worker"]


def test_worker_refuses_to_start_without_redis(app, runner) -> None:
    result = runner.invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code != 0 and "FORUM_REDIS_URL" in result.output
