"""Accepted and official answers, close/reopen, lock, pin: rules and the moderation log."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import ModerationLog
from forum.search_sync import get_index
from forum.services import answers, comments, curation, questions
from forum.services.errors import FieldError, PermissionDenied


def test_asker_accepts_changes_and_withdraws(make_user, make_question, make_answer) -> None:
    asker = make_user()
    q = make_question(author=asker)
    a1, a2 = make_answer(q), make_answer(q)
    curation.accept_answer(asker, a1)
    db.session.commit()
    assert q.accepted_answer_id == a1.id and q.is_solved and q.accepted_by_id == asker.id
    curation.accept_answer(asker, a2)
    db.session.commit()
    assert q.accepted_answer_id == a2.id
    curation.unaccept_answer(asker, q)
    db.session.commit()
    assert not q.is_solved


def test_accepted_answer_is_listed_first(make_user, make_question, make_answer) -> None:
    asker = make_user()
    q = make_question(author=asker)
    top, low = make_answer(q), make_answer(q)
    top.score = 10
    db.session.commit()
    curation.accept_answer(asker, low)
    db.session.commit()
    shown, _ = questions.load_thread(q, None)
    assert [a.id for a in shown] == [low.id, top.id]


@pytest.mark.parametrize("role", ["agent", "moderator", "admin"])
def test_staff_accept_and_it_is_logged(make_user, make_question, make_answer, role: str) -> None:
    q = make_question()
    a = make_answer(q)
    staff = make_user(role=role)
    curation.accept_answer(staff, a)
    db.session.commit()
    entry = db.session.scalar(select(ModerationLog).where(ModerationLog.action == "accept_answer"))
    assert entry.actor_id == staff.id and json.loads(entry.after) == {"accepted_answer_id": a.id}


def test_other_members_cannot_accept(make_user, make_question, make_answer) -> None:
    a = make_answer(make_question())
    with pytest.raises(PermissionDenied):
        curation.accept_answer(make_user(), a)


def test_solved_questions_are_filtered_in_lists_and_search(make_user, make_question, make_answer) -> None:
    asker = make_user()
    solved = make_question(author=asker, title="Solved: hub pairing with mesh Wi-Fi")
    open_q = make_question(author=asker, title="Open: hub pairing with old router")
    curation.accept_answer(asker, make_answer(solved, body="Use the 2.4 GHz band only."))
    db.session.commit()
    assert [q.id for q in questions.list_questions("solved", 1).items] == [solved.id]
    assert [q.id for q in questions.list_questions("unsolved", 1).items] == [open_q.id]
    assert [h.id for h in get_index().search("hub pairing is:solved").hits] == [solved.id]
    assert [h.id for h in get_index().search("hub pairing", solved=False).hits] == [open_q.id]


def test_only_staff_answers_can_be_marked_official_by_staff(make_user, make_question, make_answer) -> None:
    q = make_question()
    agent = make_user(role="agent")
    staff_answer = make_answer(q, author=agent)
    member_answer = make_answer(q)
    curation.set_official(agent, staff_answer, True)
    db.session.commit()
    assert staff_answer.is_official
    with pytest.raises(PermissionDenied):
        curation.set_official(agent, member_answer, True)
    with pytest.raises(PermissionDenied):
        curation.set_official(make_user(), staff_answer, False)


def test_closed_question_rejects_new_answers_and_reopen_restores(make_user, make_question) -> None:
    q = make_question()
    agent = make_user(role="agent")
    curation.close_question(agent, q, "needs_details", note="Which firmware version?")
    db.session.commit()
    with pytest.raises(PermissionDenied):
        answers.post_answer(make_user(), q, "An answer that should be refused")
    curation.reopen_question(agent, q)
    db.session.commit()
    answers.post_answer(make_user(), q, "Now it is accepted again")


def test_duplicate_needs_a_real_other_question(make_user, make_question) -> None:
    q, original = make_question(), make_question()
    agent = make_user(role="agent")
    with pytest.raises(FieldError):
        curation.close_question(agent, q, "duplicate")
    with pytest.raises(FieldError):
        curation.close_question(agent, q, "duplicate", duplicate_of=q)
    curation.close_question(agent, q, "duplicate", duplicate_of=curation.find_question_ref(f"/questions/{original.id}/x"))
    db.session.commit()
    assert q.duplicate_of_id == original.id


@pytest.mark.parametrize("ref", ["", "abc", "/users/3", "99999"])
def test_bad_question_references_are_field_errors(app, ref: str) -> None:
    with pytest.raises(FieldError):
        curation.find_question_ref(ref)


def test_locked_thread_takes_no_comments_answers_or_member_edits(make_user, make_question, make_answer) -> None:
    author = make_user()
    q = make_question(author=author)
    a = make_answer(q)
    curation.set_locked(make_user(role="moderator"), q, True, "heated")
    db.session.commit()
    with pytest.raises(PermissionDenied):
        comments.add_comment(make_user(), q, "more heat")
    with pytest.raises(PermissionDenied):
        answers.post_answer(make_user(), q, "one more answer")
    with pytest.raises(PermissionDenied):
        answers.edit_answer(a.author, a, "edited while locked")
    with pytest.raises(PermissionDenied):
        curation.accept_answer(author, a)


def test_pinned_questions_top_the_home_page_and_their_tag(make_user, make_question) -> None:
    wifi = make_question(tags="wifi")
    other = make_question(tags="billing")
    curation.set_pinned(make_user(role="agent"), wifi, True)
    db.session.commit()
    assert [q.id for q in curation.pinned_questions()] == [wifi.id]
    tag = questions.get_tag("billing")
    assert curation.pinned_questions(tag_id=tag.id) == [] and other.id


def test_members_cannot_close_lock_or_pin(make_user, make_question) -> None:
    q = make_question()
    member = make_user()
    for call in (lambda: curation.close_question(member, q, "off_topic"),
                 lambda: curation.set_locked(member, q, True),
                 lambda: curation.set_pinned(member, q, True)):
        with pytest.raises(PermissionDenied):
            call()
    assert not (q.is_closed or q.is_locked or q.is_pinned)
