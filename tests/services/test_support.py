"""First responses, triage, playbooks, the support queue and the SLA sweep."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from forum.extensions import db
from forum.models import Question, SupportAlert
from forum.models.base import utcnow
from forum.services import answers, comments, notifications, sla, support, visibility
from forum.services.errors import FieldError, PermissionDenied


def _age(question, hours: float) -> None:
    """Pretend the question was asked ``hours`` ago."""
    db.session.execute(update(Question).where(Question.id == question.id)
                       .values(created_at=utcnow() - timedelta(hours=hours)))
    db.session.commit()
    db.session.expire_all()


def _first(question):
    db.session.expire_all()
    return db.session.get(Question, question.id).first_response_at


@pytest.fixture
def calls(monkeypatch):
    """Every notify call as (event, sorted recipient ids, subject)."""
    seen: list[tuple[str, list[int], str]] = []

    def record(recipients, event, *, actor, subject, url, text=""):
        seen.append((event, sorted(getattr(r, "id", r) for r in recipients), subject))

    monkeypatch.setattr(notifications, "notify", record)
    return seen


# --------------------------------------------------------------------------- first response

def test_asker_activity_is_not_a_first_response(make_user, make_question, make_answer) -> None:
    asker = make_user()
    q = make_question(author=asker)
    make_answer(q, author=asker)
    comments.add_comment(asker, q, "Any news on this one?")
    db.session.commit()
    assert _first(q) is None


def test_first_answer_or_comment_by_someone_else_sets_it_once(make_user, make_question, make_answer) -> None:
    q = make_question()
    helper = make_user()
    c = comments.add_comment(helper, q, "Which hub model is it?")
    db.session.commit()
    first = _first(q)
    assert first == c.created_at
    make_answer(q)
    assert _first(q) == first


def test_a_later_response_skips_the_first_response_update_and_stays_right(
        make_user, make_question, make_answer, count_queries) -> None:
    """The answer's own touch of the question read its first response under the row lock it
    holds until commit: an answered question is not asked again, an unanswered one is."""
    q = make_question()

    def first_response_updates(run) -> int:
        with count_queries() as qc:
            run()
        db.session.commit()
        return len([s for s in qc.statements if s.lstrip().upper().startswith("UPDATE")
                    and "first_response_at=" in s.replace(" ", "")])

    assert first_response_updates(lambda: answers.post_answer(make_user(), q, "Reset the hub first.")) == 1
    first = _first(q)
    assert first is not None
    assert first_response_updates(lambda: answers.post_answer(make_user(), q, "Then pair it again.")) == 0
    assert first_response_updates(lambda: comments.add_comment(make_user(), q, "Worked for me.")) == 0
    assert _first(q) == first


def test_a_response_after_a_rolled_back_savepoint_or_a_recompute_is_still_recorded(
        make_user, make_question, make_answer) -> None:
    q = make_question()
    a = make_answer(q)
    assert _first(q) == a.created_at
    # The deletion recomputes the first response (none left) in the same transaction as the
    # comment after it: what the answer's touch read no longer holds, and the comment counts.
    answers.delete_answer(a.author, a)
    c = comments.add_comment(make_user(), q, "Is this still broken?")
    db.session.commit()
    assert _first(q) == c.created_at
    # The same with a response recorded without a touch of its own after the recompute.
    q3, agent = make_question(), make_user()
    a3 = make_answer(q3)
    answers.delete_answer(a3.author, a3)
    when = utcnow()
    support.record_first_response(q3.id, agent.id, when)
    db.session.commit()
    assert _first(q3) == when
    # A savepoint that touched the question and rolled back released its row lock: what it read
    # (a first response) is not trusted by the outer transaction, where it may have changed.
    q2, helper = make_question(), make_user()
    make_answer(q2)
    with db.session.begin_nested() as nested:
        comments.add_comment(helper, q2, "Same here.")
        nested.rollback()
    db.session.execute(update(Question).where(Question.id == q2.id).values(first_response_at=None))
    when2 = utcnow()
    support.record_first_response(q2.id, agent.id, when2)
    db.session.commit()
    assert _first(q2) == when2


def test_deleting_or_hiding_the_response_puts_the_question_back(make_user, make_question, make_answer) -> None:
    q = make_question()
    a = make_answer(q)
    assert _first(q) is not None
    answers.delete_answer(a.author, a)
    db.session.commit()
    assert _first(q) is None
    answers.restore_answer(a.author, a)
    db.session.commit()
    assert _first(q) == a.created_at
    visibility.hide_post(a, "moderator")
    db.session.commit()
    assert _first(q) is None
    visibility.unhide_post(a)
    db.session.commit()
    assert _first(q) == a.created_at


def test_a_later_response_takes_over_when_the_first_goes(make_user, make_question, make_answer) -> None:
    q = make_question()
    early = comments.add_comment(make_user(), q, "First!")
    db.session.commit()
    late = make_answer(q)
    comments.delete_comment(early.author, early)
    db.session.commit()
    assert _first(q) == late.created_at


# --------------------------------------------------------------------------- triage and playbooks

def test_triage_is_staff_only_and_validated(make_user, make_question) -> None:
    q = make_question()
    with pytest.raises(PermissionDenied):
        support.triage_question(make_user(), q, "problem", "high")
    agent = make_user(role="agent")
    with pytest.raises(FieldError):
        support.triage_question(agent, q, "rant", "high")
    support.triage_question(agent, q, "problem", "high")
    support.triage_question(agent, q, "outage", "critical")
    db.session.commit()
    t = support.triage_of(q.id)
    assert (t.type, t.severity, t.triaged_by_id) == ("outage", "critical", agent.id)


def test_playbooks_default_targets_and_admin_edits(make_user) -> None:
    books = support.all_playbooks()
    assert len(books) == 20
    assert {s: books[("question", s)].target_hours for s in ("critical", "high", "normal", "low")} == \
        {"critical": 1, "high": 4, "normal": 24, "low": 72}
    agent, admin = make_user(role="agent"), make_user(role="admin")
    data = support.PlaybookInput("outage", "critical", 2, "We are on it, {asker}.", ["moderator"], agent.username)
    with pytest.raises(PermissionDenied):
        support.save_playbook(agent, data)
    with pytest.raises(FieldError) as bad:
        support.save_playbook(admin, support.PlaybookInput("outage", "critical", 0, "", [], ""))
    assert bad.value.field == "target_hours"
    with pytest.raises(FieldError) as bad:
        support.save_playbook(admin, support.PlaybookInput("outage", "critical", 2, "", [], make_user().username))
    assert bad.value.field == "watchers"
    db.session.rollback()
    support.save_playbook(admin, data)
    support.save_playbook(admin, data)  # saving again updates the same row
    db.session.commit()
    book = support.all_playbooks()[("outage", "critical")]
    assert (book.target_hours, book.notify_roles, [u.id for u in book.watchers]) == (2, ("moderator",), [agent.id])


# --------------------------------------------------------------------------- the queue

def test_queue_orders_by_due_time_and_leaves_out_answered_and_closed(make_user, make_question, make_answer) -> None:
    agent = make_user(role="agent")
    untriaged = make_question(title="Untriaged question asked ten hours ago")  # due in 14 h
    _age(untriaged, 10)
    critical = make_question(title="Critical outage asked thirty minutes ago")  # due in 30 min
    _age(critical, 0.5)
    support.triage_question(agent, critical, "outage", "critical")
    low = make_question(title="Low severity question asked two days ago")  # due in 24 h
    _age(low, 48)
    support.triage_question(agent, low, "question", "low")
    breached = make_question(title="High severity problem asked five hours ago")  # breached 1 h ago
    _age(breached, 5)
    support.triage_question(agent, breached, "problem", "high")
    make_answer(make_question(title="Answered question stays out of the queue"))
    closed = make_question(title="Closed question stays out of the queue too")
    from forum.services import curation
    curation.close_question(agent, closed, "off_topic")
    db.session.commit()
    page = support.queue(agent, support.QueueFilters(), 1)
    assert [r.question.id for r in page.items] == [breached.id, critical.id, untriaged.id, low.id]
    assert page.items[0].due_at < utcnow() < page.items[1].due_at


def test_queue_filters_and_staff_only(make_user, make_question) -> None:
    agent = make_user(role="agent")
    wifi = make_question(tags="wifi")
    billing = make_question(tags="billing")
    support.triage_question(agent, billing, "complaint", "high")
    db.session.commit()
    ids = lambda **f: [r.question.id for r in support.queue(agent, support.QueueFilters(**f), 1).items]  # noqa: E731
    assert ids(tag="wifi") == [wifi.id]
    assert ids(type="complaint") == [billing.id]
    assert ids(type="untriaged") == [wifi.id]
    assert ids(severity="high") == [billing.id]
    assert ids(severity="low") == []
    with pytest.raises(PermissionDenied):
        support.queue(make_user(), support.QueueFilters(), 1)


def test_queue_runs_a_fixed_number_of_queries(make_user, make_question, count_queries) -> None:
    agent = make_user(role="agent")
    make_question()
    db.session.expire_all()
    with count_queries() as small:
        support.queue(agent, support.QueueFilters(), 1)
    for i in range(6):
        q = make_question(tags=f"tag{i} setup")
        support.triage_question(agent, q, "problem", "normal")
    db.session.commit()
    db.session.expire_all()
    with count_queries() as large:
        assert len(support.queue(agent, support.QueueFilters(), 1).items) == 7
    assert large.count == small.count


# --------------------------------------------------------------------------- the sweep

def _helpers(make_user, make_question, make_answer):
    """Two members with good answers in "wifi", a staff answerer, and an answerer in another tag."""
    best, good = make_user("best_helper"), make_user("good_helper")
    staff, elsewhere = make_user("staff_helper", role="agent"), make_user("billing_helper")
    for author, n in ((best, 2), (good, 1), (staff, 3)):
        for _ in range(n):
            old = make_question(tags="wifi")
            a = make_answer(old, author=author)
            from forum.services import curation
            curation.accept_answer(old.author, a)
    a = make_answer(make_question(tags="billing"), author=elsewhere)
    from forum.services import curation
    curation.accept_answer(a.question.author, a)
    db.session.commit()
    return best, good, staff, elsewhere


def test_sweep_invites_top_answerers_then_alerts_staff_once(make_user, make_question, make_answer, calls,
                                                            app) -> None:
    best, good, _staff, _elsewhere = _helpers(make_user, make_question, make_answer)
    on_duty, off_duty, admin = make_user(role="agent"), make_user(role="agent"), make_user(role="admin")
    support.set_on_duty(on_duty, True)
    support.save_playbook(admin, support.PlaybookInput("question", "normal", 24, "", ["admin"], ""))
    db.session.commit()
    app.config["SUPPORT_INVITE_MAX"] = 2
    q = make_question(tags="wifi setup", title="Waiting question in the wifi tag")
    _age(q, 6)  # 25 % of the 24 h target: nothing yet
    calls.clear()
    assert sla.sweep() == sla.SweepReport(checked=1, invited=0, breached=0)
    _age(q, 13)  # past half the target: invitations
    assert sla.sweep().invited == 1
    db.session.commit()
    assert calls == [("invite", sorted([best.id, good.id]), calls[0][2])]
    assert sla.sweep().invited == 0 and len(calls) == 1  # idempotent
    _age(q, 25)  # breached: on-duty staff and the playbook's role
    assert sla.sweep().breached == 1
    db.session.commit()
    assert calls[1][0] == "sla" and calls[1][1] == sorted([on_duty.id, admin.id]) and off_duty.id not in calls[1][1]
    assert sla.sweep() == sla.SweepReport(checked=1, invited=0, breached=0)
    assert len(calls) == 2
    kinds = set(db.session.scalars(select(SupportAlert.kind).where(SupportAlert.question_id == q.id)))
    assert kinds == {"invite", "breach"}


def test_sweep_skips_answered_questions_and_never_invites_the_asker(make_user, make_question, make_answer,
                                                                    calls) -> None:
    best, *_ = _helpers(make_user, make_question, make_answer)
    mine = make_question(author=best, tags="wifi")
    answered = make_question(tags="wifi")
    make_answer(answered)
    _age(mine, 30)
    _age(answered, 30)
    calls.clear()
    report = sla.sweep()
    assert report.checked == 1
    invites = [c for c in calls if c[0] == "invite"]
    assert invites and best.id not in invites[0][1]


def test_metrics_give_the_median_first_response_and_solved_share(make_user, make_question, make_answer) -> None:
    quick, slow, waiting = make_question(), make_question(), make_question()
    for q, hours in ((quick, 3), (slow, 9), (waiting, 1)):
        _age(q, hours)
    for q, after in ((quick, 1), (slow, 5)):
        make_answer(q)
        db.session.execute(update(Question).where(Question.id == q.id)
                           .values(first_response_at=q.created_at + timedelta(hours=after)))
    from forum.services import curation
    curation.accept_answer(quick.author, db.session.scalars(select(answers.Answer).where(
        answers.Answer.question_id == quick.id)).one())
    db.session.commit()
    m = support.metrics(days=30)
    assert (m.asked, m.responded, m.solved) == (3, 2, 1)
    assert m.median_first_response == timedelta(hours=3) and round(m.solved_rate, 2) == 0.33


def test_sweep_command_reports_what_it_sent(runner, make_question, calls) -> None:
    _age(make_question(), 30)
    first = runner.invoke(args=["support", "sweep"])
    assert first.exit_code == 0 and "breach alerts for 1" in first.output
    assert "breach alerts for 0" in runner.invoke(args=["support", "sweep"]).output


def test_the_job_worker_runs_the_sla_sweep_on_its_own_schedule(app, make_user, make_question, calls) -> None:
    """`flask jobs worker` keeps breach alerts going without cron: its housekeeping tick runs the
    sweep at once, then not again until SUPPORT_SWEEP_SECONDS have passed."""
    from forum import jobs

    app.config["SUPPORT_SWEEP_SECONDS"] = 3600
    support.set_on_duty(make_user(role="agent"), True)
    db.session.commit()
    q = make_question()
    _age(q, 30)
    calls.clear()
    ran = jobs.periodic(app, None)
    assert [c[0] for c in calls] == ["sla"]
    _age(make_question(), 30)
    assert jobs.periodic(app, ran) == ran and len(calls) == 1  # not due yet
    assert jobs.periodic(app, ran - 3600) != ran and [c[0] for c in calls] == ["sla", "sla"]
    breaches = db.session.scalars(select(SupportAlert.question_id).where(SupportAlert.kind == "breach"))
    assert len(set(breaches)) == 2


def test_a_restored_comment_is_a_response_again_and_one_under_a_deleted_answer_is_not(make_user, make_question,
                                                                                        make_answer) -> None:
    from forum.services import moderation

    mod = make_user(role="moderator")
    q = make_question()
    c = comments.add_comment(make_user(), q, "Which hub model is it?")
    db.session.commit()
    comments.delete_comment(mod, c)
    db.session.commit()
    assert _first(q) is None
    moderation.restore(mod, "comment", c.id, "")
    db.session.commit()
    assert _first(q) == c.created_at

    other = make_question()
    a = make_answer(other)
    under = comments.add_comment(a.author, a, "Also check the router's 2.4 GHz band.")
    db.session.commit()
    answers.delete_answer(mod, a)
    db.session.commit()
    assert under.is_visible and _first(other) is None  # the comment is not shown without its answer
