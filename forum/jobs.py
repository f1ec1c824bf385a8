"""Background jobs: slow work (e-mail, digests) leaves the request.

With ``REDIS_URL`` set, ``enqueue`` puts a job on the RQ queue ``JOBS_QUEUE`` ("forum"), run by
``flask jobs worker``; without it the job runs inline, in the calling process. Outbox mails are
collected when the session flushes and handed over only after the transaction commits, so a
rolled-back request sends nothing (the same pattern as search_sync).

If Redis is unreachable the mail still sits in the outbox as "pending": ``flask mail retry``
(cron) and the worker's periodic sweep pick up every due row, so nothing is silently dropped.

Webhook deliveries (services/webhooks.py) take the same road: new ``webhook_deliveries`` rows
are collected at flush, handed over after the real commit (``deliver_webhook``, inline without
Redis), and ``flask webhooks retry`` or the worker's periodic sweep sends the due retries and
disables endpoints failing for a day.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from sqlalchemy.orm import Session

from . import mail, search_sync, viewcounts
from .database import after_real_commit
from .extensions import db
from .models import NotificationFanout, OutboxMail, WebhookDelivery
from .models.base import utcnow
from .services import deflection, insights_report, notifications, reach, sla, webhooks
from .stages import stage

log = logging.getLogger(__name__)
NEW_MAIL = "forum.jobs.new_mail"
DELIVER = "forum.jobs.deliver_mail"
NEW_WEBHOOKS = "forum.jobs.new_webhooks"
NEW_FANOUTS = "forum.jobs.new_fanouts"
FAN_OUT = "forum.services.notifications.fan_out"
DELIVER_WEBHOOK = "forum.jobs.deliver_webhook"


class Jobs:
    """The queue of one app (None without REDIS_URL), connected lazily."""

    def __init__(self, app: Flask) -> None:
        self.url: str | None = app.config.get("REDIS_URL") or None
        self.queue_name: str = app.config["JOBS_QUEUE"]
        self._queue: Any = None

    @property
    def queue(self) -> Any:
        if self.url is None:
            return None
        if self._queue is None:
            self._queue = Queue(self.queue_name, connection=Redis.from_url(self.url))
        return self._queue


def get_jobs(app: Flask | None = None) -> Jobs:
    return (app or current_app).extensions["jobs"]


def enqueue(func: str, *args: Any, delay: timedelta | None = None) -> None:
    """Run ``func`` (a dotted path such as "forum.jobs.deliver_mail") with ``args`` in the background.

    Inline (now) without REDIS_URL. With Redis, ``delay`` schedules it (the worker runs RQ's
    scheduler). Raises whatever Redis raises when it is unreachable; callers that must not
    fail catch it and rely on the outbox sweep.
    """
    queue = get_jobs().queue
    if queue is None:
        if delay is None:
            _resolve(func)(*args)
        return
    if delay is None:
        queue.enqueue(func, *args)
    else:
        queue.enqueue_in(delay, func, *args)


def _resolve(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


def deliver_mail(outbox_id: int) -> None:
    """The job: send one outbox mail; after a failure, schedule the retry (Redis) or leave it to the sweep."""
    delay = mail.deliver(outbox_id)
    if delay is not None and get_jobs().queue is not None:
        enqueue(DELIVER, outbox_id, delay=delay)


@dataclass(frozen=True)
class CommitJob:
    """A job another module hands over after the real commit, sent with the mail (`add_commit_jobs`)."""

    func: str
    args: tuple[Any, ...]
    #: Logged (with the traceback) when Redis refuses it; says who repairs what was not queued.
    failure: str


#: Sources of `CommitJob`s, asked by this module's after-commit hook when a Redis queue is set.
_commit_job_sources: list[Callable[[Session], list[CommitJob]]] = []


def add_commit_jobs(source: Callable[[Session], list[CommitJob]]) -> None:
    """Have `source(session)` asked for jobs after every real commit (with Redis only; once per process).

    Its jobs go to Redis in the same pipeline as the commit's mail: one round trip instead of
    one per module (each RQ enqueue is a pipeline of its own). Without Redis the source is not
    asked, and its module runs its work itself. `source` pops what it noted in ``session.info``.
    """
    if source not in _commit_job_sources:
        _commit_job_sources.append(source)


def hand_over(ids: list[int], others: Sequence[CommitJob] = ()) -> None:
    """Queue (or send inline) these committed outbox rows, and `others` with them (Redis only).

    A Redis failure leaves the mail to the sweep and logs each of `others` with its `failure`.
    """
    with stage("mail"):
        queue = get_jobs().queue
        if queue is None or not (others or len(ids) > 1):
            _hand_over(ids)
            return
        datas = [Queue.prepare_data(DELIVER, (outbox_id,)) for outbox_id in ids]
        datas += [Queue.prepare_data(job.func, job.args) for job in others]
        try:
            queue.enqueue_many(datas)
        except Exception:
            if ids:
                log.warning("could not queue mails %s; they stay pending for the sweep", ids, exc_info=True)
            for job in others:
                log.exception(job.failure)


def _hand_over(ids: list[int]) -> None:
    for outbox_id in ids:
        try:
            enqueue(DELIVER, outbox_id)
        except Exception:
            log.warning("could not queue mail %s; it stays pending for the sweep", outbox_id, exc_info=True)
            return


def sweep() -> int:
    """Hand over every due outbox row (pending past its back-off, or stuck in sending); returns how many."""
    ids = mail.due_ids()
    hand_over(ids)
    return len(ids)


def sweep_fanouts(now: datetime | None = None) -> int:
    """Tell the followers of every fan-out left unfinished for a minute (its job was lost, Redis
    was down, a worker died midway; notifications.due_fanouts); returns how many were told."""
    return sum(notifications.fan_out(fanout_id) for fanout_id in notifications.due_fanouts(now))


def deliver_webhook(delivery_id: int) -> None:
    """The job: send one webhook delivery; after a failure, schedule the retry (Redis) or leave it to the sweep."""
    delay = webhooks.deliver(delivery_id)
    if delay is not None and get_jobs().queue is not None:
        enqueue(DELIVER_WEBHOOK, delivery_id, delay=delay)


def hand_over_webhooks(ids: list[int]) -> None:
    """Queue (or send inline) these committed deliveries; a Redis failure leaves them to the sweep."""
    with stage("webhooks"):
        for delivery_id in ids:
            try:
                enqueue(DELIVER_WEBHOOK, delivery_id)
            except Exception:
                log.warning("could not queue webhook delivery %s; it stays pending for the sweep", delivery_id,
                            exc_info=True)
                return


def sweep_webhooks() -> tuple[int, int]:
    """Hand over every due webhook delivery, then disable the endpoints failing for a day (and
    tell the admins; committed here). Returns (deliveries handed over, endpoints disabled)."""
    ids = webhooks.due_ids()
    hand_over_webhooks(ids)
    try:
        disabled = webhooks.disable_failing()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(ids), len(disabled)


# ---------------------------------------------------------------- worker


def make_worker(app: Flask, *, simple: bool = True, name: str | None = None) -> Any:
    """An RQ worker whose jobs run inside ``app``'s application context."""
    base = SimpleWorker if simple else Worker

    class AppWorker(base):  # type: ignore[misc, valid-type]
        def perform_job(self, *args: Any, **kwargs: Any) -> bool:
            with app.app_context():
                return super().perform_job(*args, **kwargs)

    queue = get_jobs(app).queue
    if queue is None:
        raise RuntimeError("Set FORUM_REDIS_URL to run a worker; without it jobs run inline.")
    return AppWorker([queue], connection=queue.connection, name=name)


def periodic(app: Flask, last_sla: float | None) -> float | None:
    """One tick of the worker's housekeeping: hand over due mails and webhook deliveries (and
    disable endpoints failing for a day), tell the followers of fan-outs left unfinished
    (``sweep_fanouts``), write queued search keys
    (left by a failed index write or a process killed between commit and index write), write
    the page views waiting in Redis (forum/viewcounts.py), count the deflections whose window
    closed and delete old raw insight events (services/deflection.py), send the monthly helped
    mail (services/reach.py; it does nothing after the first days of a month), on Mondays queue
    the weekly insights report for opted-in staff (services/insights_report.py, idempotent per
    member and week), and run
    the support desk's SLA sweep (invitations, breach alerts) when SUPPORT_SWEEP_SECONDS have
    passed since ``last_sla`` (None: never). Returns when the SLA sweep last ran. Never raises:
    the next tick tries again."""
    with app.app_context():
        try:
            sweep()
        except Exception:
            log.warning("mail sweep failed", exc_info=True)
        try:
            sweep_webhooks()
        except Exception:
            log.warning("webhook sweep failed", exc_info=True)
        try:
            sweep_fanouts()
        except Exception:
            db.session.rollback()
            log.warning("followers' fan-out sweep failed", exc_info=True)
        try:
            search_sync.drain()
        except Exception:
            log.warning("search queue drain failed", exc_info=True)
        try:
            viewcounts.flush()  # every host's waiting views (Redis), also when web processes don't flush
        except Exception:
            log.warning("view count flush failed", exc_info=True)
        try:
            deflection.sweep()  # deflections whose window closed; raw events past the retention
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.warning("insights sweep failed", exc_info=True)
        try:
            reach.send_monthly_helper_mail()  # early in a month only; once per member and month
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.warning("monthly helped mail failed", exc_info=True)
        if utcnow().weekday() == 0:  # Mondays: last week's insights report (once per member and week)
            try:
                insights_report.send_weekly_reports()
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.warning("weekly insights report failed", exc_info=True)
        now = time.monotonic()
        if last_sla is not None and now - last_sla < float(app.config["SUPPORT_SWEEP_SECONDS"]):
            return last_sla
        try:
            sla.sweep()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.warning("support sweep failed", exc_info=True)
        return now


def start_sweeper(app: Flask, every: float, stop: threading.Event) -> threading.Thread:
    """A daemon thread that runs ``periodic`` every ``every`` seconds, so a running worker also
    retries lost or delayed mails, writes queued search keys, and keeps the support desk's SLA alerts going without cron."""

    def loop() -> None:
        last_sla: float | None = None
        while not stop.wait(every):
            last_sla = periodic(app, last_sla)

    thread = threading.Thread(target=loop, name="forum-sweeper", daemon=True)
    thread.start()
    return thread


# ---------------------------------------------------------------- session hooks


def _after_flush(session: Session, flush_context: Any) -> None:
    new = [obj.id for obj in session.new if isinstance(obj, OutboxMail)]
    if new:
        session.info.setdefault(NEW_MAIL, []).extend(new)
    hooks = [obj.id for obj in session.new if isinstance(obj, WebhookDelivery)]
    if hooks:
        session.info.setdefault(NEW_WEBHOOKS, []).extend(hooks)
    fanouts = [obj.id for obj in session.new if isinstance(obj, NotificationFanout)]
    if fanouts:
        session.info.setdefault(NEW_FANOUTS, []).extend(fanouts)


def _after_commit(session: Session) -> None:
    ids = session.info.pop(NEW_MAIL, None)
    hooks = session.info.pop(NEW_WEBHOOKS, None)
    fanouts = session.info.pop(NEW_FANOUTS, None)
    if not (has_app_context() and "jobs" in current_app.extensions):
        return
    others: list[CommitJob] = []
    if get_jobs().queue is not None:
        for source in _commit_job_sources:
            others.extend(source(session))
        # Only written with a queue (notifications._followers_inline); a lost one is swept.
        others.extend(CommitJob(FAN_OUT, (fanout_id,), f"could not queue the followers' fan-out {fanout_id}; "
                                                       "the worker's sweep tells them within minutes")
                      for fanout_id in fanouts or ())
    if ids or others:
        hand_over(ids or [], others)
    if hooks:
        hand_over_webhooks(hooks)


def init_app(app: Flask) -> None:
    app.extensions["jobs"] = Jobs(app)
    after_real_commit("jobs", _after_flush, _after_commit, (NEW_MAIL, NEW_WEBHOOKS, NEW_FANOUTS))
