"""Viewing what a notification is about marks it read (issue 13, item 10); the list shows New and Earlier apart."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Notification
from forum.services import cases, notifications
from tests.web.test_notifications_pages import bell
from tests.web.test_page_cache import cached  # noqa: F401 - the page cache fixture


def unread_urls(user) -> list[str]:
    db.session.expire_all()
    return sorted(n.url for n in db.session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))))


def updates(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("UPDATE NOTIFICATIONS")]


def test_viewing_a_thread_marks_its_notifications_read_and_only_those(
        client, auth, make_user, make_question, make_answer) -> None:
    asker = make_user("seen_asker")
    mine = make_question(author=asker, title="Hub blinks orange after the update")
    other = make_question(author=asker, title="Camera drops off the network at night")
    make_answer(mine, body="Hold the reset button for ten seconds.")
    make_answer(mine, body="Power-cycle the router first, then the hub.")
    make_answer(other, body="Move the camera closer to the access point.")
    assert len(unread_urls(asker)) == 2  # one line per thread: two answers on "mine" count up one
    auth.login("seen_asker")
    assert bell(client.get("/notifications").get_data(as_text=True)) == "2"

    html = client.get(f"/questions/{mine.id}/x", follow_redirects=True).get_data(as_text=True)
    # The bell on the thread itself already counts what is left.
    assert bell(html) == "1"
    left = unread_urls(asker)
    assert len(left) == 1 and left[0].startswith(f"/questions/{other.id}/")


def test_a_thread_with_nothing_unread_costs_no_write_and_one_update_at_most(
        client, auth, make_user, make_question, make_answer, count_queries) -> None:
    asker = make_user("quiet_asker")
    q = make_question(author=asker, title="Hub blinks orange after the update")
    url = f"/questions/{q.id}/hub-blinks-orange-after-the-update"
    auth.login("quiet_asker")
    client.get(url)  # warm up (the first request loads things once)
    with count_queries() as before:
        assert client.get(url).status_code == 200
    assert updates(before.statements) == []

    make_answer(q, body="Hold the reset button for ten seconds.")
    make_answer(q, body="Power-cycle the router first, then the hub.")
    with count_queries() as after:
        assert client.get(url).status_code == 200
    # Two unread notifications cost exactly one more statement, the one UPDATE.
    assert len(updates(after.statements)) == 1
    assert unread_urls(asker) == []
    with count_queries() as again:
        client.get(url)
    # Once read, the same page (now with its two answers) costs exactly one statement less.
    assert updates(again.statements) == [] and again.count == after.count - 1


def test_other_members_notifications_about_the_thread_stay_unread(client, auth, make_user, make_question,
                                                                  make_answer) -> None:
    asker, follower = make_user("owner_a"), make_user("follower_b")
    q = make_question(author=asker)
    auth.login("follower_b")
    auth.post(f"/questions/{q.id}/follow")
    auth.logout()
    make_answer(q, body="Hold the reset button for ten seconds.")
    assert len(unread_urls(asker)) == 1 and len(unread_urls(follower)) == 1
    auth.login("owner_a")
    client.get(f"/questions/{q.id}/x", follow_redirects=True)
    assert unread_urls(asker) == [] and len(unread_urls(follower)) == 1


def test_viewing_a_case_marks_its_notifications_read(client, auth, make_user, make_question) -> None:
    asker, agent = make_user("case_asker"), make_user("case_agent", role="agent")
    q = make_question(author=asker)
    case = cases.open_case(agent, q)
    db.session.commit()
    cases.add_message(agent, case, "Could you send the hub's serial number?")
    db.session.commit()
    assert any(u == f"/cases/{case.id}" for u in unread_urls(asker))
    auth.login("case_asker")
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert not any(u == f"/cases/{case.id}" for u in unread_urls(asker))


def test_the_list_shows_new_and_earlier_apart_and_reading_it_marks_nothing(client, auth, make_user) -> None:
    user = make_user("lister")
    for i in range(3):
        notifications.notify([user], "badge", actor=None, subject=f"Badge number {i}", url=f"/badges/b{i}")
    db.session.commit()
    first = db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                               .order_by(Notification.id)).first()
    auth.login("lister")
    auth.post(f"/notifications/{first.id}/open")
    html = client.get("/notifications").get_data(as_text=True)
    new, earlier = html.split('id="notifications-new"')[1].split('id="notifications-earlier"')
    assert re.findall(r"Badge number \d", new) == ["Badge number 2", "Badge number 1"]
    assert re.findall(r"Badge number \d", earlier) == ["Badge number 0"]
    assert "Mark all read" in html
    assert bell(client.get("/notifications").get_data(as_text=True)) == "2"  # the list marked nothing


@pytest.mark.usefixtures("cached")
def test_a_members_kept_thread_page_still_marks_new_notifications_read(client, auth, make_user, make_question,
                                                                       make_answer) -> None:
    reader = make_user("cached_reader")
    q = make_question(author=reader, title="Hub blinks orange after the update")
    url = f"/questions/{q.id}/hub-blinks-orange-after-the-update"
    client.get(url)
    assert client.get(url).headers["X-Cache"] == "HIT"  # anonymous
    auth.login("cached_reader")
    states = [client.get(url).headers.get("X-Cache") for _ in range(3)]
    assert states[-1] == "HIT"  # the member's own copy (forum/pagecache: private_hit)
    make_answer(q, body="Hold the reset button for ten seconds.")  # the asker is notified
    assert len(unread_urls(reader)) == 1
    page = client.get(url)
    # A new notification for the member changes their page (the bell): rendered, and read on it.
    assert page.headers.get("X-Cache") == "MISS" and "Hold the reset button" in page.get_data(as_text=True)
    assert unread_urls(reader) == []
    assert bell(client.get("/notifications").get_data(as_text=True)) is None


def test_target_of_reads_the_page_from_a_notification_url() -> None:
    assert notifications.target_of("/questions/12/hub-blinks#answer-3") == "question:12"
    assert notifications.target_of("/questions/12") == "question:12"
    assert notifications.target_of("/cases/3") == "case:3"
    assert notifications.target_of("/articles/4") == "article:4"
    assert notifications.target_of("/questions/12x") is None
    assert notifications.target_of("/badges/teacher") is None
