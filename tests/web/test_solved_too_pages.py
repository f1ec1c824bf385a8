""""This solved my problem too" through the web: the plain form, JSON for the script, who sees
the button, the limit, and the counts where members look (thread, lists, search, profile)."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from forum import pagecache
from forum.extensions import db
from forum.models import Question, User
from forum.services import curation


@pytest.fixture
def thread(make_user, make_question, make_answer):
    asker = make_user("asker")
    q = make_question(author=asker, title="Thermostat loses its schedule after a power cut",
                      body="Every power cut wipes the weekly schedule on my thermostat.")
    a = make_answer(q, author=make_user("helper"), body="Update to firmware 4.2; it keeps the schedule in flash.")
    curation.accept_answer(asker, a)
    db.session.commit()
    make_user("member")
    return {"q": q.id, "a": a.id, "url": f"/questions/{q.id}"}


def _box(html: str) -> str:
    found = re.search(r'<section class="solved-too".*?</section>', html, re.S)
    assert found, "no solved-too box"
    return found.group(0)


def _count(question_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Question.solved_too_count).where(Question.id == question_id))


def test_plain_form_marks_redirects_to_the_box_and_a_second_click_takes_it_back(client, auth, thread) -> None:
    auth.login("member")
    html = client.get(thread["url"], follow_redirects=True).get_data(as_text=True)
    box = _box(html)
    assert f'action="/questions/{thread["q"]}/solved-too"' in box and 'aria-pressed="false"' in box
    r = auth.post(f"/questions/{thread['q']}/solved-too")
    assert r.status_code == 302 and r.headers["Location"].endswith("#solved-too")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    box = _box(html)
    assert 'aria-pressed="true"' in box and "<strong>1</strong> person said this solved their problem too" in box
    assert "Thanks for letting others know" in html
    auth.post(f"/questions/{thread['q']}/solved-too")
    assert _count(thread["q"]) == 0
    box = _box(client.get(thread["url"], follow_redirects=True).get_data(as_text=True))
    assert 'aria-pressed="false"' in box and "Had the same problem?" in box


def test_json_answers_the_script_with_the_new_count(client, auth, thread, make_user) -> None:
    make_user("second")
    for name, expected in (("member", 1), ("second", 2)):
        auth.login(name)
        r = auth.post(f"/questions/{thread['q']}/solved-too", headers={"Accept": "application/json"})
        assert r.status_code == 200 and r.get_json() == {"marked": True, "count": expected}
        auth.logout()
    assert _count(thread["q"]) == 2


def test_without_a_csrf_token_nothing_is_marked(client, auth, thread) -> None:
    auth.login("member")
    r = client.post(f"/questions/{thread['q']}/solved-too")
    assert r.status_code == 400 and _count(thread["q"]) == 0


def test_the_asker_gets_no_button_and_is_refused(client, auth, thread) -> None:
    auth.login("asker")
    html = client.get(thread["url"], follow_redirects=True).get_data(as_text=True)
    assert "solved-too-form" not in html
    r = auth.post(f"/questions/{thread['q']}/solved-too", headers={"Accept": "application/json"})
    assert r.status_code == 403 and _count(thread["q"]) == 0


def test_anonymous_visitors_see_the_count_and_a_log_in_link_but_no_form(client, auth, thread) -> None:
    auth.login("member")
    auth.post(f"/questions/{thread['q']}/solved-too")
    auth.logout()
    html = client.get(thread["url"], follow_redirects=True).get_data(as_text=True)
    box = _box(html)
    assert "<strong>1</strong> person" in box and "<form" not in box and "Log in</a> to say" in box
    r = client.post(f"/questions/{thread['q']}/solved-too")
    assert r.status_code in (302, 400, 401) and _count(thread["q"]) == 1


def test_the_daily_limit_refuses_with_429_and_says_when_it_renews(app: Flask, client, auth, thread, make_question) -> None:
    app.config["SOLVED_TOO_PER_DAY"] = 1
    other = make_question()
    auth.login("member")
    auth.post(f"/questions/{thread['q']}/solved-too")
    r = auth.post(f"/questions/{other.id}/solved-too", headers={"Accept": "application/json"})
    assert r.status_code == 429 and "1 times a day" in r.get_json()["error"]["message"]
    assert r.headers.get("Retry-After") and _count(other.id) == 0


def test_counts_show_in_lists_and_search_results(client, auth, thread) -> None:
    auth.login("member")
    auth.post(f"/questions/{thread['q']}/solved-too")
    auth.logout()
    listing = client.get("/questions").get_data(as_text=True)
    assert "<strong>1</strong> solved too" in listing
    results = client.get("/search?q=thermostat+schedule").get_data(as_text=True)
    results = results.replace("<mark>", "").replace("</mark>", "")
    assert "Thermostat loses its schedule" in results and "1 solved too" in results


def test_the_accepted_answers_author_sees_how_many_people_their_answers_helped(client, auth, thread) -> None:
    auth.login("member")
    auth.post(f"/questions/{thread['q']}/solved-too")
    auth.logout()
    helper = db.session.scalar(select(User).where(User.username == "helper"))
    auth.login("helper")
    html = client.get(f"/users/{helper.id}").get_data(as_text=True)
    assert re.search(r"Your answers helped <strong>1</strong> person", html)
    auth.logout()
    html = client.get(f"/users/{helper.id}").get_data(as_text=True)
    assert "helper&#39;s answers helped <strong>1</strong> person" in html or "answers helped <strong>1</strong>" in html


def test_a_mark_shows_at_once_on_the_cached_anonymous_page(app: Flask, client, auth, thread) -> None:
    app.config["PAGE_CACHE_ENABLED"] = True
    pagecache.init_app(app)
    anonymous = app.test_client()
    url = anonymous.get(thread["url"]).headers["Location"]
    anonymous.get(url)
    hit = anonymous.get(url)
    assert hit.headers["X-Cache"] == "HIT" and "Had the same problem?" in hit.get_data(as_text=True)
    auth.login("member")
    auth.post(f"/questions/{thread['q']}/solved-too")
    fresh = anonymous.get(url)
    assert fresh.headers["X-Cache"] == "MISS" and "<strong>1</strong> person" in fresh.get_data(as_text=True)
    app.extensions["pagecache"].close()


def test_a_double_submitted_form_does_not_undo_itself(client, auth, thread) -> None:
    auth.login("member")
    html = client.get(thread["url"], follow_redirects=True).get_data(as_text=True)
    assert 'name="mark" value="1"' in _box(html)
    for _ in range(2):  # the same form sent twice (a double click without the script)
        auth.post(f"/questions/{thread['q']}/solved-too", data={"mark": "1"})
    assert _count(thread["q"]) == 1
    html = client.get(thread["url"], follow_redirects=True).get_data(as_text=True)
    assert 'name="mark" value="0"' in _box(html)
    for _ in range(2):
        auth.post(f"/questions/{thread['q']}/solved-too", data={"mark": "0"})
    assert _count(thread["q"]) == 0
