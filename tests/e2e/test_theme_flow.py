"""Dark mode in a real browser: the switch, the system preference, and no JavaScript needed."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

LIGHT_BG = "rgb(246, 247, 251)"  # --bg of the light palette (static/css/app.css)
DARK_BG = "rgb(15, 20, 27)"  # --bg of the dark palette

CODE = "Pairing fails with this script:\n\n```python\ndef pair(hub):\n    return hub.connect(timeout=30)  # seconds\n```\n"


def background(page: Any) -> str:
    return str(page.evaluate("getComputedStyle(document.body).backgroundColor"))


def keyword_colour(page: Any) -> str:
    return str(page.evaluate("getComputedStyle(document.querySelector('pre code .k')).color"))


def test_switching_to_dark_and_back(new_page: Callable[..., Any], seed_question: Callable[..., str]) -> None:
    path = seed_question("Pairing script times out on the hub", CODE)
    page = new_page()
    page.emulate_media(color_scheme="light")
    page.goto(path)
    assert background(page) == LIGHT_BG
    light_keyword = keyword_colour(page)
    assert page.locator("html").get_attribute("data-theme") == "system"

    page.get_by_role("button", name="Dark").click()
    page.wait_for_function(f"getComputedStyle(document.body).backgroundColor === '{DARK_BG}'")
    assert page.get_by_role("button", name="Dark").get_attribute("aria-pressed") == "true"
    assert keyword_colour(page) != light_keyword  # the code palette follows
    # The cookie was set in the background: the next page arrives dark from the server.
    page.wait_for_function("fetch('/').then(r => r.text()).then(t => t.includes('data-theme=\"dark\"'))")
    page.reload()
    assert page.locator("html").get_attribute("data-theme") == "dark" and background(page) == DARK_BG

    page.get_by_role("button", name="Light").click()
    page.wait_for_function(f"getComputedStyle(document.body).backgroundColor === '{LIGHT_BG}'")


def test_system_theme_follows_prefers_color_scheme(new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.emulate_media(color_scheme="dark")
    page.goto("/")
    assert page.locator("html").get_attribute("data-theme") == "system"
    assert background(page) == DARK_BG
    page.emulate_media(color_scheme="light")
    assert background(page) == LIGHT_BG
    # An explicit choice wins over the system's.
    page.emulate_media(color_scheme="dark")
    # The choice is stored by a background POST (its cookie): reload only once it has answered.
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.get_by_role("button", name="Light").click()
    page.wait_for_function(f"getComputedStyle(document.body).backgroundColor === '{LIGHT_BG}'")
    page.reload()
    assert background(page) == LIGHT_BG


def test_the_switch_works_without_javascript(browser: Any, live_server: str) -> None:
    context = browser.new_context(base_url=live_server, java_script_enabled=False, color_scheme="light")
    try:
        page = context.new_page()
        page.goto("/questions")
        assert background(page) == LIGHT_BG
        page.get_by_role("button", name="Dark").click()
        page.wait_for_url("**/questions")
        assert page.locator("html").get_attribute("data-theme") == "dark"
        assert background(page) == DARK_BG
    finally:
        context.close()
