"""Who may reach what: every role against every page and action."""
from __future__ import annotations

import pytest

from forum.extensions import db
from forum.services import comments

ROLES = ["anonymous", "member", "author", "agent", "moderator", "admin"]


@pytest.fixture
def world(make_user, make_question, make_answer):
    owner = make_user("owner")
    q = make_question(author=owner, title="Thread used by the access matrix")
    a = make_answer(q, author=owner, body="The owner's own answer text")
    c = comments.add_comment(owner, q, "The owner's comment")
    db.session.commit()
    return {"q": q.id, "a": a.id, "c": c.id}


def _as(role: str, make_user, auth) -> None:
    if role == "anonymous":
        return
    if role == "author":
        auth.login("owner")
        return
    make_user(f"a_{role}", role=role if role != "member" else "member")
    auth.login(f"a_{role}")


PUBLIC_PAGES = ["/", "/questions", "/questions?tab=active", "/questions?tab=unanswered", "/tags", "/tags/setup",
                "/questions/{q}", "/questions/{q}/history", "/answers/{a}/history", "/register", "/login"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_answer_everyone(client, auth, make_user, world, role: str, path: str) -> None:
    _as(role, make_user, auth)
    r = client.get(path.format(**world), follow_redirects=True)
    assert r.status_code == 200


# (path, expected status per role) for GET pages that need an account or a right.
GUARDED = {
    "/questions/ask": {"anonymous": 302, "member": 200, "author": 200, "agent": 200, "moderator": 200, "admin": 200},
    "/settings/profile": {"anonymous": 302, "member": 200, "author": 200, "agent": 200, "moderator": 200, "admin": 200},
    # Members below the edit privilege get the form as a suggested edit; staff have every privilege.
    "/questions/{q}/edit": {"anonymous": 302, "member": 200, "author": 200, "agent": 200, "moderator": 200, "admin": 200},
    "/answers/{a}/edit": {"anonymous": 302, "member": 200, "author": 200, "agent": 200, "moderator": 200, "admin": 200},
    "/comments/{c}/edit": {"anonymous": 302, "member": 403, "author": 200, "agent": 403, "moderator": 200, "admin": 200},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", list(GUARDED))
def test_guarded_pages(client, auth, make_user, world, role: str, path: str) -> None:
    _as(role, make_user, auth)
    r = client.get(path.format(**world))
    assert r.status_code == GUARDED[path][role]
    if r.status_code == 302:
        assert r.headers["Location"].startswith("/login?next=")


# POST actions that change state: who may do them. Forbidden ones must change nothing.
ACTIONS = {
    "/questions/{q}/delete": {"member": 403, "author": 302, "agent": 403, "moderator": 302, "admin": 302},
    "/answers/{a}/delete": {"member": 403, "author": 302, "agent": 403, "moderator": 302, "admin": 302},
    "/comments/{c}/delete": {"member": 403, "author": 302, "agent": 403, "moderator": 302, "admin": 302},
    # Restoring a live question is refused for everyone.
    "/questions/{q}/restore": {"member": 403, "author": 403, "agent": 403, "moderator": 403, "admin": 403},
}


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
@pytest.mark.parametrize("path", list(ACTIONS))
def test_state_changing_actions(client, auth, make_user, world, role: str, path: str) -> None:
    _as(role, make_user, auth)
    r = auth.post(path.format(**world))
    expected = ACTIONS[path][role]
    assert r.status_code == expected, r.get_data(as_text=True)[-1500:]
    from forum.models import Answer, Comment, Question
    q, a, c = db.session.get(Question, world["q"]), db.session.get(Answer, world["a"]), db.session.get(Comment, world["c"])
    db.session.refresh(q), db.session.refresh(a), db.session.refresh(c)
    if expected != 302:
        assert not q.is_deleted and not a.is_deleted and not c.is_deleted


@pytest.mark.parametrize("path", ["/questions/{q}/delete", "/answers/{a}/delete", "/comments/{c}/delete",
                                  "/questions/{q}/answers", "/questions/{q}/comments", "/questions/ask", "/preview"])
def test_anonymous_posts_are_sent_to_login(client, auth, world, path: str) -> None:
    r = auth.post(path.format(**world), {"body": "anonymous text that must not be stored"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_forged_form_fields_cannot_set_role_or_author(client, auth, make_user) -> None:
    r = auth.post("/register", {"username": "sneaky", "email": "s@example.com", "password": "a-long-password",
                                "role": "admin", "reputation": "99999"})
    assert r.status_code == 302
    assert auth.login("sneaky", "a-long-password").status_code == 302
    from forum.models import User
    user = db.session.query(User).filter_by(username="sneaky").one()
    assert user.role == "member" and user.reputation == 1
    victim = make_user("victim")
    r = auth.post("/questions/ask", {"title": "A question with a forged author", "body": "Body text that is long enough.",
                                     "tags": "setup", "author_id": str(victim.id)})
    assert r.status_code == 302
    from forum.models import Question
    assert db.session.query(Question).one().author_id == user.id
