"""/insights: staff only, the filter form, CSV downloads equal to the page's tables."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert, update

from forum.extensions import db
from forum.models import InsightDaily, Question, SearchMissDaily
from forum.models.base import utcnow
from forum.services import insights
from tests.support import Auth


class _Tables(HTMLParser):
    """The text of each <table id="table-…">: header row, then body rows (the caption left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = (dict(attrs).get("id") or "").removeprefix("table-")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


@pytest.fixture
def staff_client(client: FlaskClient, make_user: Callable[..., Any]) -> FlaskClient:
    make_user("agent1", role="agent")
    Auth(client).login("agent1")
    return client


@pytest.fixture
def data(make_question: Callable[..., Any]) -> list[Any]:
    """Three questions yesterday (first responses after 1, 2 and 6 hours), a few deflections and misses."""
    start = (utcnow() - timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    qs = [make_question(tags="hub") for _ in range(3)]
    for q, h in zip(qs, (1, 2, 6), strict=True):
        db.session.execute(update(Question).where(Question.id == q.id).values(
            created_at=start, first_response_at=start + timedelta(hours=h)))
    day = start.date()
    db.session.execute(insert(InsightDaily), [
        {"day": day, "kind": "search", "target_type": "question", "target_id": qs[0].id, "count": 4},
        {"day": day, "kind": "abandon", "target_type": "", "target_id": 0, "count": 2},
        {"day": day, "kind": "searches", "target_type": "", "target_id": 0, "count": 30}])
    db.session.execute(insert(SearchMissDaily), [{"day": day, "query": "zigbee pairing", "count": 3}])
    db.session.commit()
    return qs


def test_anonymous_goes_to_sign_in_and_members_get_403(client: FlaskClient, make_user: Callable[..., Any]) -> None:
    for path in ("/insights", "/insights/summary.csv"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    make_user("member1")
    Auth(client).login("member1")
    assert client.get("/insights").status_code == 403
    assert client.get("/insights/summary.csv").status_code == 403
    assert "/insights" not in client.get("/").get_data(as_text=True)


def test_staff_see_the_page(staff_client: FlaskClient, data: list[Any]) -> None:
    answer = staff_client.get("/insights")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert 'href="/insights"' in staff_client.get("/").get_data(as_text=True)  # the staff menu
    summary = dict((r[0], r[1]) for r in _tables(html)["summary"][1:])
    assert summary["Questions asked"] == "3"
    assert summary["Time to first response, median"] == "2.0 h"
    deflection = dict((r[0], r[1]) for r in _tables(html)["deflection"][1:])
    assert deflection["Deflected in all"] == "6" and deflection["Deflection rate"] == "66.7%"
    assert deflection["Estimated savings"] == "$18.90"
    assert deflection["Savings, worked out"] == "6 × ($3.50 − $0.35) = $18.90"
    assert "zigbee pairing" in html and 'role="img"' in html and "<desc id=" in html


@pytest.mark.parametrize("name", insights.TABLE_NAMES)
def test_each_csv_equals_the_table_on_the_page(staff_client: FlaskClient, data: list[Any], name: str) -> None:
    query = "?tags=hub" if name == "top-content" else ""
    page = _tables(staff_client.get("/insights" + query).get_data(as_text=True))[name]
    answer = staff_client.get(f"/insights/{name}.csv{query}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith(f'attachment; filename="insights-{name}-')
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    if len(page) == 2 and page[1] == ["Nothing in this range."]:
        page = page[:1]
    assert rows == page


def test_bad_dates_answer_400_beside_the_field(staff_client: FlaskClient) -> None:
    answer = staff_client.get("/insights?start=2026-13-40&end=2026-01-01&tags=")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="start-error"' in html and "YYYY-MM-DD" in html
    assert 'value="2026-13-40"' in html  # the input is kept
    assert staff_client.get("/insights?start=2026-03-09&end=2026-03-01").status_code == 400
    unknown = staff_client.get("/insights?tags=nosuchtag")
    assert unknown.status_code == 400 and "No tag named" in unknown.get_data(as_text=True)
    assert staff_client.get("/insights/summary.csv?start=nope").status_code == 400
    assert staff_client.get("/insights/nosuch.csv").status_code == 404


def test_tag_filter_from_the_query_string(staff_client: FlaskClient, data: list[Any],
                                          make_question: Callable[..., Any]) -> None:
    make_question(tags="billing")
    everything = dict((r[0], r[1]) for r in _tables(staff_client.get("/insights").get_data(as_text=True))
                      ["summary"][1:])
    html = staff_client.get("/insights?tags=hub").get_data(as_text=True)
    hub = dict((r[0], r[1]) for r in _tables(html)["summary"][1:])
    assert (everything["Questions asked"], hub["Questions asked"]) == ("4", "3")
    assert "only without tags" in html  # the note on untargeted deflections


def test_default_range_shown_in_the_form(staff_client: FlaskClient) -> None:
    html = staff_client.get("/insights").get_data(as_text=True)
    today = datetime.now(timezone.utc).date()
    assert f'value="{(today - timedelta(days=27)).isoformat()}"' in html and f'value="{today.isoformat()}"' in html


def test_staff_opt_in_to_the_weekly_report_in_their_settings(client: FlaskClient,
                                                             make_user: Callable[..., Any]) -> None:
    from forum.services import notifications

    agent = make_user("agent2", role="agent")
    auth = Auth(client)
    auth.login("agent2")
    assert "weekly insights report" in client.get("/settings/notifications").get_data(as_text=True)
    assert auth.post("/settings/notifications", {"weekly_report": "y", "digest": "y"}).status_code == 302
    assert notifications.preferences(agent).weekly_report is True
    assert auth.post("/settings/notifications", {"digest": "y"}).status_code == 302
    assert notifications.preferences(agent).weekly_report is False
    auth.logout()
    member = make_user("member2")
    auth.login("member2")
    assert "weekly insights report" not in client.get("/settings/notifications").get_data(as_text=True)
    auth.post("/settings/notifications", {"weekly_report": "y"})
    assert notifications.preferences(member).weekly_report is False  # staff only
