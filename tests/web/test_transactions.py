"""One transaction per request (forum/views/formglue.py): a POST view commits once when it
succeeds; a refusal keeps the form and stores nothing; a failure, even after the service
flushed or at the commit itself, leaves neither rows nor a "saved" message; JSON clients get
``{"error": ...}``; a GET never commits."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask, has_request_context, request
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from forum.extensions import db
from forum.models import Question, Revision, Tag, WatchedWord
from forum.services import questions as qsvc
from forum.services.errors import FieldError, InvalidState
from forum.views.formglue import is_write_view

TITLE = "Hub not found after changing my router"
BODY = "The Lumen app says Hub not found after I changed my router. Steps tried: reboot, re-pair."


@contextmanager
def commits() -> Iterator[list[str]]:
    """The request method of every real (outermost) commit of a request's session."""
    seen: list[str] = []

    def note(session: Session) -> None:
        if has_request_context() and not session.in_nested_transaction():
            seen.append(request.method)

    event.listen(FlaskSession, "after_commit", note)
    try:
        yield seen
    finally:
        event.remove(FlaskSession, "after_commit", note)


def _count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def maria(client, auth, make_user) -> str:
    make_user("maria")
    auth.login("maria")
    return auth.csrf_token("/")


def _ask(client, token: str, body: str = BODY, **headers: str) -> Any:
    return client.post("/questions/ask", data={"title": TITLE, "body": body, "tags": "wifi", "csrf_token": token},
                       headers=headers)


def _flush_then(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Make asking a question do all its real work (rows flushed), then fail with ``error``."""
    real = qsvc.ask_question

    def ask_then_fail(*args: Any, **kwargs: Any) -> Question:
        real(*args, **kwargs)
        assert db.session.scalar(select(func.count()).select_from(Question)) == 1  # flushed, not committed
        raise error

    monkeypatch.setattr(qsvc, "ask_question", ask_then_fail)


def test_a_successful_form_post_commits_once_then_redirects(client, maria) -> None:
    with commits() as seen:
        r = _ask(client, maria)
    assert r.status_code == 302 and r.headers["Location"].endswith("/hub-not-found-after-changing-my-router")
    assert seen == ["POST"]
    assert _count(Question) == 1
    assert "Your question is posted." in client.get(r.headers["Location"]).get_data(as_text=True)


def test_a_refused_form_keeps_the_text_answers_400_and_stores_nothing(client, maria, make_user) -> None:
    db.session.add(WatchedWord(phrase="refund scam", action="block", created_by_id=make_user("mod", role="moderator").id))
    db.session.commit()
    with commits() as seen:
        r = _ask(client, maria, body=BODY + " Is this a refund scam?")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Your post contains a blocked word" in html
    assert f'value="{TITLE}"' in html and "Is this a refund scam?" in html
    assert seen == [] and _count(Question) == 0


def test_a_refusal_after_the_service_flushed_stores_nothing(client, maria, monkeypatch) -> None:
    _flush_then(monkeypatch, FieldError("title", "Simulated refusal after the rows were flushed."))
    with commits() as seen:
        r = _ask(client, maria)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Simulated refusal after the rows were flushed." in html
    assert f'value="{TITLE}"' in html and BODY in html
    assert seen == []
    assert (_count(Question), _count(Revision), _count(Tag)) == (0, 0, 0)


def test_a_crash_after_the_service_flushed_rolls_back_and_shows_the_error_page(app, client, maria, monkeypatch) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    _flush_then(monkeypatch, RuntimeError("simulated crash"))
    r = _ask(client, maria)
    assert r.status_code == 500 and "<h1>Something went wrong</h1>" in r.get_data(as_text=True)
    assert (_count(Question), _count(Revision), _count(Tag)) == (0, 0, 0)


def test_a_failed_commit_flashes_nothing_and_stores_nothing(app, client, maria) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def disk_full(session: Session) -> None:
        if has_request_context() and request.method == "POST":
            raise RuntimeError("simulated commit failure")

    event.listen(FlaskSession, "before_commit", disk_full)
    try:
        r = _ask(client, maria)
    finally:
        event.remove(FlaskSession, "before_commit", disk_full)
    assert r.status_code == 500 and _count(Question) == 0
    # The view had flashed its success before the commit; the flash went with the rollback,
    # from the error page and from the next page alike.
    assert "Your question is posted." not in r.get_data(as_text=True)
    assert "Your question is posted." not in client.get("/").get_data(as_text=True)


def test_a_failed_registration_signs_nobody_in(app, client, auth) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    token = auth.csrf_token("/register")

    def disk_full(session: Session) -> None:
        if has_request_context() and request.method == "POST":
            raise RuntimeError("simulated commit failure")

    event.listen(FlaskSession, "before_commit", disk_full)
    try:
        r = client.post("/register", data={"username": "newcomer", "email": "newcomer@example.com",
                                           "password": "correct-horse-battery", "confirm": "correct-horse-battery",
                                           "csrf_token": token})
    finally:
        event.remove(FlaskSession, "before_commit", disk_full)
    assert r.status_code == 500
    for page in (r.get_data(as_text=True), client.get("/").get_data(as_text=True)):
        assert "Welcome, newcomer" not in page and "newcomer" not in page and "Log out" not in page


def test_json_clients_get_refusals_as_json(client, maria, make_user, make_question) -> None:
    json = {"Accept": "application/json"}
    other = make_question(author=make_user("asker"), title="Hub blinks orange after the firmware update")
    db.session.add(WatchedWord(phrase="refund scam", action="block", created_by_id=make_user("mod", role="moderator").id))
    db.session.commit()
    # A refusal a form would show beside its field.
    r = _ask(client, maria, body=BODY + " Is this a refund scam?", **json)
    assert r.status_code == 400 and r.is_json
    assert r.get_json()["error"] == {"code": "bad_request", "status": 400, "field": "body",
                                     "message": "Your post contains a blocked word: “refund scam”. Please rephrase it."}
    assert _count(Question) == 1  # only the asker's
    # Input the view itself refuses, and a member trying a staff action.
    r = client.post(f"/questions/{other.id}/vote", data={"value": "up", "csrf_token": maria}, headers=json)
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "value"
    r = client.post(f"/questions/{other.id}/pin", data={"csrf_token": maria}, headers=json)
    assert r.status_code == 403 and r.get_json()["error"]["status"] == 403
    # A success answers after its commit.
    with commits() as seen:
        r = client.post(f"/questions/{other.id}/vote", data={"value": "1", "csrf_token": maria}, headers=json)
    assert r.status_code == 200 and r.get_json() == {"score": 1, "my_vote": 1} and seen == ["POST"]
    db.session.expire_all()
    assert db.session.get(Question, other.id).score == 1


def test_a_refused_one_button_action_is_flashed_and_stores_nothing(client, auth, make_user, make_question, monkeypatch) -> None:
    from forum.services import curation

    make_user("agent", role="agent")
    q = make_question(title="Hub blinks orange after the firmware update")
    auth.login("agent")
    token = auth.csrf_token("/")

    def pin_then_refuse(actor: Any, question: Question) -> None:
        curation.set_pinned(actor, question, True)  # a real write, flushed and logged...
        raise InvalidState("Simulated: no answer is accepted.")  # ...then a refusal

    monkeypatch.setattr(curation, "unaccept_answer", pin_then_refuse)
    with commits() as seen:
        r = client.post(f"/questions/{q.id}/unaccept", data={"csrf_token": token})
    assert r.status_code == 302 and seen == []
    assert "Simulated: no answer is accepted." in client.get(r.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Question, q.id).pinned_at is None


def test_an_uncaught_refusal_shows_the_error_page_and_stores_nothing(client, auth, make_user, make_question, monkeypatch) -> None:
    from forum.services import curation

    make_user("agent", role="agent")
    q = make_question(title="Hub blinks orange after the firmware update")
    auth.login("agent")
    token = auth.csrf_token("/")
    real = curation.set_pinned

    def pin_then_refuse(*args: Any) -> None:
        real(*args)
        raise InvalidState("Simulated: pinning is paused.")

    monkeypatch.setattr(curation, "set_pinned", pin_then_refuse)
    with commits() as seen:
        r = client.post(f"/questions/{q.id}/pin", data={"csrf_token": token})
    assert r.status_code == 409 and "Simulated: pinning is paused." in r.get_data(as_text=True)
    assert seen == []
    db.session.expire_all()
    assert db.session.get(Question, q.id).pinned_at is None


@pytest.fixture
def write_on_get(app: Flask) -> Callable[[], Any]:
    """A (wrong) GET route that tries to commit: the guard must refuse it."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def sneaky() -> str:
        db.session.add(Tag(name="sneaky", question_count=0))
        db.session.commit()
        return "written"

    app.add_url_rule("/_test/write-on-get", "write_on_get", sneaky)
    return sneaky


def test_a_get_never_commits(client, auth, make_user, make_question, make_answer, write_on_get) -> None:
    maria = make_user("maria")
    q = make_question(author=maria)
    a = make_answer(q, author=maria)
    auth.login("maria")
    pages = ["/", "/questions", f"/questions/{q.id}", "/questions/ask", f"/questions/{q.id}/edit",
             f"/answers/{a.id}/edit", f"/users/{maria.id}", "/notifications", "/settings/profile",
             "/settings/notifications", "/search?q=hub", "/tags", "/login"]
    with commits() as seen:
        statuses = {path: client.get(path, follow_redirects=True).status_code for path in pages}
        refused = client.get("/_test/write-on-get")
    assert set(statuses.values()) == {200}, statuses
    assert seen == []
    assert refused.status_code == 500 and _count(Tag) == 1  # only the question's tag


def test_every_post_route_runs_in_the_transaction_wrapper(app: Flask) -> None:
    read_only = {"questions.preview"}  # renders Markdown for the live preview; writes nothing
    unwrapped = sorted(rule.endpoint for rule in app.url_map.iter_rules()
                       if "POST" in (rule.methods or ()) and not is_write_view(app.view_functions[rule.endpoint]))
    assert unwrapped == sorted(read_only)
