"""The API's private support cases: open, read, list, write, status, resolve, external reference."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum.extensions import db
from forum.models import Answer, CaseEvent, Question, SupportCase, WebhookDelivery
from forum.services import webhooks
from tests.web.test_api_core import _bearer, _token
from tests.web.test_api_staff import demoted, staff_token


@pytest.fixture
def world(app: Flask, make_user: Callable[..., Any], make_question: Callable[..., Any]) -> dict[str, Any]:
    """A question by "asker", an agent's token, the asker's token, another member's token, and a
    webhook endpoint (unreachable: its deliveries stay as rows) subscribed to the case events."""
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    asker = make_user("asker")
    q = make_question(author=asker, title="Hub blinks orange after the update")
    webhooks.create_endpoint(make_user("root", role="admin"), webhooks.EndpointInput(
        "http://127.0.0.1:9/hook", ["case.opened", "case.message", "case.resolved"], "json"))
    db.session.commit()
    return {"q": q, "agent": staff_token(app, make_user),
            "asker": _token(app, asker, ["read", "write"])[1],
            "other": _token(app, make_user("other"), ["read", "write"])[1]}


def hooks() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery.event).order_by(WebhookDelivery.id)))


def opened(client: FlaskClient, world: dict[str, Any]) -> int:
    r = client.post(f"/api/v1/questions/{world['q'].id}/case", headers=_bearer(world["agent"]))
    assert r.status_code == 201, r.get_json()
    return int(r.get_json()["id"])


def test_staff_open_a_case_once_and_the_customer_is_told(app: Flask, client: FlaskClient,
                                                         world: dict[str, Any]) -> None:
    q = world["q"]
    url = f"/api/v1/questions/{q.id}/case"
    assert client.post(url).status_code == 401
    r = client.post(url, headers=_bearer(world["asker"]))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "insufficient_scope"
    assert client.post(f"/api/v1/questions/{q.id + 999}/case", headers=_bearer(world["agent"])).status_code == 404
    key = {"Idempotency-Key": "case-1"}
    first = client.post(url, headers=_bearer(world["agent"], **key))
    assert first.status_code == 201, first.get_json()
    case = first.get_json()
    assert (case["question_id"], case["status"], case["asker"]["username"]) == (q.id, "open", "asker")
    assert [e["kind"] for e in case["events"]] == ["opened"]
    assert first.headers["Location"].endswith(f"/api/v1/cases/{case['id']}")
    again = client.post(url, headers=_bearer(world["agent"], **key))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    r = client.post(url, headers=_bearer(world["agent"]))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"
    assert hooks() == ["case.opened"]  # (hooks() expired the session's rows)
    assert db.session.get(Question, q.id).first_response_at is not None
    assert len(db.session.scalars(select(SupportCase)).all()) == 1


def test_a_demoted_agent_cannot_open_a_case(app: Flask, client: FlaskClient, make_user: Callable[..., Any],
                                            world: dict[str, Any]) -> None:
    r = client.post(f"/api/v1/questions/{world['q'].id}/case", headers=_bearer(demoted(app, make_user)))
    assert r.status_code == 403 and "staff" in r.get_json()["error"]["message"]


def test_only_the_customer_and_staff_see_a_case(app: Flask, client: FlaskClient, make_user: Callable[..., Any],
                                                make_question: Callable[..., Any], world: dict[str, Any]) -> None:
    case_id = opened(client, world)
    assert client.get(f"/api/v1/cases/{case_id}").status_code == 401
    assert client.get("/api/v1/cases").status_code == 401
    for who in ("asker", "agent"):
        r = client.get(f"/api/v1/cases/{case_id}", headers=_bearer(world[who]))
        assert r.status_code == 200 and r.get_json()["id"] == case_id
    r = client.get(f"/api/v1/cases/{case_id}", headers=_bearer(world["other"]))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"  # as the case page answers
    assert client.get(f"/api/v1/cases/{case_id + 999}", headers=_bearer(world["agent"])).status_code == 404
    r = client.post(f"/api/v1/cases/{case_id}/messages", json={"body": "Let me in, I am curious."},
                    headers=_bearer(world["other"]))
    assert r.status_code == 403
    # A second case on another member's question: the asker lists only theirs, staff all.
    second = make_question(author=make_user("someone"))
    assert client.post(f"/api/v1/questions/{second.id}/case", headers=_bearer(world["agent"])).status_code == 201
    mine = client.get("/api/v1/cases", headers=_bearer(world["asker"])).get_json()
    assert [c["id"] for c in mine["items"]] == [case_id]
    assert client.get("/api/v1/cases", headers=_bearer(world["other"])).get_json()["items"] == []
    pages: list[int] = []
    url = "/api/v1/cases?limit=1"
    while url:
        page = client.get(url, headers=_bearer(world["agent"])).get_json()
        pages += [c["id"] for c in page["items"]]
        url = f"/api/v1/cases?limit=1&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert sorted(pages) == sorted([case_id, case_id + 1]) and len(pages) == 2
    r = client.get("/api/v1/cases?status=closed", headers=_bearer(world["agent"]))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "status"
    assert client.get("/api/v1/cases?status=resolved", headers=_bearer(world["agent"])).get_json()["items"] == []


def test_the_conversation_status_and_the_resolution(app: Flask, client: FlaskClient,
                                                    world: dict[str, Any]) -> None:
    case_id = opened(client, world)
    base = f"/api/v1/cases/{case_id}"
    r = client.post(f"{base}/messages", json={"body": ""}, headers=_bearer(world["asker"]))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "body"
    r = client.post(f"{base}/status", json={"status": "waiting"}, headers=_bearer(world["asker"]))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "insufficient_scope"
    r = client.post(f"{base}/status", json={"status": "resolved"}, headers=_bearer(world["agent"]))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "status"
    r = client.post(f"{base}/messages", json={"body": "Which firmware does the hub run?"},
                    headers=_bearer(world["agent"]))
    assert r.status_code == 201 and r.get_json()["kind"] == "message" and r.get_json()["actor"]["username"] == "agent"
    r = client.post(f"{base}/status", json={"status": "waiting"}, headers=_bearer(world["agent"]))
    assert r.status_code == 200 and r.get_json()["status"] == "waiting"
    r = client.post(f"{base}/messages", json={"body": "Version 4.2, bought last spring."},
                    headers=_bearer(world["asker"]))
    assert r.status_code == 201
    case = client.get(base, headers=_bearer(world["asker"])).get_json()
    assert case["status"] == "open" and case["pending_reply_id"] == r.get_json()["id"]
    summary = {"summary": "Updating the hub to firmware 4.3 fixed the orange light."}
    r = client.post(f"{base}/resolve", json={"summary": "Too short"}, headers=_bearer(world["agent"]))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "summary"
    r = client.post(f"{base}/resolve", json=summary, headers=_bearer(world["agent"]))
    assert r.status_code == 409 and "wrote after" in r.get_json()["error"]["message"]
    r = client.post(f"{base}/resolve", json={**summary, "confirm": True}, headers=_bearer(world["agent"]))
    assert r.status_code == 200, r.get_json()
    case = r.get_json()
    assert case["status"] == "resolved" and case["resolved_by"]["username"] == "agent"
    assert case["reopen_until"] is not None and case["events"][-1]["kind"] == "resolved"
    db.session.expire_all()
    answer = db.session.get(Answer, case["resolution_answer_id"])
    assert answer is not None and answer.is_official
    assert db.session.get(Question, world["q"].id).accepted_answer_id == answer.id
    public = client.get(f"/api/v1/questions/{world['q'].id}").get_json()
    assert public["solved"] and public["answers"][0]["body"] == summary["summary"]
    assert client.post(f"{base}/resolve", json={**summary, "confirm": True},
                       headers=_bearer(world["agent"])).status_code == 403
    r = client.post(f"{base}/messages", json={"body": "Anything else?"}, headers=_bearer(world["agent"]))
    assert r.status_code == 403  # staff write no more on a resolved case: the page's rule
    r = client.post(f"{base}/messages", json={"body": "It is orange again."}, headers=_bearer(world["asker"]))
    assert r.status_code == 201
    assert client.get(base, headers=_bearer(world["agent"])).get_json()["status"] == "open"
    assert hooks() == ["case.opened", "case.message", "case.message", "case.resolved", "case.message"]
    kinds = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
    assert list(kinds) == ["opened", "message", "status", "message", "status", "resolved", "message", "status"]


def test_staff_set_the_external_reference(app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    case_id = opened(client, world)
    url = f"/api/v1/cases/{case_id}/external-ref"
    r = client.post(url, json={"external_ref": "CRM-1"}, headers=_bearer(world["asker"]))
    assert r.status_code == 403
    r = client.post(url, json={"external_ref": "bad\nref"}, headers=_bearer(world["agent"]))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "external_ref"
    r = client.post(url, json={"external_ref": "CRM-1"}, headers=_bearer(world["agent"]))
    assert r.status_code == 200 and r.get_json()["external_ref"] == "CRM-1"
    again = client.post(url, json={"external_ref": "CRM-1"}, headers=_bearer(world["agent"]))
    assert again.status_code == 409
    assert client.get(f"/api/v1/cases/{case_id}", headers=_bearer(world["asker"])).get_json()["external_ref"] == "CRM-1"
    r = client.post(url, json={"external_ref": None}, headers=_bearer(world["agent"]))
    assert r.status_code == 200 and r.get_json()["external_ref"] is None
    db.session.expire_all()
    assert db.session.get(SupportCase, case_id).external_ref is None
