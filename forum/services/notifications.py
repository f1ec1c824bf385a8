"""Notifications: the interface every subscriber calls to tell members what happened.

The subscribers of domain events (activity, mentions, badges, cases, forum/subscribers.py)
and the SLA sweep call ``notify`` and ``notify_followers`` inside the writer's transaction;
both only add rows (a ``Notification`` behind the bell, an ``OutboxMail`` for e-mail). The
mail leaves after commit through the job layer (forum/jobs.py collects new outbox rows at
flush and hands them over after the real commit), so nothing is sent for a rolled-back request.

Events (``event`` argument): "answer" (an answer on my question), "comment" (a comment on my
post), "accepted" (my answer was accepted), "mention" (@me), "follow" (activity on a
question I follow), "flag" (the outcome of my flag), "badge" (I earned a badge), "case"
(a private support case I am party to changed), "sla" (a question breached its first-response
target), "invite" (a question in my tags waits for an answer), "webhook" (admins: a webhook
endpoint was disabled after failing for a day, services/webhooks.py).

Within one transaction a member hears about one ``url`` under one event only: call the most
specific event first ("answer" to the asker), then ``notify_followers`` ("follow"), and the
asker is not told twice. Repeated calls with the same event (two badges at once) all count.
A write that raises several events about one thing runs inside ``coalesced()``: each member
then hears once, of the most meaningful kind (``COALESCE_RANK``), with at most one e-mail.

A thread's followers beyond ``FOLLOWERS_INLINE`` (with a job queue) hear from ``fan_out``
after the commit instead of from the write itself (``NotificationFanout``).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVarTuple, cast

from flask import current_app
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import BindParameter

from ..database import after_real_commit
from ..extensions import db
from ..mail import BadToken, absolute_url, compose, read_unsubscribe_token
from ..models import Notification, NotificationFanout, NotificationPreference, Question, QuestionFollow, User
from ..models.base import utcnow
from ..models.notification import COLLAPSING, COLLAPSING_WHERE
from ..pagecache.keys import viewer_key
from ..pagecache.writes import TOUCHES
from ..stages import stage
from .errors import NotFound, ServiceError
from .pagination import Page, paginate

NOTIFIED = "forum.notify.notified"  # popped after commit by forum/jobs.py, which keeps the same key
EVENTS = ("answer", "comment", "accepted", "mention", "follow", "flag", "badge", "case", "sla", "invite", "review",
          "webhook")
DIGEST = "digest"  # the daily digest's switch lives in the preferences under this pseudo-event
# The monthly "people your answers helped" mail (services/reach.py): a pseudo-event too, off
# unless the member turned it on (no row: off).
HELPED_MONTHLY = "helped_monthly"
HELPED_MONTHLY_LABEL = "The monthly e-mail about the people my answers helped"
# Staff opt in to the weekly insights report (services/insights_report.py): a row with email=True
# under this pseudo-event; no row (or email=False) is off.
WEEKLY_REPORT = "weekly_report"

# (in-app, e-mail) when a member has not chosen. Following is chatty: in-app only by default.
DEFAULTS: dict[str, tuple[bool, bool]] = {
    "answer": (True, True), "comment": (True, True), "accepted": (True, True), "mention": (True, True),
    "follow": (True, False), "flag": (True, False), "badge": (True, False), "case": (True, True),
    "sla": (True, True), "invite": (True, True), "review": (True, True), "webhook": (True, True),
}
DIGEST_DEFAULT = True
NO_EMAIL = "forum.notify.no_email"
COALESCING = "forum.notify.coalescing"  # session.info: the deliveries held back by ``coalesced()``
# What a member hears when one write has several things to tell them (``coalesced``): the
# first event of this list that they were to hear of.
COALESCE_RANK = ("case", "accepted", "answer", "comment", "mention", "review", "flag", "invite", "sla", "badge",
                 "follow", "webhook")
# session.info key: (user_id, url) -> the event that member was told of in this transaction.
NOTIFIED = "forum.notify.notified"
# session.info key: the NotificationFanout rows this transaction added (``_settle_fanouts``).
FANOUTS = "forum.notify.fanouts"
#: Followers told per transaction of ``fan_out``.
FANOUT_BATCH = 500
LABELS = {
    "answer": "An answer to my question", "comment": "A comment on my post", "accepted": "My answer is accepted",
    "mention": "Someone mentions me", "follow": "Activity on questions I follow", "flag": "The outcome of my flags",
    "badge": "I earn a badge", "case": "My private support cases change", "sla": "A question misses its response target",
    "invite": "I am invited to answer",
    "review": "A post of mine held for review is published or declined",
    "webhook": "A webhook endpoint is disabled after failing for a day (admins)",
}


class BadUnsubscribeLink(ServiceError):
    """A tampered, malformed or expired unsubscribe token: 400 with a clear page."""

    status = 400


# ---------------------------------------------------------------- telling people


def _forget_told(session: Session) -> None:
    session.info.pop(NOTIFIED, None)


_listening = False


def init_app() -> None:
    """Forget who was told what once the transaction really commits (a rollback forgets too),
    so the next transaction in the same session may tell them again; settle the fan-outs a
    transaction records before it commits."""
    global _listening
    after_real_commit("notifications", None, _forget_told, (NOTIFIED, FANOUTS))
    if not _listening:
        sa_event.listen(FlaskSession, "before_commit", _settle_fanouts)
        _listening = True


def _ids(recipients: Iterable[User | int], actor: User | None) -> list[int]:
    seen: list[int] = []
    actor_id = actor.id if actor is not None else None
    for r in recipients:
        uid = r if isinstance(r, int) else r.id
        if uid != actor_id and uid not in seen:
            seen.append(uid)
    return seen


def notify(recipients: Iterable[User | int], event: str, *, actor: User | None, subject: str, url: str,
           text: str = "", target: str | None = None) -> None:
    """Tell each recipient (users or user ids) about ``event``; the actor is never told of their own act.

    ``subject`` is one line ("maria_k answered your question"), ``url`` a site-relative link to
    the thing itself, ``text`` an optional plain-text excerpt. Recipients are de-duplicated,
    suspended members and deleted accounts are skipped, and each member's preferences for ``event`` decide between
    a bell entry, an e-mail, both or nothing. ``target`` is the page whose viewing marks the
    bell entry read ("question:12"); by default ``target_of(url)``. Raises ValueError for an
    unknown event.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    with stage("notify"):
        _notify(recipients, event, actor=actor, subject=subject, url=url, text=text, target=target)


_TARGETS = re.compile(r"^/(questions|cases|articles)/(\d+)(?:[/?#]|$)")
_TARGET_KINDS = {"questions": "question", "cases": "case", "articles": "article"}


def target_of(url: str) -> str | None:
    """The page a notification's site-relative ``url`` is about: "question:12" for
    ``/questions/12/slug#answer-3``, "case:3", "article:4"; None for anything else."""
    found = _TARGETS.match(url)
    return f"{_TARGET_KINDS[found.group(1)]}:{found.group(2)}" if found else None


@dataclass(frozen=True)
class _Delivery:
    """One member to tell of one thing, their preferences for its event already read."""

    user: User
    event: str
    actor: User | None
    subject: str
    url: str
    text: str
    in_app: bool
    email: bool
    target: str | None = None  # the page whose viewing marks the bell entry read


def _notify(recipients: Iterable[User | int], event: str, *, actor: User | None, subject: str, url: str,
            text: str, followers_of: int | None = None, target: str | None = None) -> None:
    """``notify``; with ``followers_of`` the recipients are that question's followers, chosen
    by the same query that reads the members and their preferences."""
    notified: dict[tuple[int, str], str] = db.session.info.setdefault(NOTIFIED, {})
    actor_id = actor.id if actor is not None else None
    if followers_of is None:
        ids: list[int] | None = [uid for uid in _ids(recipients, actor) if notified.get((uid, url), event) == event]
        if not ids:
            return
        who: ColumnElement[bool] = User.id.in_(ids)
    else:
        ids = None
        who = User.id.in_(select(QuestionFollow.user_id).where(QuestionFollow.question_id == followers_of))
        if actor_id is not None:
            who = and_(who, User.id != actor_id)
    # The members and their choice for this event in one query (defaults where they made none).
    default = DEFAULTS[event]
    users: dict[int, tuple[User, bool, bool]] = {}
    for user, in_app, email in db.session.execute(
            select(User, NotificationPreference.in_app, NotificationPreference.email)
            .outerjoin(NotificationPreference, and_(NotificationPreference.user_id == User.id,
                                                    NotificationPreference.event == event))
            .where(who, User.deleted_at.is_(None))):  # a deleted account is told nothing
        users[user.id] = (user, default[0] if in_app is None else in_app, default[1] if email is None else email)
    _hand_out(_choose(ids if ids is not None else sorted(users), users, event, actor=actor, subject=subject,
                      url=url, text=text, target=target))


def _choose(ids: list[int], users: dict[int, tuple[User, bool, bool]], event: str, *, actor: User | None,
            subject: str, url: str, text: str, target: str | None) -> list[_Delivery]:
    """The deliveries of ``event`` to ``ids`` (in that order), given the members read with their
    choice for it: suspended members and those already told of ``url`` under another event are
    skipped; each one chosen is remembered as told."""
    notified: dict[tuple[int, str], str] = db.session.info.setdefault(NOTIFIED, {})
    now = utcnow()
    subject, text = " ".join(subject.split())[:300], text[:500]
    target = target or target_of(url)
    deliveries: list[_Delivery] = []
    for uid in ids:
        found = users.get(uid)
        if found is None or found[0].is_suspended(now) or notified.get((uid, url), event) != event:
            continue
        user, in_app, email = found
        notified[(uid, url)] = event
        # An unconfirmed address gets account mail only (services/verification.py).
        email = email and user.email_verified and not db.session.info.get(NO_EMAIL)
        if in_app or email:
            deliveries.append(_Delivery(user, event, actor, subject, url, text, in_app, email, target))
    return deliveries


def _hand_out(deliveries: list[_Delivery]) -> None:
    """Deliver now, or hold back inside ``coalesced()``."""
    buffer: list[_Delivery] | None = db.session.info.get(COALESCING)
    if buffer is not None:
        buffer.extend(deliveries)
    else:
        _deliver(deliveries)


_TOLD, _FOLLOW = aliased(NotificationPreference), aliased(NotificationPreference)


@lru_cache(maxsize=8)
def _author_and_followers_query(with_author: bool, with_actor: bool,
                                bounded: bool = False) -> Select[User, bool, bool, bool, bool, bool]:
    """The members ``notify_author_and_followers`` reads, with their choices for the event
    (parameter ``event``) and for "follow", and whether they follow the question
    (``question_id``), excluding ``actor_id``: built once per shape, not per answer (building
    a statement of three outer joins costs more CPU than sending it). ``bounded``: the authors
    first, then the followers by id, at most ``limit`` rows (``FOLLOWERS_INLINE``)."""
    follows = and_(QuestionFollow.user_id == User.id, QuestionFollow.question_id == bindparam("question_id"))
    follower: ColumnElement[bool] = QuestionFollow.user_id.is_not(None)
    if with_actor:
        follower = and_(follower, User.id != bindparam("actor_id"))
    ids: BindParameter[list[int]] = bindparam("ids", expanding=True)
    who = or_(User.id.in_(ids), follower) if with_author else follower
    stmt = (select(User, _TOLD.in_app, _TOLD.email, _FOLLOW.in_app, _FOLLOW.email, follower)
            .outerjoin(_TOLD, and_(_TOLD.user_id == User.id, _TOLD.event == bindparam("event")))
            .outerjoin(_FOLLOW, and_(_FOLLOW.user_id == User.id, _FOLLOW.event == "follow"))
            .outerjoin(QuestionFollow, follows)
            .where(who, User.deleted_at.is_(None)))  # a deleted account is told nothing
    if bounded:
        order = (case((User.id.in_(ids), 0), else_=1), User.id) if with_author else (User.id,)
        stmt = stmt.order_by(*order).limit(bindparam("limit", type_=Integer))
    return stmt


def _followers_inline() -> int | None:
    """How many followers a write tells itself: ``FOLLOWERS_INLINE`` when a job queue runs the
    rest after the commit (``fan_out``); None (all of them) without one, or inside
    ``coalesced()``, whose one-message-per-member rule needs every delivery in hand."""
    if db.session.info.get(COALESCING) is not None:
        return None
    limit = int(current_app.config.get("FOLLOWERS_INLINE", 0) or 0)
    jobs = current_app.extensions.get("jobs")
    if limit <= 0 or jobs is None or not getattr(jobs, "url", None):
        return None
    return limit


def notify_author_and_followers(question: Question, author_id: int, event: str, *, actor: User | None,
                                subject: str, follow_subject: str, url: str, text: str = "") -> None:
    """``notify([author_id], event, ...)`` and then ``notify_followers(question, "follow", ...)``
    with ``follow_subject``, with the same outcome (the author, told first, is not told again as a
    follower), but the members and their choices for both events are read by one query and the
    bell rows of both are written by one INSERT. For the subscribers that tell a post's author
    and the thread's followers of the same thing (an answer, a comment). Raises ValueError for
    an unknown event.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    with stage("notify"):
        notified: dict[tuple[int, str], str] = db.session.info.setdefault(NOTIFIED, {})
        actor_id = actor.id if actor is not None else None
        ids = [uid for uid in _ids([author_id], actor) if notified.get((uid, url), event) == event]
        inline = _followers_inline()
        stmt = _author_and_followers_query(bool(ids), actor_id is not None, inline is not None)
        limit = (inline or 0) + len(ids)
        params = {"ids": ids, "event": event, "question_id": question.id, "actor_id": actor_id, "limit": limit}
        first: dict[int, tuple[User, bool, bool]] = {}
        followers: dict[int, tuple[User, bool, bool]] = {}
        default, follow_default = DEFAULTS[event], DEFAULTS["follow"]
        rows = db.session.execute(stmt, params).all()
        if inline is not None and len(rows) >= limit:
            # More followers than a write tells itself: those after the last one read are told
            # by fan_out after the commit.
            _fan_out_later(question.id, actor_id, follow_subject, url, text,
                           after=max(row[0].id for row in rows if row[0].id not in ids))
        for user, in_app, email, f_in_app, f_email, is_follower in rows:
            if user.id in ids:
                first[user.id] = (user, default[0] if in_app is None else in_app,
                                  default[1] if email is None else email)
            if is_follower:
                followers[user.id] = (user, follow_default[0] if f_in_app is None else f_in_app,
                                      follow_default[1] if f_email is None else f_email)
        deliveries = _choose(ids, first, event, actor=actor, subject=subject, url=url, text=text, target=None)
        deliveries += _choose(sorted(followers), followers, "follow", actor=actor, subject=follow_subject, url=url,
                              text=text, target=f"question:{question.id}")
        _hand_out(deliveries)


def _fan_out_later(question_id: int, actor_id: int | None, subject: str, url: str, text: str, *, after: int) -> None:
    """Record that the question's followers with an id above ``after`` are still to hear "follow"
    of ``url``; ``fan_out`` tells them once the transaction commits (forum/jobs.py queues it)."""
    row = NotificationFanout(question_id=question_id, event="follow", actor_id=actor_id,
                             subject=" ".join(subject.split())[:300], url=url, text=text[:500],
                             target=f"question:{question_id}", exclude="", after_user_id=after)
    db.session.add(row)
    db.session.info.setdefault(FANOUTS, []).append(row)


def _settle_fanouts(session: Session) -> None:
    """before_commit: a fan-out leaves out everyone this transaction told of its ``url``, under
    any event (a follower mentioned in the answer hears "mention" only), and the actor."""
    if session.in_nested_transaction():
        return
    rows: list[NotificationFanout] = session.info.pop(FANOUTS, [])
    notified: dict[tuple[int, str], str] = session.info.get(NOTIFIED, {})
    for row in rows:
        told = {uid for uid, url in notified if url == row.url}
        if row.actor_id is not None:
            told.add(row.actor_id)
        row.exclude = " ".join(str(uid) for uid in sorted(told))


def fan_out(fanout_id: int) -> int:
    """The job: tell the followers a write left to ``NotificationFanout`` ``fanout_id``,
    ``FANOUT_BATCH`` at a time in id order, each batch in its own transaction (its bell rows,
    its e-mails handed over after its commit); returns how many members were told. The row is
    locked per batch and remembers the last member done, so a second run at once, a run after
    a crash, or the sweep's run carries on where the last batch ended and tells nobody twice.

    A batch's bell rows are one INSERT ... SELECT: the database picks the members (not
    suspended, not excluded, "follow" on in the bell) and counts up their unread line about the
    thread, with no member row read into Python. Only the members to e-mail (a few, since
    following is in-app by default) are loaded, to compose their mail. Loading every member
    and building a row per member in Python cost 80 µs a member; see docs/performance.md.
    Raises what the database raises (the job fails; the sweep runs it again)."""
    told = 0
    while True:
        row = db.session.scalars(select(NotificationFanout).where(NotificationFanout.id == fanout_id)
                                 .with_for_update()).first()
        if row is None or row.done_at is not None:
            db.session.rollback()
            return told
        ids = list(db.session.scalars(_FANOUT_MEMBERS, {"question_id": row.question_id, "after": row.after_user_id,
                                                        "batch": FANOUT_BATCH}))
        if ids:
            told += _tell_batch(row, ids)
            row.after_user_id = ids[-1]
        if len(ids) < FANOUT_BATCH:
            row.done_at = utcnow()
        db.session.commit()


#: The next batch of a question's followers, by id (deleted accounts left out).
_FANOUT_MEMBERS = (select(User.id).join(QuestionFollow, QuestionFollow.user_id == User.id)
                   .where(QuestionFollow.question_id == bindparam("question_id"), User.id > bindparam("after"),
                          User.deleted_at.is_(None))
                   .order_by(User.id).limit(bindparam("batch", type_=Integer)))


def _tell_batch(row: NotificationFanout, ids: list[int]) -> int:
    """Tell the members ``ids`` (followers, in id order) of ``row``'s thing: the bell rows in one
    statement, then the e-mails of those who asked for them; returns how many were told."""
    now = utcnow()
    default_in_app, default_email = DEFAULTS[row.event]
    values = {"question_id": row.question_id, "after": row.after_user_id, "last": ids[-1],
              "excluded": sorted({int(uid) for uid in row.exclude.split()}), "now": now, "event": row.event,
              "default_in_app": default_in_app, "default_email": default_email}
    subject, text = " ".join(row.subject.split())[:300], row.text[:500]
    with stage("notify"):
        mailing = not db.session.info.get(NO_EMAIL)
        belled = db.session.execute(
            _fan_out_bell(), {**values, "actor_id": row.actor_id, "subject": subject, "url": row.url, "text": text,
                              "target": row.target or target_of(row.url), "mailing": mailing},
            # Which members' own pages the rows change: these (the statement does not show them).
            execution_options={TOUCHES: {viewer_key(uid) for uid in ids}}).all()
        told = len(belled)
        if not mailing:
            return told
        # One e-mail per unread line (`_mailed`): to those whose line this batch claimed the
        # e-mail of, and to those with the bell off (no line).
        mail_now = {uid for uid, count, mailed_count in belled if mailed_count == count}
        mailed = [(user, in_app) for user, in_app in db.session.execute(_FANOUT_MAIL, values)
                  if not in_app or user.id in mail_now]
    actor = db.session.get(User, row.actor_id) if row.actor_id is not None and mailed else None
    for user, in_app in mailed:
        with stage("mail"):
            compose(user, row.event, subject, {"link": absolute_url(row.url), "text": text, "actor": actor,
                                               "on_bell": in_app})
        if not in_app:
            told += 1  # e-mail only: not among the bell rows
    if mailed:
        db.session.flush()
    return told


_FANOUT_PREF = aliased(NotificationPreference)
#: A member of the batch wants this e-mail: e-mail on for the event, address confirmed.
_FANOUT_EMAIL = and_(func.coalesce(_FANOUT_PREF.email, bindparam("default_email", type_=Boolean)).is_(True),
                     User.email_verified_at.is_not(None))
_Columns = TypeVarTuple("_Columns")


def _fan_out_batch(columns: Select[*_Columns], wanted: ColumnElement[bool]) -> Select[*_Columns]:
    """``columns`` over the followers of a batch (``after`` < id <= ``last``) who are to hear of
    it: not deleted, not suspended at ``now``, not ``excluded``, and ``wanted`` (read from their
    preference for ``event``, ``_FANOUT_PREF``, and its default)."""
    return (columns.join(QuestionFollow, QuestionFollow.user_id == User.id)
            .outerjoin(_FANOUT_PREF, and_(_FANOUT_PREF.user_id == User.id, _FANOUT_PREF.event == bindparam("event")))
            .where(QuestionFollow.question_id == bindparam("question_id"),
                   User.id > bindparam("after"), User.id <= bindparam("last"), User.deleted_at.is_(None),
                   or_(User.suspended_until.is_(None), User.suspended_until <= bindparam("now")),
                   User.id.not_in(bindparam("excluded", expanding=True)), wanted))


def _fan_out_bell() -> Insert:
    """The batch's bell rows, chosen and counted up by the database (``_bell_insert_for``'s conflict)."""
    return _fan_out_bell_for(db.session.get_bind().dialect.name)


@lru_cache(maxsize=4)
def _fan_out_bell_for(dialect: str) -> Insert:
    in_app = func.coalesce(_FANOUT_PREF.in_app, bindparam("default_in_app", type_=Boolean)).is_(True)
    mailed = case((and_(bindparam("mailing", type_=Boolean), _FANOUT_EMAIL), literal(1, Integer)), else_=null())
    chosen = _fan_out_batch(select(User.id, bindparam("event", type_=String), bindparam("actor_id", type_=Integer),
                                   bindparam("subject", type_=String), bindparam("url", type_=String),
                                   bindparam("text", type_=String),
                                   bindparam("now", type_=Notification.created_at.type),
                                   bindparam("target", type_=String), mailed), in_app)
    columns = ["user_id", "event", "actor_id", "subject", "url", "text", "created_at", "target", "mailed_count"]
    # Into the table, not the entity: the ORM's bulk INSERT does not take INSERT ... SELECT.
    table = cast(Table, Notification.__table__)
    told = (table.c.user_id, table.c.count, table.c.mailed_count)
    if dialect not in _UPSERTS:
        return insert(table).from_select(columns, chosen).returning(*told)
    # RETURNING counts the members told (rowcount is -1 here with psycopg): one row each, new or
    # counted up, with whether this batch mails their line (`_bell_insert_for`).
    return _counting_up(_UPSERTS[dialect](table).from_select(columns, chosen)).returning(*told)


#: The batch's members to e-mail (confirmed address, e-mail on), with their bell choice.
_FANOUT_MAIL = _fan_out_batch(
    select(User, func.coalesce(_FANOUT_PREF.in_app, bindparam("default_in_app", type_=Boolean))),
    _FANOUT_EMAIL).order_by(User.id)


def due_fanouts(now: datetime | None = None, older_than: timedelta = timedelta(minutes=1)) -> list[int]:
    """Fan-outs unfinished ``older_than`` after their write (their job was lost, Redis was down,
    or a worker died midway), oldest first: the worker's sweep runs them."""
    since = (now or utcnow()) - older_than
    return list(db.session.scalars(select(NotificationFanout.id)
                                   .where(NotificationFanout.done_at.is_(None), NotificationFanout.created_at < since)
                                   .order_by(NotificationFanout.created_at).limit(100)))


def _deliver(deliveries: list[_Delivery]) -> None:
    """Write the bell rows (one INSERT) and compose the e-mails of ``deliveries``: one e-mail per
    unread line (`_mailed`), not one per event."""
    now = utcnow()
    bell: list[dict[str, object]] = []
    for d in deliveries:
        if d.in_app:
            bell.append({"user_id": d.user.id, "event": d.event, "actor_id": d.actor.id if d.actor else None,
                         "subject": d.subject, "url": d.url, "text": d.text, "created_at": now,
                         "target": d.target, "mailed_count": 1 if d.email else None})
    mail_now: set[tuple[int, str, str]] | None = None
    if bell:
        # One INSERT for every bell row, without an ORM object per member (a thread with
        # hundreds of followers costs one statement, not hundreds of objects to flush).
        dialect = db.session.get_bind().dialect.name
        rows = db.session.execute(_bell_insert_for(dialect), _once_per_line(bell))
        if dialect in _UPSERTS:  # it returns (member, event, target, count, mailed_count) per row
            mail_now = {(row[0], row[1], row[2]) for row in rows if row[4] == row[3]}
    composed = False
    for d in _mailed(deliveries, mail_now):
        with stage("mail"):
            compose(d.user, d.event, d.subject, {"link": absolute_url(d.url), "text": d.text, "actor": d.actor,
                                                 "on_bell": d.in_app})
        composed = True
    if composed:
        db.session.flush()


def _mailed(deliveries: list[_Delivery], mail_now: set[tuple[int, str, str]] | None) -> list[_Delivery]:
    """The deliveries to e-mail: one per unread line. ``mail_now``: the lines (member, event,
    target) whose e-mail the bell INSERT just claimed (their ``mailed_count`` set to their count;
    None on a database without upserts, where every row is a new line). A member whose unread
    line about the thread was already mailed is not mailed again until they have read it
    (viewing the thread marks it read, ``read_target``); the line's count tells them how much
    more came. Without it, the asker of an incident thread got one e-mail per answer: 200 on a
    bad day. A line begun while the member could not be mailed (e-mail off, address not
    confirmed) is mailed at its first event after that changes. A member with the bell off for
    the event has no line, and is mailed each time, as they chose."""
    mailed: list[_Delivery] = []
    lines: set[tuple[int, str, str]] = set()
    for d in deliveries:
        if not d.email:
            continue
        if mail_now is not None and d.in_app and d.event in COLLAPSING and d.target is not None:
            line = (d.user.id, d.event, d.target)
            if line not in mail_now or line in lines:
                continue
            lines.add(line)
        mailed.append(d)
    return mailed


@lru_cache(maxsize=4)
def _bell_insert_for(dialect: str) -> Insert:
    """The INSERT of bell rows for ``dialect``, built once (building it is most of its CPU per
    write), where an unread row of a COLLAPSING event about the same thread is
    counted up (``count + 1``, moved to the top by its time) instead of repeated: the unique
    partial index ``uq_notifications_unread_thread`` is the conflict, so two writers at once
    count the same row up, never add a second one. The row keeps its first link (the first
    post the member has not seen, as Discourse points to the first unread post). A row's
    ``mailed_count`` is 1 when its member is to be mailed; counting up a line not mailed yet
    sets it to the new count. It returns each row's member, event, target, count and
    mailed_count (equal: this write mails the line, `_mailed`), except on a database without
    upserts, where every row is a new line."""
    if dialect not in _UPSERTS:
        return insert(Notification)
    return _counting_up(_UPSERTS[dialect](Notification)).returning(
        Notification.user_id, Notification.event, Notification.target, Notification.count, Notification.mailed_count)


def _counting_up(stmt: Any) -> Insert:
    """``stmt``, a PostgreSQL or SQLite INSERT into notifications, counting up the unread line
    of a COLLAPSING event about the same thread instead of adding a row (`_bell_insert_for`)."""
    table = stmt.table
    # The line's first e-mail: at this event if none went out yet and this row asks for one (the
    # SET expressions read the row as it was, on PostgreSQL and SQLite alike).
    mailed = case((and_(table.c.mailed_count.is_(None), stmt.excluded.mailed_count.is_not(None)), table.c.count + 1),
                  else_=table.c.mailed_count)
    return cast(Insert, stmt.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.event, table.c.target],
        index_where=text(COLLAPSING_WHERE),
        set_={"count": table.c.count + 1, "created_at": stmt.excluded.created_at, "mailed_count": mailed}))


_UPSERTS: dict[str, Any] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def _once_per_line(bell: list[dict[str, object]]) -> list[dict[str, object]]:
    """The rows, without a second one for the same member, event and thread (one statement
    may not count the same row up twice; the write tells each member once per link anyway)."""
    seen: set[tuple[object, object, object]] = set()
    rows = []
    for row in bell:
        line = (row["user_id"], row["event"], row["target"])
        if row["event"] in COLLAPSING and row["target"] is not None:
            if line in seen:
                continue
            seen.add(line)
        rows.append(row)
    return rows


def _most_meaningful(deliveries: list[_Delivery]) -> list[_Delivery]:
    """One delivery per member, in the order members were first told: their highest-ranked
    event (``COALESCE_RANK``); between two of the same event the later one, since a write that
    raises several events publishes the one that sums it up last (CaseResolved after the
    AnswerPosted of its summary, CaseReopened after the CaseMessageAdded of the reply)."""
    best: dict[int, _Delivery] = {}
    for d in deliveries:
        kept = best.get(d.user.id)
        if kept is None or COALESCE_RANK.index(d.event) <= COALESCE_RANK.index(kept.event):
            best[d.user.id] = d
    return list(best.values())


@contextmanager
def coalesced() -> Iterator[None]:
    """Inside the block, tell each member at most once: every ``notify`` and
    ``notify_followers`` is held back, and when the block ends each member gets one bell entry
    and at most one e-mail, for the most meaningful thing they were to hear (``_most_meaningful``).

    For a write that raises several events about one thing (resolving a case posts an answer,
    accepts it and resolves the case; a customer's reply reopens a case). Nested blocks join
    the outer one. When the block raises, nothing held back is written (the write fails as a whole).
    """
    if db.session.info.get(COALESCING) is not None:
        yield
        return
    buffer: list[_Delivery] = []
    db.session.info[COALESCING] = buffer
    try:
        yield
    finally:
        db.session.info.pop(COALESCING, None)
    with stage("notify"):
        _deliver(_most_meaningful(buffer))


@contextmanager
def without_email() -> Iterator[None]:
    """Record bell notifications but compose no e-mail inside the block (demo data, imports)."""
    db.session.info[NO_EMAIL] = True
    try:
        yield
    finally:
        db.session.info.pop(NO_EMAIL, None)


def notify_followers(question: Question, event: str, *, actor: User | None, subject: str, url: str,
                     text: str = "") -> None:
    """``notify`` everyone who follows ``question`` (see ``notify`` for the arguments); the
    bell entries are about the question, whatever ``url`` says."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    with stage("notify"):
        _notify((), event, actor=actor, subject=subject, url=url, text=text, followers_of=question.id,
                target=f"question:{question.id}")


# ---------------------------------------------------------------- preferences


def preferences_for(user_ids: list[int], event: str) -> dict[int, tuple[bool, bool]]:
    """(in-app, e-mail) for ``event`` for each user id, defaults filled in. One query."""
    default = DEFAULTS.get(event, (True, DIGEST_DEFAULT))
    found = {p.user_id: (p.in_app, p.email) for p in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids),
                                             NotificationPreference.event == event))}
    return {uid: found.get(uid, default) for uid in user_ids}


@dataclass(frozen=True)
class Preference:
    event: str
    label: str
    in_app: bool
    email: bool


@dataclass(frozen=True)
class Preferences:
    events: list[Preference]
    digest: bool
    helped_monthly: bool
    weekly_report: bool = False


def preferences(user: User) -> Preferences:
    """Every event with the member's choice (or the default), and the digest switch."""
    rows = {p.event: p for p in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    events = []
    for event in EVENTS:
        row = rows.get(event)
        in_app, email = (row.in_app, row.email) if row else DEFAULTS[event]
        events.append(Preference(event, LABELS[event], in_app, email))
    digest = rows[DIGEST].email if DIGEST in rows else DIGEST_DEFAULT
    helped = rows[HELPED_MONTHLY].email if HELPED_MONTHLY in rows else False
    return Preferences(events, digest, helped, WEEKLY_REPORT in rows and rows[WEEKLY_REPORT].email)


def save_preferences(user: User, in_app: Iterable[str], email: Iterable[str], digest: bool,
                     helped_monthly: bool = False, weekly_report: bool = False) -> None:
    """Store a choice for every event: those named in ``in_app`` / ``email`` on, the rest off,
    and the digest, monthly-helped and weekly-report switches. Rows of other pseudo-events are kept.

    Unknown event names are ignored (the form only offers known ones). ``weekly_report`` is
    kept only for staff (who alone may read insights); for anyone else it is off.
    """
    in_app, email = set(in_app), set(email)
    db.session.execute(delete(NotificationPreference).where(
        NotificationPreference.user_id == user.id,
        NotificationPreference.event.in_([*EVENTS, DIGEST, HELPED_MONTHLY, WEEKLY_REPORT])))
    for event in EVENTS:
        db.session.add(NotificationPreference(user_id=user.id, event=event, in_app=event in in_app,
                                              email=event in email))
    db.session.add(NotificationPreference(user_id=user.id, event=DIGEST, in_app=False, email=digest))
    db.session.add(NotificationPreference(user_id=user.id, event=HELPED_MONTHLY, in_app=False, email=helped_monthly))
    if weekly_report and user.is_staff:
        db.session.add(NotificationPreference(user_id=user.id, event=WEEKLY_REPORT, in_app=False, email=True))
    db.session.flush()


def set_email(user_id: int, event: str, on: bool) -> None:
    """Switch e-mail for one event (or the digest) on or off, keeping the in-app choice."""
    row = db.session.get(NotificationPreference, (user_id, event))
    if row is None:
        in_app = DEFAULTS.get(event, (False, True))[0]
        db.session.add(NotificationPreference(user_id=user_id, event=event, in_app=in_app, email=on))
    else:
        row.email = on
    db.session.flush()


@dataclass(frozen=True)
class Unsubscription:
    user: User
    event: str
    label: str


def read_unsubscribe(token: str) -> Unsubscription:
    """What a signed unsubscribe link would switch off. Raises BadUnsubscribeLink (400)."""
    try:
        user_id, event = read_unsubscribe_token(token)
    except BadToken as exc:
        raise BadUnsubscribeLink(f"{exc} Change your e-mail choices in your notification settings instead.") from exc
    user = db.session.get(User, user_id)
    if user is None or (event not in EVENTS and event not in (DIGEST, HELPED_MONTHLY, WEEKLY_REPORT)):
        raise BadUnsubscribeLink("This unsubscribe link is not valid.")
    label = {DIGEST: "The daily digest", HELPED_MONTHLY: HELPED_MONTHLY_LABEL,
             WEEKLY_REPORT: "The weekly insights report"}.get(event) or LABELS[event]
    return Unsubscription(user, event, label)


def unsubscribe(token: str) -> Unsubscription:
    """Turn off e-mail for the token's user and event (RFC 8058 one-click). Raises BadUnsubscribeLink."""
    found = read_unsubscribe(token)
    set_email(found.user.id, found.event, False)
    return found


# ---------------------------------------------------------------- the bell and the list


def unread_count(user: User) -> int:
    """Unread notifications of ``user`` (one indexed COUNT)."""
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def inbox(user: User, page: int) -> Page[Notification]:
    """The member's notifications, one bounded page: the unread ones first ("New"), then the
    read ones ("Earlier"), each newest first. Reading the list marks nothing read."""
    unread_first = case((Notification.read_at.is_(None), 0), else_=1)
    stmt = (select(Notification).where(Notification.user_id == user.id)
            .order_by(unread_first, Notification.created_at.desc(), Notification.id.desc()))
    return paginate(stmt, page, current_app.config["NOTIFICATIONS_PER_PAGE"])


def read_target(user: User, target: str, unread: int) -> int:
    """The member is viewing ``target`` ("question:12", "case:3", "article:4"): mark their
    unread notifications about it read and return how many.

    ``unread`` is the member's unread count as already known (the bell's, read once per
    request): with none unread nothing is sent at all; otherwise one conditional UPDATE, on a
    connection of its own and committed at once, because the page is a GET and GET requests
    never commit the request's session (``views/formglue.guard_reads``). The condition on
    ``read_at`` makes a second tab or process that got there first a no-op.
    """
    if unread <= 0:
        return 0
    with db.engine.begin() as conn:
        result = conn.execute(update(Notification).where(
            Notification.user_id == user.id, Notification.target == target, Notification.read_at.is_(None))
            .values(read_at=utcnow()))
    return result.rowcount or 0


def mark_all_read(user: User) -> int:
    """Mark every unread notification read; returns how many."""
    result = cast(CursorResult[Any], db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()), execution_options={"synchronize_session": False}))
    return result.rowcount or 0


def open_notification(user: User, notification_id: int) -> str:
    """Mark one of the member's notifications read and return its site-relative url.

    Raises NotFound for another member's notification (no hint that it exists).
    """
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound("That notification does not exist.")
    if row.read_at is None:
        row.read_at = utcnow()
        db.session.flush()
    return row.url
