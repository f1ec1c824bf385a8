"""End-to-end: members who had the same problem say "This solved my problem too"; the count
goes up in place (no page load), the button says it is pressed, and the accepted answer's
author sees how many people their answers helped."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.helpers import PASSWORD, unique_username
from tests.support import IN_CI

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the conftest's browser fixture explains; CI must have Playwright
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from tests.e2e.test_browser_flows import log_in, register


@pytest.fixture
def solved_thread(live) -> tuple[str, str]:
    """A question with an accepted answer, made through the services; (question path, helper's username)."""
    from forum.extensions import db
    from forum.services import accounts, answers, curation
    from forum.services import questions as qsvc
    from forum.views.questions import question_url

    asker_name, helper_name = unique_username("asker"), unique_username("helper")
    with live.app.test_request_context():
        try:
            asker, helper = (accounts.register(accounts.Registration(n, f"{n}@example.com", PASSWORD))
                             for n in (asker_name, helper_name))
            question = qsvc.ask_question(asker, qsvc.QuestionInput(
                "Smart plug turns itself off every evening",
                "My smart plug switches off at 7 pm every day although I set no schedule.", "setup"))
            answer = answers.post_answer(helper, question, "An old away-mode routine is still on: delete it in the app.")
            curation.accept_answer(asker, answer)
            db.session.commit()
            return question_url(question), helper_name
        finally:
            db.session.remove()


def _mark(page: Page) -> None:
    page.locator("#solved-too").get_by_role("button", name="This solved my problem too").click()


def test_a_second_member_says_it_solved_their_problem_too_and_sees_the_count_go_up(
        new_page, solved_thread: tuple[str, str], artifacts_dir: Path) -> None:
    path, helper_name = solved_thread
    first = new_page()
    register(first, "first")
    first.goto(path)
    _mark(first)
    expect(first.locator("[data-solved-too-count]")).to_have_text("1 person said this solved their problem too")

    second = new_page()
    register(second, "second")
    second.goto(path)
    box = second.locator("#solved-too")
    button = box.get_by_role("button", name="This solved my problem too")
    expect(box.locator("[data-solved-too-count]")).to_have_text("1 person said this solved their problem too")
    expect(button).to_have_attribute("aria-pressed", "false")
    url_before = second.url
    _mark(second)
    expect(box.locator("[data-solved-too-count]")).to_have_text("2 people said this solved their problem too")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(box.locator("[data-solved-too-note]")).to_contain_text("Click again to take it back")
    assert second.url == url_before  # in place: no page load
    for width in (1440, 360):
        second.set_viewport_size({"width": width, "height": 900})
        box.screenshot(path=str(artifacts_dir / f"solved-too-box-{width}.png"))
        second.screenshot(path=str(artifacts_dir / f"solved-too-thread-{width}.png"), full_page=True)
    second.set_viewport_size({"width": 1280, "height": 900})

    second.reload()  # it was stored: the reloaded page says the same
    expect(box.locator("[data-solved-too-count]")).to_have_text("2 people said this solved their problem too")
    expect(button).to_have_attribute("aria-pressed", "true")
    _mark(second)  # taken back
    expect(box.locator("[data-solved-too-count]")).to_have_text("1 person said this solved their problem too")
    expect(button).to_have_attribute("aria-pressed", "false")

    helper = new_page()
    log_in(helper, helper_name)
    helper.goto("/")
    helper.locator("details.account-menu > summary").click()
    helper.locator("details.account-menu").get_by_role("link", name=re.compile("profile", re.I)).first.click()
    expect(helper.locator("#helped")).to_contain_text("Your answers helped 1 person")
    helper.screenshot(path=str(artifacts_dir / "solved-too-profile-1440.png"))
