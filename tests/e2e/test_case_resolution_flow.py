"""Issue 13 item 4 in a real browser: a customer's question taken private, the customer's reply
that the agent must confirm over before resolving, the public thread that reads "Solved privately
by …" with the resolution accepted and first, one notification for the customer, and the
customer's reply that reopens the case and tells the agent.

Screenshots (test-artifacts/e2e/): case-resolution-banner-{360,1440}.png,
case-resolution-confirm-1440.png, case-resolution-case-{360,1440}.png.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.helpers import PASSWORD, unique_username
from tests.support import IN_CI

try:
    from playwright.sync_api import Page, expect
except ImportError:
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from tests.e2e.test_browser_flows import horizontal_overflow, log_in

TITLE = "Thermostat schedule resets every night"
REPLY = "It is the living-room unit, serial TS-7781. It reset again at 3am."
SUMMARY = "A time-zone bug in firmware 3.1 cleared schedules at midnight UTC; 3.1.2 fixes it, update from the app."


@pytest.fixture
def people(live, seed_question) -> dict[str, str]:
    from forum.extensions import db
    from forum.models.user import Role
    from forum.services import accounts

    asker = unique_username("rosa")
    path = seed_question(TITLE, "Every morning my heating schedule is gone and the thermostat is back to 20 degrees.",
                         tags="thermostat", username=asker)
    agent = unique_username("agent")
    with live.app.app_context():
        try:
            accounts.register(accounts.Registration(agent, f"{agent}@example.com", PASSWORD), role=Role.AGENT,
                              allow_reserved=True)
            db.session.commit()
        finally:
            db.session.remove()
    return {"asker": asker, "agent": agent, "path": path}


def _shot(page: Page, path: Path, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    if width <= 360:
        got, culprits = horizontal_overflow(page)
        assert got <= width, culprits
    page.screenshot(path=str(path), full_page=True)


def test_customer_agent_resolution_then_the_customer_reopens(new_page: Callable[..., Page], people: dict[str, str],
                                                             artifacts_dir: Path) -> None:
    # The agent takes the question private and asks for details.
    agent = new_page(width=1440)
    agent.on("dialog", lambda d: d.accept())
    log_in(agent, people["agent"])
    agent.goto(people["path"])
    agent.get_by_role("button", name="Continue privately").click()
    expect(agent).to_have_url(re.compile(r"/cases/\d+$"))
    case_url = agent.url
    agent.get_by_label("Message").fill("Which unit is it, and when did it last reset?")
    agent.get_by_role("button", name="Send").click()

    # The customer answers privately.
    customer = new_page(width=1440)
    log_in(customer, people["asker"])
    customer.goto(case_url)
    customer.get_by_label("Message").fill(REPLY)
    customer.get_by_role("button", name="Send").click()
    expect(customer.locator(".case-timeline")).to_contain_text(REPLY)

    # The agent resolves; the customer's reply is unanswered, so the form asks to confirm first.
    agent.reload()
    expect(agent.locator("#resolve")).to_contain_text("has no answer yet")
    agent.get_by_label("Public resolution summary").fill(SUMMARY)
    agent.get_by_role("button", name="Resolve and post publicly").click()
    confirm = agent.locator("#resolve .case-confirm")
    expect(confirm).to_contain_text(REPLY)
    expect(agent.get_by_label("Public resolution summary")).to_have_value(SUMMARY)
    agent.screenshot(path=str(artifacts_dir / "case-resolution-confirm-1440.png"), full_page=True)
    agent.get_by_role("button", name="Resolve anyway").click()
    expect(agent.locator(".flash")).to_contain_text("Case resolved")

    # Anyone: the thread reads as finished, the resolution is accepted and first; nothing private.
    visitor = new_page(width=1440)
    visitor.goto(people["path"])
    banner = visitor.locator(".notice-case")
    expect(banner).to_contain_text(re.compile(rf"Solved privately by {people['agent']} on \d{{1,2}} \w{{3}} \d{{4}}"))
    expect(banner).not_to_contain_text("helping privately")
    expect(visitor.locator(".solved-badge").first).to_be_visible()
    first_answer = visitor.locator(".post-answer").first
    expect(first_answer).to_contain_text(SUMMARY)
    expect(first_answer).to_contain_text("Accepted by staff")
    assert "TS-7781" not in visitor.content()
    for width in (1440, 360):
        _shot(visitor, artifacts_dir / f"case-resolution-banner-{width}.png", width)
    banner.get_by_role("link", name=re.compile("Solved privately")).click()
    expect(visitor).to_have_url(re.compile(r"#answer-\d+$"))

    # The customer heard of the resolution once.
    customer.goto("/notifications")
    expect(customer.locator(".notification", has_text="resolved")).to_have_count(1)
    expect(customer.locator(".notification", has_text="answered your question")).to_have_count(0)

    # The customer replies on the resolved case: it reopens, and the agent hears of it.
    customer.goto(case_url)
    expect(customer.locator("#reply-heading")).to_have_text("Reply to reopen this case")
    for width in (1440, 360):
        _shot(customer, artifacts_dir / f"case-resolution-case-{width}.png", width)
    customer.set_viewport_size({"width": 1440, "height": 900})
    customer.get_by_label("Message").fill("Updated to 3.1.2 but it reset again last night.")
    customer.get_by_role("button", name="Send and reopen").click()
    expect(customer.locator(".case-timeline")).to_contain_text("reopened the case")
    expect(customer.locator(".case-status")).to_have_text("Open")

    agent.goto("/notifications")
    expect(agent.locator(".notification", has_text="reopened")).to_have_count(1)
    expect(agent.locator(".notification", has_text="New message")).to_have_count(1)  # the earlier reply only

    visitor.reload()
    expect(visitor.locator(".notice-case")).to_contain_text("helping privately again")


def test_after_the_reopen_window_the_customer_is_pointed_to_a_new_question(
        live, new_page: Callable[..., Page], people: dict[str, str], artifacts_dir: Path) -> None:
    from datetime import timedelta

    from forum.extensions import db
    from forum.models import Question, User
    from forum.models.base import utcnow
    from forum.services import cases

    with live.app.test_request_context():
        try:
            agent = db.session.scalars(db.select(User).where(User.username == people["agent"])).one()
            question = db.session.scalars(db.select(Question).where(Question.title == TITLE)
                                          .order_by(Question.id.desc())).first()
            case = cases.open_case(agent, question)
            cases.resolve_case(agent, case, SUMMARY)
            case.resolved_at = utcnow() - timedelta(days=live.app.config["CASE_REOPEN_DAYS"] + 1)
            db.session.commit()
            case_url = f"/cases/{case.id}"
        finally:
            db.session.remove()

    customer = new_page(width=360)
    log_in(customer, people["asker"])
    customer.goto(case_url)
    closed = customer.locator(".case-closed")
    expect(closed).to_contain_text("This case is closed")
    expect(customer.get_by_label("Message")).to_have_count(0)
    closed.get_by_role("link", name="Ask a new question").click()
    expect(customer).to_have_url(re.compile(r"/questions/ask$"))
    customer.goto(case_url)
    _shot(customer, artifacts_dir / "case-resolution-closed-360.png", 360)
