"""In a real browser: a new member suggests an edit to someone's question, a member with the
review privilege approves it from the queue, and the proposer sees the outcome."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.helpers import PASSWORD, unique_username
from tests.support import IN_CI

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest's browser fixture explains; CI must have Playwright
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from tests.e2e.test_browser_flows import account_menu, log_in, register


@pytest.fixture
def make_reviewer(live) -> Callable[[], str]:
    """A member with 2,000 reputation (one ledger row), made through the services."""
    from forum.extensions import db
    from forum.services import accounts, reputation

    def make() -> str:
        username = unique_username("veteran")
        with live.app.app_context():
            try:
                user = accounts.register(accounts.Registration(username, f"{username}@example.com", PASSWORD))
                db.session.flush()
                reputation.record_adjustment(user.id, 1999, "test_grant")
                db.session.commit()
            finally:
                db.session.remove()
        return username

    return make


def test_a_suggested_edit_is_approved_from_the_review_queue(new_page, seed_question, make_reviewer) -> None:
    path = seed_question("Scenes stop working after the 4.3 update",
                         "My evening scene no longer turns on the lamps since the update.")
    member = new_page()
    proposer = register(member, "helpful")
    member.goto(path)
    member.get_by_role("link", name="Suggest edit").click()
    expect(member.locator(".suggestion-notice")).to_contain_text("Your edit will be a suggestion")
    member.get_by_label("Details").fill("My evening scene no longer turns on the lamps since firmware 4.3.0.")
    member.get_by_label("Edit summary").fill("added the firmware version")
    member.get_by_role("button", name="Suggest edit").click()
    expect(member.locator(".flash-success")).to_contain_text("waiting for review")
    expect(member.locator(".post-question .post-body")).to_contain_text("since the update.")

    reviewer = new_page()
    log_in(reviewer, make_reviewer())
    account_menu(reviewer).get_by_role("link", name="Review").click()
    card = reviewer.locator(".suggestion").filter(has_text="Scenes stop working")
    expect(card.locator(".diff-add")).to_contain_text("firmware 4.3.0")
    card.get_by_role("button", name="Approve").click()
    expect(reviewer.locator(".flash-success")).to_contain_text(f"credited to {proposer}")

    member.goto(path)
    expect(member.locator(".post-question .post-body")).to_contain_text("since firmware 4.3.0.")
    member.goto("/review/edits/mine")
    expect(member.locator(".suggestion").first).to_contain_text("Approved")
    expect(member.locator(".suggestion").first).to_contain_text("+2 reputation")


def test_a_refused_downvote_is_explained_beside_the_post(live, new_page, seed_question) -> None:
    path = seed_question("Hub fan runs all night after update", "The fan on my hub is loud since yesterday evening.")
    before = live.app.config["PRIVILEGE_DOWNVOTE"]
    live.app.config["PRIVILEGE_DOWNVOTE"] = 125  # the production threshold, for this test only
    try:
        page = new_page()
        register(page, "newish")
        page.goto(path)
        page.locator(".post-question").get_by_role("button", name="Vote down").click()
        note = page.locator(".post-question .vote-note")
        expect(note).to_contain_text("Downvoting needs 125 reputation; you have 1.")
        expect(note.get_by_role("link", name="See privileges")).to_have_attribute("href", "/help/privileges")
        expect(page.locator(".post-question .score-value")).to_have_text("0")
    finally:
        live.app.config["PRIVILEGE_DOWNVOTE"] = before
