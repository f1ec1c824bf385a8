"""The colour theme: POST /theme sets a cookie, the server writes it on <html>, the page cache keys by it."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support import Auth
from tests.web.test_page_cache import cached  # noqa: F401 - the page cache fixture


def html_theme(html: str) -> str:
    match = re.search(r'<html lang="en" data-theme="([a-z]+)">', html)
    assert match, html[:200]
    return match.group(1)


def pressed(html: str) -> list[str]:
    return re.findall(r'name="theme" value="([a-z]+)" aria-pressed="true"', html)


def test_first_visit_follows_the_system(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert html_theme(html) == "system"
    assert pressed(html) == ["system"]
    assert 'action="/theme"' in html and "css/code.css" in html and "js/theme.js" in html


def test_choosing_dark_without_javascript(client: FlaskClient, make_question: Callable[..., Any]) -> None:
    question = make_question(title="Hub blinks orange after the update")
    page = f"/questions/{question.id}"
    r = client.post("/theme", data={"theme": "dark", "next": page})
    assert r.status_code == 302 and r.headers["Location"].endswith(page)
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("theme=dark;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie
    html = client.get(page, follow_redirects=True).get_data(as_text=True)
    assert html_theme(html) == "dark" and pressed(html) == ["dark"]
    client.post("/theme", data={"theme": "light"})
    assert html_theme(client.get("/").get_data(as_text=True)) == "light"


def test_javascript_gets_json(client: FlaskClient) -> None:
    r = client.post("/theme", data={"theme": "system"}, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.get_json() == {"theme": "system"}
    assert r.headers["Set-Cookie"].startswith("theme=system;")


def test_an_unknown_theme_is_refused(client: FlaskClient) -> None:
    r = client.post("/theme", data={"theme": "neon"})
    assert r.status_code == 400
    assert "Choose a theme: light, dark or system." in r.get_data(as_text=True)
    assert "Set-Cookie" not in r.headers or "theme=" not in r.headers["Set-Cookie"]
    r = client.post("/theme", data={"theme": "neon"}, headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "theme"


def test_a_forged_cookie_is_the_system_theme(client: FlaskClient) -> None:
    client.set_cookie("theme", '"><script>alert(1)</script>')
    html = client.get("/").get_data(as_text=True)
    assert html_theme(html) == "system" and "<script>alert(1)" not in html


def test_next_cannot_leave_the_site(client: FlaskClient) -> None:
    r = client.post("/theme", data={"theme": "dark", "next": "//evil.example/x"})
    assert r.status_code == 302 and r.headers["Location"] in ("/", "http://localhost/")


def test_signed_in_members_need_the_csrf_token(client: FlaskClient, auth: Auth,
                                               make_user: Callable[..., Any]) -> None:
    make_user("theo")
    auth.login("theo")
    assert client.post("/theme", data={"theme": "dark"}).status_code == 400  # no token
    r = auth.post("/theme", {"theme": "dark"})
    assert r.status_code == 302 and r.headers["Set-Cookie"].startswith("theme=dark;")
    html = client.get("/").get_data(as_text=True)
    assert html_theme(html) == "dark" and 'name="csrf_token"' in html



@pytest.mark.usefixtures("cached")
def test_the_page_cache_keeps_one_page_per_theme(client: FlaskClient) -> None:
    def get() -> tuple[str, str]:
        r = client.get("/")
        assert r.status_code == 200
        return html_theme(r.get_data(as_text=True)), r.headers["X-Cache"]

    assert get() == ("system", "MISS")
    assert get() == ("system", "HIT")
    # The shared page carries no per-session token, so the switch needs none from anonymous visitors.
    assert 'name="csrf_token"' not in client.get("/").get_data(as_text=True)
    client.set_cookie("theme", "dark")
    assert get() == ("dark", "MISS")  # not the system page
    assert get() == ("dark", "HIT")
    client.set_cookie("theme", "bogus")  # an unknown value shares the system page
    assert get() == ("system", "HIT")
    client.delete_cookie("theme")
    assert get() == ("system", "HIT")
    r = client.post("/theme", data={"theme": "light", "next": "/"}, follow_redirects=True)
    assert html_theme(r.get_data(as_text=True)) == "light" and r.headers["X-Cache"] == "MISS"


def test_highlighted_code_and_its_stylesheet_are_served(client: FlaskClient, make_question: Callable[..., Any]) -> None:
    q = make_question(title="Pairing script fails on the hub", body="My script:\n\n```python\nimport time\n```\n")
    html = client.get(f"/questions/{q.id}", follow_redirects=True).get_data(as_text=True)
    assert '<pre><code class="language-python"><span class="kn">import </span>' in html
    with client.get("/static/css/code.css") as css:
        assert css.status_code == 200 and b'[data-theme="dark"] pre > code .kn' in css.data
