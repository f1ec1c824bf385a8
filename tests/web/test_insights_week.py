"""A scripted week through the real pages: 20 questions asked, 7 visitors who found an answer
(suggestions on the ask page, search results), 3 who left the ask page after reading its
suggestions, 2 who opened a suggestion and asked anyway, and a crawler. /insights must show
exactly 10 deflections, a rate of 10 / (10 + 20) and 10 × ($3.50 − $0.35) = $31.50."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from forum.extensions import db
from forum.models import DeflectionEvent, Question
from forum.models.base import utcnow
from forum.services import deflection
from tests.support import Auth
from tests.web.test_deflection_web import BODY, BROWSER, beacon, threads  # noqa: F401 - the threads fixture
from tests.web.test_insights_web import _tables

CRAWLER = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def _visitor(app: Flask, agent: str = BROWSER) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=agent, HTTP_ORIGIN="http://localhost")
    return client


def _ask(client: FlaskClient, n: int) -> int:
    r = Auth(client).post("/questions/ask", {"title": f"Hub number {n} keeps dropping off the network at night",
                                             "body": BODY, "tags": "setup"})
    assert r.status_code == 302, r.status_code
    return int(r.headers["Location"].split("/")[2])


@pytest.mark.parametrize("window", [30])
def test_a_scripted_week_gives_the_rate_and_the_savings_to_the_cent(
        app: Flask, threads: dict[str, int], make_user: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        window: int) -> None:
    monday = utcnow().date() - timedelta(days=9)
    days = [monday + timedelta(days=i) for i in range(7)]
    clock: dict[str, datetime] = {}
    monkeypatch.setattr(deflection, "utcnow", lambda: clock["now"])
    asked: list[tuple[int, datetime]] = []
    members = [make_user(f"customer{i}") for i in range(14)]
    make_user("lead", role="agent")

    def at(day: int, hour: int) -> None:
        clock["now"] = datetime.combine(days[day], time(hour))

    def member(i: int) -> FlaskClient:
        client = _visitor(app)
        Auth(client).login(members[i].username)
        return client

    # Seven visitors who found their answer and asked nothing: four from the ask page's
    # suggestions (signed in), three from search results (anonymous), over the week.
    for i, (day, kind, target) in enumerate([(0, "suggestion", ("question", threads["solved"])),
                                             (1, "suggestion", ("article", threads["article"])),
                                             (3, "suggestion", ("question", threads["solved"])),
                                             (5, "suggestion", ("question", threads["solved"]))]):
        at(day, 9)
        assert beacon(member(i), kind, *target).status_code == 204
    for day in (1, 2, 6):
        at(day, 14)
        assert beacon(_visitor(app), "search", "article", threads["article"]).status_code == 204
    # Three who saw suggestions on the ask page, opened none and left.
    for i, day in zip((4, 5, 6), (2, 4, 6), strict=True):
        at(day, 10)
        assert beacon(member(i), "abandon").status_code == 204
    # Two who opened a suggestion and asked anyway, within the window: not deflected.
    for i, day in zip((7, 8), (3, 4), strict=True):
        at(day, 11)
        client = member(i)
        assert beacon(client, "suggestion", "question", threads["solved"]).status_code == 204
        clock["now"] += timedelta(minutes=window - 5)
        asked.append((_ask(client, len(asked)), clock["now"]))
    # A crawler following result links counts for nothing.
    at(2, 3)
    assert beacon(_visitor(app, CRAWLER), "search", "article", threads["article"]).status_code == 204
    # Eighteen more questions from members over the week: twenty in all.
    for n in range(18):
        at(n % 7, 15)
        asked.append((_ask(member(9 + n % 5), len(asked)), clock["now"]))
    for ident, when in asked:  # stored at the scripted moment, as if asked that day
        db.session.execute(update(Question).where(Question.id == ident).values(created_at=when,
                                                                                last_activity_at=when))
    db.session.commit()

    clock["now"] = datetime.combine(days[-1], time(23))
    assert deflection.resolve_due(clock["now"]) == 10
    db.session.commit()
    statuses = sorted(db.session.scalars(select(DeflectionEvent.status)))
    assert statuses == ["asked"] * 2 + ["deflected"] * 10
    assert db.session.scalars(select(DeflectionEvent.visitor).where(DeflectionEvent.visitor.is_not(None))).all() == []

    staff = _visitor(app)
    Auth(staff).login("lead")
    answer = staff.get(f"/insights?start={days[0].isoformat()}&end={days[-1].isoformat()}")
    assert answer.status_code == 200
    tables = _tables(answer.get_data(as_text=True))
    summary = {row[0]: row[1] for row in tables["summary"][1:]}
    assert summary["Questions asked"] == "20"
    figures = {row[0]: row[1] for row in tables["deflection"][1:]}
    labels = deflection.KIND_LABELS
    assert figures[labels["suggestion"]] == "4" and figures[labels["search"]] == "3"
    assert figures[labels["abandon"]] == "3"
    assert figures["Deflected in all"] == "10"
    assert figures["Deflection rate"] == "33.3%"  # 10 / (10 + 20)
    assert figures["Estimated savings"] == "$31.50"
    assert figures["Savings, worked out"] == "10 × ($3.50 − $0.35) = $31.50"
    # The CSV says the same.
    csv_text = staff.get(f"/insights/deflection.csv?start={days[0].isoformat()}&end={days[-1].isoformat()}")
    assert "Deflected in all,10" in csv_text.get_data(as_text=True)
