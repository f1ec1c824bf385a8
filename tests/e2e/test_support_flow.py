"""A question's trip through the support desk in a real browser: the queue and triage, a canned
reply inserted into the composer, "Continue privately", the private conversation between agent
and asker, and the public resolution that everyone else sees.
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

SECRET = "My account e-mail is kim.private@example.com"
SUMMARY = "The hub's Zigbee radio froze after the update; firmware 4.2.1 fixes it. Update from Settings > Hub."


@pytest.fixture
def desk(live, seed_question) -> dict[str, str]:
    """An asker with a question, an agent, and one canned reply."""
    from forum.extensions import db
    from forum.models.user import Role
    from forum.services import accounts, canned

    asker = unique_username("kim")
    path = seed_question("Zigbee bulbs stopped responding after the update",
                         "Since this morning none of my bulbs respond. The hub light is white.",
                         tags="zigbee", username=asker)
    agent = unique_username("agent")
    with live.app.app_context():
        try:
            staff = accounts.register(accounts.Registration(agent, f"{agent}@example.com", PASSWORD),
                                      role=Role.AGENT, allow_reserved=True)
            canned.create_reply(staff, canned.ReplyInput(f"Greeting {agent}", "Hi {asker}, thanks for the details."))
            db.session.commit()
        finally:
            db.session.remove()
    return {"asker": asker, "agent": agent, "path": path}


def test_triage_then_private_case_then_public_resolution(new_page: Callable[..., Page], desk: dict[str, str],
                                                         artifacts_dir: Path) -> None:
    agent = new_page()
    agent.on("dialog", lambda d: d.accept())  # "Continue privately" asks for confirmation
    log_in(agent, desk["agent"])

    # The queue lists the question; triage it from its row.
    agent.goto("/support/queue?tag=zigbee")
    row = agent.locator(".queue-row", has_text="Zigbee bulbs stopped responding")
    expect(row).to_contain_text("due in")
    row.get_by_label("Type").select_option("outage")
    row.get_by_label("Severity").select_option("critical")
    row.get_by_role("button", name="Triage").click()
    expect(agent.locator(".flash")).to_contain_text("Triaged as outage, critical severity")
    expect(agent.locator(".queue-row", has_text="Zigbee bulbs")).to_contain_text("Critical")
    agent.screenshot(path=str(artifacts_dir / "support-queue-1280.png"), full_page=True)

    # On the question: insert the canned reply into the composer (JS fills {asker}).
    agent.goto(desk["path"])
    expect(agent.locator(".support-panel")).to_contain_text("First response due in")
    agent.get_by_label("Insert reply").select_option(label=f"Greeting {desk['agent']}")
    agent.locator(".composer-tools").get_by_role("button", name="Insert", exact=True).click()
    expect(agent.locator("textarea#body")).to_have_value(re.compile(rf"Hi {desk['asker']}, thanks for the details\."))
    agent.locator("textarea#body").fill("")

    # Continue privately: the case opens.
    agent.get_by_role("button", name="Continue privately").click()
    expect(agent).to_have_url(re.compile(r"/cases/\d+$"))
    case_url = agent.url
    expect(agent.locator(".case-timeline")).to_contain_text("opened the case")
    agent.get_by_label("Message").fill("Could you tell me the e-mail on your account?")
    agent.get_by_role("button", name="Send").click()
    expect(agent.locator(".case-timeline")).to_contain_text("e-mail on your account")

    # The asker sees the placeholder on the question, follows it to the case and answers privately.
    asker = new_page()
    log_in(asker, desk["asker"])
    asker.goto(desk["path"])
    expect(asker.locator(".notice-case")).to_contain_text("Our support team is helping privately")
    asker.get_by_role("link", name="Open the private case").click()
    expect(asker).to_have_url(case_url)
    asker.get_by_label("Message").fill(SECRET)
    asker.get_by_role("button", name="Send").click()
    expect(asker.locator(".case-timeline")).to_contain_text(SECRET)

    # A resolution without a summary is refused; with one it becomes the official answer.
    agent.reload()
    expect(agent.locator(".case-timeline")).to_contain_text(SECRET)
    agent.get_by_role("button", name="Resolve and post publicly").click()
    expect(agent.locator("#resolve .field-error")).to_be_visible()
    agent.get_by_label("Public resolution summary").fill(SUMMARY)
    agent.get_by_role("button", name="Resolve and post publicly").click()
    # The asker's reply has no answer yet: the agent confirms over it.
    expect(agent.locator("#resolve .case-confirm")).to_contain_text(SECRET)
    agent.get_by_role("button", name="Resolve anyway").click()
    expect(agent.locator(".flash")).to_contain_text("Case resolved")
    expect(agent.locator(".case-timeline")).to_contain_text("resolved the case")
    agent.screenshot(path=str(artifacts_dir / "support-case-1280.png"), full_page=True)

    # Everyone else: the placeholder says resolved and points at the official answer; nothing private.
    visitor = new_page()
    visitor.goto(desk["path"])
    notice = visitor.locator(".notice-case")
    expect(notice).to_contain_text(f"Solved privately by {desk['agent']} on")
    notice.get_by_role("link", name=re.compile("Solved privately")).click()
    official = visitor.locator(".post-answer", has_text=SUMMARY)
    expect(official).to_contain_text("Official answer")
    assert SECRET not in visitor.content()
    assert visitor.request.get(case_url, max_redirects=0).status == 302  # anonymous: to the login page

    phone = new_page(width=360, height=780)
    log_in(phone, desk["agent"])
    for name, url in (("case", case_url), ("queue", "/support/queue")):
        phone.goto(url)
        width, culprits = horizontal_overflow(phone)
        assert width <= 360, culprits
        phone.screenshot(path=str(artifacts_dir / f"support-{name}-360.png"), full_page=True)
