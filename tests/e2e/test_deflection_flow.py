"""End-to-end: a customer types a title on the ask page, sees a similar solved question, opens
it, and the browser's beacon reaches the server: a pending "suggestion" for that question waits
for its window (docs/insights.md, "Measuring deflection")."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from tests.e2e.helpers import PASSWORD, unique_username
from tests.support import IN_CI

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the conftest's browser fixture explains; CI must have Playwright
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from tests.e2e.test_browser_flows import register

TITLE = "Garage door opener beeps twice at midnight"


@pytest.fixture
def solved_question(live) -> int:
    from forum.extensions import db
    from forum.services import accounts, answers, curation
    from forum.services import questions as qsvc

    asker_name, helper_name = unique_username("asker"), unique_username("helper")
    with live.app.test_request_context():
        try:
            asker, helper = (accounts.register(accounts.Registration(n, f"{n}@example.com", PASSWORD))
                             for n in (asker_name, helper_name))
            question = qsvc.ask_question(asker, qsvc.QuestionInput(
                TITLE, "Every night at midnight the garage door opener beeps twice, then stops.", "setup"))
            curation.accept_answer(asker, answers.post_answer(
                helper, question, "That is the low-battery warning of the wall keypad: replace its coin cell."))
            db.session.commit()
            return int(question.id)
        finally:
            db.session.remove()


def _events(live, target_id: int) -> list[tuple[str, str]]:
    from forum.extensions import db
    from forum.models import DeflectionEvent

    with live.app.app_context():
        try:
            return [(e.kind, e.status) for e in db.session.scalars(
                select(DeflectionEvent).where(DeflectionEvent.target_id == target_id))]
        finally:
            db.session.remove()


def test_opening_a_suggestion_on_the_ask_page_reaches_the_server(live, new_page, solved_question: int) -> None:
    page: Page = new_page()
    register(page, "deflected")
    page.goto("/questions/ask")
    page.get_by_label("Title").fill("garage door opener beeps at night")
    suggestion = page.locator("section.similar ul.similar-list a", has_text=TITLE)
    expect(suggestion).to_be_visible()
    with page.context.expect_page() as opened:  # suggestions open in a new tab
        suggestion.click()
    opened.value.close()
    deadline = time.monotonic() + 10
    while _events(live, solved_question) != [("suggestion", "pending")] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _events(live, solved_question) == [("suggestion", "pending")]
