"""The anonymous page cache: hits, and every kind of write shows on the next anonymous GET.

Each write goes through the service layer and commits as a request would; the page was
served from the cache (X-Cache: HIT) just before, so a page that still shows the old state
would be a stale hit.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import bindparam, event, text, update

from forum import pagecache
from forum.extensions import db
from forum.models import Question, User
from forum.pagecache.keys import BUMPS
from forum.services import announcements, answers, articles, comments, curation, posts, questions, visibility, votes
from tests.support import Auth, page_cache_on


@pytest.fixture(params=["memory", "redis"])
def cached(request: pytest.FixtureRequest, app: Flask) -> Iterator[Flask]:
    """The test app with the page cache on: pages in this process and generations in the
    database, or both in Redis (FORUM_TEST_REDIS_URL), under a prefix of this test's own."""
    with page_cache_on(app, request.param, "test:pagecache") as on:
        yield on


@pytest.fixture
def staff(make_user: Callable[..., Any]) -> User:
    return make_user("moddy", role="moderator")


def _get(client: FlaskClient, path: str) -> tuple[str, str]:
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return r.get_data(as_text=True), r.headers.get("X-Cache", "")


def _primed(client: FlaskClient, path: str) -> str:
    """Load ``path`` twice anonymously; the second answer must come from the cache."""
    _get(client, path)
    html, state = _get(client, path)
    assert state == "HIT", path
    return html


@pytest.fixture
def thread(cached: Flask, asked_and_answered: tuple[Any, Any]) -> dict[str, Any]:
    q, a = asked_and_answered
    return {"q": q.id, "a": a.id, "path": f"/questions/{q.id}/{questions.slugify(q.title)}"}


def test_second_anonymous_view_is_a_hit_with_the_same_page(client: FlaskClient, thread: dict[str, Any]) -> None:
    first, state = _get(client, thread["path"])
    assert state == "MISS"
    second, state = _get(client, thread["path"])
    assert state == "HIT" and second == first
    assert 'name="csrf-token"' not in second  # nothing of one visitor's session in a shared page


def test_cache_off_by_default_in_testing(app: Flask, client: FlaskClient, asked_and_answered: Any) -> None:
    r = client.get("/questions")
    assert "X-Cache" not in r.headers


def _commit() -> None:
    db.session.commit()


def test_new_answer_shows(client: FlaskClient, thread: dict[str, Any], make_user: Any) -> None:
    _primed(client, thread["path"])
    _primed(client, "/questions")
    q = db.session.get(questions.Question, thread["q"])
    answers.post_answer(make_user("third"), q, "Unplug the hub and wait for the green light.")
    _commit()
    html, state = _get(client, thread["path"])
    assert state == "MISS" and "wait for the green light" in html
    html, _ = _get(client, "/questions")
    assert ">2<" in html.replace(" ", "") or "2 answers" in html


def test_edit_and_retag_show(client: FlaskClient, thread: dict[str, Any]) -> None:
    _primed(client, thread["path"])
    _primed(client, "/tags/setup")
    _primed(client, "/tags")
    q = db.session.get(questions.Question, thread["q"])
    asker = db.session.get(User, q.author_id)
    questions.edit_question(asker, q, questions.QuestionInput(q.title, "Now it blinks red instead, twice a second.",
                                                             "firmware"))
    _commit()
    html, _ = _get(client, thread["path"])
    assert "blinks red instead" in html and "firmware" in html
    html, _ = _get(client, "/tags/setup")
    assert "Hub blinks orange" not in html
    html, _ = _get(client, "/tags")
    assert "firmware" in html


def test_vote_shows_in_score(client: FlaskClient, thread: dict[str, Any], make_user: Any) -> None:
    before = _primed(client, thread["path"])
    votes.cast_vote(make_user("voter"), "answer", thread["a"], 1)
    _commit()
    after, state = _get(client, thread["path"])
    assert state == "MISS" and after != before


def test_accept_shows(client: FlaskClient, thread: dict[str, Any]) -> None:
    before = _primed(client, thread["path"])
    a = db.session.get(answers.Answer, thread["a"])
    curation.accept_answer(db.session.get(User, a.question.author_id), a)
    _commit()
    after, state = _get(client, thread["path"])
    assert state == "MISS" and after != before and "ccepted" in after


def test_hidden_answer_disappears(client: FlaskClient, thread: dict[str, Any]) -> None:
    assert "Hold the reset button" in _primed(client, thread["path"])
    visibility.hide_post(db.session.get(answers.Answer, thread["a"]), "moderator")
    _commit()
    html, _ = _get(client, thread["path"])
    assert "Hold the reset button" not in html


def test_close_shows(client: FlaskClient, thread: dict[str, Any], staff: User) -> None:
    before = _primed(client, thread["path"])
    curation.close_question(staff, db.session.get(questions.Question, thread["q"]), "off_topic")
    _commit()
    after, _ = _get(client, thread["path"])
    assert after != before and "Off-topic" in after


def test_comment_shows(client: FlaskClient, thread: dict[str, Any], make_user: Any) -> None:
    _primed(client, thread["path"])
    comments.add_comment(make_user("commenter"), db.session.get(answers.Answer, thread["a"]),
                         "Worked for me on the second try.")
    _commit()
    html, _ = _get(client, thread["path"])
    assert "Worked for me on the second try." in html


def test_banner_shows_on_every_cached_page(client: FlaskClient, thread: dict[str, Any], staff: User) -> None:
    paths = [thread["path"], "/", "/questions", "/tags"]
    for path in paths:
        _primed(client, path)
    announcements.create_announcement(staff, "Cloud sync is down in Europe", "outage")
    _commit()
    for path in paths:
        html, _ = _get(client, path)
        assert "Cloud sync is down in Europe" in html, path


def test_article_publish_shows(client: FlaskClient, cached: Flask, staff: User) -> None:
    assert "Resetting the hub" not in _primed(client, "/articles")
    article = articles.create_article(staff, articles.ArticleInput(
        "Resetting the hub", "Hold the button for ten seconds until the light turns green.", "setup"))
    _commit()
    html, _ = _get(client, "/articles")
    assert "Resetting the hub" not in html  # a draft is not public
    articles.set_state(staff, article, "published")
    _commit()
    html, _ = _get(client, "/articles")
    assert "Resetting the hub" in html


def test_link_card_on_another_page_follows_an_edit(client: FlaskClient, thread: dict[str, Any],
                                                    make_question: Any) -> None:
    """Question B links to A: B's page shows A's title in a card, and A's page a backlink to B."""
    other = make_question(title="Second hub loses its pairing",
                          body=f"Same as http://127.0.0.1:5000/questions/{thread['q']} but on the second hub.")
    path = f"/questions/{other.id}/{questions.slugify(other.title)}"
    assert "Hub blinks orange after update" in _primed(client, path)
    q = db.session.get(questions.Question, thread["q"])
    questions.edit_question(db.session.get(User, q.author_id), q, questions.QuestionInput(
        "Hub blinks red after the firmware update", q.body, "setup"))
    _commit()
    html, state = _get(client, path)
    assert state == "MISS" and "Hub blinks red after the firmware update" in html


def test_backlink_appears_on_the_linked_page(client: FlaskClient, thread: dict[str, Any], make_question: Any) -> None:
    assert "Second hub loses its pairing" not in _primed(client, thread["path"])
    make_question(title="Second hub loses its pairing",
                  body=f"Same as http://127.0.0.1:5000/questions/{thread['q']} but on the second hub.")
    html, _ = _get(client, thread["path"])
    assert "Second hub loses its pairing" in html


def test_banner_dismissal_stays_with_its_visitor(client: FlaskClient, app: Flask, thread: dict[str, Any],
                                                 staff: User) -> None:
    item = announcements.create_announcement(staff, "Cloud sync is down in Europe", "outage")
    _commit()
    r = client.post(f"/announcements/{item.id}/dismiss", data={"next": "/questions"})
    assert r.status_code == 302
    html, _ = _get(client, "/questions")
    assert "Cloud sync is down in Europe" not in html
    other = app.test_client()
    html, _ = _get(other, "/questions")
    assert "Cloud sync is down in Europe" in html
    html, _ = _get(client, "/questions")
    assert "Cloud sync is down in Europe" not in html


def test_signed_in_members_get_their_own_page_never_the_shared_one(client: FlaskClient, app: Flask,
                                                                   thread: dict[str, Any], make_user: Any) -> None:
    shared = _primed(client, thread["path"])
    make_user("member")
    member = app.test_client()
    Auth(member).login("member")
    first = member.get(thread["path"])
    assert "X-Cache" not in first.headers  # a new session gets its CSRF secret now: not kept
    states = [member.get(thread["path"]).headers.get("X-Cache") for _ in range(2)]
    assert states == ["MISS", "HIT"]  # their own copy (tests/web/test_page_cache_signed_in.py)
    html = member.get(thread["path"]).get_data(as_text=True)
    assert 'name="csrf-token"' in html and "Log out" in html and html != shared
    again, state = _get(client, thread["path"])
    assert state == "HIT" and again == shared and "Log out" not in again


def test_bell_and_banners_of_a_member_do_not_leak(client: FlaskClient, app: Flask, thread: dict[str, Any],
                                                  make_user: Any, staff: User) -> None:
    item = announcements.create_announcement(staff, "Cloud sync is down in Europe", "outage")
    _commit()
    member = app.test_client()
    make_user("member")
    Auth(member).login("member")
    Auth(member).post(f"/announcements/{item.id}/dismiss", data={"next": "/"})
    assert "Cloud sync is down in Europe" not in member.get("/questions").get_data(as_text=True)
    html, _ = _get(client, "/questions")
    assert "Cloud sync is down in Europe" in html and 'class="bell' not in html and "Log out" not in html


def test_signed_in_dismissal_still_needs_a_csrf_token(app: Flask, cached: Flask, staff: User,
                                                      make_user: Any) -> None:
    item = announcements.create_announcement(staff, "Cloud sync is down in Europe", "outage")
    _commit()
    member = app.test_client()
    make_user("member")
    Auth(member).login("member")
    assert member.post(f"/announcements/{item.id}/dismiss", data={"next": "/"}).status_code == 400


def test_flash_message_page_is_not_stored(client: FlaskClient, thread: dict[str, Any]) -> None:
    with client.session_transaction() as s:
        s["_flashes"] = [("info", "One-off message for you")]
    html, state = _get(client, thread["path"])
    assert "One-off message for you" in html and state == ""
    html, state = _get(client, thread["path"])
    assert "One-off message for you" not in html


def test_cache_clear_command(client: FlaskClient, cached: Flask, thread: dict[str, Any]) -> None:
    _primed(client, thread["path"])
    result = cached.test_cli_runner().invoke(args=["cache", "clear"])
    assert "cleared" in result.output
    _, state = _get(client, thread["path"])
    assert state == "MISS"



def test_new_question_shows_in_cached_search_results(client: FlaskClient, thread: dict[str, Any],
                                                     make_question: Any) -> None:
    assert "Thermostat" not in _primed(client, "/search?q=pairing")
    make_question(title="Thermostat pairing fails at step three", body="The pairing code is rejected every time.")
    html, state = _get(client, "/search?q=pairing")
    assert state == "MISS" and "Thermostat" in html


def test_answer_elsewhere_leaves_this_page_a_hit(client: FlaskClient, thread: dict[str, Any], make_question: Any,
                                                 make_user: Any) -> None:
    """Invalidation is by what a page read: an unrelated thread's answer does not touch this one
    (unrelated in words too: a thread listed under "Related questions" is read by the page)."""
    other = make_question(title="Invoice address refused", body="Billing rejects my new postcode.",
                          tags="billing")
    _primed(client, thread["path"])
    assert "Invoice address" not in _get(client, thread["path"])[0]
    answers.post_answer(make_user("third"), other, "Pair it again from the app settings.")
    _commit()
    _, state = _get(client, thread["path"])
    assert state == "HIT"


def test_raw_sql_write_invalidates_every_page(client: FlaskClient, thread: dict[str, Any]) -> None:
    """A write the cache cannot map (raw SQL) bumps the global generation: a miss, never stale."""
    _primed(client, thread["path"])
    db.session.execute(text("UPDATE questions SET body_html = '<p>Hub blinks purple now</p>' WHERE id = :id"),
                       {"id": thread["q"]})
    _commit()
    html, state = _get(client, thread["path"])
    assert state == "MISS" and "Hub blinks purple now" in html


def test_article_edit_shows_on_its_page(client: FlaskClient, cached: Flask, staff: User) -> None:
    data = articles.ArticleInput("Resetting the hub", "Hold the button for ten seconds until the light turns green.",
                                 "setup")
    article = articles.set_state(staff, articles.create_article(staff, data), "published")
    _commit()
    path = f"/articles/{article.id}/{articles.article_slug(article.title)}"
    assert "fifteen seconds" not in _primed(client, path)
    articles.edit_article(staff, article, articles.ArticleInput(
        data.title, "Hold the button for fifteen seconds until the light turns green.", "setup"))
    _commit()
    html, state = _get(client, path)
    assert state == "MISS" and "fifteen seconds" in html


def test_scheduled_banner_shows_when_it_starts(client: FlaskClient, thread: dict[str, Any], staff: User) -> None:
    """No write happens when a scheduled banner starts: a cached page must not outlive that moment."""
    start = datetime.now(timezone.utc) + timedelta(seconds=3)
    announcements.create_announcement(staff, "Maintenance window tonight", "info", starts_at=start)
    _commit()
    assert "Maintenance window tonight" not in _primed(client, thread["path"])
    time.sleep(max((start - datetime.now(timezone.utc)).total_seconds(), 0) + 0.1)
    html, state = _get(client, thread["path"])
    assert state == "MISS" and "Maintenance window tonight" in html


def test_unreachable_redis_serves_pages_and_takes_writes(app: Flask, client: FlaskClient, asked_and_answered: Any,
                                                         make_user: Any) -> None:
    """The cache is an accelerator: with its Redis down, pages are rendered and writes commit."""
    app.config.update(PAGE_CACHE_ENABLED=True, REDIS_URL="redis://127.0.0.1:1/0")
    pagecache.init_app(app)
    q, _ = asked_and_answered
    path = f"/questions/{q.id}/{questions.slugify(q.title)}"
    assert client.get(path).status_code == 200
    answers.post_answer(make_user("third"), q, "Unplug the hub and wait for the green light.")
    _commit()
    r = client.get(path)
    assert r.status_code == 200 and "wait for the green light" in r.get_data(as_text=True)


def test_a_statement_built_once_maps_its_named_parameters_without_a_second_statement(
        client: FlaskClient, thread: dict[str, Any], make_question: Any) -> None:
    """The write path's statements are built once with bind parameters (touch_question's UPDATE):
    the cache reads the row they pin from the parameters, runs them as they are, and bumps that
    question's pages only."""
    other = make_question(title="Invoice address refused", body="Billing rejects my new postcode.",
                          tags="billing").id
    _commit()
    _primed(client, thread["path"])
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        posts.touch_question(other, answers_delta=0)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert seen == ["UPDATE"]  # no SELECT first to learn which rows it touches
    assert f"questions:{other}" in db.session.info[BUMPS] and "global" not in db.session.info[BUMPS]
    _commit()
    assert _get(client, thread["path"])[1] == "HIT"
    posts.touch_question(thread["q"], answers_delta=0)
    _commit()
    assert _get(client, thread["path"])[1] == "MISS"

    # One whose parameters do not pin its rows: they are selected first, with its parameters.
    _primed(client, thread["path"])
    db.session.execute(update(Question).where(Question.title == bindparam("wanted")).values(score=Question.score + 1),
                       {"wanted": "Invoice address refused"}, execution_options={"synchronize_session": False})
    assert f"questions:{other}" in db.session.info[BUMPS] and f"questions:{thread['q']}" not in db.session.info[BUMPS]
    _commit()
    assert _get(client, thread["path"])[1] == "HIT"
