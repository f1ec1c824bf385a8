"""Private support cases: opening, the private conversation, timeline, public resolution."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Answer, ModerationLog, Question
from forum.services import cases, curation, notifications
from forum.services.errors import FieldError, InvalidState, PermissionDenied

SECRET = "serial number LX-99-SECRETPHRASE"


@pytest.fixture
def calls(monkeypatch):
    """notify and notify_followers calls as (kind, event, recipients or question id, subject)."""
    seen: list[tuple[str, str, object, str]] = []

    def notify(recipients, event, *, actor, subject, url, text=""):
        seen.append(("notify", event, sorted(getattr(r, "id", r) for r in recipients), subject))

    def followers(question, event, *, actor, subject, url, text=""):
        seen.append(("followers", event, question.id, subject))

    monkeypatch.setattr(notifications, "notify", notify)
    monkeypatch.setattr(notifications, "notify_followers", followers)
    return seen


@pytest.fixture
def setting(make_user, make_question):
    asker = make_user("case_asker")
    agent = make_user("case_agent", role="agent")
    q = make_question(author=asker, title="Hub lost all my automations overnight", tags="automations hub")
    return asker, agent, q


def _kinds(case):
    return [(e.kind, e.status) for e in cases.timeline(case)]


def test_opening_copies_the_context_counts_as_a_response_and_tells_the_asker(setting, calls) -> None:
    asker, agent, q = setting
    case = cases.open_case(agent, q)
    db.session.commit()
    assert (case.asker_id, case.opened_by_id, case.status) == (asker.id, agent.id, "open")
    assert case.context_title == q.title and case.context_body == q.body and case.context_tags == "automations hub"
    assert _kinds(case) == [("opened", "open")]
    db.session.expire_all()
    assert db.session.get(Question, q.id).first_response_at == case.opened_at
    assert calls == [("notify", "case", [asker.id], calls[0][3])]
    log = db.session.scalars(select(ModerationLog).where(ModerationLog.action == "open_case")).one()
    assert log.actor_id == agent.id and log.target_id == q.id


def test_only_staff_open_one_case_per_question(setting, make_user) -> None:
    asker, agent, q = setting
    for who in (asker, make_user()):
        with pytest.raises(PermissionDenied):
            cases.open_case(who, q)
    cases.open_case(agent, q)
    db.session.commit()
    with pytest.raises(InvalidState):
        cases.open_case(make_user(role="moderator"), q)


def test_only_the_asker_and_staff_see_a_case(setting, make_user) -> None:
    asker, agent, q = setting
    case = cases.open_case(agent, q)
    db.session.commit()
    assert cases.get_case(case.id, asker) is case
    assert cases.get_case(case.id, make_user(role="admin")) is case
    with pytest.raises(PermissionDenied):
        cases.get_case(case.id, make_user())
    from forum.services.errors import NotFound
    with pytest.raises(NotFound):
        cases.get_case(case.id + 1000, agent)


def test_conversation_status_and_timeline(setting, make_user, calls) -> None:
    asker, agent, q = setting
    case = cases.open_case(agent, q)
    cases.add_message(agent, case, "Could you send the **serial number**?")
    cases.set_status(agent, case, "waiting")
    calls.clear()
    cases.add_message(asker, case, f"Sure: {SECRET}")
    db.session.commit()
    assert case.status == "open"  # the customer answered, so it is back with support
    assert _kinds(case) == [("opened", "open"), ("message", ""), ("status", "waiting"), ("message", ""),
                            ("status", "open")]
    msg = cases.timeline(case)[1]
    assert "<strong>serial number</strong>" in msg.body_html
    assert calls[0][:3] == ("notify", "case", [agent.id])
    with pytest.raises(PermissionDenied):
        cases.add_message(make_user(), case, "Let me in")
    with pytest.raises(PermissionDenied):
        cases.set_status(asker, case, "waiting")
    with pytest.raises(FieldError):
        cases.set_status(agent, case, "resolved")
    with pytest.raises(FieldError):
        cases.add_message(agent, case, "   ")


def test_message_length_is_limited(setting, app) -> None:
    _, agent, q = setting
    case = cases.open_case(agent, q)
    with pytest.raises(FieldError) as err:
        cases.add_message(agent, case, "x" * (app.config["CASE_MESSAGE_MAX_LENGTH"] + 1))
    assert "characters" in err.value.message


def test_resolution_posts_an_official_answer_and_tells_followers(setting, calls, app) -> None:
    asker, agent, q = setting
    case = cases.open_case(agent, q)
    cases.add_message(asker, case, SECRET)
    db.session.commit()
    with pytest.raises(FieldError) as err:
        cases.resolve_case(agent, case, "Fixed.")
    assert err.value.field == "summary"
    with pytest.raises(FieldError):
        cases.resolve_case(agent, case, "x" * (app.config["CASE_RESOLUTION_MAX_LENGTH"] + 1))
    db.session.rollback()
    calls.clear()
    summary = "A cloud sync bug removed the automations; we restored them from the nightly backup."
    answer = cases.resolve_case(agent, case, summary, confirm=True)  # over the asker's unanswered message
    db.session.commit()
    assert answer.author_id == agent.id and answer.is_official and answer.body == summary
    assert (case.status, case.resolution_answer_id, case.resolved_by_id) == ("resolved", answer.id, agent.id)
    assert _kinds(case)[-1] == ("resolved", "resolved")
    assert ("followers", "follow", q.id) in [c[:3] for c in calls]
    assert ("notify", "case", [asker.id]) in [c[:3] for c in calls]
    with pytest.raises(PermissionDenied):
        cases.resolve_case(agent, case, summary)
    with pytest.raises(PermissionDenied):  # only the customer's reply reopens a resolved case
        cases.add_message(agent, case, "One more thing")
    assert SECRET not in db.session.scalars(select(Answer.body)).all()


def test_resolution_needs_a_question_that_takes_answers(setting) -> None:
    _, agent, q = setting
    case = cases.open_case(agent, q)
    curation.close_question(agent, q, "resolved_privately")
    with pytest.raises(InvalidState):
        cases.resolve_case(agent, case, "We restored everything from the nightly backup, all good.")


def test_members_list_only_their_own_cases(setting, make_user, make_question) -> None:
    asker, agent, q = setting
    mine = cases.open_case(agent, q)
    other = cases.open_case(agent, make_question())
    db.session.commit()
    assert [c.id for c in cases.list_cases(asker, "", 1).items] == [mine.id]
    assert {c.id for c in cases.list_cases(agent, "", 1).items} == {mine.id, other.id}
    assert cases.list_cases(agent, "resolved", 1).items == []


def test_the_database_refuses_a_second_case_for_a_question(setting) -> None:
    """Two agents clicking at the same moment both pass the check; the unique constraint stops one."""
    from sqlalchemy.exc import IntegrityError

    from forum.models import SupportCase
    _, agent, q = setting
    cases.open_case(agent, q)
    db.session.commit()
    db.session.add(SupportCase(question_id=q.id, asker_id=q.author_id, opened_by_id=agent.id, context_title="x",
                               context_body="x", context_body_html="x"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_an_agent_made_a_member_no_longer_hears_the_case(setting, make_user, calls) -> None:
    """Private text travels in notifications and e-mail: only those who may still read the case get it."""
    from forum.services import admin

    asker, agent, q = setting
    other = make_user("case_agent_two", role="agent")
    case = cases.open_case(agent, q)
    cases.add_message(other, case, "I'm taking over from here.")
    admin.change_role(None, agent, "member", "")
    db.session.commit()
    calls.clear()
    cases.add_message(asker, case, f"Sure: {SECRET}")
    db.session.commit()
    assert calls[0][:3] == ("notify", "case", [other.id])
