"""Profiles, the members page and the daily vote cap in a real browser."""
from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from tests.support import IN_CI

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the conftest's browser fixture explains; CI must have Playwright
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from tests.e2e.test_browser_flows import header, horizontal_overflow, register


def test_members_page_from_the_nav_leads_to_a_profile_with_its_chart_on_a_phone(
        new_page: Callable[..., Page], seed_question: Callable[..., str]) -> None:
    seed_question("Hub forgets the Wi-Fi password after a reboot", "Every night at 3 am the hub loses the network.",
                  username="chart_owner_with_a_long_name")
    page = new_page(width=360, height=800)
    page.goto("/")
    header(page).get_by_text("Menu").click()  # on a phone the site's sections are in the menu
    header(page).get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    page.get_by_role("link", name="All time").click()
    # Found by name: the e2e suite's other members can push a one-point member off the first page.
    page.get_by_placeholder("Find a member…").fill("chart_owner")
    page.get_by_placeholder("Find a member…").press("Enter")
    page.get_by_role("link", name="chart_owner_with_a_long_name").click()
    chart = page.locator("svg.rep-chart-svg")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 250  # scales down to the phone, still readable
    expect(page.locator(".rep-chart-summary")).to_contain_text("Reputation went from 1 to 1")
    expect(page.get_by_role("img", name=re.compile("Reputation of chart_owner_with_a_long_name"))).to_be_visible()
    scroll_width, culprits = horizontal_overflow(page)
    assert scroll_width <= 360, culprits


def test_the_vote_cap_message_appears_without_leaving_the_page(live, new_page: Callable[..., Page],
                                                               seed_question: Callable[..., str]) -> None:
    first = seed_question("Motion sensor triggers when nobody is home", "It fires every few minutes at night.")
    second = seed_question("Door sensor battery drains in a week", "New battery, same result after 7 days.")
    page = new_page()
    register(page, "capped_voter")
    old = live.app.config["VOTES_PER_DAY"]
    live.app.config["VOTES_PER_DAY"] = 1
    try:
        page.goto(first)
        page.locator("#question").get_by_role("button", name="Vote up").click()
        expect(page.locator("#question .score-value")).to_have_text("1")
        page.goto(second)
        page.locator("#question").get_by_role("button", name="Vote up").click()
        # The refusal is explained beside the post (role=alert), not in a dialog.
        expect(page.locator("#question .vote-note")).to_contain_text("all 1 of your votes for today")
        expect(page.locator("#question .score-value")).to_have_text("0")
        assert urlsplit(page.url).path == second  # the script kept the reader on the thread
    finally:
        live.app.config["VOTES_PER_DAY"] = old
