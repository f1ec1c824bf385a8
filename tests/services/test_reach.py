"""People reached (services/reach.py): views since the acceptance, deflections this month, the
top helpers of a tag and the monthly mail to the members who asked for it."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update

from forum import viewcounts
from forum.extensions import db
from forum.models import (
    InsightDaily,
    InsightMailSent,
    NotificationPreference,
    OutboxMail,
    Question,
    TagTopHelper,
    User,
)
from forum.models.base import utcnow
from forum.services import curation, moderation, notifications, reach, visibility
from forum.services.questions import get_tag


def _views(app: Flask, question_id: int, n: int) -> None:
    """``n`` page views of the question, written by the batch flush as in production."""
    for _ in range(n):
        app.extensions["viewcounts"].store.add("question", question_id)
    assert viewcounts.flush() == n
    db.session.expire_all()


def _accept(answer) -> None:
    curation.accept_answer(answer.question.author, answer)
    db.session.commit()


@pytest.fixture
def thread(make_user, make_question, make_answer):
    asker = make_user("asker")
    q = make_question(author=asker, title="Hub blinks orange after the firmware update", tags="hub")
    first = make_answer(q, author=make_user("helper"))
    second = make_answer(q, author=make_user("other_helper"), body="Power-cycle the router first.")
    return asker, q, first, second


def test_views_after_the_acceptance_are_the_people_the_answer_reached(app: Flask, thread) -> None:
    _, q, first, second = thread
    _views(app, q.id, 40)
    _accept(first)
    assert db.session.scalar(select(Question.views_at_accept).where(Question.id == q.id)) == 40
    assert reach.people_reached(first.author_id) == 0
    _views(app, q.id, 25)
    assert reach.people_reached(first.author_id) == 25
    assert reach.people_reached(second.author_id) == 0
    assert reach.reach_of(first.author_id, utcnow().date()).people == 25


def test_unaccepting_takes_the_reach_away_and_another_acceptance_starts_again_for_its_author(app: Flask,
                                                                                           thread) -> None:
    asker, q, first, second = thread
    _accept(first)
    _views(app, q.id, 10)
    curation.unaccept_answer(asker, db.session.get(Question, q.id))
    db.session.commit()
    assert db.session.scalar(select(Question.views_at_accept).where(Question.id == q.id)) is None
    assert reach.people_reached(first.author_id) == 0
    _accept(first)
    _views(app, q.id, 3)
    _accept(second)  # the acceptance moves: the new author's count starts now
    _views(app, q.id, 7)
    assert reach.people_reached(first.author_id) == 0
    assert reach.people_reached(second.author_id) == 7


def test_hidden_answers_and_hidden_or_deleted_questions_reach_nobody(app: Flask, thread, make_question,
                                                                     make_answer, make_user) -> None:
    asker, q, first, _ = thread
    _accept(first)
    _views(app, q.id, 5)
    other = make_question(author=asker, title="Second thread the helper solved")
    answer = make_answer(other, author=db.session.get(User, first.author_id))
    _accept(answer)
    _views(app, other.id, 4)
    assert reach.people_reached(first.author_id) == 9
    visibility.hide_post(db.session.get(Question, other.id), "moderator")
    db.session.commit()
    assert reach.people_reached(first.author_id) == 5
    # Hiding the accepted answer itself releases the acceptance (and the count goes with it).
    visibility.hide_post(db.session.get(type(first), first.id), "moderator")
    db.session.commit()
    assert reach.people_reached(first.author_id) == 0


def test_a_hidden_answer_that_stays_accepted_is_not_counted(app: Flask, thread) -> None:
    _, q, first, _ = thread
    _accept(first)
    _views(app, q.id, 6)
    # Even if an acceptance were left on a hidden answer, the sum only counts visible answers.
    db.session.execute(update(type(first)).where(type(first).id == first.id).values(hidden_at=utcnow()))
    db.session.commit()
    assert reach.people_reached(first.author_id) == 0


def _daily(day: date, kind: str, question_id: int, count: int, target_type: str = "question") -> None:
    db.session.add(InsightDaily(day=day, kind=kind, target_type=target_type, target_id=question_id, count=count))
    db.session.commit()


def test_deflections_this_month_count_only_this_months_rows_on_threads_the_member_solved(thread, make_question,
                                                                                       make_answer) -> None:
    asker, q, first, second = thread
    _accept(first)
    today = date(2026, 12, 6)
    _daily(date(2026, 12, 1), "search", q.id, 3)
    _daily(date(2026, 12, 6), "suggestion", q.id, 2)
    _daily(date(2026, 11, 30), "search", q.id, 50)  # last month
    _daily(date(2026, 12, 7), "search", q.id, 60)  # after "today"
    _daily(date(2026, 12, 2), "not_a_deflection", q.id, 70)
    _daily(date(2026, 12, 2), "search", q.id, 80, target_type="article")  # same id, an article
    unsolved = make_question(author=asker, title="Nobody solved this one yet")
    make_answer(unsolved, author=db.session.get(User, first.author_id))
    _daily(date(2026, 12, 3), "search", unsolved.id, 90)
    assert reach.deflections_this_month(first.author_id, today) == 5
    assert reach.deflections_this_month(second.author_id, today) == 0
    assert reach.reach_of(first.author_id, today) == reach.Reach(people=0, deflections=5)
    _accept(second)
    assert reach.deflections_this_month(first.author_id, today) == 0
    assert reach.deflections_this_month(second.author_id, today) == 5


@pytest.mark.parametrize(("n", "text"), [(0, "0"), (25, "25"), (999, "999"), (1000, "1k"), (1234, "1.2k"),
                                         (9960, "10k"), (12_345, "12k"), (999_999, "1M"), (1_250_000, "1.2M")])
def test_about_rounds_for_reading_at_a_glance(n: int, text: str) -> None:
    assert reach.about(n) == text


def test_top_helpers_of_a_tag_by_accepted_answers_in_90_days_then_reputation(make_user, make_question,
                                                                            make_answer) -> None:
    asker = make_user("asker")
    ann, bob, cy, dee = (make_user(n) for n in ("annika", "bobby", "cyril", "deena"))
    db.session.execute(update(User).where(User.id == cy.id).values(reputation=500))
    db.session.execute(update(User).where(User.id == bob.id).values(reputation=50))
    db.session.commit()

    def solved(helper, tags="hub", days_ago=0):
        q = make_question(author=asker, tags=tags)
        answer = make_answer(q, author=helper)
        _accept(answer)
        if days_ago:
            db.session.execute(update(Question).where(Question.id == q.id)
                               .values(accepted_at=utcnow() - timedelta(days=days_ago)))
            db.session.commit()
        return q, answer

    solved(ann), solved(ann), solved(bob), solved(cy)
    solved(dee, days_ago=91), solved(dee, days_ago=91), solved(dee, days_ago=91)  # too long ago
    solved(dee, tags="wifi"), solved(dee, tags="wifi")  # another tag
    own = make_question(author=dee, tags="hub")
    _accept(make_answer(own, author=dee))  # answering one's own question helps nobody else
    hub = get_tag("hub")
    assert reach.refresh_top_helpers() == 2  # `flask insights top-helpers`: every tag
    ranked = [(h.user.username, h.accepted) for h in reach.top_helpers(hub.id)]
    assert ranked == [("annika", 2), ("cyril", 1), ("bobby", 1)]  # ties: cyril has more reputation
    assert ranked == [(db.session.get(User, i).username, n) for i, n in reach.rank_helpers(hub.id)]  # live: the same
    assert [h.user.username for h in reach.top_helpers(get_tag("wifi").id)] == ["deena"]
    assert len(reach.top_helpers(hub.id, limit=2)) == 2


def _opt_in(user, on: bool = True) -> None:
    notifications.save_preferences(user, in_app=[], email=[], digest=False, helped_monthly=on)
    db.session.commit()


def _mails() -> list[OutboxMail]:
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.event == "helped_monthly")
                                   .order_by(OutboxMail.id)))


def test_the_monthly_mail_goes_once_to_opted_in_members_who_helped_with_their_figures(
        app: Flask, runner, thread, make_user, make_question, make_answer) -> None:
    app.config.update(SITE_URL="https://help.lumen.example")
    asker, q, first, _ = thread
    helper = db.session.get(User, first.author_id)
    _accept(first)
    _views(app, q.id, 1234)
    db.session.execute(update(Question).where(Question.id == q.id).values(accepted_at=datetime(2026, 11, 20, 10)))
    older = make_question(author=asker, title="An older thread the helper solved")
    _accept(make_answer(older, author=helper))
    db.session.execute(update(Question).where(Question.id == older.id).values(accepted_at=datetime(2026, 10, 3)))
    db.session.commit()
    _daily(date(2026, 11, 2), "search", q.id, 4)
    _daily(date(2026, 11, 30), "abandon", older.id, 3)
    _daily(date(2026, 12, 1), "search", q.id, 100)  # this month: not in November's mail
    _opt_in(helper)
    idle = make_user("idle")  # opted in, helped nobody
    _opt_in(idle)
    not_asked = make_user("quiet_helper")  # helped, never opted in
    _accept(make_answer(make_question(author=asker), author=not_asked))
    turned_off = make_user("turned_off")
    _accept(make_answer(make_question(author=asker), author=turned_off))
    _opt_in(turned_off)
    _opt_in(turned_off, on=False)

    assert reach.send_monthly_helper_mail(datetime(2026, 12, 15, 9)) == reach.MonthlyRun(0, 0, 0)  # too late
    result = runner.invoke(args=["insights", "monthly-helpers", "--now", "2026-12-01T06:00"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 already sent this month, 1 opted in but helped nobody" in result.output
    [mail] = _mails()
    assert mail.recipient == helper.email and mail.subject == "What your answers did in November 2026"
    assert "About 1.2k people have read threads" in mail.text
    assert "1 of your answers was accepted in November 2026." in mail.text
    assert "7 times, someone found what they needed" in mail.text
    assert "<strong>1.2k</strong>" in mail.html and mail.unsubscribe_url
    assert f"https://help.lumen.example/users/{helper.id}" in mail.text
    sent = db.session.scalars(select(InsightMailSent)).all()
    assert [(s.user_id, s.kind, s.period_start) for s in sent] == [(helper.id, "helped_monthly", date(2026, 11, 1))]

    again = reach.send_monthly_helper_mail(datetime(2026, 12, 2, 6))
    db.session.commit()
    assert again == reach.MonthlyRun(sent=0, already_sent=1, helped_nobody=1) and len(_mails()) == 1
    # January reports December: a new month, a new mail.
    assert reach.send_monthly_helper_mail(datetime(2027, 1, 1, 6)).sent == 1
    db.session.commit()
    assert len(_mails()) == 2 and "100 times" in _mails()[1].text


def test_the_monthly_mail_is_off_by_default_and_its_unsubscribe_link_turns_it_off(app: Flask, thread) -> None:
    _, q, first, _ = thread
    helper = db.session.get(User, first.author_id)
    _accept(first)
    _views(app, q.id, 3)
    assert notifications.preferences(helper).helped_monthly is False
    assert reach.send_monthly_helper_mail(datetime(2026, 12, 1)).sent == 0
    _opt_in(helper)
    assert notifications.preferences(helper).helped_monthly is True
    reach.send_monthly_helper_mail(datetime(2026, 12, 1))
    db.session.commit()
    [mail] = _mails()
    token = mail.unsubscribe_url.rsplit("/", 1)[1]
    found = notifications.unsubscribe(token)
    db.session.commit()
    assert found.event == "helped_monthly" and "monthly" in found.label
    assert notifications.preferences(helper).helped_monthly is False


def test_saving_the_other_choices_keeps_rows_of_pseudo_events_it_does_not_know(thread) -> None:
    _, _, first, _ = thread
    helper = db.session.get(User, first.author_id)
    db.session.add(NotificationPreference(user_id=helper.id, event="future_switch", in_app=False,
                                                        email=True))
    db.session.commit()
    _opt_in(helper)
    assert db.session.scalar(select(func.count()).select_from(NotificationPreference).where(
        NotificationPreference.user_id == helper.id,
        NotificationPreference.event == "future_switch")) == 1


def test_the_job_workers_tick_sends_the_monthly_mail(app: Flask, thread, monkeypatch) -> None:
    from forum import jobs

    calls: list[str] = []
    monkeypatch.setattr(reach, "send_monthly_helper_mail", lambda now=None: calls.append("monthly"))
    jobs.periodic(app, None)
    assert calls == ["monthly"]


def _helpers(tag: str) -> list[tuple[str, int]]:
    return [(h.user.username, h.accepted) for h in reach.top_helpers(get_tag(tag).id)]


def test_a_tags_top_helpers_are_stored_and_follow_acceptances_hides_and_suspensions_at_once(
        app: Flask, make_user, make_question, make_answer, count_queries) -> None:
    asker, moderator = make_user("asker"), make_user("mod", role="moderator")
    ann, bob = make_user("annika"), make_user("bobby")
    solved = []
    for helper in (ann, ann, bob):
        q = make_question(author=asker, tags="router")
        answer = make_answer(q, author=helper)
        _accept(answer)
        solved.append((q, answer))
    assert _helpers("router") == [("annika", 2), ("bobby", 1)]
    stored = db.session.scalars(select(TagTopHelper.user_id).where(TagTopHelper.tag_id == get_tag("router").id)
                                .order_by(TagTopHelper.rank)).all()
    assert stored == [None, ann.id, bob.id]  # the marker ("computed"), then the ranking

    # Reading it is one statement, however many acceptances the forum holds.
    router_id = get_tag("router").id
    with count_queries() as count:
        reach.top_helpers(router_id)
    assert count.count == 1, count.statements

    # Un-accepting takes the answer out of the ranking at once.
    q, answer = solved[0]
    curation.unaccept_answer(asker, db.session.get(Question, q.id))
    db.session.commit()
    assert _helpers("router") == [("annika", 1), ("bobby", 1)]

    # Hiding a solved question takes its acceptance away; bringing it back returns it.
    q, _ = solved[1]
    visibility.hide_post(db.session.get(Question, q.id), "moderator")
    db.session.commit()
    assert _helpers("router") == [("bobby", 1)]
    visibility.unhide_post(db.session.get(Question, q.id))
    db.session.commit()
    assert _helpers("router") == [("annika", 1), ("bobby", 1)]

    # A suspended member is left out while suspended, and back when it ends: no recomputation.
    moderation.suspend_user(moderator, bob, 3, "trolling")
    db.session.commit()
    assert _helpers("router") == [("annika", 1)]
    assert reach.top_helpers(get_tag("router").id, now=utcnow() + timedelta(days=4))[-1].user.username == "bobby"


def test_a_tag_never_ranked_is_counted_live_and_a_view_writes_nothing(make_user, make_question, make_answer,
                                                                       count_queries) -> None:
    asker, ann = make_user("asker"), make_user("annika")
    answer = make_answer(make_question(author=asker, tags="printer"), author=ann)
    _accept(answer)
    tag_id = get_tag("printer").id
    db.session.execute(delete(TagTopHelper))  # a forum upgraded before its first nightly ranking
    db.session.commit()
    assert _helpers("printer") == [("annika", 1)]
    assert db.session.scalar(select(func.count()).select_from(TagTopHelper)) == 0
    assert reach.refresh_top_helpers([tag_id]) == 1
    assert _helpers("printer") == [("annika", 1)]
    assert db.session.scalar(select(func.count()).select_from(TagTopHelper)) == 2


def test_the_nightly_command_ranks_every_tag_again(runner, make_user, make_question, make_answer) -> None:
    asker, ann = make_user("asker"), make_user("annika")
    q = make_question(author=asker, tags="printer")
    _accept(make_answer(q, author=ann))
    db.session.execute(update(Question).where(Question.id == q.id).values(accepted_at=utcnow() - timedelta(days=91)))
    db.session.commit()
    assert _helpers("printer") == [("annika", 1)]
    result = runner.invoke(args=["insights", "top-helpers"])
    assert result.exit_code == 0 and "Ranked the top helpers of 1 tags." in result.output
    db.session.expire_all()
    assert _helpers("printer") == []
