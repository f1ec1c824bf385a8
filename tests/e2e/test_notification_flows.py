"""End-to-end: an answer rings the asker's bell; the asker opens it and lands on the answer."""
from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.e2e.helpers import unique_username
from tests.support import IN_CI

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the conftest's browser fixture explains; CI must have Playwright
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from tests.e2e.test_browser_flows import header, horizontal_overflow, log_in, register
from tests.e2e.test_curation_flows import post_answer


def test_answer_rings_the_bell_and_the_asker_follows_it_to_the_answer(new_page: Callable[..., Page],
                                                                     seed_question: Callable[..., str]) -> None:
    asker = unique_username("asker")
    path = seed_question("Thermostat schedule ignores the weekend profile", "Saturday starts at 6 am like a weekday.",
                         tags="automations", username=asker)
    helper = new_page()
    helper_name = register(helper, "helper")
    helper.goto(path)
    answer_id = post_answer(helper, "Check that the weekend profile is assigned to the Heating zone.")
    # Not told of their own answer: the one unread notification is the badge a first answer earns.
    expect(header(helper).locator(".bell-count")).to_have_text("1")
    helper.goto("/notifications")
    expect(helper.locator("main")).to_contain_text("You earned the bronze badge “Helper”")
    expect(helper.locator("main")).not_to_contain_text("answered your question")

    page = new_page()
    log_in(page, asker)
    bell = header(page).get_by_role("link", name=re.compile(r"Notifications, 1 unread"))
    expect(bell).to_be_visible()
    bell.click()
    item = page.get_by_role("button", name=re.compile(f"{helper_name} answered your question"))
    expect(item).to_be_visible()
    item.click()
    expect(page).to_have_url(re.compile(rf"#answer-{answer_id}$"))
    expect(header(page).locator(".bell-count")).to_have_count(0)

    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/notifications")
    assert horizontal_overflow(page)[1] == []
    page.goto("/settings/notifications")
    assert horizontal_overflow(page)[1] == []
    # The asker follows their question: its "Unfollow" stays one word on one line at 360 px.
    unfollow = page.locator(".follow-list .link-button").first
    expect(unfollow).to_be_visible()
    box = unfollow.bounding_box()
    assert box is not None and box["height"] < 32, box
    page.get_by_label("An answer to my question: by e-mail").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("Notification settings saved.")
    expect(page.get_by_label("An answer to my question: by e-mail")).not_to_be_checked()
