"""Drafts over HTTP: POST /drafts/<key>, the composers pre-filled from the member's draft
(no JavaScript needed), the draft gone once posted, and the review cap's 429 keeping the text."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Draft
from forum.services import cases, drafts
from forum.services.drafts import DraftText

JSON = {"Accept": "application/json"}
BODY = "The hub blinks orange after the firmware update and the app cannot find it."


def keys_of(user) -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(select(Draft.key).where(Draft.user_id == user.id)))


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def member(make_user, auth):
    user = make_user("maria")
    auth.login("maria")
    return user


# --- POST /drafts/<key> ---------------------------------------------------------------------


def test_saving_and_deleting_a_draft_as_json(auth, member) -> None:
    saved = auth.post("/drafts/ask", {"title": "Hub blinks", "body": "It started on Monday", "tags": "setup"},
                      headers=JSON)
    assert saved.status_code == 200
    assert saved.json["saved"] is True and saved.json["key"] == "ask" and saved.json["updated_at"]
    assert saved.headers["Cache-Control"] == "no-store"
    assert drafts.draft_for(member, "ask").body == "It started on Monday"

    emptied = auth.post("/drafts/ask", {"title": "", "body": "  ", "tags": ""}, headers=JSON)
    assert emptied.status_code == 200 and emptied.json["saved"] is False
    assert keys_of(member) == set()


def test_bad_keys_and_oversized_drafts_are_refused_as_json(app, auth, member) -> None:
    bad = auth.post("/drafts/answer:abc", {"body": "text"}, headers=JSON)
    assert bad.status_code == 400 and bad.json["error"]["field"] == "key"

    app.config["DRAFT_MAX_BYTES"] = 50
    big = auth.post("/drafts/ask", {"body": "x" * 51}, headers=JSON)
    assert big.status_code == 400
    assert big.json["error"]["field"] == "body" and "too long to keep" in big.json["error"]["message"]
    assert keys_of(member) == set()


def test_visitors_who_are_not_signed_in_are_refused_as_json(client, auth) -> None:
    token = auth.csrf_token("/")
    refused = client.post("/drafts/ask", data={"csrf_token": token, "body": "anonymous"}, headers=JSON)
    assert refused.status_code in (401, 403)
    assert refused.json["error"]["status"] == refused.status_code
    assert "Sign in" in refused.json["error"]["message"]
    assert db.session.scalar(select(Draft.id)) is None


def test_saving_needs_the_csrf_token(client, member) -> None:
    refused = client.post("/drafts/ask", data={"body": "forged"}, headers=JSON)
    assert refused.status_code == 400
    assert keys_of(member) == set()


def test_autosaves_are_rate_limited_as_json(app, auth, member) -> None:
    app.config.update(RATE_LIMITS_ENABLED=True, LOGIN_THROTTLE_ENABLED=False, RATE_LIMIT_DRAFTS_PER_ACCOUNT="2 per minute")
    for n in range(2):
        assert auth.post("/drafts/ask", {"body": f"version {n}"}, headers=JSON).status_code == 200
    refused = auth.post("/drafts/ask", {"body": "version 3"}, headers=JSON)
    assert refused.status_code == 429 and refused.headers.get("Retry-After")
    assert "kept in this browser" in refused.json["error"]["message"]
    assert drafts.draft_for(member, "ask").body == "version 1"


def test_discard_button_without_javascript_goes_back(auth, client, member) -> None:
    drafts.save_draft(member, "ask", DraftText(body="to throw away"))
    db.session.commit()
    response = auth.post("/drafts/ask?next=/questions/ask", {"title": "x", "body": "to throw away", "discard": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/questions/ask")
    assert keys_of(member) == set()
    assert "Draft discarded." in page(client.get("/questions/ask"))


def test_discard_never_redirects_off_site(auth, member) -> None:
    response = auth.post("/drafts/ask?next=//evil.example/x", {"discard": "1"})
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]


# --- the composers are pre-filled from the draft, without JavaScript ---------------------------


def test_ask_page_is_prefilled_from_the_draft(client, member) -> None:
    drafts.save_draft(member, "ask", DraftText("Hub blinks orange at night", "Since the **update**", "setup wifi"))
    db.session.commit()
    text = page(client.get("/questions/ask"))
    assert 'value="Hub blinks orange at night"' in text
    assert "Since the **update**</textarea>" in text
    assert 'value="setup wifi"' in text
    assert "Discard draft" in text and 'data-draft="ask"' in text
    assert 'aria-live="polite"' in text


def test_ask_page_without_a_draft_is_empty_and_hides_discard(client, member) -> None:
    text = page(client.get("/questions/ask"))
    assert 'data-draft="ask"' in text
    assert "Your draft from" not in text
    assert "data-draft-discard hidden" in text


def test_another_members_draft_is_never_shown(client, make_user, member) -> None:
    other = make_user()
    drafts.save_draft(other, "ask", DraftText("Someone else's private question", "secret body", "setup"))
    db.session.commit()
    text = page(client.get("/questions/ask"))
    assert "secret body" not in text and "Someone else's private question" not in text


def test_question_page_prefills_the_answer_and_comment_boxes(client, member, make_question, make_answer) -> None:
    q = make_question()
    a = make_answer(q)
    drafts.save_draft(member, f"answer:{q.id}", DraftText(body="Try holding reset for ten seconds"))
    drafts.save_draft(member, f"comment:a{a.id}", DraftText(body="Which firmware version?"))
    drafts.save_draft(member, f"comment:q{q.id}", DraftText(body="Is the hub on 2.4 GHz?"))
    db.session.commit()
    text = page(client.get(f"/questions/{q.id}/x", follow_redirects=True))
    assert "Try holding reset for ten seconds</textarea>" in text
    assert "Which firmware version?</textarea>" in text
    assert "Is the hub on 2.4 GHz?</textarea>" in text
    assert f'data-draft="answer:{q.id}"' in text and f'data-draft="comment:a{a.id}"' in text
    assert f'data-draft="comment:q{q.id}"' in text


def test_anonymous_question_page_has_no_draft_composers(client, make_question) -> None:
    q = make_question()
    text = page(client.get(f"/questions/{q.id}/x", follow_redirects=True))
    assert "data-draft" not in text and "drafts.js" not in text


def test_case_page_prefills_the_message_and_resolution(client, make_user, make_question, auth) -> None:
    agent = make_user("agent1", role="agent")
    q = make_question()
    case = cases.open_case(agent, q)
    drafts.save_draft(agent, f"case:{case.id}", DraftText(body="Could you send the hub's logs?"))
    drafts.save_draft(agent, f"resolve:{case.id}", DraftText(body="Fixed by the 2.3 firmware"))
    db.session.commit()
    auth.login("agent1")
    text = page(client.get(f"/cases/{case.id}"))
    assert "Could you send the hub's logs?</textarea>" in text
    assert "Fixed by the 2.3 firmware</textarea>" in text


# --- posting discards the draft; a refusal keeps it --------------------------------------------


def test_posting_a_question_discards_its_draft_and_tells_the_next_page(auth, client, member) -> None:
    auth.post("/drafts/ask", {"title": "Hub blinks orange at night", "body": BODY, "tags": "setup"}, headers=JSON)
    posted = auth.post("/questions/ask", {"title": "Hub blinks orange at night", "body": BODY, "tags": "setup"})
    assert posted.status_code == 302
    assert keys_of(member) == set()
    landing = page(client.get(posted.headers["Location"]))
    assert '<meta name="drafts-posted" content="ask">' in landing
    # Read once: the page after that no longer says it, and the ask page is empty again.
    ask = page(client.get("/questions/ask"))
    assert '<meta name="drafts-posted" content="">' in ask
    assert "Hub blinks orange at night" not in ask


def test_posting_an_answer_discards_its_draft(auth, member, make_question) -> None:
    q = make_question()
    auth.post(f"/drafts/answer:{q.id}", {"body": "Hold the reset button for ten seconds."}, headers=JSON)
    assert auth.post(f"/questions/{q.id}/answers", {"body": "Hold the reset button for ten seconds."}).status_code == 302
    assert keys_of(member) == set()


def test_posting_a_comment_discards_its_draft_and_tells_the_next_page(auth, client, member, make_question) -> None:
    q = make_question()
    auth.post(f"/drafts/comment:q{q.id}", {"body": "Is the hub on 2.4 GHz?"}, headers=JSON)
    posted = auth.post(f"/questions/{q.id}/comments", {"body": "Is the hub on 2.4 GHz?"})
    assert posted.status_code == 302 and keys_of(member) == set()
    assert f'<meta name="drafts-posted" content="comment:q{q.id}">' in page(client.get(posted.headers["Location"]))


def test_a_refused_question_keeps_its_draft(auth, client, member) -> None:
    auth.post("/drafts/ask", {"title": "Help", "body": BODY, "tags": "setup"}, headers=JSON)
    refused = auth.post("/questions/ask", {"title": "Help", "body": BODY, "tags": "setup"})
    assert refused.status_code == 400
    assert keys_of(member) == {"ask"}
    assert BODY in page(client.get("/questions/ask"))


def test_posting_too_fast_keeps_the_text_and_the_draft(app, auth, client, member) -> None:
    app.config.update(POST_RATE_LIMITS_ENABLED=True, POST_RATE_NEW_MEMBER_QUESTIONS=1, POST_RATE_MEMBER_QUESTIONS=1)
    assert auth.post("/questions/ask", {"title": "Hub blinks orange at night", "body": BODY,
                                        "tags": "setup"}).status_code == 302
    second = {"title": "Doorbell chime plays twice", "body": "Both chimes ring a second apart.", "tags": "doorbell"}
    auth.post("/drafts/ask", second, headers=JSON)
    refused = auth.post("/questions/ask", second)
    assert refused.status_code == 429
    assert "Both chimes ring a second apart." in page(refused)
    assert keys_of(member) == {"ask"}
    assert "Both chimes ring a second apart." in page(client.get("/questions/ask"))


def test_a_member_with_the_most_held_posts_gets_a_429_with_the_text_kept(app, auth, member) -> None:
    app.config.update(NEW_MEMBER_LINK_REVIEW=True, REVIEW_MAX_PENDING_PER_MEMBER=2)
    for n in range(2):
        held = auth.post("/questions/ask", {"title": f"Question number {n} about the hub",
                                            "body": BODY + " https://x.example/log", "tags": "setup"})
        assert held.status_code == 302
    refused = auth.post("/questions/ask", {"title": "A third question with a link",
                                           "body": BODY + " https://x.example/more", "tags": "setup"})
    assert refused.status_code == 429 and refused.headers.get("Retry-After")
    text = page(refused)
    assert "You already have 2 posts waiting for a moderator" in text
    assert 'value="A third question with a link"' in text and "https://x.example/more" in text
