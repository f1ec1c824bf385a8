"""A signed-in member's own question page, kept until anything it shows changes (forum/pagecache:
``private_hit``).

Each test primes the member's page (their second view is a HIT), changes one kind of thing
through the service layer as a request would, and checks the member's next view shows it: a
stale hit would be a member seeing an old vote, draft, bell or button. Also: one member's
page never reaches another member, an anonymous visitor or another session of theirs, staff
pages are never kept, and a kept page is byte for byte the page rendered afresh.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from forum import pagecache, templating
from forum.extensions import db
from forum.models import Answer, Notification, NotificationFanout, Question, User
from forum.models.base import utcnow
from forum.pagecache import hits
from forum.services import (
    admin,
    announcements,
    answers,
    drafts,
    following,
    notifications,
    questions,
    site_settings,
    votes,
)
from tests.support import Auth
from tests.web.test_page_cache import cached  # noqa: F401 - the page cache fixture

pytestmark = pytest.mark.usefixtures("cached")


@pytest.fixture
def thread(asked_and_answered: tuple[Any, Any]) -> dict[str, Any]:
    q, a = asked_and_answered
    return {"q": q.id, "a": a.id, "path": f"/questions/{q.id}/{questions.slugify(q.title)}"}


@pytest.fixture
def member(cached: Flask, make_user: Callable[..., Any]) -> FlaskClient:  # noqa: F811
    make_user("reader")
    client = cached.test_client()
    assert Auth(client).login("reader").status_code == 302
    return client


def _view(client: FlaskClient, path: str) -> tuple[str, str]:
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return r.get_data(as_text=True), r.headers.get("X-Cache", "")


def _primed(client: FlaskClient, path: str) -> str:
    """View ``path`` until the member's own copy answers (the first view of a new session gives it
    its CSRF secret, the next is stored); return the kept page."""
    for _ in range(3):
        html, state = _view(client, path)
        if state == "HIT":
            return html
    raise AssertionError(f"{path} never came from the member's cache")


def _reader() -> User:
    user = db.session.scalar(db.select(User).where(User.username == "reader"))
    assert user is not None
    return user


def _without_tokens(html: str) -> str:
    # A CSRF token is signed with the time it was made: the same session's tokens differ by second
    # (the meta tag, the hand-written inputs, and WTForms' <input id=... name="csrf_token" type=... value=...>).
    return re.sub(r'(name="csrf[-_]token"[^>]*?(?:content|value)=")[^"]+"', r'\1"',
                  re.sub(r'(<input type="hidden" name="csrf_token" value=")[^"]+"', r'\1"', html))


def test_a_kept_page_is_the_page_rendered_afresh(cached: Flask, member: FlaskClient,  # noqa: F811
                                                 thread: dict[str, Any]) -> None:
    kept = _primed(member, thread["path"])
    cached.config["PAGE_CACHE_SIGNED_IN"] = False
    try:
        fresh, state = _view(member, thread["path"])
    finally:
        cached.config["PAGE_CACHE_SIGNED_IN"] = True
    assert state == "" and _without_tokens(kept) == _without_tokens(fresh)
    assert "Log out" in kept and 'name="csrf-token"' in kept


def test_their_own_vote_shows_at_once(member: FlaskClient, thread: dict[str, Any]) -> None:
    before = _primed(member, thread["path"])
    assert 'vote-up is-active' not in before
    votes.cast_vote(_reader(), "answer", thread["a"], 1)
    db.session.commit()
    html, state = _view(member, thread["path"])
    assert state == "MISS" and 'vote-up is-active' in html


def test_another_members_answer_and_vote_show(member: FlaskClient, thread: dict[str, Any],
                                              make_user: Callable[..., Any]) -> None:
    _primed(member, thread["path"])
    answers.post_answer(make_user("third"), db.session.get(Question, thread["q"]), "Reset the hub with a pin.")
    db.session.commit()
    html, state = _view(member, thread["path"])
    assert state == "MISS" and "Reset the hub with a pin." in html
    _primed(member, thread["path"])
    votes.cast_vote(make_user("fan"), "answer", thread["a"], 1)
    db.session.commit()
    html, state = _view(member, thread["path"])
    answer_score = re.search(rf'id="answer-{thread["a"]}".*?class="score-value">(-?\d+)<', html, re.S)
    assert state == "MISS" and answer_score and answer_score.group(1) == "1"


def test_their_draft_comes_back_in_the_answer_form(member: FlaskClient, thread: dict[str, Any]) -> None:
    _primed(member, thread["path"])
    drafts.save_draft(_reader(), f"answer:{thread['q']}", drafts.DraftText(body="Half-typed: unplug the"))
    db.session.commit()
    html, state = _view(member, thread["path"])
    assert state == "MISS" and "Half-typed: unplug the" in html


def test_the_bell_counts_a_notification_from_elsewhere(member: FlaskClient, thread: dict[str, Any],
                                                       make_question: Callable[..., Any],
                                                       make_user: Callable[..., Any]) -> None:
    theirs = make_question(author=_reader(), title="Printer drops off the network at night")
    before = _primed(member, thread["path"])
    assert "bell-count" not in before
    answers.post_answer(make_user("helper2"), db.session.get(Question, theirs.id), "Give it a fixed address.")
    db.session.commit()
    html, state = _view(member, thread["path"])
    assert state == "MISS" and 'class="bell-count" aria-hidden="true">1<' in html


def test_following_and_a_dismissed_banner_show(member: FlaskClient, thread: dict[str, Any],
                                               make_user: Callable[..., Any]) -> None:
    before = _primed(member, thread["path"])
    assert 'aria-pressed="false">Follow<' in before
    following.follow_question(_reader(), db.session.get(Question, thread["q"]))
    db.session.commit()
    html, state = _view(member, thread["path"])
    assert state == "MISS" and 'aria-pressed="true">Following<' in html

    item = announcements.create_announcement(make_user("boss", role="moderator"), "Cloud sync is down", "outage")
    db.session.commit()
    assert "Cloud sync is down" in _view(member, thread["path"])[0]
    assert "Cloud sync is down" in _primed(member, thread["path"])
    announcements.dismiss(_reader(), item)
    db.session.commit()
    html, state = _view(member, thread["path"])
    assert state == "MISS" and "Cloud sync is down" not in html


def test_a_role_change_or_a_setting_renders_the_page_again(member: FlaskClient, thread: dict[str, Any],
                                                           make_user: Callable[..., Any]) -> None:
    admin_user = make_user("chief", role="admin")
    _primed(member, thread["path"])
    values = {row.setting.key: row.value for row in site_settings.settings_page(admin_user)}
    site_settings.change_settings(admin_user, {**values, "REVIEW_USUAL_WAIT_HOURS": 30})
    db.session.commit()
    assert _view(member, thread["path"])[1] == "MISS"
    _primed(member, thread["path"])
    admin.change_role(admin_user, _reader(), "moderator", "helps a lot")
    db.session.commit()
    html, state = _view(member, thread["path"])
    assert state == "" and "Log out" in html  # staff pages are never kept
    assert _view(member, thread["path"])[1] == ""


def test_one_members_page_reaches_nobody_else(cached: Flask, member: FlaskClient,  # noqa: F811
                                              thread: dict[str, Any], make_user: Callable[..., Any]) -> None:
    mine = _primed(member, thread["path"])
    assert "reader" in mine
    make_user("neighbour")
    other = cached.test_client()
    Auth(other).login("neighbour")
    theirs = _primed(other, thread["path"])
    assert "neighbour" in theirs and ">reader<" not in theirs
    anonymous, _ = _view(cached.test_client(), thread["path"])
    assert "Log out" not in anonymous and 'name="csrf-token"' not in anonymous
    # Signing out and in again is a new session: its first page is rendered, not the old one.
    Auth(member).logout()
    Auth(member).login("reader")
    html, state = _view(member, thread["path"])
    assert state == "" and "Log out" in html


def test_an_accepted_or_hidden_answer_shows(member: FlaskClient, thread: dict[str, Any]) -> None:
    from forum.services import curation, visibility

    _primed(member, thread["path"])
    question = db.session.get(Question, thread["q"])
    answer = db.session.get(Answer, thread["a"])
    assert question is not None and answer is not None
    curation.accept_answer(question.author, answer)
    db.session.commit()
    html, state = _view(member, thread["path"])
    assert state == "MISS" and "post-accepted" in html
    _primed(member, thread["path"])
    visibility.hide_post(db.session.get(Answer, thread["a"]), "moderator")
    db.session.commit()
    html, state = _view(member, thread["path"])
    assert state == "MISS" and f'id="answer-{thread["a"]}"' not in html


def test_a_scheduled_banner_shows_on_a_kept_page_when_it_starts(member: FlaskClient, thread: dict[str, Any],
                                                                 make_user: Callable[..., Any],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    announcements.create_announcement(make_user("boss", role="moderator"), "Maintenance tonight at ten", "info",
                                      starts_at=utcnow() + timedelta(hours=1))
    db.session.commit()
    assert "Maintenance tonight" not in _primed(member, thread["path"])
    # Two hours later, with no write in between: the kept page ended when the banner started.
    later = time.time() + 2 * 3600
    monkeypatch.setattr(hits.time, "time", lambda: later)
    monkeypatch.setattr(pagecache.time, "time", lambda: later)
    monkeypatch.setattr(templating, "utcnow", lambda: utcnow() + timedelta(hours=2))
    html, state = _view(member, thread["path"])
    assert state == "MISS" and "Maintenance tonight at ten" in html


def test_a_write_to_members_state_naming_no_member_leaves_the_shared_pages_alone(
        cached: Flask, member: FlaskClient, thread: dict[str, Any]) -> None:  # noqa: F811
    anonymous = cached.test_client()
    _view(anonymous, thread["path"])
    assert _view(anonymous, thread["path"])[1] == "HIT"
    _primed(member, thread["path"])
    db.session.execute(update(Notification).values(read_at=utcnow()))  # every member's: no WHERE
    db.session.commit()
    assert _view(anonymous, thread["path"])[1] == "HIT"  # no anonymous page shows notifications
    assert _view(member, thread["path"])[1] == "MISS"  # every member's kept pages go


def test_the_fan_out_job_renews_the_pages_of_the_followers_it_told_and_no_one_elses(
        cached: Flask, member: FlaskClient, thread: dict[str, Any],  # noqa: F811
        make_question: Callable[..., Any], make_user: Callable[..., Any]) -> None:
    # The job's bell rows are one INSERT ... SELECT, which names no member: it says itself whose
    # pages they change (pagecache.writes.TOUCHES), or every signed-in member's kept pages would go.
    incident = make_question(author=make_user("asker2"), title="Hub offline for everyone since the outage")
    following.follow_question(_reader(), incident)
    db.session.commit()
    bystander = cached.test_client()
    make_user("bystander")
    assert Auth(bystander).login("bystander").status_code == 302
    _primed(bystander, thread["path"])
    before = _primed(member, thread["path"])
    assert "bell-count" not in before
    fanout = NotificationFanout(question_id=incident.id, event="follow", actor_id=None,
                                subject="New answer on a question you follow", url=f"/questions/{incident.id}",
                                text="The status page says it is fixed.", target=f"question:{incident.id}",
                                exclude="", after_user_id=0)
    db.session.add(fanout)
    db.session.commit()
    assert notifications.fan_out(fanout.id) == 2  # the reader and the asker
    html, state = _view(member, thread["path"])
    assert state == "MISS" and 'class="bell-count" aria-hidden="true">1<' in html
    assert _view(bystander, thread["path"])[1] == "HIT"
