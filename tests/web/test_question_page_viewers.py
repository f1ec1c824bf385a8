"""The signed-in question page shows each viewer their own state, and nobody else's.

The page is rendered for several viewers of one thread in the same process, one after the other
(what a per-process cache of the page's parts would get wrong): the asker, the answer's author,
a member who voted and follows, a new member without the voting privileges, a moderator and an
agent. Each sees their own vote state, edit links, accept button, follow state and privilege
notes; the forms on the page carry this session's CSRF token, and a form taken from the page is
accepted when submitted. ``id_url`` (forum/templating.py), which builds the page's repeated links,
returns what ``url_for`` returns. The layout's banners, kept between requests, show a change to
the announcements and a scheduled start or end on the next page, and each member's dismissals
stay theirs.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, url_for

from forum import templating
from forum.extensions import db
from forum.models.base import utcnow
from forum.services import announcements, following, votes
from forum.services.questions import slugify
from forum.templating import id_url, question_url
from tests.support import Auth, page_cache_on, production_privileges, set_reputation

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
META_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def _form(html: str, action: str) -> str:
    """The first <form> of ``html`` posting to ``action``."""
    match = re.search(r'<form[^>]*action="' + re.escape(action) + r'"[^>]*>.*?</form>', html, re.S)
    assert match, f"no form posting to {action}"
    return match.group(0)


def _vote_buttons(html: str, kind: str, post_id: int) -> list[str]:
    """The up and down buttons of a post's vote box (empty when the viewer may not vote)."""
    action = f"/{kind}/{post_id}/vote"
    forms = re.findall(r'<form class="vote-form"[^>]*action="' + re.escape(action) + r'"[^>]*>.*?</form>', html, re.S)
    return [re.search(r"<button[^>]*>", f).group(0) for f in forms]  # type: ignore[union-attr]


@pytest.fixture
def thread(app: Flask, make_user: Any, make_question: Any, make_answer: Any) -> dict[str, Any]:
    production_privileges(app)
    people = {name: make_user(name) for name in ("asker", "helper", "voter", "newbie")}
    people["mod"] = make_user("mod", role="moderator")
    people["agent"] = make_user("agent", role="agent")
    for name in ("asker", "helper", "voter"):
        set_reputation(people[name], 500)  # votes both ways, comments; edits of others are suggestions
    set_reputation(people["newbie"], 1)
    question = make_question(author=people["asker"], title="Hub blinks orange after the update")
    answer = make_answer(question, author=people["helper"])
    votes.cast_vote(people["voter"], "answer", answer.id, 1)
    following.follow_question(people["voter"], question)
    db.session.commit()
    return {"question": question, "answer": answer, **people}


def _page(client: Any, auth: Auth, who: str, question: Any) -> str:
    auth.login(who)
    response = client.get(f"/questions/{question.id}/{slugify(question.title)}")
    assert response.status_code == 200
    html: str = response.get_data(as_text=True)
    assert f"Signed in as <strong>{who}</strong>" in html
    return html


def test_each_viewer_sees_their_own_state(app: Flask, thread: dict[str, Any]) -> None:
    question, answer = thread["question"], thread["answer"]
    q_edit, a_edit = f"/questions/{question.id}/edit", f"/answers/{answer.id}/edit"
    accept = f"/answers/{answer.id}/accept"
    pages: dict[str, str] = {}
    tokens: dict[str, set[str]] = {}
    for who in ("asker", "helper", "voter", "newbie", "mod", "agent", "voter"):  # voter again, after the others
        client = app.test_client()
        html = _page(client, Auth(client), who, question)
        page_tokens = set(TOKEN.findall(html)) | set(META_TOKEN.findall(html))
        assert len(page_tokens) == 1, who  # one token, this session's, in every form and the meta tag
        if who in tokens:
            assert page_tokens != tokens[who]  # a new session: a new token, not one kept from before
        tokens[who] = page_tokens
        pages[who] = html

    # No viewer's page carries another session's token.
    for who, own in tokens.items():
        others = set().union(*(t for w, t in tokens.items() if w != who))
        assert not own & others, who

    asker, helper, voter, newbie, mod, agent = (pages[w] for w in ("asker", "helper", "voter", "newbie", "mod", "agent"))
    # Edit links: own posts, and everyone's for moderators; suggestions for members with the privilege.
    assert f'href="{q_edit}">Edit</a>' in asker and f'href="{a_edit}">Edit</a>' not in asker
    assert f'href="{a_edit}">Edit</a>' in helper and f'href="{q_edit}">Edit</a>' not in helper
    assert f'href="{q_edit}">Edit</a>' in mod and f'href="{a_edit}">Edit</a>' in mod
    assert f'href="{a_edit}">Suggest edit</a>' in newbie and f'href="{a_edit}">Edit</a>' not in newbie
    # The accept button: the asker and staff.
    assert accept in asker and accept in mod and accept in agent
    assert accept not in helper and accept not in voter and accept not in newbie
    # Votes: the voter's up vote shows pressed; nobody votes on their own post.
    up, down = _vote_buttons(voter, "answers", answer.id)
    assert "is-active" in up and 'aria-pressed="true"' in up and "is-active" not in down
    for html in (asker, mod, agent):
        buttons = _vote_buttons(html, "answers", answer.id)
        assert len(buttons) == 2 and not any("is-active" in b for b in buttons)
    assert _vote_buttons(helper, "answers", answer.id) == [] and _vote_buttons(asker, "questions", question.id) == []
    # A new member sees why voting and commenting are locked, with their own reputation.
    up, down = _vote_buttons(newbie, "answers", answer.id)
    assert "is-locked" in up and "you have 1." in up and "is-locked" in down
    assert "privilege-refusal" in newbie and "privilege-refusal" not in voter
    # Follow state (the asker and the helper follow the thread they wrote in).
    follow = f"/questions/{question.id}/unfollow"
    for html in (voter, asker, helper):
        assert 'class="button button-small is-following"' in html and follow in html
    for html in (newbie, mod, agent):
        assert "is-following" not in html and follow not in html
    # Staff tools.
    assert "Staff tools" in mod and "Staff tools" in agent and "Staff tools" not in voter


def test_a_form_from_the_page_is_accepted(app: Flask, thread: dict[str, Any]) -> None:
    question, answer = thread["question"], thread["answer"]
    client = app.test_client()
    html = _page(client, Auth(client), "newbie", question)
    set_reputation(thread["newbie"], 500)  # may vote now; the page's token is what is tested
    db.session.commit()
    form = _form(html, f"/answers/{answer.id}/vote")
    token = TOKEN.search(form).group(1)  # type: ignore[union-attr]
    response = client.post(f"/answers/{answer.id}/vote", data={"csrf_token": token, "value": "1"})
    assert response.status_code == 302
    assert 'aria-pressed="true"' in _vote_buttons(client.get(response.headers["Location"]).get_data(as_text=True),
                                                  "answers", answer.id)[0]
    # The same token from another session is refused.
    other = app.test_client()
    Auth(other).login("voter")
    refused = other.post(f"/answers/{answer.id}/vote", data={"csrf_token": token, "value": "0"})
    assert refused.status_code == 400


def test_id_url_returns_what_url_for_returns(app: Flask, thread: dict[str, Any]) -> None:
    question = thread["question"]
    calls: list[tuple[str, dict[str, Any]]] = [
        ("answers.edit", {"answer_id": 7}), ("answers.edit", {"answer_id": 12345}),
        ("votes.vote", {"kind": "answers", "post_id": 3}), ("votes.vote", {"kind": "questions", "post_id": 3}),
        ("moderation.flag", {"post_type": "comment", "post_id": 99}),
        ("users.profile", {"user_id": 1}), ("users.profile", {"user_id": 2_147_483_647}),
        ("questions.show", {"question_id": 5, "slug": "a-b", "_anchor": "answer-9"}),
        ("questions.show", {"question_id": 5, "slug": "x{}y"}),
        ("questions.index", {"tab": "active", "page": 2}), ("questions.index", {}),
        ("drafts.save_draft", {"key": "comment:a5", "next": "/questions/5/x"}),
    ]
    with app.test_request_context("/"):
        for endpoint, values in calls + calls:  # the second time from the patterns kept for the request
            assert id_url(endpoint, **values) == url_for(endpoint, **values), (endpoint, values)
        assert question_url(question) == url_for("questions.show", question_id=question.id,
                                                 slug=slugify(question.title))


@pytest.fixture(params=["database", "redis"])
def cached(request: pytest.FixtureRequest, app: Flask) -> Iterator[Flask]:
    """The page cache on (its generations are what the kept banners are checked against): in the
    database, or in Redis (FORUM_TEST_REDIS_URL) under a prefix of this test's own."""
    with page_cache_on(app, request.param, "test:signedin") as on:
        yield on


def test_kept_banners_follow_every_change(cached: Flask, thread: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    question, mod = thread["question"], thread["mod"]
    path = f"/questions/{question.id}/{slugify(question.title)}"
    voter, newbie = cached.test_client(), cached.test_client()
    Auth(voter).login("voter")
    Auth(newbie).login("newbie")
    assert "banner-dismiss" not in voter.get(path).get_data(as_text=True)  # kept: no banner

    item = announcements.create_announcement(mod, "Cloud sync is down in Europe", "outage")
    later = announcements.create_announcement(mod, "Maintenance tonight at ten", "info",
                                              starts_at=utcnow() + timedelta(hours=1))
    db.session.commit()
    for client in (voter, newbie):
        html = client.get(path).get_data(as_text=True)
        assert "Cloud sync is down in Europe" in html and "Maintenance tonight" not in html

    # A member's dismissal is theirs alone.
    announcements.dismiss(thread["voter"], item)
    db.session.commit()
    assert "Cloud sync is down" not in voter.get(path).get_data(as_text=True)
    assert "Cloud sync is down" in newbie.get(path).get_data(as_text=True)

    # The scheduled one starts without any write; an ended one goes. (Only the kept banners'
    # clock moves here: a member's kept page expires by the real clock at the start, which
    # tests/web/test_page_cache_signed_in.py moves.)
    cached.config["PAGE_CACHE_SIGNED_IN"] = False
    monkeypatch.setattr(templating, "utcnow", lambda: utcnow() + timedelta(hours=2))
    assert "Maintenance tonight at ten" in newbie.get(path).get_data(as_text=True)
    monkeypatch.undo()
    announcements.end_announcement(mod, db.session.merge(item))
    db.session.commit()
    html = newbie.get(path).get_data(as_text=True)
    assert "Cloud sync is down" not in html and "Maintenance tonight" not in html
    assert later.id
