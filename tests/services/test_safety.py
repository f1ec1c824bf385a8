"""check_new_post: new members' links go to review, watched words block or hold, rate limits per role."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from forum.extensions import db
from forum.models import Answer, ModerationLog, Question, User, WatchedWord
from forum.models.base import utcnow
from forum.services import answers, comments, membership, questions, safety
from forum.services.errors import FieldError, InvalidState, PermissionDenied, RateLimited

BODY = "The hub blinks orange after the firmware update and the app cannot find it."


@pytest.fixture(autouse=True)
def safety_on(app):
    """The testing config turns these off for the rest of the suite; here they are the subject."""
    app.config.update(POST_RATE_LIMITS_ENABLED=True, NEW_MEMBER_LINK_REVIEW=True)
    return app


def ask(user, body=BODY, title="Hub blinks orange after the update"):
    q = questions.ask_question(user, questions.QuestionInput(title, body, "setup"))
    db.session.commit()
    return q


def watch(phrase: str, action: str) -> None:
    db.session.add(WatchedWord(phrase=phrase, action=action))
    db.session.commit()


def make_member(make_user: Callable[..., User], **kw: Any) -> User:
    """An established member: enough reputation not to be new."""
    user = make_user(**kw)
    user.reputation = 50
    db.session.commit()
    return user


@pytest.mark.parametrize("text", [
    "see http://spam.example/x", "see HTTPS://spam.example", "visit www.spam-shop.com now",
    "[cheap](https://spam.example)", "[cheap](//spam.example/x)", "[cheap]( ftp://files.example)",
    "text\n\n[ref]: https://spam.example", "<https://spam.example>",
])
def test_links_to_other_sites_are_detected(text: str) -> None:
    assert safety.has_link(text)


@pytest.mark.parametrize("text", [
    "no links here at all", "read the [guidelines](/guidelines) first", "the file is config.www.json",
    "email me at someone@example.com", "see [answer](#answer-3)", "httpx is a library",
])
def test_plain_text_and_links_inside_the_forum_are_not_links(text: str) -> None:
    assert not safety.has_link(text)


def test_new_member_with_a_link_goes_to_review(make_user) -> None:
    q = ask(make_user(), body=BODY + " Details: https://example.org/log")
    assert q.hidden_at is not None and q.hidden_reason == "review"
    assert questions.list_questions("newest", 1).total == 0
    assert all(t.question_count == 0 for t in q.tags)


def test_new_member_without_a_link_is_published(make_user) -> None:
    assert ask(make_user()).is_visible


def test_established_member_with_a_link_is_published(make_user) -> None:
    assert ask(make_member(make_user), body=BODY + " https://example.org/log").is_visible


def test_member_with_enough_visible_posts_is_no_longer_new(app, make_user, make_question) -> None:
    user = make_user()
    for i in range(app.config["NEW_MEMBER_POSTS"]):
        make_question(author=user, title=f"Question number {i} about the hub")
    assert not membership.is_new_member(user)
    assert ask(user, body=BODY + " www.example.org").is_visible


def test_hidden_and_deleted_posts_do_not_make_a_member_established(make_user, make_question) -> None:
    user = make_user()
    made = [make_question(author=user, title=f"Question number {i} about the hub") for i in range(3)]
    questions.delete_question(user, made[0])
    made[1].hidden_at, made[1].hidden_reason = utcnow(), "moderator"
    db.session.commit()
    assert membership.visible_post_count(user) == 1 and membership.is_new_member(user)


@pytest.mark.parametrize("role", ["agent", "moderator", "admin"])
def test_staff_are_never_new_and_never_held(make_user, role: str) -> None:
    staff = make_user(role=role)
    assert not membership.is_new_member(staff)
    assert ask(staff, body=BODY + " https://example.org/guide").is_visible


def test_new_member_answer_and_comment_with_links_are_held(make_user, make_question) -> None:
    q = make_question()
    newcomer = make_user()
    a = answers.post_answer(newcomer, q, "Buy here: www.cheap-hubs.example")
    c = comments.add_comment(newcomer, q, "More at https://cheap-hubs.example")
    db.session.commit()
    assert a.hidden_reason == "review" and c.hidden_reason == "review"
    db.session.refresh(q)
    assert q.answer_count == 0


# --- watched words -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "hit"), [
    ("Get FREE   money now", True), ("free money!", True), ("freemoney", False),
    ("free moneys", False), ("carefree money", False), ("(free money)", True),
])
def test_watched_phrases_match_whole_words_in_any_case(text: str, hit: bool) -> None:
    watch("free money", "review")
    assert (safety.find_watched_word(text) is not None) is hit


def test_blocked_word_refuses_the_post_with_a_body_error(make_user) -> None:
    watch("casino", "block")
    with pytest.raises(FieldError) as err:
        ask(make_member(make_user), body=BODY + " Try the Casino.")
    assert err.value.field == "body" and "blocked word" in err.value.message and "casino" in err.value.message
    db.session.rollback()
    assert questions.list_questions("newest", 1).total == 0


def test_blocked_word_applies_to_staff_too(make_user) -> None:
    watch("casino", "block")
    with pytest.raises(FieldError):
        ask(make_user(role="moderator"), body=BODY + " casino")


def test_review_word_holds_even_an_established_members_post(make_user, make_question) -> None:
    watch("refund hack", "review")
    member = make_member(make_user)
    q = ask(member, title="Refund hack for the hub subscription")
    assert q.hidden_reason == "review"
    c = comments.add_comment(member, make_question(), "There is a refund hack")
    assert c.hidden_reason == "review"


def test_review_word_does_not_hold_staff(make_user) -> None:
    watch("refund", "review")
    assert ask(make_user(role="agent"), body=BODY + " refund").is_visible


# --- managing the watched words ----------------------------------------------------------------------


def test_watched_words_are_normalised_changed_and_removed_with_log(make_user) -> None:
    mod = make_user(role="moderator")
    word = safety.add_watched_word(mod, "  Free   MONEY ", "review")
    assert word.phrase == "free money"
    with pytest.raises(InvalidState):
        safety.add_watched_word(mod, "free money", "review")
    safety.add_watched_word(mod, "FREE money", "block")
    db.session.commit()
    assert db.session.scalar(select(WatchedWord.action)) == "block"
    safety.remove_watched_word(mod, word.id)
    db.session.commit()
    assert db.session.scalar(select(func.count(WatchedWord.id))) == 0
    assert [e.action for e in db.session.scalars(select(ModerationLog).order_by(ModerationLog.id))] == [
        "add_watched_word", "change_watched_word", "remove_watched_word"]
    with pytest.raises(FieldError):
        safety.add_watched_word(mod, "!!!", "block")
    with pytest.raises(FieldError):
        safety.add_watched_word(mod, "word", "delete")


@pytest.mark.parametrize("role", ["member", "agent"])
def test_only_moderators_manage_watched_words(make_user, role: str) -> None:
    with pytest.raises(PermissionDenied):
        safety.add_watched_word(make_user(role=role), "spam", "block")


# --- rate limits ------------------------------------------------------------------------


@pytest.fixture
def stays_new(app):
    """New members stay new however many questions they publish here (posts held for review,
    which used to keep them new, no longer count toward the limit)."""
    app.config["NEW_MEMBER_POSTS"] = 100
    return app


def test_new_member_may_ask_three_questions_in_ten_minutes(make_user, stays_new) -> None:
    user = make_user()
    user.reputation = 1
    for i in range(3):
        ask(user, title=f"Question number {i} about the hub")
    with pytest.raises(RateLimited) as err:
        ask(user, title="One question too many for now")
    assert err.value.status == 429
    assert err.value.message == ("You're posting too fast: at most 3 questions per 10 minutes for new members. "
                                 "Try again in 10 minutes.")


def test_the_wait_counts_from_the_oldest_post_in_the_window(make_user, stays_new) -> None:
    user = make_user()
    made = [ask(user, title=f"Question number {i} about the hub") for i in range(3)]
    db.session.execute(update(Question).where(Question.id == made[0].id)
                       .values(created_at=utcnow() - timedelta(minutes=7, seconds=30)))
    db.session.commit()
    with pytest.raises(RateLimited, match="Try again in 3 minutes"):
        ask(user, title="One question too many for now")


def test_posts_older_than_the_window_do_not_count(make_user, stays_new) -> None:
    user = make_user()
    made = [ask(user, title=f"Question number {i} about the hub") for i in range(3)]
    db.session.execute(update(Question).where(Question.id == made[0].id)
                       .values(created_at=utcnow() - timedelta(minutes=11)))
    db.session.commit()
    assert ask(user, title="Allowed again after the window")


def test_members_have_a_higher_limit_per_kind(app, make_user, make_question) -> None:
    app.config["POST_RATE_MEMBER_ANSWERS"] = 2
    member = make_member(make_user)
    q = make_question()
    answers.post_answer(member, q, "First answer")
    answers.post_answer(member, q, "Second answer")
    with pytest.raises(RateLimited, match="at most 2 answers per 10 minutes for members"):
        answers.post_answer(member, q, "Third answer")
    db.session.rollback()
    # Another kind has its own budget.
    assert comments.add_comment(member, q, "A comment still fits")


def test_deleted_posts_still_count_against_the_limit(app, make_user, make_question) -> None:
    app.config["POST_RATE_MEMBER_ANSWERS"] = 1
    member = make_member(make_user)
    q = make_question()
    a = answers.post_answer(member, q, "First answer")
    answers.delete_answer(member, a)
    db.session.commit()
    with pytest.raises(RateLimited):
        answers.post_answer(member, q, "Posting again right away")


@pytest.mark.parametrize("role", ["agent", "moderator", "admin"])
def test_staff_are_not_rate_limited(app, make_user, make_question, role: str) -> None:
    app.config["POST_RATE_NEW_MEMBER_ANSWERS"] = app.config["POST_RATE_MEMBER_ANSWERS"] = 1
    staff = make_user(role=role)
    q = make_question()
    for i in range(4):
        answers.post_answer(staff, q, f"Official answer {i}")
    db.session.commit()
    assert db.session.query(Answer).filter_by(author_id=staff.id).count() == 4


def _ask_five(user: User) -> int:
    """Five questions in a row from a new member (the default limit is 3 per window); how many went in."""
    for i in range(5):
        ask(user, title=f"Question number {i} about the hub")
    return db.session.scalar(select(func.count(Question.id)).where(Question.author_id == user.id)) or 0


def test_zero_means_unlimited(app, make_user, stays_new) -> None:
    app.config["POST_RATE_NEW_MEMBER_QUESTIONS"] = 0
    user = make_user()
    assert _ask_five(user) == 5
    app.config["POST_RATE_NEW_MEMBER_QUESTIONS"] = 3  # the default: the same member is now over it
    with pytest.raises(RateLimited):
        ask(user, title="One question too many about the hub")


def test_limits_can_be_switched_off(app, make_user, stays_new) -> None:
    app.config["POST_RATE_LIMITS_ENABLED"] = False
    user = make_user()
    assert _ask_five(user) == 5
    app.config["POST_RATE_LIMITS_ENABLED"] = True
    with pytest.raises(RateLimited):
        ask(user, title="One question too many about the hub")
