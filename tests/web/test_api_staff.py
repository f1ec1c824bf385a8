"""The API's staff actions on questions: triage, close/reopen, lock/unlock, pin/unpin."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum.extensions import db
from forum.models import ModerationLog, Question, QuestionTriage, Role, User
from forum.services import visibility
from tests.web.test_api_core import _bearer, _token

ACTIONS = [("triage", {"type": "problem", "severity": "high"}), ("close", {"reason": "off_topic"}),
           ("reopen", None), ("lock", {}), ("unlock", None), ("pin", None), ("unpin", None)]


def staff_token(app: Flask, make_user: Callable[..., Any], name: str = "agent", role: str = "agent") -> str:
    return _token(app, make_user(name, role=role), ["read", "write", "staff"])[1]


def demoted(app: Flask, make_user: Callable[..., Any], name: str = "former") -> str:
    """A staff token whose member has since been made a plain member: the role still decides."""
    user = make_user(name, role="agent")
    _, secret = _token(app, user, ["read", "write", "staff"])
    db.session.get(User, user.id).role = Role.MEMBER
    db.session.commit()
    return secret


def fresh(question_id: int) -> Question:
    db.session.expire_all()
    question = db.session.get(Question, question_id)
    assert question is not None
    return question


@pytest.mark.parametrize(("action", "body"), ACTIONS)
def test_every_staff_action_needs_a_token_with_the_staff_scope_and_a_staff_member(
        app: Flask, client: FlaskClient, make_user: Callable[..., Any], make_question: Callable[..., Any],
        action: str, body: dict[str, str] | None) -> None:
    q = make_question()
    url = f"/api/v1/questions/{q.id}/{action}"
    assert client.post(url, json=body).status_code == 401
    _, member_secret = _token(app, make_user("maria"), ["read", "write"])
    r = client.post(url, json=body, headers=_bearer(member_secret))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "insufficient_scope"
    r = client.post(url, json=body, headers=_bearer(demoted(app, make_user)))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    r = client.post(f"/api/v1/questions/{q.id + 999}/{action}", json=body, headers=_bearer(staff_token(app, make_user)))
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    with app.app_context():
        question = fresh(q.id)
        assert (question.closed_at, question.locked_at, question.pinned_at) == (None, None, None)
        assert db.session.get(QuestionTriage, q.id) is None


def test_triage_sets_type_and_severity_and_the_due_time_as_the_support_desk(
        app: Flask, client: FlaskClient, make_user: Callable[..., Any], make_question: Callable[..., Any]) -> None:
    q = make_question()
    secret = staff_token(app, make_user)
    r = client.post(f"/api/v1/questions/{q.id}/triage", json={"type": "outage", "severity": "critical"},
                    headers=_bearer(secret))
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert (out["type"], out["severity"], out["target_hours"], out["triaged_by"]["username"]) == \
        ("outage", "critical", 1, "agent")
    r = client.post(f"/api/v1/questions/{q.id}/triage", json={"type": "problem", "severity": "low"},
                    headers=_bearer(staff_token(app, make_user, "second")))
    assert r.get_json()["triaged_by"]["username"] == "second" and r.get_json()["target_hours"] == 72
    with app.app_context():
        row = db.session.get(QuestionTriage, q.id)
        assert row is not None and (row.type, row.severity) == ("problem", "low")
    r = client.post(f"/api/v1/questions/{q.id}/triage", json={"type": "rant", "severity": "low"},
                    headers=_bearer(secret))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "type"


def test_close_as_duplicate_and_reopen(app: Flask, client: FlaskClient, make_user: Callable[..., Any],
                                       make_question: Callable[..., Any]) -> None:
    original, q = make_question(), make_question()
    secret = staff_token(app, make_user)
    url = f"/api/v1/questions/{q.id}/close"
    r = client.post(url, json={"reason": "duplicate"}, headers=_bearer(secret))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "duplicate_of"
    r = client.post(url, json={"reason": "duplicate", "duplicate_of": q.id + 999}, headers=_bearer(secret))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "duplicate_of"
    r = client.post(url, json={"reason": "duplicate", "duplicate_of": q.id + 999}, headers=_bearer(demoted(app, make_user)))
    assert r.status_code == 403  # the role is checked before the original is looked up, as on the page
    r = client.post(url, json={"reason": "because"}, headers=_bearer(secret))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "reason"
    r = client.post(url, json={"reason": "duplicate", "duplicate_of": original.id, "note": "See the first one."},
                    headers=_bearer(secret))
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["closed"] and out["close_reason"] == "duplicate" and out["duplicate_of_id"] == original.id
    again = client.post(url, json={"reason": "off_topic"}, headers=_bearer(secret))
    assert again.status_code == 403  # already closed: the page's rule
    assert "closed" in client.get(f"/questions/{q.id}", follow_redirects=True).get_data(as_text=True).lower()
    r = client.post(f"/api/v1/questions/{q.id}/reopen", headers=_bearer(secret))
    assert r.status_code == 200 and not r.get_json()["closed"] and r.get_json()["duplicate_of_id"] is None
    assert client.post(f"/api/v1/questions/{q.id}/reopen", headers=_bearer(secret)).status_code == 403
    with app.app_context():
        actions = db.session.scalars(select(ModerationLog.action).where(ModerationLog.target_type == "question",
                                                                        ModerationLog.target_id == q.id)
                                     .order_by(ModerationLog.id)).all()
        assert actions == ["close", "reopen"]


def test_lock_unlock_pin_unpin(app: Flask, client: FlaskClient, make_user: Callable[..., Any],
                               make_question: Callable[..., Any]) -> None:
    q = make_question()
    secret = staff_token(app, make_user)
    base = f"/api/v1/questions/{q.id}"
    r = client.post(f"{base}/lock", json={"reason": "x" * 301}, headers=_bearer(secret))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "reason"
    r = client.post(f"{base}/lock", json={"reason": "Heated."}, headers=_bearer(secret))
    assert r.status_code == 200 and r.get_json()["locked"]
    with app.app_context():
        assert fresh(q.id).lock_reason == "Heated."
    assert client.post(f"{base}/lock", headers=_bearer(secret)).status_code == 403
    r = client.post(f"{base}/unlock", headers=_bearer(secret))
    assert r.status_code == 200 and not r.get_json()["locked"]
    assert client.post(f"{base}/lock", headers=_bearer(secret)).status_code == 200  # no body: no reason
    r = client.post(f"{base}/pin", headers=_bearer(secret))
    assert r.status_code == 200 and r.get_json()["pinned"]
    assert client.post(f"{base}/pin", headers=_bearer(secret)).status_code == 403
    r = client.post(f"{base}/unpin", headers=_bearer(secret))
    assert r.status_code == 200 and not r.get_json()["pinned"]
    with app.app_context():
        question = fresh(q.id)
        assert question.locked_at is not None and question.pinned_at is None


def test_a_hidden_question_is_404_to_a_demoted_member_and_cannot_be_pinned_by_staff(
        app: Flask, client: FlaskClient, make_user: Callable[..., Any], make_question: Callable[..., Any]) -> None:
    q = make_question()
    with app.app_context():
        visibility.hide_post(fresh(q.id), "spam")
        db.session.commit()
    r = client.post(f"/api/v1/questions/{q.id}/pin", headers=_bearer(demoted(app, make_user)))
    assert r.status_code == 404
    r = client.post(f"/api/v1/questions/{q.id}/pin", headers=_bearer(staff_token(app, make_user)))
    assert r.status_code == 403
