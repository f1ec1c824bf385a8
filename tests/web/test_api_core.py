"""The REST API's shared behaviour: tokens, scopes, the error shape, cursors, ETags, idempotency."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Question
from forum.services import api_tokens


def _token(app: Flask, user: Any, scopes: list[str]) -> tuple[int, str]:
    with app.app_context():
        token, secret = api_tokens.create_token(db.session.get(type(user), user.id), "script", scopes, 30)
        db.session.commit()
        return token.id, secret


def _bearer(secret: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **extra}


ASK = {"title": "Hub blinks orange after the firmware update", "body": "It blinks orange and never connects.",
       "tags": ["hub"]}


def test_a_token_asks_and_the_list_and_question_show_it(app: Flask, client: FlaskClient,
                                                        make_user: Callable[..., Any]) -> None:
    maria = make_user("maria")
    _, secret = _token(app, maria, ["read", "write"])
    r = client.post("/api/v1/questions", json=ASK, headers=_bearer(secret))
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert made["title"] == ASK["title"] and made["author"]["username"] == "maria" and made["tags"] == ["hub"]
    assert r.headers["Location"].endswith(f"/api/v1/questions/{made['id']}")
    assert "set-cookie" not in {k.lower() for k in r.headers.keys()}
    listed = client.get("/api/v1/questions").get_json()
    assert [q["id"] for q in listed["items"]] == [made["id"]] and listed["next_cursor"] is None
    one = client.get(f"/api/v1/questions/{made['id']}")
    assert one.status_code == 200 and one.get_json()["body"] == ASK["body"]


def test_without_a_token_a_write_is_401_and_a_read_only_token_403(app: Flask, client: FlaskClient,
                                                                   make_user: Callable[..., Any]) -> None:
    r = client.post("/api/v1/questions", json=ASK)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    _, secret = _token(app, make_user("reader"), ["read"])
    r = client.post("/api/v1/questions", json=ASK, headers=_bearer(secret))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "insufficient_scope"
    r = client.get("/api/v1/questions", headers=_bearer("fct_not-a-real-token"))
    assert r.status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 0


def test_a_token_revoked_mid_session_is_refused_on_its_next_call(app: Flask, client: FlaskClient,
                                                                 make_user: Callable[..., Any]) -> None:
    maria = make_user("maria")
    token_id, secret = _token(app, maria, ["read", "write"])
    assert client.get("/api/v1/questions", headers=_bearer(secret)).status_code == 200
    with app.app_context():
        api_tokens.revoke_token(db.session.get(type(maria), maria.id), token_id)
        db.session.commit()
    r = client.post("/api/v1/questions", json=ASK, headers=_bearer(secret))
    assert r.status_code == 401 and "revoked" in r.get_json()["error"]["message"]


def test_bad_input_names_its_field_in_the_one_error_shape(app: Flask, client: FlaskClient,
                                                          make_user: Callable[..., Any]) -> None:
    _, secret = _token(app, make_user("maria"), ["read", "write"])
    r = client.post("/api/v1/questions", json={"body": "no title"}, headers=_bearer(secret))
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "invalid" and error["field"] == "title" and error["status"] == 422
    r = client.get("/api/v1/questions?cursor=garbage")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "cursor"
    r = client.get("/api/v1/questions/999999")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_a_retried_create_with_the_same_idempotency_key_makes_one_question(app: Flask, client: FlaskClient,
                                                                           make_user: Callable[..., Any]) -> None:
    _, secret = _token(app, make_user("maria"), ["read", "write"])
    first = client.post("/api/v1/questions", json=ASK, headers=_bearer(secret, **{"Idempotency-Key": "k-1"}))
    again = client.post("/api/v1/questions", json=ASK, headers=_bearer(secret, **{"Idempotency-Key": "k-1"}))
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json()["id"] == first.get_json()["id"]
    other = client.post("/api/v1/questions", json={**ASK, "title": "Another title entirely here"},
                        headers=_bearer(secret, **{"Idempotency-Key": "k-1"}))
    assert other.status_code == 422 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 1


def test_cursor_pages_cover_the_list_once_and_etags_answer_304(app: Flask, client: FlaskClient,
                                                               make_question: Callable[..., Any]) -> None:
    made = [make_question(title=f"Question number {i} about the hub").id for i in range(5)]
    seen: list[int] = []
    url = "/api/v1/questions?limit=2"
    while True:
        page = client.get(url).get_json()
        seen += [q["id"] for q in page["items"]]
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/questions?limit=2&cursor={page['next_cursor']}"
    assert seen == sorted(made, reverse=True)
    r = client.get("/api/v1/questions")
    assert r.headers.get("ETag")
    assert client.get("/api/v1/questions", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_the_openapi_document_is_3_1_and_lists_the_operations(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/questions"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
