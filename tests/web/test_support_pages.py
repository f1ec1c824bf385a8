"""Support desk pages: who reaches what, the public placeholder, canned replies with hostile input."""
from __future__ import annotations

import html as htmllib
import json
import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Answer, CannedReply, Playbook, QuestionTriage, SupportCase, User
from forum.services import canned, cases

ROLES = ["anonymous", "member", "asker", "agent", "moderator", "admin"]
SECRET = "Customer serial LX-42-ZEBRAPHRASE"
HOSTILE = '<script>alert(1)</script>[x](javascript:alert(2))'


@pytest.fixture
def world(make_user, make_question):
    asker = make_user("asker")
    staff = make_user("desk_agent", role="agent")
    q = make_question(author=asker, title="My hub shows a red light after the storm", tags="hub power")
    case = cases.open_case(staff, q)
    cases.add_message(asker, case, SECRET)
    reply = canned.create_reply(staff, canned.ReplyInput("Power cycle", "Hi {asker}, unplug it. See {question_link}."))
    db.session.commit()
    return {"q": q.id, "case": case.id, "reply": reply.id}


def _as(role: str, make_user, auth) -> None:
    if role == "anonymous":
        return
    if role == "asker":
        auth.login("asker")
        return
    make_user(f"who_{role}", role=role)
    auth.login(f"who_{role}")


GUARDED = {
    "/support/queue": {"member": 403, "asker": 403, "agent": 200, "moderator": 200, "admin": 200},
    "/support/playbooks": {"member": 403, "asker": 403, "agent": 200, "moderator": 200, "admin": 200},
    "/support/playbooks/outage/critical": {"member": 403, "asker": 403, "agent": 403, "moderator": 403, "admin": 200},
    "/support/replies": {"member": 403, "asker": 403, "agent": 200, "moderator": 200, "admin": 200},
    "/support/replies/new": {"member": 403, "asker": 403, "agent": 200, "moderator": 200, "admin": 200},
    "/support/replies/{reply}/edit": {"member": 403, "asker": 403, "agent": 200, "moderator": 200, "admin": 200},
    "/support/fill?question={q}&reply={reply}": {"member": 403, "asker": 403, "agent": 200, "moderator": 200, "admin": 200},
    "/cases/{case}": {"member": 403, "asker": 200, "agent": 200, "moderator": 200, "admin": 200},
    "/cases": {"member": 200, "asker": 200, "agent": 200, "moderator": 200, "admin": 200},
}


@pytest.mark.parametrize("role", ROLES)
def test_guarded_pages(client, auth, make_user, world, role: str) -> None:
    _as(role, make_user, auth)
    for path, expected in GUARDED.items():
        r = client.get(path.format(**world))
        if role == "anonymous":
            assert r.status_code == 302 and r.headers["Location"].startswith("/login?next="), path
            continue
        assert r.status_code == expected[role], path
        if path.startswith("/cases/"):
            assert (SECRET in r.get_data(as_text=True)) == (r.status_code == 200)


def test_missing_case_is_404(client, auth, make_user, world) -> None:
    _as("agent", make_user, auth)
    assert client.get(f"/cases/{world['case'] + 999}").status_code == 404


# POST actions in the order they run (each allowed one leaves the next possible): status per role.
ACTIONS = [
    ("/cases/{case}/messages", {"body": "Another private message"},
     {"member": 403, "asker": 302, "agent": 302, "moderator": 302, "admin": 302}),
    ("/cases/{case}/status", {"status": "waiting"},
     {"member": 403, "asker": 403, "agent": 302, "moderator": 302, "admin": 302}),
    ("/questions/{q}/triage", {"type": "problem", "severity": "high"},
     {"member": 403, "asker": 403, "agent": 302, "moderator": 302, "admin": 302}),
    ("/support/playbooks/outage/critical", {"target_hours": "2", "first_reply": "On it."},
     {"member": 403, "asker": 403, "agent": 403, "moderator": 403, "admin": 302}),
    ("/cases/{case}/resolve", {"summary": "We replaced the power supply; the hub is green again."},
     {"member": 403, "asker": 403, "agent": 302, "moderator": 302, "admin": 302}),
    ("/support/replies/{reply}/delete", {}, {"member": 403, "asker": 403, "agent": 302, "moderator": 302, "admin": 302}),
]


def _state(world) -> tuple:
    db.session.expire_all()
    case = db.session.get(SupportCase, world["case"])
    triage = db.session.get(QuestionTriage, world["q"])
    return (case.status, len(cases.timeline(case)), triage and triage.type,
            db.session.get(CannedReply, world["reply"]) is not None,
            db.session.scalar(select(Playbook.target_hours).where(Playbook.type == "outage")))


@pytest.mark.parametrize("role", ROLES)
def test_state_changing_actions(client, auth, make_user, world, role: str) -> None:
    """Forbidden actions change nothing; anonymous posts go to the login page."""
    _as(role, make_user, auth)
    for path, data, expected in ACTIONS:
        before = _state(world)
        r = auth.post(path.format(**world), data)
        if role == "anonymous":
            assert r.status_code == 302 and "/login" in r.headers["Location"], path
        else:
            assert r.status_code == expected[role], (path, r.get_data(as_text=True)[-800:])
        if role == "anonymous" or expected[role] != 302:
            assert _state(world) == before, path
        else:
            assert _state(world) != before, path


def test_continue_privately_is_staff_only(client, auth, make_user, make_question) -> None:
    asker = make_user("q_owner")
    q = make_question(author=asker)
    auth.login("q_owner")
    assert auth.post(f"/questions/{q.id}/private").status_code == 403
    auth.logout()
    make_user("opener", role="agent")
    auth.login("opener")
    r = auth.post(f"/questions/{q.id}/private")
    case = db.session.scalars(select(SupportCase)).one()
    assert r.status_code == 302 and r.headers["Location"] == f"/cases/{case.id}"
    again = auth.post(f"/questions/{q.id}/private")  # a second click goes to the same case
    assert again.headers["Location"] == f"/cases/{case.id}" and db.session.query(SupportCase).count() == 1


def test_public_question_shows_the_placeholder_and_nothing_private(client, auth, make_user, world) -> None:
    page = client.get(f"/questions/{world['q']}", follow_redirects=True).get_data(as_text=True)
    assert "Our support team is helping privately" in page and "status: " in page
    assert SECRET not in page and "Open the private case" not in page
    assert "1 result<" in client.get("/search?q=storm").get_data(as_text=True)  # the index does work here
    assert "0 results" in client.get("/search?q=ZEBRAPHRASE").get_data(as_text=True)
    auth.login("asker")
    assert "Open the private case" in client.get(f"/questions/{world['q']}", follow_redirects=True).get_data(as_text=True)


def test_resolving_through_the_page_posts_the_official_answer(client, auth, make_user, world) -> None:
    _as("agent", make_user, auth)
    r = auth.post(f"/cases/{world['case']}/resolve", {"summary": "too short"})
    assert r.status_code == 400 and "too short" in r.get_data(as_text=True)  # the text stays in the form
    summary = "The storm damaged the power adapter; we sent a replacement and the hub is fine."
    # The asker's message has no staff reply yet: confirm first (tests/web/test_case_resolution_pages.py).
    assert auth.post(f"/cases/{world['case']}/resolve", {"summary": summary}).status_code == 400
    assert auth.post(f"/cases/{world['case']}/resolve", {"summary": summary, "confirm": "1"}).status_code == 302
    auth.logout()
    page = client.get(f"/questions/{world['q']}", follow_redirects=True).get_data(as_text=True)
    answer = db.session.scalars(select(Answer)).one()
    assert summary in page and "Official answer" in page
    assert f'href="#answer-{answer.id}"><strong>Solved privately by who_agent on ' in page
    assert SECRET not in page


def test_fill_endpoint_fills_placeholders_and_flags_unknown_ones(client, auth, make_user, world) -> None:
    _as("agent", make_user, auth)
    agent = db.session.scalars(select(User).where(User.username == "desk_agent")).one()
    reply = canned.create_reply(agent, canned.ReplyInput("Doc", "See {article_link} {asker} {ticket_no}"))
    db.session.commit()
    data = client.get(f"/support/fill?question={world['q']}&reply={reply.id}").get_json()
    assert data["text"] == "See {article_link} asker {ticket_no}"
    assert data["unknown"] == ["ticket_no"] and data["unfilled"] == ["article_link"]
    first = client.get(f"/support/fill?question={world['q']}&reply={world['reply']}").get_json()
    assert re.search(r"See http://localhost/questions/\d+/my-hub-shows-a-red-light", first["text"])


def test_hostile_display_name_stays_inert_in_every_path(client, auth, make_user, make_question) -> None:
    from forum.services import accounts
    villain = make_user("villain")
    accounts.update_profile(villain, HOSTILE[:60], "")
    q = make_question(author=villain)
    staff = make_user("inert_agent", role="agent")
    reply = canned.create_reply(staff, canned.ReplyInput("Hello", "Hi {asker}, thanks."))
    db.session.commit()
    auth.login("inert_agent")
    data = client.get(f"/support/fill?question={q.id}&reply={reply.id}").get_json()
    assert data["text"] == f"Hi {villain.name}, thanks."  # JSON: the page inserts it as textarea text
    page = client.get(f"/questions/{q.id}?reply={reply.id}", follow_redirects=True).get_data(as_text=True)
    textarea = re.search(r'<textarea[^>]*id="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "<script>" not in textarea and htmllib.unescape(textarea).strip() == data["text"]
    r = auth.post(f"/questions/{q.id}/answers", {"body": data["text"]})
    assert r.status_code == 302
    html = db.session.scalars(select(Answer.body_html)).one()
    assert "<script" not in html and "javascript:" not in html
    json.dumps(data)  # the endpoint answered real JSON


def test_canned_reply_form_keeps_text_on_error(client, auth, make_user, world) -> None:
    _as("agent", make_user, auth)
    r = auth.post("/support/replies/new", {"title": "Power cycle", "body": "Keep this text {asker}"})
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and "already has that title" in body and "Keep this text {asker}" in body


def test_playbook_edit_rejects_bad_targets_and_non_staff_watchers(client, auth, make_user, world) -> None:
    _as("admin", make_user, auth)
    r = auth.post("/support/playbooks/outage/critical", {"target_hours": "0", "first_reply": "Keep me"})
    assert r.status_code == 400 and "Keep me" in r.get_data(as_text=True)
    r = auth.post("/support/playbooks/outage/critical", {"target_hours": "2", "watchers": "asker"})
    assert r.status_code == 400 and "Not staff members: asker" in r.get_data(as_text=True)
    r = auth.post("/support/playbooks/outage/critical", {"target_hours": "2", "watchers": "desk_agent",
                                                        "notify_roles": "moderator"})
    assert r.status_code == 302
    assert "tells moderator, desk_agent" in client.get("/support/playbooks").get_data(as_text=True)


def test_queue_page_shows_due_labels_filters_and_duty(client, auth, make_user, make_question) -> None:
    make_question(title="Waiting in the wifi tag for help", tags="wifi")
    make_question(title="Waiting in the billing tag for help", tags="billing")
    _as("agent", make_user, auth)
    page = client.get("/support/queue?tag=wifi").get_data(as_text=True)
    assert "Waiting in the wifi tag" in page and "Waiting in the billing tag" not in page
    assert re.search(r"due in (23|24) h", page)
    assert auth.post("/support/duty", {"on": "1"}).status_code == 302
    assert "You are on duty" in client.get("/support/queue").get_data(as_text=True)


def test_article_link_is_filled_only_for_a_published_article(client, auth, make_user, world) -> None:
    from forum.services import articles
    _as("agent", make_user, auth)
    agent = db.session.scalars(select(User).where(User.username == "desk_agent")).one()
    draft = articles.create_article(agent, articles.ArticleInput("Power adapter troubleshooting guide",
                                                                 "Check the adapter and the cable first.", "hub"))
    reply = canned.create_reply(agent, canned.ReplyInput("Guide", "Read {article_link}"))
    db.session.commit()
    url = f"/support/fill?question={world['q']}&reply={reply.id}&article={draft.id}"
    assert client.get(url).get_json()["unfilled"] == ["article_link"]  # a draft is not linked
    articles.set_state(agent, draft, "published")
    db.session.commit()
    data = client.get(url).get_json()
    assert re.fullmatch(rf"Read http://localhost/articles/{draft.id}/[a-z-]+", data["text"]) and data["unfilled"] == []


def test_asker_finds_their_case_from_their_profile(client, auth, world) -> None:
    auth.login("asker")
    asker = db.session.scalars(select(User).where(User.username == "asker")).one()
    profile = client.get(f"/users/{asker.id}", follow_redirects=True).get_data(as_text=True)
    assert 'href="/cases"' in profile
    listing = client.get("/cases").get_data(as_text=True)
    assert f'href="/cases/{world["case"]}"' in listing


def test_a_deleted_reply_link_still_shows_the_question(client, auth, make_user, world) -> None:
    _as("agent", make_user, auth)
    r = client.get(f"/questions/{world['q']}?reply=99999", follow_redirects=True)
    assert r.status_code == 200 and "That reply is no longer in the library." in r.get_data(as_text=True)


def test_an_unfilled_placeholder_is_never_published(client, auth, make_user, world) -> None:
    """Issue 13, item 3: a canned reply posted with "{article_link}" still in it is refused with the
    field error and the typed text kept; quoted as code, or filled, it posts."""
    _as("agent", make_user, auth)
    unfinished = "Hi there, the status lights are explained here: {article_link}. Tell us what you see."
    before = db.session.scalar(select(db.func.count(Answer.id)))
    r = auth.post(f"/questions/{world['q']}/answers", {"body": unfinished})
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Fill in or remove {article_link} before posting" in page
    assert htmllib.escape(unfinished, quote=False) in page  # the agent's text is still in the form
    assert db.session.scalar(select(db.func.count(Answer.id))) == before
    # The same in the private case and as its public resolution.
    r = auth.post(f"/cases/{world['case']}/messages", {"body": "Hello {asker}, any news?"})
    assert r.status_code == 400 and "Fill in or remove {asker}" in r.get_data(as_text=True)
    r = auth.post(f"/cases/{world['case']}/resolve",
                  {"summary": "Resolved: replaced the adapter, see {question_link} for the steps we took."})
    assert r.status_code == 400 and "Fill in or remove {question_link}" in r.get_data(as_text=True)
    assert db.session.get(SupportCase, world["case"]).status != "resolved"
    # Quoted as code it is what the writer means; with the link filled in it posts.
    quoted = "Your template engine shows `{asker}` literally because it is not a format string."
    assert auth.post(f"/questions/{world['q']}/answers", {"body": quoted}).status_code == 302
    filled = unfinished.replace("{article_link}", "http://localhost/articles/1/status-lights")
    assert auth.post(f"/questions/{world['q']}/answers", {"body": filled}).status_code == 302
    assert db.session.scalar(select(db.func.count(Answer.id))) == before + 2


def test_a_comment_with_a_placeholder_is_refused(client, auth, make_user, world) -> None:
    _as("agent", make_user, auth)
    r = auth.post(f"/questions/{world['q']}/comments", {"body": "See {question_link} for the fix"})
    assert r.status_code == 400 and "Fill in or remove {question_link}" in r.get_data(as_text=True)


def test_untriaged_rows_do_not_look_triaged(client, auth, make_user, make_question) -> None:
    """Issue 13, item 12: an untriaged row's selects showed "Question" and "Normal", as if triaged."""
    from forum.services import support

    untriaged = make_question(title="Nobody has looked at this one yet", tags="wifi")
    triaged = make_question(title="This one has been looked at already", tags="wifi")
    _as("agent", make_user, auth)
    agent = db.session.scalars(select(User).where(User.username == "who_agent")).one()
    support.triage_question(agent, triaged, "problem", "high")
    db.session.commit()
    page = client.get("/support/queue?tag=wifi").get_data(as_text=True)
    forms = {q.id: page[page.index(f'action="/questions/{q.id}/triage"'):] for q in (untriaged, triaged)}
    rows = {qid: form[:form.index("</form>")] for qid, form in forms.items()}
    assert '<option selected value="">Type…</option>' in rows[untriaged.id]
    assert '<option selected value="">Severity…</option>' in rows[untriaged.id]
    assert '<option selected value="problem">' in rows[triaged.id] and 'value="">Type…' not in rows[triaged.id]
    assert "Not triaged yet" in page
    thread = client.get(f"/questions/{untriaged.id}", follow_redirects=True).get_data(as_text=True)
    assert '<option selected value="">Type…</option>' in thread  # the staff panel on the question too
