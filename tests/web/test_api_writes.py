"""The REST API's member writes (forum/api/writes.py): answer, comment, edit, vote, accept, flag,
follow, and one answer; each refused where the page refuses it, with the page's rules."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Answer, Comment, Flag, Question, QuestionFollow, SuggestedEdit, Tag, TagFollow, Vote
from forum.models.base import utcnow
from forum.services import answers, comments, curation
from forum.services.posts import revisions_of
from tests.support import production_privileges
from tests.web.test_api_core import _bearer, _token

Maker = Callable[..., Any]


@pytest.fixture
def thread(make_user: Maker, make_question: Maker, make_answer: Maker) -> tuple[Any, Any]:
    """A question by "asker" (tag "setup") and an answer to it by "helper"."""
    q = make_question(author=make_user("asker"), title="Hub blinks orange after the update")
    return q, make_answer(q, author=make_user("helper"), body="Hold the reset button for ten seconds.")


def _writer(app: Flask, make_user: Maker, name: str, role: str = "member") -> str:
    return _token(app, make_user(name, role=role), ["read", "write"])[1]


def _count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _error(r: Any, status: int, code: str | None = None, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.get_json()
    error: dict[str, Any] = r.get_json()["error"]
    assert error["status"] == status
    if code is not None:
        assert error["code"] == code
    if field is not None:
        assert error["field"] == field
    return error


# Every write of this module: (method, path with {q} {a} {c} {tag}, JSON body).
WRITES = [
    ("POST", "/api/v1/questions/{q}/answers", {"body": "Unplug it for a minute, then plug it back in."}),
    ("POST", "/api/v1/questions/{q}/comments", {"body": "Which firmware version is it?"}),
    ("POST", "/api/v1/answers/{a}/comments", {"body": "This worked for me too."}),
    ("PATCH", "/api/v1/questions/{q}", {"title": "Hub blinks orange after the firmware update"}),
    ("PATCH", "/api/v1/answers/{a}", {"body": "Hold the reset button for fifteen seconds."}),
    ("PATCH", "/api/v1/comments/{c}", {"body": "Which firmware version, exactly?"}),
    ("PUT", "/api/v1/questions/{q}/vote", {"value": 1}),
    ("DELETE", "/api/v1/questions/{q}/vote", None),
    ("PUT", "/api/v1/answers/{a}/vote", {"value": 1}),
    ("DELETE", "/api/v1/answers/{a}/vote", None),
    ("PUT", "/api/v1/answers/{a}/accepted", None),
    ("DELETE", "/api/v1/answers/{a}/accepted", None),
    ("POST", "/api/v1/questions/{q}/flags", {"reason": "spam"}),
    ("POST", "/api/v1/answers/{a}/flags", {"reason": "spam"}),
    ("POST", "/api/v1/comments/{c}/flags", {"reason": "spam"}),
    ("PUT", "/api/v1/questions/{q}/follow", None),
    ("DELETE", "/api/v1/questions/{q}/follow", None),
    ("PUT", "/api/v1/tags/{tag}/follow", None),
    ("DELETE", "/api/v1/tags/{tag}/follow", None),
]


def _call(client: FlaskClient, method: str, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.open(path, method=method, json=body, headers=headers or {})


@pytest.fixture
def ids(thread: tuple[Any, Any]) -> dict[str, Any]:
    q, a = thread
    c = comments.add_comment(q.author, q, "Which firmware version is it?")
    db.session.commit()
    return {"q": q.id, "a": a.id, "c": c.id, "tag": "setup"}


def test_every_write_needs_a_token_with_the_write_scope(app: Flask, client: FlaskClient, make_user: Maker,
                                                        ids: dict[str, Any]) -> None:
    _, reader = _token(app, make_user("reader"), ["read"])
    for method, path, body in WRITES:
        url = path.format(**ids)
        r = _call(client, method, url, body)
        _error(r, 401, "unauthorized")
        assert r.headers["WWW-Authenticate"].startswith("Bearer"), url
        _error(_call(client, method, url, body, _bearer(reader)), 403, "insufficient_scope")
    assert _count(app, Answer) == 1 and _count(app, Comment) == 1 and _count(app, Vote) == 0
    assert _count(app, Flag) == 0 and _count(app, TagFollow) == 0


def test_every_write_on_an_unknown_or_hidden_post_is_404(app: Flask, client: FlaskClient, make_user: Maker,
                                                         ids: dict[str, Any]) -> None:
    secret = _writer(app, make_user, "maria")
    unknown = {"q": 999_999, "a": 999_999, "c": 999_999, "tag": "no-such-tag"}
    for method, path, body in WRITES:
        _error(_call(client, method, path.format(**unknown), body, _bearer(secret)), 404, "not_found")
    # The asker deletes the question: to everyone else, it and all on it are gone.
    question = db.session.get(Question, ids["q"])
    from forum.services import questions
    questions.delete_question(question.author, question)
    db.session.commit()
    for method, path, body in WRITES:
        if "{tag}" in path:
            continue
        _error(_call(client, method, path.format(**ids), body, _bearer(secret)), 404, "not_found")


def test_the_openapi_document_lists_each_write_with_its_errors(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for method, path, _ in WRITES:
        if path.endswith(("/vote", "/flags", "/comments")):  # one operation for each kind of post: {kind} names it
            kind, templated = path.split("/")[3], re.sub(r"/api/v1/\w+/\{\w\}", "/api/v1/{kind}/{post_id}", path)
            parameter = next(p for p in spec["paths"][templated]["parameters"] if p["name"] == "kind")
            assert kind in parameter["schema"]["enum"]
        else:
            templated = path.replace("{q}", "{question_id}").replace("{a}", "{answer_id}") \
                .replace("{c}", "{comment_id}").replace("{tag}", "{name}")
        operation = spec["paths"][templated][method.lower()]
        assert {"401", "404"} <= set(operation["responses"]), (method, path)
        assert operation["security"] == [{"bearerAuth": []}]
    assert "get" in spec["paths"]["/api/v1/answers/{answer_id}"]


# --------------------------------------------------------------------------- answers

def test_a_member_answers_and_the_answer_shows_on_the_question(app: Flask, client: FlaskClient, make_user: Maker,
                                                               thread: tuple[Any, Any]) -> None:
    q, _ = thread
    secret = _writer(app, make_user, "maria")
    body = {"body": "Unplug it for a minute, then plug it back in."}
    r = client.post(f"/api/v1/questions/{q.id}/answers", json=body,
                    headers=_bearer(secret, **{"Idempotency-Key": "answer-1"}))
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert made["body"] == body["body"] and made["author"]["username"] == "maria" and made["question_id"] == q.id
    assert made["accepted"] is False and made["comments"] == []
    assert r.headers["Location"].endswith(f"/api/v1/answers/{made['id']}")
    again = client.post(f"/api/v1/questions/{q.id}/answers", json=body,
                        headers=_bearer(secret, **{"Idempotency-Key": "answer-1"}))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert _count(app, Answer, Answer.question_id == q.id) == 2
    shown = client.get(f"/api/v1/questions/{q.id}").get_json()
    assert made["id"] in [a["id"] for a in shown["answers"]] and shown["answer_count"] == 2
    one = client.get(r.headers["Location"])
    assert one.status_code == 200 and one.get_json()["body"] == body["body"]


def test_answering_is_refused_as_on_the_page(app: Flask, client: FlaskClient, make_user: Maker,
                                             thread: tuple[Any, Any]) -> None:
    q, _ = thread
    secret = _writer(app, make_user, "maria")
    url = f"/api/v1/questions/{q.id}/answers"
    _error(client.post(url, json={}, headers=_bearer(secret)), 422, "invalid", "body")
    _error(client.post(url, json={"body": "ok", "extra": 1}, headers=_bearer(secret)), 422, "invalid")
    _error(client.post(url, json={"body": "   "}, headers=_bearer(secret)), 422, "invalid", "body")
    curation.set_locked(make_user("mod", role="moderator"), q, True)
    db.session.commit()
    error = _error(client.post(url, json={"body": "Unplug it for a minute."}, headers=_bearer(secret)), 403)
    assert error["message"] == "This question no longer takes answers."
    assert _count(app, Answer) == 1


def test_one_answer_with_its_visible_comments_and_404_once_deleted(app: Flask, client: FlaskClient,
                                                                   make_user: Maker, thread: tuple[Any, Any]) -> None:
    q, a = thread
    comments.add_comment(q.author, a, "Thanks, trying it now.")
    db.session.commit()
    r = client.get(f"/api/v1/answers/{a.id}")
    assert r.status_code == 200 and r.headers.get("ETag")
    got = r.get_json()
    assert got["id"] == a.id and [c["body"] for c in got["comments"]] == ["Thanks, trying it now."]
    answers.delete_answer(a.author, a)
    db.session.commit()
    _error(client.get(f"/api/v1/answers/{a.id}"), 404, "not_found")
    helper = _token(app, a.author, ["read"])[1]
    assert client.get(f"/api/v1/answers/{a.id}", headers=_bearer(helper)).status_code == 200  # its author still sees it


# --------------------------------------------------------------------------- comments

def test_comments_on_a_question_and_an_answer_show_on_the_thread(app: Flask, client: FlaskClient,
                                                                 make_user: Maker, thread: tuple[Any, Any]) -> None:
    q, a = thread
    secret = _writer(app, make_user, "maria")
    r = client.post(f"/api/v1/questions/{q.id}/comments", json={"body": "Which firmware version is it?"},
                    headers=_bearer(secret, **{"Idempotency-Key": "c-1"}))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["body"] == "Which firmware version is it?" and r.get_json()["author"]["username"] == "maria"
    r = client.post(f"/api/v1/answers/{a.id}/comments", json={"body": "This worked for me too."},
                    headers=_bearer(secret))
    assert r.status_code == 201, r.get_json()
    shown = client.get(f"/api/v1/questions/{q.id}").get_json()
    assert [c["body"] for c in shown["comments"]] == ["Which firmware version is it?"]
    assert [c["body"] for c in shown["answers"][0]["comments"]] == ["This worked for me too."]


def test_commenting_is_refused_as_on_the_page(app: Flask, client: FlaskClient, make_user: Maker,
                                              thread: tuple[Any, Any]) -> None:
    q, a = thread
    secret = _writer(app, make_user, "maria")
    _error(client.post(f"/api/v1/questions/{q.id}/comments", json={"body": "x"}, headers=_bearer(secret)),
           422, "invalid", "body")
    _error(client.post(f"/api/v1/answers/{a.id}/comments", json={"body": 5}, headers=_bearer(secret)),
           422, "invalid", "body")
    production_privileges(app)  # a new member comments on their own threads only
    error = _error(client.post(f"/api/v1/answers/{a.id}/comments", json={"body": "This worked for me too."},
                               headers=_bearer(secret)), 403)
    assert "reputation" in error["message"] and error["help_url"].endswith("/help/privileges")
    asker = _token(app, q.author, ["read", "write"])[1]
    assert client.post(f"/api/v1/answers/{a.id}/comments", json={"body": "Thanks, that did it."},
                       headers=_bearer(asker)).status_code == 201
    assert _count(app, Comment) == 1


# --------------------------------------------------------------------------- edits

def test_the_author_edits_a_question_and_its_history_grows(app: Flask, client: FlaskClient,
                                                           thread: tuple[Any, Any]) -> None:
    q, _ = thread
    asker = _token(app, q.author, ["read", "write"])[1]
    before = len(revisions_of(q))
    r = client.patch(f"/api/v1/questions/{q.id}", headers=_bearer(asker),
                     json={"title": "Hub blinks orange after the firmware update", "tags": ["setup", "firmware"],
                           "summary": "clearer title"})
    assert r.status_code == 200, r.get_json()
    got = r.get_json()
    assert got["title"] == "Hub blinks orange after the firmware update"
    assert sorted(got["tags"]) == ["firmware", "setup"]
    assert got["edited_at"] is not None and got["body"] == q.body
    with app.app_context():
        stored = db.session.get(Question, q.id)
        assert stored is not None and stored.title == "Hub blinks orange after the firmware update"
        assert len(revisions_of(stored)) == before + 1
    r = client.patch(f"/api/v1/questions/{q.id}", headers=_bearer(asker),
                     json={"title": "Hub blinks orange after the firmware update"})
    assert _error(r, 409)["message"] == "Nothing changed."
    _error(client.patch(f"/api/v1/questions/{q.id}", headers=_bearer(asker), json={"title": 3}), 422, "invalid", "title")
    _error(client.patch(f"/api/v1/questions/{q.id}", headers=_bearer(asker), json={"tags": []}), 422, "invalid", "tags")


def test_below_the_edit_privilege_an_edit_is_a_suggestion(app: Flask, client: FlaskClient, make_user: Maker,
                                                          thread: tuple[Any, Any]) -> None:
    q, a = thread
    production_privileges(app)
    secret = _writer(app, make_user, "maria")
    r = client.patch(f"/api/v1/answers/{a.id}", headers=_bearer(secret),
                     json={"body": "Hold the reset button for fifteen seconds.", "summary": "15 s"})
    assert r.status_code == 202, r.get_json()
    assert r.get_json()["suggested_edit_id"] and "review" in r.get_json()["message"]
    with app.app_context():
        assert db.session.get(Answer, a.id).body == "Hold the reset button for ten seconds."  # type: ignore[union-attr]
    assert _count(app, SuggestedEdit, SuggestedEdit.status == "pending") == 1
    r = client.patch(f"/api/v1/answers/{a.id}", headers=_bearer(secret),
                     json={"body": "Hold the reset button for twenty seconds."})
    _error(r, 409)  # one suggestion waits already


def test_the_author_edits_an_answer_but_not_in_a_locked_thread(app: Flask, client: FlaskClient, make_user: Maker,
                                                               thread: tuple[Any, Any]) -> None:
    q, a = thread
    helper = _token(app, a.author, ["read", "write"])[1]
    r = client.patch(f"/api/v1/answers/{a.id}", headers=_bearer(helper),
                     json={"body": "Hold the reset button for fifteen seconds."})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["body"] == "Hold the reset button for fifteen seconds." and r.get_json()["edited_at"]
    with app.app_context():
        stored = db.session.get(Answer, a.id)
        assert stored is not None and len(revisions_of(stored)) == 2
    _error(client.patch(f"/api/v1/answers/{a.id}", headers=_bearer(helper), json={}), 422, "invalid", "body")
    curation.set_locked(make_user("mod", role="moderator"), db.session.get(Question, q.id), True)
    db.session.commit()
    _error(client.patch(f"/api/v1/answers/{a.id}", headers=_bearer(helper),
                        json={"body": "Hold the reset button for twenty seconds."}), 403, "forbidden")


def test_a_comment_is_edited_by_its_author_within_the_window_only(app: Flask, client: FlaskClient,
                                                                  make_user: Maker, ids: dict[str, Any]) -> None:
    asker = _token(app, db.session.get(Question, ids["q"]).author, ["read", "write"])[1]  # type: ignore[union-attr]
    url = f"/api/v1/comments/{ids['c']}"
    r = client.patch(url, headers=_bearer(asker), json={"body": "Which firmware version, exactly?"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["body"] == "Which firmware version, exactly?" and r.get_json()["edited_at"]
    shown = client.get(f"/api/v1/questions/{ids['q']}").get_json()
    assert [c["body"] for c in shown["comments"]] == ["Which firmware version, exactly?"]
    _error(client.patch(url, headers=_bearer(asker), json={"body": "x"}), 422, "invalid", "body")
    other = _writer(app, make_user, "maria")
    error = _error(client.patch(url, headers=_bearer(other), json={"body": "Not my comment at all"}), 403)
    assert error["message"] == "You can only edit your own comments."
    comment = db.session.get(Comment, ids["c"])
    assert comment is not None
    comment.created_at -= timedelta(seconds=app.config["COMMENT_EDIT_SECONDS"] + 60)
    db.session.commit()
    error = _error(client.patch(url, headers=_bearer(asker), json={"body": "Too late to change this"}), 403)
    assert error["message"] == "Comments can only be edited for five minutes."


def test_a_comment_hidden_for_review_is_404_to_others(app: Flask, client: FlaskClient, make_user: Maker,
                                                      ids: dict[str, Any]) -> None:
    comment = db.session.get(Comment, ids["c"])
    assert comment is not None
    comment.hidden_at, comment.hidden_reason = comment.created_at, "review"
    db.session.commit()
    other = _writer(app, make_user, "maria")
    _error(client.patch(f"/api/v1/comments/{ids['c']}", headers=_bearer(other), json={"body": "Something else"}),
           404, "not_found")
    _error(client.post(f"/api/v1/comments/{ids['c']}/flags", headers=_bearer(other), json={"reason": "spam"}),
           404, "not_found")


# --------------------------------------------------------------------------- votes

def test_a_vote_moves_the_score_and_can_be_withdrawn(app: Flask, client: FlaskClient, make_user: Maker,
                                                     thread: tuple[Any, Any]) -> None:
    q, a = thread
    secret = _writer(app, make_user, "maria")
    r = client.put(f"/api/v1/answers/{a.id}/vote", json={"value": 1}, headers=_bearer(secret))
    assert r.status_code == 200 and r.get_json() == {"score": 1, "my_vote": 1}
    r = client.put(f"/api/v1/questions/{q.id}/vote", json={"value": -1}, headers=_bearer(secret))
    assert r.status_code == 200 and r.get_json() == {"score": -1, "my_vote": -1}
    assert client.get(f"/api/v1/answers/{a.id}").get_json()["score"] == 1
    assert _count(app, Vote) == 2
    r = client.delete(f"/api/v1/answers/{a.id}/vote", headers=_bearer(secret))
    assert r.status_code == 200 and r.get_json() == {"score": 0, "my_vote": 0}
    r = client.put(f"/api/v1/questions/{q.id}/vote", json={"value": 0}, headers=_bearer(secret))
    assert r.get_json() == {"score": 0, "my_vote": 0}
    assert _count(app, Vote) == 0


def test_votes_are_refused_as_on_the_page(app: Flask, client: FlaskClient, make_user: Maker,
                                          thread: tuple[Any, Any]) -> None:
    q, a = thread
    helper = _token(app, a.author, ["read", "write"])[1]
    error = _error(client.put(f"/api/v1/answers/{a.id}/vote", json={"value": 1}, headers=_bearer(helper)), 403)
    assert error["message"] == "You can't vote on this post."
    for bad in ({"value": 2}, {"value": "up"}, {"value": True}, {}):
        _error(client.put(f"/api/v1/questions/{q.id}/vote", json=bad, headers=_bearer(helper)), 422, "invalid", "value")
    production_privileges(app)
    newcomer = _writer(app, make_user, "maria")
    error = _error(client.put(f"/api/v1/questions/{q.id}/vote", json={"value": -1}, headers=_bearer(newcomer)), 403)
    assert error["help_url"].endswith("/help/privileges")  # a refusal for lack of reputation links there
    assert _count(app, Vote) == 0


# --------------------------------------------------------------------------- acceptance

def test_the_asker_accepts_and_unaccepts_others_may_not(app: Flask, client: FlaskClient, make_user: Maker,
                                                        make_answer: Maker, thread: tuple[Any, Any]) -> None:
    q, a = thread
    other = _writer(app, make_user, "maria")
    error = _error(client.put(f"/api/v1/answers/{a.id}/accepted", headers=_bearer(other)), 403)
    assert error["message"] == "Only the asker or staff can accept an answer."
    asker = _token(app, q.author, ["read", "write"])[1]
    r = client.put(f"/api/v1/answers/{a.id}/accepted", headers=_bearer(asker))
    assert r.status_code == 200 and r.get_json() == {"question_id": q.id, "accepted_answer_id": a.id}
    shown = client.get(f"/api/v1/questions/{q.id}").get_json()
    assert shown["solved"] is True and shown["answers"][0]["accepted"] is True
    error = _error(client.delete(f"/api/v1/answers/{a.id}/accepted", headers=_bearer(other)), 403)
    assert error["message"] == "Only the asker or staff can change the accepted answer."
    r = client.delete(f"/api/v1/answers/{a.id}/accepted", headers=_bearer(asker))
    assert r.status_code == 200 and r.get_json() == {"question_id": q.id, "accepted_answer_id": None}
    _error(client.delete(f"/api/v1/answers/{a.id}/accepted", headers=_bearer(asker)), 409, "conflict")
    staff = _writer(app, make_user, "agent", role="agent")
    assert client.put(f"/api/v1/answers/{a.id}/accepted", headers=_bearer(staff)).status_code == 200
    with app.app_context():
        assert db.session.get(Question, q.id).accepted_answer_id == a.id  # type: ignore[union-attr]
    other_answer = make_answer(db.session.get(Question, q.id), body="Try another power adapter first.")
    error = _error(client.delete(f"/api/v1/answers/{other_answer.id}/accepted", headers=_bearer(asker)), 409)
    assert error["message"] == "This answer is not the accepted one."


# --------------------------------------------------------------------------- flags

def test_a_member_flags_a_post_once_never_their_own(app: Flask, client: FlaskClient, make_user: Maker,
                                                    ids: dict[str, Any]) -> None:
    secret = _writer(app, make_user, "maria")
    r = client.post(f"/api/v1/answers/{ids['a']}/flags", json={"reason": "spam"},
                    headers=_bearer(secret, **{"Idempotency-Key": "f-1"}))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["reason"] == "spam" and r.get_json()["status"] == "pending"
    assert r.get_json()["post_type"] == "answer" and r.get_json()["post_id"] == ids["a"]
    _error(client.post(f"/api/v1/answers/{ids['a']}/flags", json={"reason": "rude"}, headers=_bearer(secret)),
           409, "conflict")
    r = client.post(f"/api/v1/comments/{ids['c']}/flags", json={"reason": "other", "note": "Off-topic advert"},
                    headers=_bearer(secret))
    assert r.status_code == 201 and r.get_json()["note"] == "Off-topic advert"
    _error(client.post(f"/api/v1/questions/{ids['q']}/flags", json={"reason": "other"}, headers=_bearer(secret)),
           422, "invalid", "note")
    _error(client.post(f"/api/v1/questions/{ids['q']}/flags", json={"reason": "boring"}, headers=_bearer(secret)),
           422, "invalid", "reason")
    asker = _token(app, db.session.get(Question, ids["q"]).author, ["read", "write"])[1]  # type: ignore[union-attr]
    error = _error(client.post(f"/api/v1/questions/{ids['q']}/flags", json={"reason": "spam"},
                               headers=_bearer(asker)), 403)
    assert error["message"] == "You can't flag your own post."
    assert _count(app, Flag) == 2


# --------------------------------------------------------------------------- following

def test_following_a_question_and_a_tag(app: Flask, client: FlaskClient, make_user: Maker,
                                        thread: tuple[Any, Any]) -> None:
    q, _ = thread
    maria = make_user("maria")
    secret = _token(app, maria, ["read", "write"])[1]
    for _ in range(2):  # idempotent
        r = client.put(f"/api/v1/questions/{q.id}/follow", headers=_bearer(secret))
        assert r.status_code == 200 and r.get_json() == {"following": True}
    assert _count(app, QuestionFollow, QuestionFollow.user_id == maria.id) == 1
    r = client.delete(f"/api/v1/questions/{q.id}/follow", headers=_bearer(secret))
    assert r.status_code == 200 and r.get_json() == {"following": False}
    assert _count(app, QuestionFollow, QuestionFollow.user_id == maria.id) == 0
    r = client.put("/api/v1/tags/SETUP/follow", headers=_bearer(secret))
    assert r.status_code == 200 and r.get_json() == {"following": True}
    with app.app_context():
        tag = db.session.scalar(select(Tag).where(Tag.name == "setup"))
        assert tag is not None
        assert _count(app, TagFollow, TagFollow.user_id == maria.id, TagFollow.tag_id == tag.id) == 1
    assert client.delete("/api/v1/tags/setup/follow", headers=_bearer(secret)).get_json() == {"following": False}
    assert _count(app, TagFollow) == 0


def test_a_silenced_member_reads_and_follows_but_may_not_post_vote_or_flag(app: Flask, client: FlaskClient,
                                                                          make_user: Maker, ids: dict[str, Any]) -> None:
    helper = db.session.get(Answer, ids["a"]).author  # type: ignore[union-attr]
    secret = _token(app, helper, ["read", "write"])[1]
    helper.silenced_until = utcnow() + timedelta(days=1)
    db.session.commit()
    refused = [(method, path, body) for method, path, body in WRITES
               if not path.endswith(("/follow", "/accepted")) and method != "DELETE"]
    for method, path, body in refused:
        error = _error(_call(client, method, path.format(**ids), body, _bearer(secret)), 403)
        assert error["code"] == "forbidden", (method, path)
    for method, path, body in WRITES:
        if path.endswith("/follow"):
            assert _call(client, method, path.format(**ids), body, _bearer(secret)).status_code == 200, path
    assert client.get(f"/api/v1/answers/{ids['a']}", headers=_bearer(secret)).status_code == 200
    assert _count(app, Answer) == 1 and _count(app, Comment) == 1 and _count(app, Vote) == 0 and _count(app, Flag) == 0
