"""People reached through the web: the profile's lines, the tag page's top helpers (also for
anonymous visitors served from the page cache) and the monthly mail's switch in the settings."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from forum import viewcounts
from forum.extensions import db
from forum.models import Answer, InsightDaily, NotificationPreference, Question, User
from forum.models.base import utcnow
from forum.services import curation, notifications, reach
from tests.web.test_page_cache import cached  # noqa: F401 - the page cache fixture


def _views(app: Flask, question_id: int, n: int) -> None:
    for _ in range(n):
        app.extensions["viewcounts"].store.add("question", question_id)
    assert viewcounts.flush() == n


@pytest.fixture
def thread(make_user, make_question, make_answer):
    asker = make_user("asker")
    q = make_question(author=asker, title="Thermostat loses its schedule after a power cut", tags="thermostat")
    a = make_answer(q, author=make_user("helper"), body="Update to firmware 4.2; it keeps the schedule in flash.")
    b = make_answer(q, author=make_user("second"), body="Replace the backup battery behind the faceplate.")
    return {"q": q.id, "a": a.id, "b": b.id, "helper": a.author_id, "second": b.author_id}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html)))


def test_the_profile_says_about_how_many_people_the_answers_helped(app: Flask, client: FlaskClient, auth,
                                                                   thread) -> None:
    _views(app, thread["q"], 40)
    profile = f"/users/{thread['helper']}"
    assert "answers helped about" not in client.get(profile).get_data(as_text=True)  # nothing accepted: hidden
    auth.login("asker")
    assert auth.post(f"/answers/{thread['a']}/accept").status_code == 302
    auth.logout()
    assert "answers helped about" not in client.get(profile).get_data(as_text=True)  # 0 since the acceptance
    _views(app, thread["q"], 25)
    page = _text(client.get(profile).get_data(as_text=True))
    assert "helper's answers helped about 25 people · they read threads after their answer was accepted" in page
    auth.login("helper")
    assert "Your answers helped about 25 people" in _text(client.get(profile).get_data(as_text=True))
    auth.logout()
    assert "helped about" not in client.get(f"/users/{thread['second']}").get_data(as_text=True)


def test_the_profile_shows_this_months_deflections_and_hides_none(app: Flask, client: FlaskClient, auth,
                                                                   thread) -> None:
    auth.login("asker")
    auth.post(f"/answers/{thread['a']}/accept")
    auth.logout()
    today = utcnow().date()
    last_month = today.replace(day=1) - timedelta(days=1)
    db.session.add_all([InsightDaily(day=today, kind="search", target_type="question", target_id=thread["q"], count=3),
                        InsightDaily(day=last_month, kind="search", target_type="question", target_id=thread["q"],
                                     count=40)])
    db.session.commit()
    page = _text(client.get(f"/users/{thread['helper']}").get_data(as_text=True))
    assert "3 deflections this month · visitors found what they needed in threads helper solved" in page
    assert "deflections this month" not in client.get(f"/users/{thread['second']}").get_data(as_text=True)


def test_anonymous_profiles_are_right_after_a_view_flush_and_an_acceptance(cached: Flask, thread) -> None:  # noqa: F811
    anonymous = cached.test_client()
    profile = f"/users/{thread['second']}"
    assert "helped about" not in anonymous.get(profile).get_data(as_text=True)
    asker = db.session.scalar(select(User).where(User.username == "asker"))
    curation.accept_answer(asker, db.session.get(Answer, thread["b"]))
    db.session.commit()
    _views(cached, thread["q"], 7)
    response = anonymous.get(profile)
    assert "X-Cache" not in response.headers  # profiles are not served from the cache at all
    assert "second's answers helped about 7 people" in _text(response.get_data(as_text=True))
    _views(cached, thread["q"], 5)
    assert "helped about 12 people" in _text(anonymous.get(profile).get_data(as_text=True))


def _helpers(html: str) -> list[str]:
    found = re.search(r'<section class="top-helpers".*?</section>', html, re.S)
    return re.findall(r'class="user-link" href="/users/\d+">([^<]+)</a>', found.group(0)) if found else []


def test_the_tag_page_lists_top_helpers_and_the_cached_page_follows_acceptances(cached: Flask, auth,  # noqa: F811
                                                                              make_question, make_answer,
                                                                              thread) -> None:
    anonymous = cached.test_client()
    url = "/tags/thermostat"
    first = anonymous.get(url)
    assert first.headers["X-Cache"] == "MISS" and _helpers(first.get_data(as_text=True)) == []
    assert anonymous.get(url).headers["X-Cache"] == "HIT"

    auth.login("asker")
    assert auth.post(f"/answers/{thread['a']}/accept").status_code == 302
    page = anonymous.get(url)
    assert page.headers["X-Cache"] == "MISS" and _helpers(page.get_data(as_text=True)) == ["helper"]
    assert "1 accepted" in _text(page.get_data(as_text=True))
    assert anonymous.get(url).headers["X-Cache"] == "HIT"

    asker = db.session.scalar(select(User).where(User.username == "asker"))
    second = db.session.get(User, thread["second"])
    for title in ("Thermostat shows the wrong room temperature", "Thermostat clicks all night long"):
        q = make_question(author=asker, title=title, tags="thermostat")
        answer = make_answer(q, author=second)
        assert auth.post(f"/answers/{answer.id}/accept").status_code == 302
    assert _helpers(anonymous.get(url).get_data(as_text=True)) == ["second", "helper"]

    assert auth.post(f"/questions/{thread['q']}/unaccept").status_code == 302
    page = anonymous.get(url)
    assert page.headers["X-Cache"] == "MISS" and _helpers(page.get_data(as_text=True)) == ["second"]



def test_the_nightly_ranking_drops_old_acceptances_from_the_cached_tag_page(cached: Flask, auth,  # noqa: F811
                                                                            thread) -> None:
    anonymous = cached.test_client()
    url = "/tags/thermostat"
    auth.login("asker")
    assert auth.post(f"/answers/{thread['a']}/accept").status_code == 302
    assert _helpers(anonymous.get(url).get_data(as_text=True)) == ["helper"]
    assert anonymous.get(url).headers["X-Cache"] == "HIT"
    # Ninety-one days later (moved behind the services' back: no event), the nightly run ranks again.
    db.session.execute(update(Question).where(Question.id == thread["q"])
                       .values(accepted_at=utcnow() - timedelta(days=91)))
    db.session.commit()
    assert reach.refresh_top_helpers() >= 1
    page = anonymous.get(url)
    assert page.headers["X-Cache"] == "MISS" and _helpers(page.get_data(as_text=True)) == []


def test_the_monthly_mail_is_switched_on_and_off_in_the_notification_settings(client: FlaskClient, auth,
                                                                              make_user) -> None:
    member = make_user("switcher")
    auth.login("switcher")
    page = client.get("/settings/notifications").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="helped_monthly"[^>]*>', page)
    assert box and "checked" not in box.group(0)  # off by default
    assert "A monthly e-mail with how many people my answers helped" in page
    assert auth.post("/settings/notifications", {"email": ["answer"], "digest": "y",
                                                 "helped_monthly": "y"}).status_code == 302
    assert notifications.preferences(member).helped_monthly is True
    page = client.get("/settings/notifications").get_data(as_text=True)
    assert "checked" in re.search(r'<input[^>]*name="helped_monthly"[^>]*>', page).group(0)
    assert auth.post("/settings/notifications", {"email": ["answer"], "digest": "y"}).status_code == 302
    db.session.expire_all()
    row = db.session.get(NotificationPreference, (member.id, "helped_monthly"))
    assert row is not None and row.email is False
