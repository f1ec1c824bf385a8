"""Issue 13 item 4 through the pages: the "Solved privately" banner, the confirm step before
resolving over the customer's unanswered reply, and the customer's reply that reopens a case
(or, after CASE_REOPEN_DAYS, the closed reply box pointing to a new question)."""
from __future__ import annotations

import html as htmllib
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Answer, Question, SupportCase
from forum.models.base import utcnow
from forum.services import cases

PENDING = "Firmware 4.2 and the scenes are gone too <3"
SUMMARY = "The storm damaged the power adapter; we sent a replacement and the hub is fine."


@pytest.fixture
def world(make_user, make_question):
    asker = make_user("rp_asker")
    agent = make_user("rp_agent", role="agent")
    q = make_question(author=asker, title="My hub shows a red light after the storm", tags="hub")
    case = cases.open_case(agent, q)
    cases.add_message(agent, case, "Which firmware?")
    cases.add_message(asker, case, PENDING)
    db.session.commit()
    return {"q": q.id, "case": case.id}


def _case(world) -> SupportCase:
    db.session.expire_all()
    case = db.session.get(SupportCase, world["case"])
    assert case is not None
    return case


def test_resolving_over_a_pending_reply_asks_to_confirm(auth, world) -> None:
    auth.login("rp_agent")
    page = auth.client.get(f"/cases/{world['case']}").get_data(as_text=True)
    assert "has no answer yet" in page  # told before submitting
    r = auth.post(f"/cases/{world['case']}/resolve", {"summary": SUMMARY})
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "rp_asker wrote after the support team" in page
    assert htmllib.escape(PENDING, quote=False) in page  # the reply itself, shown for confirmation
    assert 'name="confirm" value="1"' in page and "Resolve anyway" in page
    assert htmllib.escape(SUMMARY, quote=False) in page  # the summary stays in the form
    assert not _case(world).is_resolved and db.session.scalars(select(Answer)).all() == []
    r = auth.post(f"/cases/{world['case']}/resolve", {"summary": SUMMARY, "confirm": "1"})
    assert r.status_code == 302
    assert _case(world).is_resolved


def test_the_public_banner_reads_as_finished(client, auth, world) -> None:
    auth.login("rp_agent")
    assert auth.post(f"/cases/{world['case']}/resolve", {"summary": SUMMARY, "confirm": "1"}).status_code == 302
    auth.logout()
    case = _case(world)
    page = client.get(f"/questions/{world['q']}", follow_redirects=True).get_data(as_text=True)
    date = f"{case.resolved_at.day} {case.resolved_at.strftime('%b %Y')}"  # "6 Dec 2026"
    assert (f'<a href="#answer-{case.resolution_answer_id}"><strong>Solved privately by rp_agent on {date}</strong></a>'
            in page)
    assert "helping privately" not in page and "status:" not in page
    assert "Accepted by staff" in page
    # The resolution is the first answer on the page.
    answers = page[page.index('id="answers-heading"'):]
    assert answers.index('id="answer-') == answers.index(f'id="answer-{case.resolution_answer_id}"')
    q = db.session.get(Question, world["q"])
    assert q.is_solved
    assert "Solved" in client.get("/questions?tab=solved").get_data(as_text=True)


def test_the_customer_reopens_by_replying(client, auth, world) -> None:
    auth.login("rp_agent")
    auth.post(f"/cases/{world['case']}/resolve", {"summary": SUMMARY, "confirm": "1"})
    auth.logout()
    auth.login("rp_asker")
    page = auth.client.get(f"/cases/{world['case']}").get_data(as_text=True)
    assert "Reply to reopen this case" in page and "Send and reopen" in page
    r = auth.post(f"/cases/{world['case']}/messages", {"body": "It went red again tonight."})
    assert r.status_code == 302
    case = _case(world)
    assert case.status == "open"
    page = auth.client.get(f"/cases/{world['case']}").get_data(as_text=True)
    assert "reopened the case" in page and "Reply privately" in page
    auth.logout()
    page = client.get(f"/questions/{world['q']}", follow_redirects=True).get_data(as_text=True)
    assert "Our support team is helping privately again" in page


def test_after_the_window_the_reply_box_points_to_a_new_question(auth, world, app) -> None:
    auth.login("rp_agent")
    auth.post(f"/cases/{world['case']}/resolve", {"summary": SUMMARY, "confirm": "1"})
    auth.logout()
    case = _case(world)
    case.resolved_at = utcnow() - timedelta(days=app.config["CASE_REOPEN_DAYS"] + 1)
    db.session.commit()
    auth.login("rp_asker")
    page = auth.client.get(f"/cases/{world['case']}").get_data(as_text=True)
    assert "This case is closed" in page and 'href="/questions/ask"' in page and "Ask a new question" in page
    assert "Send and reopen" not in page
    r = auth.post(f"/cases/{world['case']}/messages", {"body": "Still red, please help."})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "Ask a new question" in page and "Still red, please help." in page
    assert _case(world).is_resolved
