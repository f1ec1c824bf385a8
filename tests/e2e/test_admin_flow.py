"""The admin area in a real browser (issue 13, item 11): find a member, promote them, see the log entry."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support import IN_CI

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the conftest's browser fixture explains; CI must have Playwright
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from tests.e2e.test_browser_flows import _member, account_menu, horizontal_overflow, log_in


@pytest.mark.parametrize("width", [1440, 360])
def test_an_admin_finds_a_member_promotes_them_and_sees_the_log_entry(
        new_page: Callable[..., Page], live: Any, width: int) -> None:
    boss = _member(live, "e2e_boss", "admin")
    helper = _member(live, "e2e_helper", "member")
    page = new_page(width=width, height=900)
    log_in(page, boss)
    account_menu(page).get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Admin")).to_be_visible()

    page.get_by_label("Name or e-mail").fill(helper)
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".admin-members tbody tr")).to_have_count(1)
    page.get_by_role("link", name=f"Manage {helper}").click()

    page.get_by_label("New role").select_option("moderator")
    page.get_by_role("button", name="Change role").click()
    # No reason: refused beside the field, the choice kept.
    expect(page.locator(".field-error")).to_contain_text("Give a reason")
    expect(page.get_by_label("New role")).to_have_value("moderator")
    page.get_by_label("Reason").fill("Runs the weekly community call")
    page.get_by_role("button", name="Change role").click()
    expect(page.locator(".flash-success")).to_contain_text(f"{helper} is now moderator (was member).")
    scroll_width, culprits = horizontal_overflow(page)
    assert scroll_width <= width, culprits

    page.get_by_role("link", name="Moderation log").click()
    row = page.locator(".mod-log tbody tr").first
    expect(row).to_contain_text("set_role")
    expect(row).to_contain_text("Runs the weekly community call")
    expect(row).to_contain_text(helper)
