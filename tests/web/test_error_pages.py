"""Every error a user can meet renders in the site's layout, with the right status."""
from __future__ import annotations

import pytest
from flask import abort


@pytest.fixture
def failing_routes(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom() -> str:
        raise RuntimeError("simulated failure")

    app.add_url_rule("/_test/429", "t429", lambda: abort(429))
    app.add_url_rule("/_test/403", "t403", lambda: abort(403))
    app.add_url_rule("/_test/400", "t400", lambda: abort(400))
    app.add_url_rule("/_test/500", "t500", boom)
    return app


@pytest.mark.parametrize(("path", "status", "title"), [
    ("/_test/400", 400, "Bad request"),
    ("/_test/403", 403, "Not allowed"),
    ("/no/such/page", 404, "Page not found"),
    ("/logout", 405, "Method not allowed"),
    ("/_test/429", 429, "Slow down"),
    ("/_test/500", 500, "Something went wrong"),
])
def test_error_pages_use_the_site_layout(failing_routes, path: str, status: int, title: str) -> None:
    r = failing_routes.test_client().get(path)
    page = r.get_data(as_text=True)
    assert r.status_code == status
    assert f"<h1>{title}</h1>" in page and 'class="site-header"' in page and "Lumen Community" in page
    assert "simulated failure" not in page and "Traceback" not in page


def test_413_page_for_an_oversized_upload(client) -> None:
    r = client.post("/login", data={"login": "x" * 300_000, "password": "y"})
    assert r.status_code == 413 and "<h1>Too large</h1>" in r.get_data(as_text=True)


def test_json_clients_get_a_json_error(client) -> None:
    r = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.get_json()["error"]["status"] == 404


def test_nul_characters_in_a_post_are_dropped_not_a_server_error(auth, make_user) -> None:
    from forum.models import Question

    make_user("maria")
    auth.login("maria")
    r = auth.post("/questions/ask", {"title": "Hub\x00 blinks after the update",
                                     "body": "Body with a NUL\x00 byte in it, long enough.", "tags": "setup"})
    assert r.status_code == 302
    from forum.extensions import db
    q = db.session.query(Question).one()
    assert "\x00" not in q.title + q.body and q.title == "Hub blinks after the update"
