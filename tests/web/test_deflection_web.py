"""Measuring deflection through the real pages: beacons from the ask and search pages, the
window, asking cancels, the sweep's counts, bots, staff and the setting, cross-site beacons,
retention, "solved too" and helpful articles, searches that found nothing (cached pages too),
and the export."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum import viewcounts
from forum.extensions import db
from forum.models import Article, DeflectionEvent, InsightDaily, Question, SearchMissDaily
from forum.models.base import utcnow
from forum.services import articles, curation, deflection, site_settings
from tests.support import Auth
from tests.web.test_page_cache import cached  # noqa: F401 - the page cache fixture

BROWSER = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/126.0.0.0 Safari/537.36")
BODY = "After the firmware update the hub blinks orange and the app cannot find it any more."


@pytest.fixture
def browser(client: FlaskClient) -> FlaskClient:
    """The test client as a person's browser on this site's pages (User-Agent and Origin)."""
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"
    return client


@pytest.fixture
def threads(make_user: Callable[..., Any], make_question: Callable[..., Any],
            make_answer: Callable[..., Any]) -> dict[str, int]:
    """A solved question, an unsolved one, and a published article."""
    asker = make_user("asker")
    solved = make_question(author=asker, title="Hub blinks orange after the update",
                           body="The hub blinks orange since the firmware update and the app cannot find it.")
    answer = make_answer(solved, author=make_user("helper"), body="Hold the reset button for ten seconds.")
    curation.accept_answer(asker, answer)
    unsolved = make_question(author=asker, title="Doorbell chime stays silent at night",
                             body="The doorbell chime does not ring after ten in the evening.")
    writer = make_user("writer", role="agent")
    article = articles.create_article(writer, articles.ArticleInput(
        "Resetting the hub", "Hold the reset button for ten seconds until the light blinks white.", "setup"))
    articles.set_state(writer, article, "published")
    db.session.commit()
    make_user("member")
    return {"solved": solved.id, "unsolved": unsolved.id, "article": article.id}


def beacon(client: FlaskClient, kind: str, target_type: str = "", target_id: int | str = "", **headers: str) -> Any:
    return client.post("/insights/beacon", data={"kind": kind, "target_type": target_type,
                                                 "target_id": str(target_id)}, headers=headers)


def sweep_after_window(minutes: int = 30) -> int:
    """The sweep run just after the window (of ``minutes``) has closed on what was sent now."""
    n = deflection.resolve_due(utcnow() + timedelta(minutes=minutes, seconds=5))
    db.session.commit()
    return n


def daily(kind: str | None = None) -> list[tuple[str, str, int, int]]:
    viewcounts.flush()  # search counts wait with the page views until a flush
    db.session.expire_all()
    query = select(InsightDaily.kind, InsightDaily.target_type, InsightDaily.target_id, InsightDaily.count)
    if kind is not None:
        query = query.where(InsightDaily.kind == kind)
    return sorted(tuple(row) for row in db.session.execute(query))  # type: ignore[misc]


def raw_events() -> list[DeflectionEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(DeflectionEvent).order_by(DeflectionEvent.id)))


def ask(auth: Auth, title: str = "Hub keeps blinking orange after every update") -> None:
    r = auth.post("/questions/ask", {"title": title, "body": BODY, "tags": "setup"})
    assert r.status_code == 302, r.status_code


# ---------------------------------------------------------------- the ask page


def test_an_opened_suggestion_with_no_question_after_it_is_one_deflection(browser, auth, threads) -> None:
    auth.login("member")
    html = browser.get("/questions/ask").get_data(as_text=True)
    assert 'data-beacon-url="/insights/beacon"' in html and "js/deflection.js" in html
    assert beacon(browser, "suggestion", "question", threads["solved"]).status_code == 204
    assert beacon(browser, "suggestion", "article", threads["article"]).status_code == 204
    assert sweep_after_window(29) == 0  # the window is still open
    assert daily() == []
    assert sweep_after_window() == 1
    # Two suggestions opened by one visitor, then nothing: one deflection, for the last one.
    assert daily() == [("suggestion", "article", threads["article"], 1)]
    [event] = raw_events()
    assert (event.status, event.visitor, event.user_id) == ("deflected", None, None)
    assert event.resolved_at is not None
    assert sweep_after_window() == 0 and daily() == [("suggestion", "article", threads["article"], 1)]


def test_a_question_asked_within_the_window_is_no_deflection(browser, auth, threads) -> None:
    auth.login("member")
    assert beacon(browser, "suggestion", "question", threads["solved"]).status_code == 204
    ask(auth)
    assert sweep_after_window() == 0
    assert daily("suggestion") == []
    [event] = raw_events()
    assert (event.status, event.visitor, event.user_id) == ("asked", None, None)


def test_what_an_anonymous_visitor_opened_is_cancelled_when_they_sign_in_and_ask(browser, auth, threads) -> None:
    assert beacon(browser, "search", "question", threads["solved"]).status_code == 204
    [event] = raw_events()
    assert event.visitor and event.user_id is None
    auth.login("member")  # a fresh session at sign-in keeps the random visitor id
    ask(auth)
    assert [e.status for e in raw_events()] == ["asked"]
    assert sweep_after_window() == 0 and daily() == []


def test_the_window_changed_at_run_time_is_honoured(app: Flask, browser, auth, make_user, threads) -> None:
    boss = make_user("boss", role="admin")
    form = {row.setting.key: row.value for row in site_settings.settings_page(boss)}  # what the page submits
    site_settings.change_settings(boss, {**form, "DEFLECTION_WINDOW_MINUTES": "5"})
    db.session.commit()
    auth.login("member")
    assert beacon(browser, "suggestion", "question", threads["solved"]).status_code == 204
    assert app.config["DEFLECTION_WINDOW_MINUTES"] == 5
    assert sweep_after_window(5) == 1
    assert daily() == [("suggestion", "question", threads["solved"], 1)]


def test_an_abandon_is_replaced_by_an_opened_suggestion_but_never_replaces_one(browser, auth, make_user,
                                                                               threads) -> None:
    auth.login("member")
    assert beacon(browser, "abandon").status_code == 204  # suggestions shown
    assert beacon(browser, "suggestion", "question", threads["solved"]).status_code == 204
    assert beacon(browser, "abandon").status_code == 204  # shown again on another visit: ignored
    assert [(e.kind, e.target_id) for e in raw_events()] == [("suggestion", threads["solved"])]
    assert sweep_after_window() == 1
    assert daily() == [("suggestion", "question", threads["solved"], 1)]


def test_suggestions_shown_and_left_count_as_one_abandoned_question(browser, auth, threads) -> None:
    auth.login("member")
    assert beacon(browser, "abandon").status_code == 204
    assert beacon(browser, "abandon").status_code == 204
    assert sweep_after_window() == 1
    assert daily() == [("abandon", "", 0, 1)]


# ---------------------------------------------------------------- the search page


def test_a_search_click_counts_only_on_a_solved_question_or_an_article(browser, threads) -> None:
    html = browser.get("/search?q=hub").get_data(as_text=True)
    assert f'data-deflect="search" data-target-type="question" data-target-id="{threads["solved"]}"' in html
    assert beacon(browser, "search", "question", threads["unsolved"]).status_code == 204
    assert raw_events() == []  # an unsolved thread is not an answer
    assert beacon(browser, "search", "question", threads["solved"]).status_code == 204
    assert sweep_after_window() == 1
    assert daily("search") == [("search", "question", threads["solved"], 1)]
    other = browser.application.test_client()
    other.environ_base.update(browser.environ_base)
    assert beacon(other, "search", "article", threads["article"]).status_code == 204
    assert sweep_after_window() == 1
    assert daily("search") == [("search", "article", threads["article"], 1),
                               ("search", "question", threads["solved"], 1)]


def test_hidden_deleted_or_missing_targets_are_ignored(browser, auth, threads) -> None:
    db.session.get(Question, threads["solved"]).deleted_at = utcnow()
    db.session.get(Article, threads["article"]).state = "archived"
    db.session.commit()
    assert beacon(browser, "search", "question", threads["solved"]).status_code == 204
    assert beacon(browser, "suggestion", "article", threads["article"]).status_code == 204
    assert beacon(browser, "suggestion", "question", 999_999).status_code == 204
    assert raw_events() == []


def test_bots_staff_and_the_setting_off_record_nothing(app: Flask, browser, auth, make_user, threads) -> None:
    crawler = {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
    assert beacon(browser, "search", "question", threads["solved"], **crawler).status_code == 204
    assert browser.get("/search?q=zebra+unicorn", headers=crawler).status_code == 200
    make_user("agent1", role="agent")
    auth.login("agent1")
    assert beacon(browser, "suggestion", "question", threads["solved"]).status_code == 204
    assert browser.get("/search?q=zebra+unicorn").status_code == 200
    auth.logout()
    app.config["INSIGHTS_ENABLED"] = False
    assert beacon(browser, "search", "question", threads["solved"]).status_code == 204
    assert browser.get("/search?q=zebra+unicorn").status_code == 200
    assert raw_events() == [] and daily() == []
    assert db.session.scalars(select(SearchMissDaily)).all() == []
    app.config["INSIGHTS_ENABLED"] = True  # the same search by a person now counts
    assert browser.get("/search?q=zebra+unicorn").status_code == 200
    assert daily() == [("searches", "", 0, 1)]


def test_cross_site_and_malformed_beacons_are_refused(browser, threads) -> None:
    r = beacon(browser, "search", "question", threads["solved"], Origin="https://evil.example")
    assert r.status_code == 403 and r.get_json()["error"]["status"] == 403
    r = beacon(browser, "search", "question", threads["solved"], **{"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    no_origin = browser.application.test_client()
    no_origin.environ_base["HTTP_USER_AGENT"] = BROWSER
    assert beacon(no_origin, "search", "question", threads["solved"]).status_code == 403
    assert raw_events() == []
    same = {"Sec-Fetch-Site": "same-origin", "Origin": "null"}  # the fetch metadata decides when sent
    assert beacon(browser, "search", "question", threads["solved"], **same).status_code == 204
    r = beacon(browser, "click", "question", threads["solved"])
    assert r.status_code == 400 and r.get_json() == {"error": {"code": "bad_request", "status": 400, "message": "Unknown kind.",
                                                               "field": "kind"}}
    assert beacon(browser, "search", "user", 1).status_code == 400
    assert beacon(browser, "search", "question", "12abc").status_code == 400
    assert len(raw_events()) == 1


def test_visitor_ids_are_erased_at_resolution_and_raw_rows_deleted_after_the_retention(browser, threads) -> None:
    assert beacon(browser, "search", "question", threads["solved"]).status_code == 204
    assert sweep_after_window() == 1
    [event] = raw_events()
    assert event.visitor is None and event.user_id is None
    assert deflection.purge(utcnow() + timedelta(days=29)) == 0
    assert deflection.purge(utcnow() + timedelta(days=30, minutes=1)) == 1
    db.session.commit()
    assert raw_events() == []
    assert daily("search") == [("search", "question", threads["solved"], 1)]  # the count stays


# ---------------------------------------------------------------- immediate kinds


def test_solved_too_and_a_helpful_yes_count_at_once(browser, auth, threads) -> None:
    auth.login("member")
    assert auth.post(f"/questions/{threads['solved']}/solved-too").status_code == 302
    assert auth.post(f"/articles/{threads['article']}/feedback", {"helpful": "yes"}).status_code == 302
    assert daily() == [("article_helpful", "article", threads["article"], 1),
                       ("solved_too", "question", threads["solved"], 1)]
    # Taking the mark back and answering "No" take nothing back (docs/insights.md).
    assert auth.post(f"/questions/{threads['solved']}/solved-too").status_code == 302
    assert auth.post(f"/articles/{threads['article']}/feedback", {"helpful": "no"}).status_code == 302
    assert daily() == [("article_helpful", "article", threads["article"], 1),
                       ("solved_too", "question", threads["solved"], 1)]


# ---------------------------------------------------------------- searches


@pytest.mark.usefixtures("cached")
def test_searches_and_zero_result_searches_are_counted_also_from_the_page_cache(browser, threads) -> None:
    r = browser.get("/search?q=Zebra++Unicorn")
    assert r.status_code == 200 and r.headers["X-Cache"] == "MISS" and 'data-search-total="0"' in r.get_data(as_text=True)
    r = browser.get("/search?q=Zebra++Unicorn")
    assert r.headers["X-Cache"] == "HIT"
    assert browser.get("/search?q=hub").status_code == 200
    assert browser.get("/search?q=hub&page=2").status_code == 200  # another page of the same search
    assert browser.get("/search").status_code == 200  # the empty form: no search ran
    # Nothing was written per search: the counts wait with the page views for their flush.
    assert db.session.scalars(select(InsightDaily)).all() == [] == db.session.scalars(select(SearchMissDaily)).all()
    assert daily() == [("searches", "", 0, 3)]
    db.session.expire_all()
    misses = db.session.execute(select(SearchMissDaily.query, SearchMissDaily.count)).all()
    assert [tuple(m) for m in misses] == [("zebra unicorn", 2)]


# ---------------------------------------------------------------- export


def test_export_writes_the_daily_counts_as_csv_and_json_lines(runner, threads, tmp_path) -> None:
    from collections import Counter
    from datetime import date

    deflection.add_daily(Counter({(date(2026, 11, 2), "suggestion", "question", threads["solved"]): 3,
                                  (date(2026, 11, 2), "searches", "", 0): 40,
                                  (date(2026, 11, 1), "article_helpful", "article", threads["article"]): 1,
                                  (date(2026, 10, 31), "search", "question", threads["solved"]): 9}))
    db.session.add(SearchMissDaily(day=date(2026, 11, 2), query="zebra unicorn", count=2))
    db.session.commit()
    r = runner.invoke(args=["insights", "export", "--since", "2026-11-01"])
    assert r.exit_code == 0, r.output
    assert r.output == ("day,kind,target_type,target_id,count\n"
                        f"2026-11-01,article_helpful,article,{threads['article']},1\n"
                        "2026-11-02,searches,,0,40\n"
                        f"2026-11-02,suggestion,question,{threads['solved']},3\n")
    out = tmp_path / "daily.jsonl"
    r = runner.invoke(args=["insights", "export", "--since", "2026-11-02", "--format", "jsonl", "--output", str(out)])
    assert r.exit_code == 0, r.output
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"day": "2026-11-02", "kind": "searches", "target_type": "", "target_id": 0, "count": 40},
        {"day": "2026-11-02", "kind": "suggestion", "target_type": "question", "target_id": threads["solved"],
         "count": 3}]
    r = runner.invoke(args=["insights", "export", "--since", "2026-11-01", "--table", "search-misses"])
    assert r.output == "day,query,count\n2026-11-02,zebra unicorn,2\n"
    r = runner.invoke(args=["insights", "export", "--since", "November"])
    assert r.exit_code == 2 and "--since" in r.output
