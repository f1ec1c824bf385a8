"""End-to-end flows in a real browser (headless Chromium via Playwright) against a live server.

Each test uses fresh browser contexts, so each "customer" has their own cookies. Users are
made through the real /register form unless the test is about something else, in which case
content is seeded through the services (``seed_question``) to keep the module fast.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.helpers import PASSWORD, unique_username
from tests.support import IN_CI

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the conftest's browser fixture explains; CI must have Playwright
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

QUESTION_BODY = """My **bold** claim: the hub drops off Wi-Fi every night.

What I tried:

- restarting the router
- moving the hub closer

```
$ lumen-cli status
wifi: disconnected (code 7)
```

I followed [the setup guide](https://example.com/guide) exactly."""

ANSWER_BODY = """Turn off *band steering* on the router, then:

1. Unplug the hub
2. Hold `reset` for ten seconds

Details at https://example.org/band-steering"""

# Content that tends to push a narrow layout sideways: a long title, a long code line and a
# long unbroken URL.
WIDE_TITLE = "Lumen hub firmware 4.12.7-beta keeps rebooting after pairing with the Brightway bridge"
WIDE_BODY = (
    "The log says:\n\n"
    "```\n"
    "2024-05-01T03:12:44Z lumen-hub[812]: pairing failed: handshake_timeout peer=BW-BRIDGE-00-1A-2B-3C-4D-5E retries=12\n"
    "```\n\n"
    "Full log: https://example.com/support/logs/lumen-hub/2024-05-01/very-long-path-segment-without-any-breaks-at-all.txt\n\n"
    "| Setting | Value |\n|---|---|\n| Channel | 11 |\n| Band steering | on |"
)


# --------------------------------------------------------------------------- helpers

def register(page: Page, prefix: str) -> str:
    """Sign up through the /register form, then sign in; returns the username (now signed in).

    Sign-up ends on the sign-in page whether or not the address was free (no enumeration);
    the new account signs in before its address is confirmed."""
    username = unique_username(prefix)
    page.goto("/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("E-mail").fill(f"{username}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".flash-success")).to_contain_text(f"we've sent a link to {username}@example.com")
    log_in(page, username)
    return username


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(header(page).locator("details.account-menu > summary")).to_be_visible()


def header(page: Page) -> Any:
    return page.locator("header.site-header")


def account_menu(page: Page) -> Any:
    """The signed-in member's menu in the header (profile, staff pages, settings, log out), opened."""
    menu = header(page).locator("details.account-menu")
    if not menu.evaluate("m => m.open"):
        menu.locator("summary").click()
    return menu


def horizontal_overflow(page: Page) -> tuple[int, list[str]]:
    """scrollWidth of the document, and the elements sticking out past the viewport's right edge."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const culprits = [];
            for (const el of document.body.querySelectorAll('*')) {
                const r = el.getBoundingClientRect();
                if (r.width && r.right > width + 1) {
                    const classes = el.className ? '.' + String(el.className).trim().replace(/\\s+/g, '.') : '';
                    culprits.push(el.tagName.toLowerCase() + classes
                                  + ' right=' + Math.round(r.right));
                }
            }
            return [document.documentElement.scrollWidth, culprits.slice(0, 8)];
        }"""
    )


# --------------------------------------------------------------------------- flows

def test_two_customers_ask_and_answer_and_see_rendered_markdown(new_page: Callable[..., Page]) -> None:
    asker, helper = new_page(), new_page()
    title = f"Hub drops off Wi-Fi every night ({unique_username('t')})"

    # Customer A signs up and asks a question written in Markdown.
    register(asker, "asker")
    header(asker).get_by_role("link", name="Ask", exact=True).click()
    expect(asker).to_have_url(re.compile(r"/questions/ask$"))
    asker.get_by_label("Title").fill(title)
    asker.get_by_label("Details").fill(QUESTION_BODY)
    asker.get_by_label("Tags").fill("wifi setup")
    asker.get_by_role("button", name="Post your question").click()

    expect(asker).to_have_url(re.compile(r"/questions/\d+/[\w-]+$"))
    expect(asker.locator(".flash-success")).to_contain_text("Your question is posted")
    expect(asker.get_by_role("heading", level=1)).to_have_text(title)
    question = asker.locator(".post-question")
    body = question.locator(".post-body")
    expect(body.locator("strong")).to_have_text("bold")
    expect(body.locator("ul > li")).to_have_text(["restarting the router", "moving the hub closer"])
    expect(body.locator("pre > code")).to_contain_text("wifi: disconnected (code 7)")
    link = body.get_by_role("link", name="the setup guide")
    expect(link).to_have_attribute("href", "https://example.com/guide")
    expect(link).to_have_attribute("rel", re.compile(r"\bnofollow\b"))
    expect(body).not_to_contain_text("**")  # Markdown syntax is rendered, not shown
    # Shown in the page's own order (alphabetical today), so compare as a set.
    expect(question.locator(".tags a.tag")).to_have_count(2)
    assert sorted(question.locator(".tags a.tag").all_inner_texts()) == ["setup", "wifi"]
    question_path = urlsplit(asker.url).path

    # Customer B signs up, finds the question in the list and answers it.
    register(helper, "helper")
    helper.goto("/questions")
    row = helper.locator(".question-row", has=helper.get_by_role("link", name=title))
    expect(row).to_contain_text("0 answers")
    row.get_by_role("link", name=title).click()
    expect(helper.get_by_role("heading", level=1)).to_have_text(title)
    helper.locator(".your-answer").get_by_label("Answer", exact=True).fill(ANSWER_BODY)
    helper.get_by_role("button", name="Post your answer").click()

    expect(helper).to_have_url(re.compile(r"/questions/\d+/[\w-]+#answer-\d+$"))
    expect(helper.locator(".flash-success")).to_contain_text("Thanks for answering!")

    # Both customers see the answer rendered.
    asker.goto(question_path)
    for viewer in (helper, asker):
        expect(viewer.locator("#answers-heading")).to_have_text("1 Answer")
        answer = viewer.locator(".post-answer .post-body")
        expect(answer).to_have_count(1)
        expect(answer.locator("em")).to_have_text("band steering")
        expect(answer.locator("ol > li")).to_have_count(2)
        expect(answer.locator("li code")).to_have_text("reset")
        auto_link = answer.get_by_role("link", name="https://example.org/band-steering")
        expect(auto_link).to_have_attribute("rel", re.compile(r"\bnofollow\b"))

    # The question list counts the answer.
    asker.goto("/questions")
    row = asker.locator(".question-row", has=asker.get_by_role("link", name=title))
    expect(row.locator(".stat-answered")).to_have_text("1 answer")


def test_ask_form_shows_a_live_markdown_preview(page: Page) -> None:
    register(page, "preview")
    page.goto("/questions/ask")
    preview = page.locator(".editor .preview")
    expect(preview).to_be_hidden()

    page.get_by_label("Details").press_sequentially("**hi**")

    expect(preview).to_be_visible()  # after the ~350 ms debounce and the POST /preview round trip
    expect(preview.locator(".preview-body strong")).to_have_text("hi")
    assert "<strong>hi</strong>" in preview.locator(".preview-body").inner_html()


def test_rejected_question_keeps_the_typed_text_and_explains_beside_the_field(page: Page) -> None:
    register(page, "short")
    page.goto("/questions/ask")
    body_text = "The hub blinks orange.\n\nIt started after **the update**."
    page.get_by_label("Title").fill("Help!")
    page.get_by_label("Details").fill(body_text)
    page.get_by_label("Tags").fill("setup")
    page.get_by_role("button", name="Post your question").click()

    expect(page).to_have_url(re.compile(r"/questions/ask$"))
    title_field = page.locator(".field", has=page.locator("#title"))
    expect(title_field).to_have_class(re.compile(r"\bfield-invalid\b"))
    expect(title_field.locator(".field-error")).to_contain_text("at least 10 characters")
    expect(page.locator("#title")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#title")).to_have_attribute("aria-describedby", re.compile(r"\btitle-error\b"))
    expect(page.locator(".form-errors[role=alert]")).to_be_visible()
    # Nothing the customer typed is lost.
    expect(page.get_by_label("Title")).to_have_value("Help!")
    expect(page.get_by_label("Details")).to_have_value(body_text)
    expect(page.get_by_label("Tags")).to_have_value("setup")


def test_log_out_from_the_header_offers_log_in_again(page: Page) -> None:
    register(page, "leaver")
    nav = header(page)
    expect(nav.get_by_role("link", name="Log in")).to_have_count(0)

    account_menu(page).get_by_role("button", name="Log out").click()

    expect(page.locator(".flash-info")).to_contain_text("You are signed out.")
    expect(nav.get_by_role("link", name="Log in")).to_be_visible()
    expect(nav.get_by_role("link", name="Sign up")).to_be_visible()
    expect(nav.get_by_role("button", name="Log out")).to_have_count(0)
    expect(nav.locator("details.account-menu")).to_have_count(0)
    expect(nav.get_by_role("link", name="Ask", exact=True)).to_have_count(0)


def test_first_tab_reveals_the_skip_link_and_enter_moves_focus_to_main(page: Page) -> None:
    page.goto("/")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).not_to_be_in_viewport()  # hidden off-screen until focused

    page.keyboard.press("Tab")

    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, box

    page.keyboard.press("Enter")

    expect(page.locator("main#main")).to_be_focused()
    expect(page).to_have_url(re.compile(r"#main$"))


def test_narrow_phone_screen_has_no_horizontal_scroll(new_page: Callable[..., Page],
                                                      seed_question: Callable[..., str]) -> None:
    path = seed_question(WIDE_TITLE, WIDE_BODY, tags="firmware pairing bridge", username="a_rather_long_username_x")
    page = new_page(width=360, height=800)
    problems = []
    for label in ("home, signed out", "question, signed out", "home, signed in", "question, signed in"):
        if label == "home, signed in":
            register(page, "phone_user_with_long_name")
        page.goto(path if label.startswith("question") else "/")
        scroll_width, culprits = horizontal_overflow(page)
        if scroll_width > 360:
            problems.append(f"{label}: scrollWidth {scroll_width} > 360; wide elements: {culprits}")
    assert not problems, "\n".join(problems)


def _member(live: Any, prefix: str, role: str) -> str:
    """A member with ``role`` made through the service (staff cannot sign up), committed."""
    from forum.extensions import db
    from forum.models import Role
    from forum.services import accounts

    username = unique_username(prefix)
    with live.app.test_request_context():
        try:
            accounts.register(accounts.Registration(username, f"{username}@example.com", PASSWORD),
                              role=Role(role), allow_reserved=True)
            db.session.commit()
        finally:
            db.session.remove()
    return username


@pytest.mark.parametrize("role", ["member", "agent", "moderator", "admin"])
def test_the_header_is_one_row_on_a_desktop_and_two_on_a_phone(new_page: Callable[..., Page], live: Any,
                                                                role: str) -> None:
    """Issue 13, item 9: the signed-in header wrapped to two rows at 1440 px and to four or five at
    360 px. Now: one row at 1440 and 1024 px, the row plus the search box at 360 px, for every role
    (staff have the most links), with the sections and the account's pages in menus that open
    from the keyboard."""
    username = _member(live, f"hdr_{role}", role)
    for width, rows in ((1440, 1), (1024, 1), (360, 2)):
        page = new_page(width=width, height=800)
        log_in(page, username)
        page.goto("/help/privileges")
        row = header(page).locator(".brand").bounding_box()["height"] + 20  # one row: 28 px logo + padding
        height = header(page).bounding_box()["height"]
        assert height <= rows * row + 30, f"{width} px: header {height:.0f} px high for {rows} row(s)"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # Keyboard: Tab to the account menu, open it with Enter, reach every item, Escape closes it.
        summary = header(page).locator("details.account-menu > summary")
        summary.focus()
        page.keyboard.press("Enter")
        menu = header(page).locator("details.account-menu .menu-panel")
        expect(menu.get_by_role("link", name="Settings")).to_be_visible()
        expect(menu.get_by_role("button", name="Log out")).to_be_visible()
        staff_link = {"member": None, "agent": "Support", "moderator": "Moderation", "admin": "Moderation"}[role]
        if staff_link:
            expect(menu.get_by_role("link", name=staff_link)).to_be_visible()
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        if width == 360:
            expect(header(page).locator(".main-nav")).to_be_hidden()
            header(page).locator("details.nav-menu > summary").focus()
            page.keyboard.press("Enter")
            expect(header(page).get_by_role("link", name="Articles")).to_be_visible()


def test_the_header_menus_work_without_javascript(browser: Any, live_server: str, live: Any) -> None:
    username = _member(live, "hdr_nojs", "moderator")
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 800}, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, username)
        header(page).locator("details.account-menu > summary").click()
        header(page).locator("details.account-menu").get_by_role("link", name="Moderation").click()
        expect(page).to_have_url(re.compile(r"/moderation$"))
        account_menu(page).get_by_role("button", name="Log out").click()
        expect(header(page).get_by_role("link", name="Log in")).to_be_visible()
    finally:
        context.close()


LONG_TOKEN = "ERR_0x" + "A1B2C3D4" * 15  # an error code or hash pasted without a space (126 characters)


def test_long_unbroken_tokens_never_make_a_phone_page_scroll_sideways(
        new_page: Callable[..., Page], seed_question: Callable[..., str]) -> None:
    """Issue 13, item 5: a long token made home 803 px and /search 3,469 px wide at 360 px, and the
    ask page scrolled sideways while its suggestions showed. Every list, title, search box and
    suggestion list gets one here."""
    path = seed_question(f"Hub fails: {LONG_TOKEN}",
                         f"The log ends with {LONG_TOKEN}/{LONG_TOKEN} and nothing else.",
                         tags="firmware", username="token_asker")
    page = new_page(width=360, height=800)
    problems = []

    def check(label: str) -> None:
        page.wait_for_timeout(100)
        scroll_width, culprits = horizontal_overflow(page)
        if scroll_width > 360:
            problems.append(f"{label}: scrollWidth {scroll_width} > 360; wide elements: {culprits}")

    pages = {"home": "/", "question": path, "list": "/questions", "unanswered": "/questions?tab=unanswered",
             "tag": "/tags/firmware", "search, one token": f"/search?q={LONG_TOKEN}",
             "search, token among words": f"/search?q=hub+{LONG_TOKEN}", "search, the token's question": "/search?q=fails",
             "tags": "/tags", "ask with the title in the link": f"/questions/ask?title={LONG_TOKEN}"}
    for label, url in pages.items():
        page.goto(url)
        check(label)
    register(page, "token_typist")
    page.goto("/questions/ask")
    page.get_by_label("Title").fill(f"Hub fails with {LONG_TOKEN}")
    expect(page.locator(".similar-list li").first).to_be_visible()
    check("ask, suggestions showing")
    page.goto(path)
    check("question, signed in")
    assert not problems, "\n".join(problems)


def test_capture_screenshots_for_review(new_page: Callable[..., Page], seed_question: Callable[..., str],
                                        artifacts_dir: Path) -> None:
    """Not asserted: full-page screenshots in test-artifacts/e2e/ for people to look at."""
    path = seed_question("Hub drops off Wi-Fi every night after the update", QUESTION_BODY, tags="wifi setup")
    for width in (1440, 360):
        page = new_page(width=width, height=900)
        register(page, f"shots{width}")
        for name, url in (("home", "/"), ("question", path), ("ask", "/questions/ask")):
            page.goto(url)
            page.screenshot(path=str(artifacts_dir / f"{name}-{width}.png"), full_page=True)
