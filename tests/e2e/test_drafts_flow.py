"""Drafts in the browser: typed text survives a reload, a lost sign-in or connection, and a 429;
posting discards it (static/js/drafts.js, docs/drafts.md)."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import PASSWORD, unique_username
from tests.e2e.test_browser_flows import register

BODY = "The hub blinks orange every night at 2am.\n\nIt started after the **firmware update**."


def status(page: Page) -> Any:
    return page.locator("form[data-draft='ask'] [data-draft-status]")


def local_drafts(page: Page) -> list[str]:
    return page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('forum.draft.'))")


def no_local_drafts(page: Page) -> None:
    """Wait until the browser holds no draft copy (the server has the text)."""
    page.wait_for_function("() => !Object.keys(localStorage).some(k => k.startsWith('forum.draft.'))")


def type_question(page: Page, title: str, body: str = BODY, tags: str = "setup") -> None:
    page.get_by_label("Title").fill(title)
    page.get_by_label("Details").fill(body)
    page.get_by_label("Tags").fill(tags)


def test_a_members_question_survives_a_reload_and_is_gone_once_posted(page: Page) -> None:
    register(page, "drafter")
    page.goto("/questions/ask")
    title = f"Hub blinks orange every night ({unique_username('d')})"
    type_question(page, title)
    expect(status(page)).to_have_text("Draft saved")  # ~1.5 s after the last keystroke
    no_local_drafts(page)  # the server has it: no copy left in the browser

    page.reload()
    expect(page.get_by_label("Title")).to_have_value(title)
    expect(page.get_by_label("Details")).to_have_value(BODY)
    expect(page.get_by_label("Tags")).to_have_value("setup")
    expect(status(page)).to_contain_text("Your draft from")
    expect(page.get_by_role("button", name="Discard draft")).to_be_visible()

    page.get_by_role("button", name="Post your question").click()
    expect(page).to_have_url(re.compile(r"/questions/\d+/[\w-]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)

    page.goto("/questions/ask")
    expect(page.get_by_label("Title")).to_have_value("")
    expect(page.get_by_label("Details")).to_have_value("")
    expect(page.get_by_role("button", name="Discard draft")).to_be_hidden()
    assert local_drafts(page) == []


def test_discard_draft_empties_the_composer(page: Page) -> None:
    register(page, "discarder")
    page.goto("/questions/ask")
    type_question(page, "A question I will throw away")
    expect(status(page)).to_have_text("Draft saved")
    page.get_by_role("button", name="Discard draft").click()
    expect(status(page)).to_have_text("Draft discarded")
    expect(page.get_by_label("Title")).to_have_value("")
    page.reload()
    expect(page.get_by_label("Details")).to_have_value("")


def test_signed_out_while_typing_the_text_stays_in_the_browser(page: Page) -> None:
    """The visitor is anonymous by the time they type (signed out elsewhere, session gone): the
    server refuses the draft, the browser keeps it, and it is back after the reload and sign-in."""
    username = register(page, "anon")
    page.goto("/questions/ask")
    page.context.clear_cookies()  # the session ends: from now on the visitor is anonymous
    title = "Typed after the session ended"
    type_question(page, title)
    expect(status(page)).to_contain_text("kept in this browser")
    assert len(local_drafts(page)) == 1

    page.reload()  # the ask page needs a member: the sign-in page, then back
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/questions/ask$"))
    expect(page.get_by_label("Title")).to_have_value(title)
    expect(page.get_by_label("Details")).to_have_value(BODY)
    # Signed in again, the restored text goes to the server and the browser copy is dropped.
    expect(status(page)).to_have_text("Draft saved")
    no_local_drafts(page)


def test_a_lost_connection_keeps_the_text_until_it_is_back(page: Page) -> None:
    register(page, "offline")
    page.goto("/questions/ask")
    page.context.set_offline(True)
    type_question(page, "Typed while the connection was down")
    expect(status(page)).to_contain_text("kept in this browser")
    page.context.set_offline(False)
    page.reload()  # the save sent on leaving, or the browser copy on arriving, gets it to the server
    expect(page.get_by_label("Title")).to_have_value("Typed while the connection was down")
    no_local_drafts(page)
    page.reload()
    expect(page.get_by_label("Title")).to_have_value("Typed while the connection was down")
    expect(status(page)).to_contain_text("Your draft from")


def test_posting_too_fast_keeps_the_text(page: Page, live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    register(page, "toofast")
    monkeypatch.setitem(live.app.config, "POST_RATE_LIMITS_ENABLED", True)
    monkeypatch.setitem(live.app.config, "POST_RATE_NEW_MEMBER_QUESTIONS", 1)
    page.goto("/questions/ask")
    type_question(page, f"The first question goes in ({unique_username('q')})")
    page.get_by_role("button", name="Post your question").click()
    expect(page).to_have_url(re.compile(r"/questions/\d+/[\w-]+$"))

    page.goto("/questions/ask")
    second = "The second question is one too many"
    type_question(page, second, body="Both chimes ring, one second apart.")
    response: dict[str, int] = {}
    page.on("response", lambda r: response.setdefault("status", r.status) if r.request.method == "POST"
            and r.url.endswith("/questions/ask") else None)
    page.get_by_role("button", name="Post your question").click()
    expect(page.locator(".form-errors")).to_contain_text("You're posting too fast")
    assert response.get("status") == 429
    expect(page.get_by_label("Title")).to_have_value(second)
    expect(page.get_by_label("Details")).to_have_value("Both chimes ring, one second apart.")

    page.goto("/questions/ask")  # later, or after closing the tab: still there
    expect(page.get_by_label("Title")).to_have_value(second)
    expect(page.get_by_label("Details")).to_have_value("Both chimes ring, one second apart.")


def test_answer_draft_survives_a_reload(page: Page, seed_question: Callable[..., str]) -> None:
    path = seed_question("Doorbell chime plays twice for one press", "Both chimes ring, one second apart.")
    register(page, "answerer")
    page.goto(path)
    box = page.locator(".your-answer").get_by_label("Answer", exact=True)
    box.fill("Unpair the second chime in the app, then pair it again.")
    expect(page.locator(".your-answer [data-draft-status]")).to_have_text("Draft saved")
    page.reload()
    expect(box).to_have_value("Unpair the second chime in the app, then pair it again.")


def test_screenshots_of_the_draft_bar(new_page: Callable[..., Page], artifacts_dir: Path) -> None:
    for width in (360, 1440):
        page = new_page(width=width, height=900)
        register(page, f"shot{width}")
        page.goto("/questions/ask")
        type_question(page, "A question with a saved draft")
        expect(status(page)).to_have_text("Draft saved")
        page.screenshot(path=str(artifacts_dir / f"drafts-ask-{width}.png"), full_page=True)
