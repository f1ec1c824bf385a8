"""A badge in a real browser: a member's first answer earns "Helper", which shows on the badge
pages reached from the navigation and on the member's profile."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import IN_CI

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the conftest's browser fixture explains; CI must have Playwright
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from tests.e2e.test_browser_flows import header, horizontal_overflow, register
from tests.e2e.test_curation_flows import post_answer, screenshot_at_widths


def test_first_answer_earns_a_badge_shown_on_the_badge_pages_and_profile(
        new_page: Callable[..., Page], seed_question: Callable[..., str], artifacts_dir: Path) -> None:
    path = seed_question("Motion sensor stops reporting after a day", "It works for a day, then nothing.")
    page = new_page()
    username = register(page, "badger")
    page.goto(path)
    post_answer(page, "Replace the coin cell: a weak battery keeps pairing but stops reporting.")

    header(page).get_by_role("link", name="Badges", exact=True).click()
    expect(page).to_have_url(re.compile(r"/badges$"))
    expect(page.get_by_role("heading", name="Gold")).to_be_visible()
    helper_card = page.locator(".badge-card", has=page.locator('a.badge-pill[href="/badges/helper"]'))
    expect(helper_card).to_contain_text("You earned this")
    helper_card.locator('a.badge-pill[href="/badges/helper"]').click()
    expect(page).to_have_url(re.compile(r"/badges/helper$"))
    expect(page.locator(".badge-earners li").first).to_contain_text(username)  # newest first
    screenshot_at_widths(page, artifacts_dir, "badge-earners")

    page.locator(".badge-earners li").first.get_by_role("link", name=username).click()
    badges = page.locator(".profile-badges")
    expect(badges.get_by_role("link", name=re.compile(r"Bronze badge: Helper"))).to_be_visible()
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/badges")
    width, sticking_out = horizontal_overflow(page)
    assert width <= 360, sticking_out
