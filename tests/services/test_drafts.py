"""Drafts: saved per member and composer, discarded with the post they became, limited, purged;
and the review queue's cap per member (held posts no longer count toward the rate limit)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from forum.extensions import db
from forum.models import Draft, Question
from forum.models.base import utcnow
from forum.services import account_data, answers, cases, comments, drafts, questions, safety
from forum.services.drafts import DraftText
from forum.services.errors import FieldError, PermissionDenied, RateLimited

BODY = "The hub blinks orange after the firmware update and the app cannot find it."


def keys_of(user) -> set[str]:
    return set(db.session.scalars(select(Draft.key).where(Draft.user_id == user.id)))


def test_a_draft_is_saved_replaced_and_read_back(make_user) -> None:
    user = make_user()
    drafts.save_draft(user, "ask", DraftText("Hub blinks", "first words", "setup"))
    db.session.commit()
    drafts.save_draft(user, "ask", DraftText("Hub blinks orange", "more words", "setup wifi"))
    db.session.commit()
    draft = drafts.draft_for(user, "ask")
    assert draft is not None
    assert (draft.title, draft.body, draft.tags) == ("Hub blinks orange", "more words", "setup wifi")
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 1


def test_drafts_are_private_to_their_member(make_user) -> None:
    alice, bob = make_user(), make_user()
    drafts.save_draft(alice, "answer:7", DraftText(body="Alice's answer"))
    db.session.commit()
    assert drafts.draft_for(bob, "answer:7") is None
    assert drafts.drafts_for(bob, ["answer:7"]) == {}
    assert drafts.drafts_for(alice, ["answer:7", "comment:q7"])["answer:7"].body == "Alice's answer"


def test_an_empty_draft_deletes_it(make_user) -> None:
    user = make_user()
    drafts.save_draft(user, "comment:a3", DraftText(body="half a comment"))
    assert drafts.save_draft(user, "comment:a3", DraftText(body="   ")) is None
    db.session.commit()
    assert drafts.draft_for(user, "comment:a3") is None


@pytest.mark.parametrize("key", ["", "asks", "answer:", "answer:0", "answer:x", "comment:5", "comment:z5",
                                 "case:-1", "ask:1", "resolve:1/2", "answer:1234567890123"])
def test_unknown_composer_keys_are_refused(make_user, key: str) -> None:
    with pytest.raises(FieldError) as err:
        drafts.save_draft(make_user(), key, DraftText(body="text"))
    assert err.value.field == "key"


def test_visitors_keep_no_server_drafts(app) -> None:
    with pytest.raises(PermissionDenied):
        drafts.save_draft(None, "ask", DraftText(body="anonymous text"))
    assert drafts.draft_for(None, "ask") is None


def test_a_draft_over_the_size_limit_is_refused_and_nothing_stored(app, make_user) -> None:
    app.config["DRAFT_MAX_BYTES"] = 100
    user = make_user()
    drafts.save_draft(user, "ask", DraftText(body="kept"))
    db.session.commit()
    with pytest.raises(FieldError, match=r"too long to keep on the server \(101 bytes; the limit is 100\)"):
        drafts.save_draft(user, "ask", DraftText(title="t", body="x" * 100))
    db.session.rollback()
    # Bytes, not characters: 34 three-byte characters are 102 bytes.
    with pytest.raises(FieldError):
        drafts.save_draft(user, "ask", DraftText(body="€" * 34))
    db.session.rollback()
    assert drafts.draft_for(user, "ask").body == "kept"


def test_the_default_size_limit_holds_a_longest_post(app, make_user) -> None:
    user = make_user()
    text = "é" * app.config["BODY_MAX_LENGTH"]  # two bytes each in UTF-8
    assert drafts.save_draft(user, "ask", DraftText("A title", text, "setup")) is not None


def test_saving_beyond_the_cap_drops_the_oldest_drafts(app, make_user) -> None:
    app.config["DRAFT_MAX_PER_MEMBER"] = 3
    user, other = make_user(), make_user()
    drafts.save_draft(other, "answer:1", DraftText(body="someone else's"))
    for n in range(1, 4):
        drafts.save_draft(user, f"answer:{n}", DraftText(body=f"draft {n}"))
        db.session.execute(update(Draft).where(Draft.user_id == user.id, Draft.key == f"answer:{n}")
                           .values(updated_at=utcnow() - timedelta(minutes=10 - n)))
    db.session.commit()
    # Saving answer:1 again makes it the newest: updating an existing draft drops nothing.
    drafts.save_draft(user, "answer:1", DraftText(body="draft 1, longer"))
    db.session.commit()
    assert keys_of(user) == {"answer:1", "answer:2", "answer:3"}
    drafts.save_draft(user, "answer:4", DraftText(body="draft 4"))
    db.session.commit()
    assert keys_of(user) == {"answer:1", "answer:3", "answer:4"}  # answer:2 was the least recently saved
    assert keys_of(other) == {"answer:1"}


def test_purge_removes_only_drafts_older_than_the_age(app, make_user) -> None:
    user = make_user()
    drafts.save_draft(user, "ask", DraftText(body="old"))
    drafts.save_draft(user, "answer:1", DraftText(body="recent"))
    db.session.execute(update(Draft).where(Draft.key == "ask").values(updated_at=utcnow() - timedelta(days=31)))
    db.session.execute(update(Draft).where(Draft.key == "answer:1").values(updated_at=utcnow() - timedelta(days=29)))
    db.session.commit()
    assert drafts.purge() == 1
    db.session.commit()
    assert keys_of(user) == {"answer:1"}
    assert drafts.purge(max_age_days=7) == 1


def test_flask_drafts_purge(app, runner, make_user) -> None:
    user = make_user()
    drafts.save_draft(user, "ask", DraftText(body="old"))
    db.session.execute(update(Draft).values(updated_at=utcnow() - timedelta(days=40)))
    db.session.commit()
    result = runner.invoke(args=["drafts", "purge"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 drafts not saved for 30 days." in result.output
    db.session.expire_all()
    assert keys_of(user) == set()


# --- posting discards the composer's draft -------------------------------------------------


def test_asking_discards_the_ask_draft_only(make_user) -> None:
    user = make_user()
    drafts.save_draft(user, "ask", DraftText("Hub blinks orange after update", BODY, "setup"))
    drafts.save_draft(user, "answer:99", DraftText(body="an answer elsewhere"))
    db.session.commit()
    questions.ask_question(user, questions.QuestionInput("Hub blinks orange after update", BODY, "setup"))
    db.session.commit()
    assert keys_of(user) == {"answer:99"}


def test_answering_and_commenting_discard_their_drafts(make_user, make_question) -> None:
    user = make_user()
    q = make_question()
    drafts.save_draft(user, f"answer:{q.id}", DraftText(body="my answer"))
    drafts.save_draft(user, f"comment:q{q.id}", DraftText(body="my comment"))
    db.session.commit()
    a = answers.post_answer(user, q, "My answer, finished.")
    db.session.commit()
    assert keys_of(user) == {f"comment:q{q.id}"}
    drafts.save_draft(user, f"comment:a{a.id}", DraftText(body="a comment on the answer"))
    comments.add_comment(user, q, "My comment, finished.")
    db.session.commit()
    assert keys_of(user) == {f"comment:a{a.id}"}
    comments.add_comment(user, a, "The comment on the answer.")
    db.session.commit()
    assert keys_of(user) == set()


def test_a_refused_post_keeps_its_draft(make_user, make_question) -> None:
    user = make_user()
    drafts.save_draft(user, "ask", DraftText("Hub", BODY, "setup"))
    db.session.commit()
    with pytest.raises(FieldError):
        questions.ask_question(user, questions.QuestionInput("Hub", BODY, "setup"))  # title too short
    db.session.rollback()
    assert keys_of(user) == {"ask"}


def test_a_held_post_discards_its_draft_too(app, make_user) -> None:
    app.config["NEW_MEMBER_LINK_REVIEW"] = True
    user = make_user()
    drafts.save_draft(user, "ask", DraftText(body="draft"))
    q = questions.ask_question(user, questions.QuestionInput("Hub blinks orange after update",
                                                             BODY + " https://x.example", "setup"))
    db.session.commit()
    assert q.awaits_review and keys_of(user) == set()


def test_case_message_and_resolution_discard_their_drafts_and_keep_the_agents_answer(
        make_user, make_question) -> None:
    asker, agent = make_user(), make_user(role="agent")
    q = make_question(author=asker)
    case = cases.open_case(agent, q)
    db.session.commit()
    drafts.save_draft(asker, f"case:{case.id}", DraftText(body="more details"))
    drafts.save_draft(agent, f"resolve:{case.id}", DraftText(body="the summary"))
    drafts.save_draft(agent, f"answer:{q.id}", DraftText(body="a public answer I am writing"))
    db.session.commit()
    cases.add_message(asker, case, "Here are more details about the hub.")
    db.session.commit()
    assert keys_of(asker) == set()
    cases.resolve_case(agent, case, "Resolved: the hub needed a factory reset and a new pairing.", confirm=True)
    db.session.commit()
    assert keys_of(agent) == {f"answer:{q.id}"}


# --- review queue: held posts leave the rate limit, a cap per member instead ---------------


@pytest.fixture
def reviewing(app):
    app.config.update(POST_RATE_LIMITS_ENABLED=True, NEW_MEMBER_LINK_REVIEW=True, REVIEW_MAX_PENDING_PER_MEMBER=3)
    return app


def _ask(user, n: int, link: bool) -> Question:
    q = questions.ask_question(user, questions.QuestionInput(
        f"Question number {n} about the hub", BODY + (" https://x.example" if link else ""), "setup"))
    db.session.commit()
    return q


def test_held_posts_do_not_count_toward_the_rate_limit(reviewing, make_user) -> None:
    reviewing.config["POST_RATE_NEW_MEMBER_QUESTIONS"] = 2
    user = make_user()
    assert _ask(user, 1, link=True).awaits_review
    assert _ask(user, 2, link=True).awaits_review
    # Two held questions, and the limit is two: the member can still publish.
    assert _ask(user, 3, link=False).is_visible
    assert _ask(user, 4, link=False).is_visible
    with pytest.raises(RateLimited, match="at most 2 questions"):
        _ask(user, 5, link=False)


def test_a_member_with_the_most_held_posts_cannot_send_another_held_one(reviewing, make_user, make_question) -> None:
    user = make_user()
    q = make_question()
    _ask(user, 1, link=True)
    answers.post_answer(user, q, "See https://x.example for the fix")
    comments.add_comment(user, q, "Also https://y.example")
    db.session.commit()
    assert safety.held_count(user) == 3
    with pytest.raises(RateLimited) as err:
        answers.post_answer(user, q, "And https://z.example too")
    db.session.rollback()
    assert err.value.status == 429
    assert "You already have 3 posts waiting for a moderator" in err.value.message
    assert err.value.retry_after
    # A post that publishes at once is not refused by the cap.
    assert answers.post_answer(user, q, "No links this time: hold reset for ten seconds.").is_visible


def test_the_cap_frees_up_when_a_held_post_is_reviewed(reviewing, make_user) -> None:
    reviewing.config["REVIEW_MAX_PENDING_PER_MEMBER"] = 1
    user = make_user()
    held = _ask(user, 1, link=True)
    with pytest.raises(RateLimited):
        _ask(user, 2, link=True)
    db.session.rollback()
    db.session.execute(update(Question).where(Question.id == held.id).values(hidden_at=None, hidden_reason=""))
    db.session.commit()
    assert _ask(user, 3, link=True).awaits_review


def test_zero_turns_the_cap_off(reviewing, make_user) -> None:
    reviewing.config.update(REVIEW_MAX_PENDING_PER_MEMBER=0, POST_RATE_NEW_MEMBER_QUESTIONS=0)
    user = make_user()
    for n in range(5):
        assert _ask(user, n, link=True).awaits_review


def test_deleting_the_account_deletes_its_drafts(make_user) -> None:
    user, other = make_user(), make_user()
    drafts.save_draft(user, "ask", DraftText(body="private words"))
    drafts.save_draft(other, "ask", DraftText(body="someone else's"))
    db.session.commit()
    account_data.delete_account(user, "correct-horse-battery")
    db.session.commit()
    assert keys_of(user) == set() and keys_of(other) == {"ask"}
