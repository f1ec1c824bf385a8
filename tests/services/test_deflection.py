"""Deflection rules below the pages: the sweep's days, batches and idempotence, the worker's
tick, the purge keeping pending events, asking from another session, query normalisation."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from forum import jobs
from forum.extensions import db
from forum.models import DeflectionEvent, InsightDaily
from forum.services import curation, deflection, questions

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@pytest.fixture
def solved(make_user: Callable[..., Any], make_question: Callable[..., Any], make_answer: Callable[..., Any]) -> int:
    asker = make_user("asker")
    q = make_question(author=asker, title="Hub blinks orange after the update")
    curation.accept_answer(asker, make_answer(q, author=make_user("helper")))
    db.session.commit()
    return int(q.id)


def _event(kind: str, created: datetime, target_id: int, visitor: str = "v", status: str = "pending") -> None:
    db.session.add(DeflectionEvent(kind=kind, created_at=created, visitor=visitor, target_type="question",
                                   target_id=target_id, status=status))


def _daily() -> list[tuple[date, str, int, int]]:
    db.session.expire_all()
    return [tuple(r) for r in db.session.execute(  # type: ignore[misc]
        select(InsightDaily.day, InsightDaily.kind, InsightDaily.target_id, InsightDaily.count)
        .order_by(InsightDaily.day, InsightDaily.kind))]


def test_the_sweep_counts_each_event_on_its_utc_day_in_batches_and_only_once(
        app: Flask, solved: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deflection, "BATCH", 2)
    late = datetime(2026, 11, 1, 23, 50, tzinfo=timezone.utc)
    for i in range(3):
        _event("suggestion", late, solved, visitor=f"a{i}")
    _event("search", late + timedelta(minutes=20), solved, visitor="b")  # 00:10 the next day
    _event("search", late + timedelta(hours=5), solved, visitor="c")  # still in its window at the sweep
    db.session.commit()
    now = late + timedelta(hours=5, minutes=10)
    assert deflection.resolve_due(now) == 4
    db.session.commit()
    assert _daily() == [(date(2026, 11, 1), "suggestion", solved, 3), (date(2026, 11, 2), "search", solved, 1)]
    assert deflection.resolve_due(now) == 0  # idempotent
    assert deflection.resolve_due(now + timedelta(minutes=30)) == 1
    db.session.commit()
    assert _daily()[-1] == (date(2026, 11, 2), "search", solved, 2)
    states = db.session.execute(select(DeflectionEvent.status, DeflectionEvent.visitor)).all()
    assert {tuple(s) for s in states} == {("deflected", None)}


def test_the_job_workers_tick_runs_the_sweep(app: Flask, solved: int) -> None:
    old = datetime.now(timezone.utc) - timedelta(hours=1)
    _event("suggestion", old, solved)
    _event("suggestion", old - timedelta(days=40), solved, visitor="gone", status="deflected")
    db.session.commit()
    jobs.periodic(app, None)
    db.session.expire_all()
    assert [(e.status, e.visitor) for e in db.session.scalars(select(DeflectionEvent))] == [("deflected", None)]
    assert _daily() == [(old.date(), "suggestion", solved, 1)]


def test_the_purge_leaves_pending_events_to_the_sweep(app: Flask, solved: int) -> None:
    now = datetime.now(timezone.utc)
    _event("search", now - timedelta(days=31), solved, visitor="x")  # the sweep never ran
    _event("search", now - timedelta(days=31), solved, visitor=None, status="asked")
    db.session.commit()
    assert deflection.purge(now) == 1
    report = deflection.sweep(now)
    db.session.commit()
    assert (report.deflected, report.purged) == (1, 1)
    assert db.session.scalars(select(DeflectionEvent)).all() == []
    assert _daily() == [((now - timedelta(days=31)).date(), "search", solved, 1)]


def test_a_question_from_another_session_of_the_same_member_cancels(app: Flask, make_user, solved: int) -> None:
    member = make_user("member")
    assert deflection.record_beacon(member, lambda: "laptop", "suggestion", "question", str(solved), BROWSER)
    db.session.commit()
    questions.ask_question(member, questions.QuestionInput("Hub blinks orange again today", "The hub blinks "
                                                           "orange after the update and will not pair.", "setup"))
    db.session.commit()
    [event] = db.session.scalars(select(DeflectionEvent)).all()
    assert (event.status, event.visitor, event.user_id) == ("asked", None, None)


def test_queries_are_normalised() -> None:
    assert deflection.normalise_query("  Hub   BLINKS\torange ") == "hub blinks orange"
    assert deflection.normalise_query("   ") == ""
    assert deflection.normalise_query("x" * 150) == "x" * 100
    assert list(deflection.KIND_LABELS)[:5] == list(deflection.DEFLECTION_KINDS)
