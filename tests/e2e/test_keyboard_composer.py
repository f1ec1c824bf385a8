"""Every composer action from the keyboard alone: Tab and Shift+Tab to move, Enter and Space to
act, the arrow keys in pickers. No mouse, no ``fill`` and no ``click``: text is typed into the
focused element. Every element that takes focus on the way must show it (an outline or a
shadow), and the order must follow the form: field, its composer tools, the next field, submit.

Covered: the ask form (title, details with the live preview, an @mention picked from the
suggestions, "Insert link" picker, tags, submit), an answer, a comment (the "Add a comment"
disclosure), editing an answer, the agent's canned-reply picker, and a message in a private case.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.helpers import PASSWORD, unique_username
from tests.support import IN_CI

try:
    from playwright.sync_api import Page, expect
except ImportError:
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

TAB_LIMIT = 250

# What the focused element is, and whether its focus can be seen.
_FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
    const shadow = s.boxShadow && s.boxShadow !== 'none';
    const label = (el.labels && el.labels[0] ? el.labels[0].innerText
                   : el.getAttribute('aria-label') || el.innerText || el.value || '').trim().slice(0, 60);
    return {tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '', label: label,
            visible: (outline || shadow) && r.width > 0 && r.height > 0};
}"""


def describe(info: dict[str, Any]) -> str:
    return f"{info['tag']}#{info['id']}" if info["id"] else f"{info['tag']} '{info['label']}'"


def tab_to(page: Page, selector: str, text: str = "", *, back: bool = False) -> list[str]:
    """Press Tab (Shift+Tab with ``back``) until the focused element matches the CSS
    ``selector`` (and its label or text holds ``text``); every element passed on the way must
    show its focus. Returns the stops, described."""
    stops: list[str] = []
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        info = page.evaluate(_FOCUSED)
        assert info is not None, f"focus was lost (nothing is focused) after {stops[-6:]}"
        stops.append(describe(info))
        assert info["visible"], f"focus is not visible on {describe(info)} (after {stops[-6:-1]})"
        if page.evaluate("s => document.activeElement.matches(s)", selector) and text in info["label"]:
            return stops
    raise AssertionError(f"{selector} not reached in {TAB_LIMIT} presses of Tab: {stops[-12:]}")


def start(page: Page, path: str) -> None:
    """Open ``path`` and enter the page by its skip link, as a keyboard user does."""
    page.goto(path)
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")


def in_order(stops: list[str], expected: list[str]) -> bool:
    """``expected`` appears in ``stops`` in this order (other stops may come between)."""
    it = iter(stops)
    return all(any(want in stop for stop in it) for want in expected)


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    expect(page.locator(":focus")).to_have_id("login")  # autofocus
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("details.account-menu > summary")).to_be_visible()


@pytest.fixture
def people(live: Any, seed_question: Callable[..., str]) -> dict[str, Any]:
    """An asker with a question, a second member, an agent with a canned reply, and a case."""
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import Question
    from forum.models.user import Role
    from forum.services import accounts, canned, cases

    asker = unique_username("kbasker")
    path = seed_question("Night light schedule ignores the sunset offset",
                         "The schedule fires at 18:00 whatever offset I set in the app.", tags="schedules",
                         username=asker)
    member, agent = unique_username("kbmember"), unique_username("kbagent")
    with live.app.app_context():
        try:
            accounts.register(accounts.Registration(member, f"{member}@example.com", PASSWORD))
            staff = accounts.register(accounts.Registration(agent, f"{agent}@example.com", PASSWORD),
                                      role=Role.AGENT, allow_reserved=True)
            canned.create_reply(staff, canned.ReplyInput(f"Offsets {agent}", "Hi {asker}, offsets apply after a restart."))
            question_id = int(path.split("/")[2])
            question = db.session.scalars(select(Question).where(Question.id == question_id)).one()
            case = cases.open_case(staff, question)
            db.session.commit()
            case_id = case.id
        finally:
            db.session.remove()
    return {"asker": asker, "member": member, "agent": agent, "path": path, "case": f"/cases/{case_id}",
            "question_id": question_id}


def test_ask_a_question_from_the_keyboard(new_page: Callable[..., Page], people: dict[str, Any]) -> None:
    page = new_page()
    log_in(page, people["member"])
    start(page, "/questions/ask")
    tab_to(page, "#title")
    page.keyboard.type("Keyboard only: scene buttons do nothing after the update")
    stops = tab_to(page, "#body")
    # The composer: the live preview renders what is typed.
    page.keyboard.type("Since the update my **scene** buttons do nothing. Asked by ")
    expect(page.locator(".preview-body strong")).to_have_text("scene")
    # An @mention picked from the suggestions with the arrow keys and Enter.
    page.keyboard.type(f"@{people['asker'][:6]}")
    option = page.locator(".mention-list [role=option]", has_text=people["asker"])
    expect(option).to_be_visible()
    while option.get_attribute("aria-selected") != "true":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#body")).to_have_value(re.compile(rf"Asked by @{people['asker']} $"))
    expect(page.locator(":focus")).to_have_id("body")
    # "Insert link": Tab to it, open with Enter, search, pick with the arrows, Enter inserts at the caret.
    page.keyboard.type("Same as ")
    stops += tab_to(page, ".link-picker-toggle")
    toggle = page.locator(".link-picker-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator(":focus")).to_have_class(re.compile("link-picker-input"))
    page.keyboard.type("sunset offset")
    link = page.locator(".link-list [role=option]", has_text="Night light schedule ignores the sunset offset")
    expect(link).to_be_visible()
    while link.get_attribute("aria-selected") != "true":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator(":focus")).to_have_id("body")
    expect(page.locator("#body")).to_have_value(re.compile(
        r"Same as \[Night light schedule ignores the sunset offset\]\(/questions/\d+\)$"))
    # Escape closes the picker and gives focus back to its button.
    tab_to(page, ".link-picker-toggle")
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    # The picker opens on its last search, and looks it up again: with the list shown, the
    # first Escape closes the list (as in any combobox), the next one the picker.
    expect(page.locator(".link-list [role=option]").first).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".link-list [role=option]").first).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator(":focus")).to_have_class(re.compile("link-picker-toggle"))
    stops += tab_to(page, "#tags")
    page.keyboard.type("scenes")
    stops += tab_to(page, "main button[type=submit]")
    assert in_order(stops, ["textarea#body", "Insert link", "input#tags", "Post your question"]), stops
    # Shift+Tab walks back the same way.
    back = tab_to(page, "#body", back=True)
    assert in_order(back, ["input#tags", "Insert link", "textarea#body"]), back
    tab_to(page, "main button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/questions/\d+/keyboard-only"))
    expect(page.locator("h1")).to_contain_text("Keyboard only: scene buttons do nothing")
    expect(page.locator(".post-body a.mention").first).to_have_text(f"@{people['asker']}")


def test_answer_comment_and_edit_from_the_keyboard(new_page: Callable[..., Page], people: dict[str, Any]) -> None:
    page = new_page()
    log_in(page, people["member"])
    start(page, people["path"])
    stops = tab_to(page, "#body")
    page.keyboard.type("Restart the hub after changing the offset; it only reads it at boot.")
    stops += tab_to(page, "main button[type=submit]", "Post your answer")
    assert in_order(stops, ["textarea#body", "Insert link", "Post your answer"]), stops
    page.keyboard.press("Space")
    answer = page.locator(".post-answer", has_text="it only reads it at boot")
    expect(answer).to_be_visible()
    answer_id = answer.get_attribute("id")
    assert answer_id

    # A comment on the answer: open "Add a comment" with Enter, type, send with Enter.
    start(page, page.url.split("#")[0])
    summary = f"#{answer_id} details.comment-form-wrap > summary"
    tab_to(page, summary)
    page.keyboard.press("Enter")
    expect(page.locator(f"#{answer_id} details.comment-form-wrap")).to_have_attribute("open", "")
    stops = tab_to(page, f"#{answer_id} .comment-form textarea")
    page.keyboard.type("Works here too after a restart.")
    stops += tab_to(page, f"#{answer_id} .comment-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator(f"#{answer_id} .comments")).to_contain_text("Works here too after a restart.")

    # Edit the answer: the Edit link, then the composer, then Save.
    start(page, page.url.split("#")[0])
    tab_to(page, f"#{answer_id} a[href$='/edit']")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/answers/\d+/edit$"))
    start(page, page.url)
    tab_to(page, "#body")
    page.keyboard.press("Control+End")
    page.keyboard.type(" Then wait a minute.")
    stops = tab_to(page, "main button[type=submit]")
    assert in_order(stops, ["Insert link", "Save edit"]), stops
    page.keyboard.press("Enter")
    expect(page.locator(f"#{answer_id}")).to_contain_text("it only reads it at boot. Then wait a minute.")


def test_canned_reply_and_case_message_from_the_keyboard(new_page: Callable[..., Page],
                                                         people: dict[str, Any]) -> None:
    page = new_page()
    log_in(page, people["agent"])
    # The canned-reply picker above the answer composer: choose with the arrows, Insert with Enter.
    start(page, people["path"])
    stops = tab_to(page, "#canned-reply")
    option = f"Offsets {people['agent']}"
    for _ in range(20):
        if page.locator("#canned-reply").evaluate("s => s.options[s.selectedIndex].text") == option:
            break
        page.keyboard.press("ArrowDown")
    stops += tab_to(page, ".canned-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#body")).to_have_value(re.compile(rf"Hi {people['asker']}, offsets apply after a restart\."))
    expect(page.locator(":focus")).to_have_id("body")
    stops += tab_to(page, "main button[type=submit]", "Post your answer")
    assert in_order(stops, ["select#canned-reply", "input#canned-article", "button 'Insert'", "Insert link",
                            "Post your answer"]), stops

    # The private case: the same tools, then a message sent with Enter on "Send".
    start(page, people["case"])
    tab_to(page, "#body")
    page.keyboard.type("Could you send the hub's serial number? It is under the stand.")
    stops = tab_to(page, "main button[type=submit]", "Send")
    assert in_order(stops, ["Insert link", "Send"]), stops
    page.keyboard.press("Enter")
    expect(page.locator(".case-timeline")).to_contain_text("Could you send the hub's serial number?")


def test_a_wide_code_block_scrolls_from_the_keyboard(new_page: Callable[..., Page],
                                                     seed_question: Callable[..., str]) -> None:
    """On a phone a long log line overflows its code block: Tab reaches the block (it shows its
    focus) and the arrow keys scroll it. The live preview's code blocks join the same way."""
    path = seed_question("Pairing log shows handshake_timeout on every attempt",
                         "The log:\n\n```\n2024-05-01T03:12:44Z lumen-hub[812]: pairing failed: handshake_timeout "
                         "peer=BW-BRIDGE-00-1A-2B-3C-4D-5E retries=12 backoff=exponential last_error=0x1F\n```",
                         tags="pairing")
    page = new_page(width=360, height=800)
    start(page, path)
    tab_to(page, ".post-body pre")
    code = page.locator(".post-body pre").first
    # Chromium lets the keyboard into any scroller; other browsers need the tabindex (static/js/a11y.js).
    expect(code).to_have_attribute("tabindex", "0")
    assert code.evaluate("pre => pre.scrollLeft") == 0
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.activeElement.scrollLeft > 0")
