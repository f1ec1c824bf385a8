"""The composer's "Insert link" picker and @username suggestions, in a real browser.

An agent answers a customer by finding an earlier thread through search, inserting its link
with the keyboard, mentioning the customer through the suggestions, and sees the linked
thread as a card under the answer once it is posted.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.e2e.helpers import PASSWORD, unique_username
from tests.support import IN_CI

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the conftest's browser fixture explains; CI must have Playwright
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from tests.e2e.test_browser_flows import log_in


@pytest.fixture
def make_account(live) -> Callable[[str, str], str]:
    from forum.extensions import db
    from forum.models.user import Role
    from forum.services import accounts

    def make(prefix: str, role: str) -> str:
        username = unique_username(prefix)
        with live.app.app_context():
            try:
                accounts.register(accounts.Registration(username, f"{username}@example.com", PASSWORD),
                                  role=Role(role), allow_reserved=True)
                db.session.commit()
            finally:
                db.session.remove()
        return username

    return make


def test_agent_inserts_a_link_and_a_mention_from_the_composer(page: Page, seed_question, make_account) -> None:
    customer = make_account("carla", "member")
    earlier = seed_question("Lumen hub drops offline after every router reboot",
                            "Each time the router restarts the hub stays offline until I unplug it.")
    target_id = int(re.match(r"/questions/(\d+)", earlier).group(1))  # type: ignore[union-attr]
    thread = seed_question("Hub offline since this morning, orange light",
                           "Since this morning my hub shows an orange light and the app says offline.")
    agent = make_account("agent", "agent")
    log_in(page, agent)
    page.goto(thread)

    editor = page.locator("#body")
    editor.fill("This is a known issue, see ")
    page.get_by_role("button", name="Insert link").click()
    search = page.get_by_role("combobox", name=re.compile("Find a question or article"))
    expect(search).to_be_focused()
    search.type("router reboot offline")
    option = page.get_by_role("option", name=re.compile("Lumen hub drops offline after every router reboot"))
    expect(option).to_have_attribute("aria-selected", "true")
    search.press("Enter")
    expect(editor).to_be_focused()
    expect(editor).to_have_value(f"This is a known issue, see [Lumen hub drops offline after every router reboot]"
                                 f"(/questions/{target_id})")

    editor.press("End")
    editor.type(f" Does that match, @{customer[:4]}")
    suggestion = page.get_by_role("option", name=re.compile(f"@{customer}"))
    expect(suggestion).to_be_visible()
    editor.press("Enter")
    expect(editor).to_have_value(re.compile(rf"Does that match, @{customer} $"))

    page.get_by_role("button", name="Post your answer").click()
    card = page.locator(".post-answer .link-card")
    expect(card).to_contain_text("Lumen hub drops offline after every router reboot")
    expect(page.locator(".post-answer .post-body a.mention")).to_have_text(f"@{customer}")
    card.get_by_role("link").click()
    expect(page.locator("#linked-from-heading")).to_be_visible()
    expect(page.locator(".backlinks")).to_contain_text("Hub offline since this morning, orange light")
