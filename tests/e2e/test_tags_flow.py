"""The tag box on the ask page, in a real browser: a new member types, picks an existing tag
with the keyboard, sees which typed tags are new and that creating them needs reputation,
and posts once only existing tags remain."""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator

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

_runs = itertools.count(1)


@pytest.fixture
def raise_tag_threshold(live) -> Iterator[Callable[[], None]]:
    """Call it to make creating tags need 300 reputation until the test ends (the live app is shared)."""
    before = live.app.config["PRIVILEGE_CREATE_TAG"]
    yield lambda: live.app.config.update(PRIVILEGE_CREATE_TAG=300)
    live.app.config["PRIVILEGE_CREATE_TAG"] = before


@pytest.fixture
def member(live) -> str:
    from forum.extensions import db
    from forum.services import accounts

    username = unique_username("tagger")
    with live.app.app_context():
        try:
            accounts.register(accounts.Registration(username, f"{username}@example.com", PASSWORD))
            db.session.commit()
        finally:
            db.session.remove()
    return username


def test_a_new_member_picks_existing_tags_from_the_keyboard(page: Page, seed_question, member: str,
                                                             raise_tag_threshold: Callable[[], None]) -> None:
    n = next(_runs)
    busy, quiet = f"zw{n}-update", f"zw{n}-beta"
    seed_question("Firmware update stuck at forty percent", "The update stops at 40% and the hub restarts.", tags=busy)
    seed_question("Hub firmware update failed with E-301", "After the update the hub shows E-301 on the app.", tags=busy)
    seed_question("Beta firmware drops the mesh at night", "Since the beta the mesh drops every night at two.", tags=quiet)
    raise_tag_threshold()

    log_in(page, member)
    page.goto("/questions/ask")
    page.get_by_label("Title").fill("Hub goes offline every night since the update")
    page.locator("#body").fill("Since the last firmware update my hub drops off the network every night.")
    tags = page.get_by_role("combobox", name="Tags")
    tags.click()
    tags.press_sequentially(f"zw{n}", delay=30)

    listbox = page.get_by_role("listbox", name="Tag suggestions")
    expect(listbox).to_be_visible()
    expect(tags).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_contain_text(busy)  # most used first
    expect(options.nth(0)).to_contain_text("× 2")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")

    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(tags).to_have_attribute("aria-activedescendant", re.compile(r"-opt-1$"))
    page.keyboard.press("Enter")
    expect(tags).to_have_value(f"{quiet} ")
    expect(listbox).to_be_hidden()

    tags.press_sequentially(f"zw{n}-u", delay=30)
    expect(options).to_have_count(1)
    page.keyboard.press("Tab")  # Tab picks too, and the focus stays for the next tag
    expect(tags).to_have_value(f"{quiet} {busy} ")
    expect(tags).to_be_focused()

    tags.press_sequentially("Hub Offline", delay=30)
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    expect(tags).to_have_attribute("aria-expanded", "false")
    page.get_by_label("Title").click()  # leaving the field previews every typed tag
    preview = page.locator(".tag-preview")
    expect(preview).to_contain_text("New tags: hub offline")
    expect(preview).to_contain_text("Creating new tags needs 300 reputation; you have 1.")
    expect(preview).to_contain_text("(hub-offline)")

    page.get_by_role("button", name="Post your question").click()  # the server says it too
    expect(page.locator(".field-error")).to_contain_text("'hub', 'offline' are not tags yet")
    expect(page.get_by_role("combobox", name="Tags")).to_have_value(f"{quiet} {busy} Hub Offline")

    tags = page.get_by_role("combobox", name="Tags")
    tags.fill(f"{quiet} {busy}")
    page.get_by_role("button", name="Post your question").click()
    expect(page.get_by_role("heading", name="Hub goes offline every night since the update")).to_be_visible()
    expect(page.locator(f'a.tag[href="/tags/{quiet}"]').first).to_be_visible()


def test_post_is_clicked_straight_from_the_tag_box_with_a_new_tag_last(page: Page, member: str) -> None:
    """The regression a CI run caught: typing tags whose last word is new and then clicking
    "Post your question" at once did nothing. Leaving the box (on mousedown) grew the "New tags"
    note and closed the suggestions, which moved the button from under the pointer before
    mouseup, so no click happened. Now leaving the box for the submit button changes nothing."""
    n = next(_runs)
    log_in(page, member)
    page.goto("/questions/ask")
    page.get_by_label("Title").fill(f"Hub loses its schedule after every reboot ({n})")
    page.locator("#body").fill("Every time the hub restarts, the lights' evening schedule is gone.")
    tags = page.get_by_role("combobox", name="Tags")
    tags.click()
    tags.press_sequentially(f"zq{n}-sched zq{n}-reboot", delay=20)
    # Let the box look both words up (a pause in typing), so leaving it can redraw at once.
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Post your question").click()
    expect(page).to_have_url(re.compile(r"/questions/\d+/[\w-]+$"))
