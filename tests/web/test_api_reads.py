"""The API's reads of tags, members and search: what the tags, profile and search pages show,
and never hidden content or a member's private data."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum.extensions import db
from forum.models import Question, User
from forum.services import account_data, api_tokens, tags, visibility
from forum.services.moderation import suspend_user


def _secret(app: Flask, user: Any, scopes: list[str]) -> str:
    with app.app_context():
        _, secret = api_tokens.create_token(db.session.get(User, user.id), "script", scopes, 30)
        db.session.commit()
        return secret


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _hide(app: Flask, question: Any) -> None:
    with app.app_context():
        visibility.hide_post(db.session.get(Question, question.id), "moderator")
        db.session.commit()


READS = ["/api/v1/tags", "/api/v1/tags/setup", "/api/v1/users/{uid}", "/api/v1/users/{uid}/questions",
         "/api/v1/users/{uid}/answers", "/api/v1/search?q=hub", "/api/v1/search/similar?title=hub+blinks+orange"]


def test_every_read_is_open_to_anonymous_callers_and_refuses_a_token_without_read(
        app: Flask, client: FlaskClient, make_user: Callable[..., Any], make_question: Callable[..., Any]) -> None:
    maria = make_user("maria")
    make_question(author=maria, title="Hub blinks orange after the update")
    write_only = _secret(app, maria, ["write"])
    reader = _secret(app, maria, ["read"])
    for template in READS:
        path = template.format(uid=maria.id)
        assert client.get(path).status_code == 200, path
        assert client.get(path, headers=_bearer(reader)).status_code == 200, path
        r = client.get(path, headers=_bearer(write_only))
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "insufficient_scope", path
        r = client.get(path, headers=_bearer("fct_no-such-token"))
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized", path


def test_the_tags_list_pages_by_cursor_as_the_tags_page_orders_it(app: Flask, client: FlaskClient,
                                                                  make_user: Callable[..., Any],
                                                                  make_question: Callable[..., Any]) -> None:
    staff = make_user("agent_ann", role="agent")
    make_question(tags="hub wifi")
    make_question(tags="hub zigbee")
    make_question(tags="hub")
    with app.app_context():
        tags.edit_tag_wiki(db.session.get(User, staff.id), tags_named("hub"), "The **hub** itself. Wiring and lights.")
        db.session.commit()
    seen: list[tuple[str, int]] = []
    url = "/api/v1/tags?limit=2"
    while url:
        page = client.get(url).get_json()
        seen += [(t["name"], t["question_count"]) for t in page["items"]]
        url = f"/api/v1/tags?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert seen == [("hub", 3), ("wifi", 1), ("zigbee", 1)]
    by_name = client.get("/api/v1/tags?sort=name&limit=1").get_json()
    second = client.get(f"/api/v1/tags?sort=name&limit=5&cursor={by_name['next_cursor']}").get_json()
    assert [t["name"] for t in by_name["items"] + second["items"]] == ["hub", "wifi", "zigbee"]
    hub = client.get("/api/v1/tags/HUB").get_json()
    assert hub["description"].startswith("The hub itself") and "<strong>hub</strong>" in hub["wiki_html"]
    assert hub["wiki"].startswith("The **hub**") and hub["url"].endswith("/tags/hub")
    assert "The hub itself" in client.get("/tags").get_data(as_text=True)  # the page shows the same


def tags_named(name: str) -> Any:
    from forum.services.questions import get_tag
    return get_tag(name)


def test_tag_errors_are_404_and_422_with_the_field(client: FlaskClient) -> None:
    r = client.get("/api/v1/tags/no-such-tag")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = client.get("/api/v1/tags?sort=sideways")
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "sort"
    r = client.get("/api/v1/tags?limit=0")
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "limit"
    r = client.get("/api/v1/tags?cursor=garbage")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "cursor"


def test_a_profile_is_what_the_page_shows_and_never_private_data(app: Flask, client: FlaskClient,
                                                                make_user: Callable[..., Any],
                                                                make_question: Callable[..., Any],
                                                                make_answer: Callable[..., Any]) -> None:
    maria = make_user("maria")
    q = make_question(author=make_user("asker"), tags="hub")
    make_answer(q, author=maria)
    make_question(author=maria, tags="wifi")
    r = client.get(f"/api/v1/users/{maria.id}")
    assert r.status_code == 200
    body = r.get_json()
    assert body["username"] == "maria" and body["deleted"] is False and body["role"] is None
    assert body["stats"]["answers"] == 1 and body["stats"]["questions"] == 1
    assert [t["name"] for t in body["top_tags"]] == ["hub"]
    text = r.get_data(as_text=True)
    assert "maria@example.com" not in text and "email" not in text and "password" not in text
    assert client.get("/api/v1/users/999999").status_code == 404


def test_a_deleted_member_is_shown_as_the_page_shows_them_and_a_suspended_one_as_before(
        app: Flask, client: FlaskClient, make_user: Callable[..., Any], make_question: Callable[..., Any]) -> None:
    gone = make_user("gone")
    q = make_question(author=gone, title="Hub blinks orange after the update")
    sam = make_user("sam")
    mod = make_user("mod_mo", role="moderator")
    with app.app_context():
        account_data.delete_account(db.session.get(User, gone.id), "correct-horse-battery")
        suspend_user(db.session.get(User, mod.id), db.session.get(User, sam.id), 3, "Spam links")
        db.session.commit()
    body = client.get(f"/api/v1/users/{gone.id}").get_json()
    assert body["deleted"] is True and body["username"] is None and body["member_since"] is None
    assert body["display_name"] == "Deleted member"
    # Their posts stay, as on the profile page.
    assert [x["id"] for x in client.get(f"/api/v1/users/{gone.id}/questions").get_json()["items"]] == [q.id]
    suspended = client.get(f"/api/v1/users/{sam.id}")
    assert suspended.status_code == 200 and "Spam links" not in suspended.get_data(as_text=True)


def test_a_members_activity_lists_visible_posts_newest_first_by_cursor(app: Flask, client: FlaskClient,
                                                                       make_user: Callable[..., Any],
                                                                       make_question: Callable[..., Any],
                                                                       make_answer: Callable[..., Any]) -> None:
    maria = make_user("maria")
    mine = [make_question(author=maria) for _ in range(3)]
    _hide(app, mine[1])
    other = make_question()
    answer = make_answer(other, author=maria)
    hidden_thread = make_question()
    make_answer(hidden_thread, author=maria)
    _hide(app, hidden_thread)
    first = client.get(f"/api/v1/users/{maria.id}/questions?limit=1").get_json()
    rest = client.get(f"/api/v1/users/{maria.id}/questions?limit=5&cursor={first['next_cursor']}").get_json()
    assert [x["id"] for x in first["items"] + rest["items"]] == [mine[2].id, mine[0].id]
    assert rest["next_cursor"] is None
    answers = client.get(f"/api/v1/users/{maria.id}/answers").get_json()
    assert [(a["id"], a["question_id"], a["accepted"]) for a in answers["items"]] == [(answer.id, other.id, False)]
    r = client.get(f"/api/v1/users/{maria.id}/answers?cursor=WzFd")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "cursor"
    assert client.get("/api/v1/users/999999/answers").status_code == 404


def test_search_uses_the_search_pages_language_and_never_returns_hidden_questions(
        app: Flask, client: FlaskClient, make_user: Callable[..., Any], make_question: Callable[..., Any]) -> None:
    shown = make_question(title="Hub blinks orange after the firmware update", tags="hub")
    solved_elsewhere = make_question(title="Hub blinks orange at night", tags="wifi")
    hidden = make_question(title="Hub blinks orange and smells of smoke", tags="hub")
    _hide(app, hidden)
    found = client.get("/api/v1/search?q=blinks+orange").get_json()
    ids = {x["id"] for x in found["items"]}
    assert ids == {shown.id, solved_elsewhere.id} and hidden.id not in ids
    assert all(x["kind"] == "question" and "<mark>" in x["title_html"] for x in found["items"])
    page_html = client.get("/search?q=blinks+orange").get_data(as_text=True)
    assert "smells of smoke" not in page_html and "firmware update" in page_html
    tagged = client.get("/api/v1/search?q=blinks+tag%3Ahub").get_json()
    assert [x["id"] for x in tagged["items"]] == [shown.id]
    assert [x["id"] for x in client.get("/api/v1/search?q=blinks&tag=wifi").get_json()["items"]] == [solved_elsewhere.id]
    assert client.get("/api/v1/search").get_json() == {"query": "", "corrected_from": None, "suggestion": None,
                                                      "total": 0, "items": [], "next_cursor": None}
    r = client.get("/api/v1/search?q=hub&sort=sideways")
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "sort"
    r = client.get("/api/v1/search?q=hub&kind=video")
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "kind"


def test_search_pages_by_cursor_through_every_result(app: Flask, client: FlaskClient,
                                                     make_question: Callable[..., Any]) -> None:
    app.config["MAX_PAGE"] = 50
    made = {make_question(title=f"Orange light question number {i}").id for i in range(23)}
    seen: list[int] = []
    url = "/api/v1/search?q=orange"
    while url:
        page = client.get(url).get_json()
        assert page["total"] == 23
        seen += [x["id"] for x in page["items"]]
        url = f"/api/v1/search?q=orange&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert sorted(seen) == sorted(made) and len(seen) == 23


def test_similar_is_the_ask_forms_list_without_hidden_questions(app: Flask, client: FlaskClient,
                                                                make_question: Callable[..., Any]) -> None:
    shown = make_question(title="Hub blinks orange after the firmware update")
    hidden = make_question(title="Hub blinks orange after the firmware update again")
    _hide(app, hidden)
    items = client.get("/api/v1/search/similar?title=hub+blinks+orange").get_json()["items"]
    assert [(x["kind"], x["id"]) for x in items] == [("question", shown.id)]
    page = client.get("/search/similar?title=hub+blinks+orange").get_json()["results"]
    assert [x["id"] for x in page] == [x["id"] for x in items]
    assert client.get("/api/v1/search/similar?title=hub").get_json() == {"items": []}
    r = client.get("/api/v1/search/similar")
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "title"


@pytest.mark.parametrize("path", ["/api/v1/tags", "/api/v1/tags/{name}", "/api/v1/users/{user_id}",
                                  "/api/v1/users/{user_id}/questions", "/api/v1/users/{user_id}/answers",
                                  "/api/v1/search", "/api/v1/search/similar"])
def test_the_openapi_document_lists_each_read_with_its_errors(client: FlaskClient, path: str) -> None:
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][path]["get"]
    assert {"200", "401", "403"} <= set(operation["responses"])
    assert ("422" in operation["responses"]) == ("{" not in path or path.endswith(("questions", "answers")))
    assert ("404" in operation["responses"]) == ("{" in path)


def _cursor(values: list[Any]) -> str:
    import base64
    import json
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", [
    "/api/v1/tags?cursor=" + _cursor([2**40, "hub"]),
    "/api/v1/tags?cursor=" + _cursor([1, "hub\u0000"]),
    "/api/v1/search?q=hub&cursor=" + _cursor([2**40]),
    "/api/v1/questions?cursor=" + _cursor([2**40]),
    "/api/v1/users/{uid}/answers?cursor=" + _cursor(["2026-01-01T00:00:00", 2**40]),
    "/api/v1/users/{uid}/questions?cursor=" + _cursor(["0001-01-01T00:00:00+05:00", 1]),
])
def test_a_cursor_no_row_can_have_is_400_on_every_database(client: FlaskClient, make_user: Callable[..., Any],
                                                           path: str) -> None:
    maria = make_user("maria")
    r = client.get(path.replace("{uid}", str(maria.id)))
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "cursor"


def test_names_and_ids_no_row_can_have_are_404(client: FlaskClient) -> None:
    for path in ("/api/v1/tags/%00", "/tags/%00", f"/api/v1/users/{10**20}", f"/api/v1/users/{10**20}/answers"):
        assert client.get(path).status_code == 404, path


def test_the_search_pages_rate_limit_applies_to_the_api_too(app: Flask, client: FlaskClient) -> None:
    app.config.update(RATE_LIMITS_ENABLED=True, RATE_LIMIT_SEARCH_PER_IP="2 per minute",
                      RATE_LIMIT_API_PER_IP="", RATE_LIMIT_API_PER_ACCOUNT="")
    ip = {"REMOTE_ADDR": "198.51.100.61"}
    for _ in range(2):
        assert client.get("/api/v1/search?q=hub", environ_base=ip).status_code == 200
    r = client.get("/api/v1/search?q=hub", environ_base=ip)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.get_json()["error"]["code"] == "rate_limited" and r.get_json()["error"]["field"] is None
