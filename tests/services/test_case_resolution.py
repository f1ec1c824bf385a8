"""Issue 13 item 4: resolving a private case solves the public question, tells each person once,
lets the customer reopen it by replying (within CASE_REOPEN_DAYS), and asks the agent to confirm
when the customer's reply is still unanswered."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Notification, NotificationPreference, OutboxMail, Question, QuestionFollow
from forum.models.base import utcnow
from forum.services import cases, notifications, questions, support
from forum.services.errors import InvalidState, PermissionDenied
from forum.services.permissions import can
from forum.services.search import search_posts

SUMMARY = "A cloud sync bug removed the automations; we restored them from the nightly backup."


@pytest.fixture
def setting(make_user, make_question, make_answer):
    """An asker's question with an earlier, well-voted member answer, taken private by an agent."""
    asker = make_user("res_asker")
    agent = make_user("res_agent", role="agent")
    q = make_question(author=asker, title="Hub lost every automation overnight", tags="automations")
    earlier = make_answer(q, make_user("res_helper"), "Try restarting the hub twice, that usually helps.")
    earlier.score = 7
    case = cases.open_case(agent, q)
    cases.add_message(agent, case, "Which hub firmware do you run?")
    db.session.commit()
    return asker, agent, q, earlier, case


def _bell(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def _mail(user) -> list[OutboxMail]:
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.user_id == user.id).order_by(OutboxMail.id)))


def _clear_inboxes() -> None:
    db.session.execute(Notification.__table__.delete())
    db.session.execute(OutboxMail.__table__.delete())
    db.session.commit()


def test_the_resolution_is_accepted_by_staff_and_shown_first(setting) -> None:
    asker, agent, q, earlier, case = setting
    answer = cases.resolve_case(agent, case, SUMMARY)
    db.session.commit()
    db.session.expire_all()
    q = db.session.get(Question, q.id)
    assert q.accepted_answer_id == answer.id and q.accepted_by_id == agent.id  # a staff acceptance
    assert q.is_solved
    answers, _ = questions.load_thread(q, None)
    assert [a.id for a in answers] == [answer.id, earlier.id]  # first, above the better-voted earlier answer


def test_the_question_counts_as_solved_in_lists_search_and_stats(setting) -> None:
    asker, agent, q, earlier, case = setting
    assert q.id not in [r.id for r in questions.list_questions("solved", 1).items]
    solved_before = support.metrics().solved
    cases.resolve_case(agent, case, SUMMARY)
    db.session.commit()
    assert q.id in [r.id for r in questions.list_questions("solved", 1).items]
    assert q.id not in [r.id for r in questions.list_questions("unsolved", 1).items]
    assert support.metrics().solved == solved_before + 1
    found = search_posts(None, "automation", solved=True)
    assert q.id in [r.question.id for r in found.results if r.question is not None]


def test_each_person_hears_of_a_resolution_once(setting, make_user) -> None:
    """Before: the asker got "answer", "case" and "follow" (three bell rows, two e-mails)."""
    asker, agent, q, earlier, case = setting
    follower = make_user("res_follower")
    db.session.add(QuestionFollow(user_id=follower.id, question_id=q.id))
    db.session.add(NotificationPreference(user_id=follower.id, event="follow", in_app=True, email=True))
    db.session.commit()
    _clear_inboxes()
    cases.resolve_case(agent, case, SUMMARY)
    db.session.commit()
    bell, mail = _bell(asker), _mail(asker)
    assert [n.event for n in bell] == ["case"] and len(mail) == 1
    assert "resolved" in bell[0].subject and bell[0].url == f"/cases/{case.id}"
    assert mail[0].event == "case" and "resolved" in mail[0].subject
    # A follower hears it once too (the resolution, not also "answered").
    assert [n.event for n in _bell(follower)] == ["follow"] and len(_mail(follower)) == 1
    assert "resolution" in _bell(follower)[0].subject
    # Nobody hears of their own act (the agent may earn a badge for the accepted answer).
    assert [n.event for n in _bell(agent) if n.event != "badge"] == [] and _mail(agent) == []


def test_coalesced_keeps_one_per_member_the_most_meaningful(make_user) -> None:
    a, b = make_user("co_a"), make_user("co_b")
    with notifications.coalesced():
        notifications.notify([a, b], "follow", actor=None, subject="followed thing", url="/q/1")
        with notifications.coalesced():  # nested: joins the outer block
            notifications.notify([a], "answer", actor=None, subject="an answer", url="/q/1#a")
        notifications.notify([a], "follow", actor=None, subject="later follow", url="/q/2")
        assert _bell(a) == []  # held back until the block ends
    db.session.commit()
    assert [(n.event, n.subject) for n in _bell(a)] == [("answer", "an answer")]
    assert [(n.event, n.subject) for n in _bell(b)] == [("follow", "followed thing")]
    assert [m.event for m in _mail(a)] == ["answer"]


def test_coalesced_writes_nothing_when_the_block_fails(make_user) -> None:
    a = make_user("co_fail")
    with pytest.raises(RuntimeError), notifications.coalesced():
        notifications.notify([a], "answer", actor=None, subject="x", url="/q/1")
        raise RuntimeError("the write failed")
    assert _bell(a) == [] and _mail(a) == []
    notifications.notify([a], "answer", actor=None, subject="y", url="/q/3")  # no longer buffering
    assert len(_bell(a)) == 1


def test_the_customer_reply_reopens_a_resolved_case_and_tells_the_agent_once(setting) -> None:
    asker, agent, q, earlier, case = setting
    cases.resolve_case(agent, case, SUMMARY)
    db.session.commit()
    _clear_inboxes()
    cases.add_message(asker, case, "The automations are gone again this morning.")
    db.session.commit()
    assert case.status == "open" and not case.is_resolved
    assert [(e.kind, e.status) for e in cases.timeline(case)][-2:] == [("message", ""), ("status", "reopened")]
    bell, mail = _bell(agent), _mail(agent)
    assert len(bell) == 1 and len(mail) == 1
    assert "reopened" in bell[0].subject and "gone again" in bell[0].text
    # The agent can answer and resolve again.
    cases.add_message(agent, case, "Looking into it.")
    cases.resolve_case(agent, case, SUMMARY + " We also fixed the sync job.")
    db.session.commit()
    assert case.is_resolved


def test_staff_cannot_write_on_a_resolved_case(setting) -> None:
    asker, agent, q, earlier, case = setting
    cases.resolve_case(agent, case, SUMMARY)
    db.session.commit()
    assert can(asker, "write_case", case) and not can(agent, "write_case", case)
    with pytest.raises(PermissionDenied):
        cases.add_message(agent, case, "One more thing")


def test_after_the_window_the_case_takes_no_reply(setting, app) -> None:
    asker, agent, q, earlier, case = setting
    cases.resolve_case(agent, case, SUMMARY)
    db.session.commit()
    days = app.config["CASE_REOPEN_DAYS"]
    assert days == 14
    assert cases.reopen_until(case) == case.resolved_at + timedelta(days=14)
    case.resolved_at = utcnow() - timedelta(days=days, minutes=1)
    db.session.commit()
    assert not can(asker, "write_case", case)
    with pytest.raises(InvalidState) as err:
        cases.add_message(asker, case, "Still broken.")
    assert "new question" in err.value.message
    db.session.rollback()
    assert case.is_resolved
    app.config["CASE_REOPEN_DAYS"] = 30  # the window is a setting
    cases.add_message(asker, case, "Still broken.")
    assert case.status == "open"


def test_resolving_over_an_unanswered_customer_reply_needs_confirmation(setting) -> None:
    asker, agent, q, earlier, case = setting
    assert cases.pending_reply(case) is None  # the agent spoke last
    reply = cases.add_message(asker, case, "Firmware 4.2, and one more question: what about scenes?")
    db.session.commit()
    assert cases.pending_reply(case) == reply
    with pytest.raises(cases.ReplyPending) as err:
        cases.resolve_case(agent, case, SUMMARY)
    assert err.value.reply == reply and "res_asker" in err.value.message
    db.session.rollback()
    assert not case.is_resolved and db.session.get(Question, q.id).accepted_answer_id is None
    answer = cases.resolve_case(agent, case, SUMMARY, confirm=True)
    db.session.commit()
    assert case.is_resolved and case.resolution_answer_id == answer.id


def test_a_staff_reply_clears_the_pending_reply(setting) -> None:
    asker, agent, q, earlier, case = setting
    cases.add_message(asker, case, "Firmware 4.2.")
    cases.add_message(agent, case, "Thanks, restoring now.")
    db.session.commit()
    assert cases.pending_reply(case) is None
    cases.resolve_case(agent, case, SUMMARY)  # no confirmation needed
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) >= 1
