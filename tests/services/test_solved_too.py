""""This solved my problem too": one mark per member per thread, the daily limit, and the
accepted answer author's helped count through every move of the acceptance."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forum.events import SolvedTooChanged, subscribe
from forum.events import registry as event_registry
from forum.extensions import db
from forum.models import Question, SolvedToo, User
from forum.services import curation, solved_too, visibility
from forum.services.errors import NotFound, PermissionDenied, RateLimited


def _count(question_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Question.solved_too_count).where(Question.id == question_id))


def _helped(user_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(User.helped_count).where(User.id == user_id))


def _toggle(user, question_id: int) -> solved_too.SolvedTooResult:
    result = solved_too.toggle(user, question_id)
    db.session.commit()
    return result


def _consistent() -> None:
    """Every stored helped count equals what the marks say (what `recount_helped` would set)."""
    db.session.expire_all()
    expected = solved_too.helped_counts()
    stored = {uid: n for uid, n in db.session.execute(select(User.id, User.helped_count)) if n}
    assert stored == expected


@pytest.fixture
def thread(make_user, make_question, make_answer):
    asker = make_user("asker")
    q = make_question(author=asker, title="Hub blinks orange after the firmware update")
    first = make_answer(q, author=make_user("helper"))
    second = make_answer(q, author=make_user("other_helper"), body="Power-cycle the router first.")
    return asker, q, first, second


def test_a_member_marks_once_and_a_second_click_takes_it_back(thread, make_user) -> None:
    _, q, _, _ = thread
    member = make_user()
    r = _toggle(member, q.id)
    assert (r.marked, r.count) == (True, 1) and _count(q.id) == 1
    r = _toggle(member, q.id)
    assert (r.marked, r.count) == (False, 0) and _count(q.id) == 0
    assert db.session.scalar(select(func.count(SolvedToo.id))) == 0


def test_the_database_refuses_a_second_mark_by_the_same_member(thread, make_user) -> None:
    _, q, _, _ = thread
    member = make_user()
    db.session.add(SolvedToo(user_id=member.id, question_id=q.id))
    db.session.commit()
    db.session.add(SolvedToo(user_id=member.id, question_id=q.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_asker_cannot_mark_their_own_question_but_a_member_with_no_reputation_can(thread, make_user) -> None:
    asker, q, _, _ = thread
    with pytest.raises(PermissionDenied):
        solved_too.toggle(asker, q.id)
    db.session.rollback()
    newcomer = make_user()
    assert newcomer.reputation == 1
    assert _toggle(newcomer, q.id).marked


def test_locked_and_deleted_questions_take_no_marks(thread, make_user) -> None:
    asker, q, _, _ = thread
    staff = make_user(role="moderator")
    member = make_user()
    curation.set_locked(staff, q, True)
    db.session.commit()
    with pytest.raises(PermissionDenied):
        solved_too.toggle(member, q.id)
    db.session.rollback()
    curation.set_locked(staff, db.session.get(Question, q.id), False)
    visibility.delete_post(asker, db.session.get(Question, q.id))
    db.session.commit()
    with pytest.raises(NotFound):
        solved_too.toggle(member, q.id)
    db.session.rollback()


def test_a_closed_question_still_takes_marks(thread, make_user) -> None:
    _, q, _, _ = thread
    curation.close_question(make_user(role="agent"), q, "resolved_privately")
    db.session.commit()
    assert _toggle(make_user(), q.id).marked


def test_the_daily_limit_is_enforced_and_taking_back_a_mark_frees_its_slot(app, make_user, make_question) -> None:
    app.config["SOLVED_TOO_PER_DAY"] = 2
    member = make_user()
    qs = [make_question() for _ in range(3)]
    _toggle(member, qs[0].id)
    _toggle(member, qs[1].id)
    with pytest.raises(RateLimited) as refused:
        solved_too.toggle(member, qs[2].id)
    db.session.rollback()
    assert "2 times a day" in str(refused.value) and refused.value.retry_after
    assert _count(qs[2].id) == 0
    _toggle(member, qs[1].id)  # taking back works at the limit, and frees the slot
    assert _toggle(member, qs[2].id).marked


def test_marks_are_credited_to_the_accepted_answers_author_through_every_move(thread, make_user) -> None:
    asker, q, first, second = thread
    helper, other = first.author_id, second.author_id
    members = [make_user() for _ in range(3)]
    _toggle(members[0], q.id)  # before any acceptance: counted on the thread, credited to nobody
    assert (_count(q.id), _helped(helper), _helped(other)) == (1, 0, 0)

    curation.accept_answer(asker, db.session.get(type(first), first.id))
    db.session.commit()
    assert (_helped(helper), _helped(other)) == (1, 0)  # the earlier mark is credited now

    _toggle(members[1], q.id)
    _toggle(members[2], q.id)
    assert (_count(q.id), _helped(helper)) == (3, 3)
    _toggle(members[2], q.id)  # taken back
    assert _helped(helper) == 2

    curation.accept_answer(asker, db.session.get(type(second), second.id))  # acceptance moves
    db.session.commit()
    assert (_helped(helper), _helped(other)) == (0, 2)

    curation.unaccept_answer(asker, db.session.get(Question, q.id))  # withdrawn
    db.session.commit()
    assert (_helped(helper), _helped(other), _count(q.id)) == (0, 0, 2)
    _consistent()


def test_hiding_the_accepted_answer_takes_the_credit_away(thread, make_user) -> None:
    asker, q, first, _ = thread
    curation.accept_answer(asker, first)
    db.session.commit()
    _toggle(make_user(), q.id)
    assert _helped(first.author_id) == 1
    visibility.delete_post(db.session.get(User, first.author_id), db.session.get(type(first), first.id))
    db.session.commit()
    assert _helped(first.author_id) == 0
    _consistent()


def test_the_accepted_answers_author_is_never_credited_for_their_own_mark(thread) -> None:
    asker, q, first, second = thread
    helper = db.session.get(User, first.author_id)
    curation.accept_answer(asker, first)
    db.session.commit()
    _toggle(helper, q.id)  # they had the problem too, but helping themselves is no credit
    assert (_count(q.id), _helped(helper.id)) == (1, 0)
    curation.accept_answer(asker, db.session.get(type(second), second.id))
    db.session.commit()
    assert _helped(second.author_id) == 1  # the new author is credited with the helper's mark
    curation.accept_answer(asker, db.session.get(type(first), first.id))
    db.session.commit()
    assert (_helped(helper.id), _helped(second.author_id)) == (0, 0)
    _consistent()


def test_a_mark_announces_solved_too_changed(thread, make_user) -> None:
    asker, q, first, _ = thread
    curation.accept_answer(asker, first)
    db.session.commit()
    heard: list[SolvedTooChanged] = []
    subscribe(SolvedTooChanged, heard.append)
    try:
        member = make_user()
        _toggle(member, q.id)
        _toggle(member, q.id)
    finally:
        for handlers in event_registry.handlers.values():
            if heard.append in handlers:
                handlers.remove(heard.append)
    assert [(e.question_id, e.user_id, e.marked, e.count, e.credited_id) for e in heard] == [
        (q.id, member.id, True, 1, first.author_id), (q.id, member.id, False, 0, first.author_id)]


def test_recount_puts_drifted_counts_right(thread, make_user) -> None:
    asker, q, first, _ = thread
    curation.accept_answer(asker, first)
    _toggle(make_user(), q.id)
    db.session.execute(User.__table__.update().where(User.id == first.author_id).values(helped_count=9))
    db.session.execute(Question.__table__.update().where(Question.id == q.id).values(solved_too_count=5))
    db.session.commit()
    assert solved_too.recount_helped() == 1
    db.session.commit()
    assert (_helped(first.author_id), _count(q.id)) == (1, 1)


def test_marks_racing_with_moves_of_the_acceptance_leave_every_count_right(app, thread, make_user) -> None:
    """Members mark while the asker moves the acceptance back and forth: the question's row lock
    orders them, so whichever lands first, the helped counts equal what the marks say."""
    from forum.models import Answer
    from tests.support import run_together

    asker, q, first, second = thread
    members = [make_user().id for _ in range(10)]
    qid, asker_id, answers = q.id, asker.id, (first.id, second.id)

    def worker(i: int) -> None:
        with app.app_context():
            if i < len(members):
                solved_too.toggle(db.session.get(User, members[i]), qid)
            else:
                curation.accept_answer(db.session.get(User, asker_id), db.session.get(Answer, answers[i % 2]))
            db.session.commit()
            db.session.remove()

    run_together(len(members) + 4, worker)
    assert _count(qid) == 10
    _consistent()
    accepted = db.session.get(Question, qid).accepted_answer_id
    credited = db.session.get(Answer, accepted).author_id
    assert _helped(credited) == 10


def test_the_recount_command_reports_and_fixes_drift(app, runner, thread, make_user) -> None:
    asker, q, first, _ = thread
    curation.accept_answer(asker, first)
    _toggle(make_user(), q.id)
    db.session.execute(User.__table__.update().where(User.id == first.author_id).values(helped_count=0))
    db.session.commit()
    result = runner.invoke(args=["forum", "recount-helped"])
    assert result.exit_code == 0 and "1 members' counts were wrong" in result.output
    assert _helped(first.author_id) == 1


def test_two_answers_accepted_at_the_same_moment_leave_one_acceptance_paid(app, thread) -> None:
    """The lock this feature added to curation: both accepts used to see "nothing accepted
    before", so the answer accepted first kept its +15 after the second replaced it."""
    from forum.models import Answer
    from tests.support import run_together

    asker, q, first, second = thread
    qid, asker_id, answers = q.id, asker.id, (first.id, second.id)

    def accept(i: int) -> None:
        with app.app_context():
            curation.accept_answer(db.session.get(User, asker_id), db.session.get(Answer, answers[i]))
            db.session.commit()
            db.session.remove()

    run_together(2, accept)
    db.session.expire_all()
    accepted = db.session.get(Question, qid).accepted_answer_id
    winner = db.session.get(Answer, accepted).author_id
    loser = (set((first.author_id, second.author_id)) - {winner}).pop()
    assert db.session.get(User, winner).reputation == 1 + 15
    assert db.session.get(User, loser).reputation == 1
