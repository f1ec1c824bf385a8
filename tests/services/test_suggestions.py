"""Suggested edits: create, one pending per post (also under concurrency), approve, reject, superseded."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import ModerationLog, Question, ReputationEvent, Revision, SuggestedEdit, User, WatchedWord
from forum.services import questions, reputation, search, suggestions
from forum.services.errors import FieldError, InvalidState, PermissionDenied
from tests.support import set_reputation

BODY = "After the firmware update the hub blinks orange and the app cannot find it."
FIXED = BODY + "\n\nFirmware 4.2.1, Lumen Hub Gen 2, router is a Fritz!Box 7590."


@pytest.fixture
def post(make_user, make_question):
    return make_question(author=make_user("asker"), title="Hub blinks orange after update", body=BODY)


@pytest.fixture
def reviewer(make_user):
    return set_reputation(make_user("trusted"), 2000)


def _suggest(user, q, body=FIXED, title=None, tags="setup"):
    s = suggestions.suggest_question_edit(user, q, questions.QuestionInput(title or q.title, body, tags), "added versions")
    db.session.commit()
    return s


def test_a_suggestion_leaves_the_post_alone_until_approved(make_user, post) -> None:
    s = _suggest(make_user("newbie"), post)
    db.session.expire_all()
    assert (s.status, s.base_revision, s.post_type, s.question_id) == ("pending", 1, "question", post.id)
    assert db.session.get(Question, post.id).body == BODY
    assert suggestions.pending_for(post).id == s.id


def test_one_pending_suggestion_per_post(make_user, post) -> None:
    first = make_user("first")
    _suggest(first, post)
    with pytest.raises(InvalidState, match="already waiting for review"):
        _suggest(make_user("second"), post, body=FIXED + " And a second idea.")
    db.session.rollback()
    with pytest.raises(InvalidState, match="You already suggested"):
        _suggest(first, post, body=FIXED + " Again.")


def test_the_database_refuses_a_second_pending_row_but_keeps_reviewed_ones(make_user, post) -> None:
    user = make_user()
    row = dict(post_type="question", post_id=post.id, question_id=post.id, proposer_id=user.id, body=FIXED,
               base_revision=1)
    db.session.add_all([SuggestedEdit(**row, status="rejected"), SuggestedEdit(**row, status="superseded"),
                        SuggestedEdit(**row, status="pending")])
    db.session.commit()
    db.session.add(SuggestedEdit(**row, status="pending"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_two_members_suggesting_at_once_give_one_row_and_a_clear_message(app: Flask, make_user, post, monkeypatch) -> None:
    ids = [make_user(f"racer{i}").id for i in range(2)]
    qid = post.id
    barrier = threading.Barrier(2)
    real_check = suggestions.check_edited_post

    def both_past_the_pending_check(*args: Any, **kwargs: Any) -> Any:
        barrier.wait(10)  # both have seen "nothing pending"; now both insert
        return real_check(*args, **kwargs)

    monkeypatch.setattr(suggestions, "check_edited_post", both_past_the_pending_check)
    outcomes: list[str] = []

    def worker(i: int) -> None:
        with app.app_context():
            try:
                user, q = db.session.get(User, ids[i]), db.session.get(Question, qid)
                suggestions.suggest_question_edit(user, q, questions.QuestionInput(q.title, FIXED + f" v{i}", "setup"))
                db.session.commit()
                outcomes.append("saved")
            except InvalidState as exc:
                db.session.rollback()
                outcomes.append(exc.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes)[-1] == "saved" and len(outcomes) == 2, outcomes
    assert "was suggested a moment ago" in sorted(outcomes)[0]
    assert db.session.scalar(select(func.count(SuggestedEdit.id)).where(SuggestedEdit.post_id == qid)) == 1


def test_approval_applies_the_edit_as_the_proposers_revision_with_two_reputation(make_user, post, reviewer) -> None:
    newbie = make_user("newbie")
    s = _suggest(newbie, post, title="Hub blinks orange after the 4.2.1 update", tags="setup firmware")
    suggestions.approve(reviewer, s)
    db.session.commit()
    db.session.expire_all()
    q = db.session.get(Question, post.id)
    assert q.body == FIXED and q.title.endswith("4.2.1 update") and [t.name for t in q.tags] == ["firmware", "setup"]
    rev = db.session.scalar(select(Revision).where(Revision.question_id == q.id, Revision.number == 2))
    assert rev.author_id == newbie.id and rev.summary == "added versions"
    s = db.session.get(SuggestedEdit, s.id)
    assert (s.status, s.reviewer_id, s.revision_number) == ("approved", reviewer.id, 2) and s.reviewed_at
    assert db.session.get(User, newbie.id).reputation == 3
    event = db.session.scalar(select(ReputationEvent).where(ReputationEvent.user_id == newbie.id))
    assert (event.amount, event.reason, event.actor_id) == (2, "suggested_edit", reviewer.id)
    assert reputation.recompute(fix=False)[1] == []
    log = db.session.scalar(select(ModerationLog).where(ModerationLog.action == "approve_suggested_edit"))
    assert (log.actor_id, log.target_type, log.target_id) == (reviewer.id, "question", q.id)
    # The search index follows the approved text.
    assert [r.question.id for r in search.search_posts(None, "Fritz").results] == [q.id]


def test_an_answer_suggestion_is_applied_to_the_answer(make_user, post, make_answer, reviewer) -> None:
    a = make_answer(post, author=make_user(), body="Reset the hub.")
    s = suggestions.suggest_answer_edit(make_user("newbie"), a, "Reset the hub: hold the button for ten seconds.")
    db.session.commit()
    suggestions.approve(reviewer, s)
    db.session.commit()
    db.session.expire_all()
    assert a.body.endswith("ten seconds.") and s.revision_number == 2


def test_rejection_keeps_the_post_and_tells_the_reason(make_user, post, reviewer) -> None:
    newbie = make_user("newbie")
    s = _suggest(newbie, post)
    with pytest.raises(FieldError) as err:
        suggestions.reject(reviewer, s, "   ")
    assert err.value.field == "reason"
    suggestions.reject(reviewer, s, "Changes what the asker meant.")
    db.session.commit()
    db.session.expire_all()
    assert (s.status, s.reject_reason) == ("rejected", "Changes what the asker meant.")
    assert post.body == BODY and db.session.get(User, newbie.id).reputation == 1
    assert db.session.scalar(select(ModerationLog.reason).where(ModerationLog.action == "reject_suggested_edit")) \
        == "Changes what the asker meant."
    with pytest.raises(InvalidState):
        suggestions.approve(reviewer, s)
    # Once reviewed, the post takes a new suggestion.
    assert _suggest(newbie, post, body=FIXED + " Second try.").status == "pending"


def test_a_suggestion_whose_post_changed_is_superseded_not_applied(make_user, post, reviewer) -> None:
    newbie = make_user("newbie")
    s = _suggest(newbie, post)
    own = BODY + "\n\nUpdate from the asker: a power cycle fixed it."
    questions.edit_question(post.author, post, questions.QuestionInput(post.title, own, "setup"))
    db.session.commit()
    result = suggestions.approve(reviewer, s)
    db.session.commit()
    db.session.expire_all()
    assert result.status == "superseded" and "edited after this suggestion" in result.reject_reason
    assert db.session.get(Question, post.id).body == own
    assert db.session.get(User, newbie.id).reputation == 1


def test_a_new_members_fix_to_a_post_with_links_stays_published(app: Flask, make_user, make_answer, post, reviewer) -> None:
    """The approved text is judged as the reviewer's: the author's own links must not send a
    trusted answer (and its acceptance) back to the review queue because a new member fixed a word."""
    from forum.models import Answer
    from forum.services import curation

    app.config["NEW_MEMBER_LINK_REVIEW"] = True
    expert = set_reputation(make_user("expert"), 3000)
    a = make_answer(post, author=expert, body="Follow https://example.org/fix and reset the hub.")
    curation.accept_answer(post.author, a)
    db.session.commit()
    s = suggestions.suggest_answer_edit(make_user("newbie"), a, "Follow https://example.org/fix, then reset the hub.")
    db.session.commit()
    suggestions.approve(reviewer, s)
    db.session.commit()
    db.session.expire_all()
    answer = db.session.get(Answer, a.id)
    assert not answer.is_hidden and answer.body.endswith("then reset the hub.")
    assert db.session.get(Question, post.id).accepted_answer_id == a.id


def test_approval_goes_through_watched_words(make_user, post, reviewer) -> None:
    s = _suggest(make_user("newbie"), post, body=FIXED + " Ask about the refund hack.")
    db.session.add(WatchedWord(phrase="refund hack", action="review"))
    db.session.commit()
    suggestions.approve(reviewer, s)
    db.session.commit()
    db.session.expire_all()
    q = db.session.get(Question, post.id)
    assert q.hidden_reason == "review" and q.is_hidden  # back to the moderators' review queue


def test_a_word_blocked_since_the_suggestion_stops_the_approval(make_user, post, reviewer) -> None:
    s = _suggest(make_user("newbie"), post, body=FIXED + " Try the casino trick.")
    db.session.add(WatchedWord(phrase="casino", action="block"))
    db.session.commit()
    with pytest.raises(FieldError, match="blocked word"):
        suggestions.approve(reviewer, s)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(SuggestedEdit, s.id).status == "pending" and db.session.get(Question, post.id).body == BODY


def test_a_blocked_word_refuses_the_suggestion_itself(make_user, post) -> None:
    db.session.add(WatchedWord(phrase="casino", action="block"))
    db.session.commit()
    with pytest.raises(FieldError):
        _suggest(make_user(), post, body=FIXED + " casino")


def test_only_reviewers_review_and_never_their_own(make_user, post, reviewer) -> None:
    s = _suggest(make_user("newbie"), post)
    below = set_reputation(make_user(), 1999)
    with pytest.raises(PermissionDenied):
        suggestions.approve(below, s)
    with pytest.raises(PermissionDenied):
        suggestions.review_queue(below, 1)
    # A member who suggested before reaching the threshold cannot approve their own suggestion.
    set_reputation(s.proposer, 2500)
    with pytest.raises(PermissionDenied):
        suggestions.approve(s.proposer, s)
    assert [i.suggestion.id for i in suggestions.review_queue(reviewer, 1)[1]] == [s.id]


def test_nothing_changed_and_own_posts_are_not_suggestions(make_user, post) -> None:
    with pytest.raises(InvalidState, match="Nothing changed"):
        _suggest(make_user(), post, body=BODY)
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        _suggest(post.author, post)


def test_the_queue_loads_a_page_in_a_fixed_number_of_queries(make_user, make_question, make_answer, reviewer, count_queries) -> None:
    def fill(n: int) -> None:
        for i in range(n):
            q = make_question(body=BODY + f" case {i}")
            a = make_answer(q, body=f"Answer number {i} for this hub.")
            _suggest(make_user(), q, body=FIXED + f" {i}")
            suggestions.suggest_answer_edit(make_user(), a, f"Answer number {i} for this hub, with steps.")
            db.session.commit()

    fill(1)
    db.session.expire_all()
    with count_queries() as small:
        suggestions.review_queue(reviewer, 1)
    fill(4)
    db.session.expire_all()
    with count_queries() as large:
        page, items = suggestions.review_queue(reviewer, 1)
    assert len(items) == 10 and large.count == small.count
    assert all(i.base is not None and i.post is not None and i.question is not None for i in items)
