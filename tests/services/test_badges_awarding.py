"""Awards happen exactly once under concurrency, and `flask badges award` rebuilds the same set."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, update

from forum.extensions import db
from forum.models import Answer, UserBadge
from forum.services import articles, badges, curation, flags, moderation, votes
from forum.services.badges import awards
from tests import support_badges as data


def test_two_workers_awarding_the_same_badge_at_once_write_one_row_and_one_notification(
        app: Flask, make_user, make_question, make_answer, monkeypatch: pytest.MonkeyPatch) -> None:
    helper = make_user()
    answer = make_answer(make_question(), author=helper)
    db.session.execute(delete(UserBadge))  # as if the answer had been posted before badges existed
    db.session.commit()
    awards.forget_known()  # ... and in another process, which never saw the award
    answer_id = answer.id
    # Both workers must have found the badge missing before either inserts: the unique
    # constraint, not the check, is what has to stop the second award.
    both_checked = threading.Barrier(2, timeout=20)
    real_insert = awards._insert
    sent: list[int] = []
    real_notify = awards.notifications.notify

    def insert_after_both_checked(found: Any, *, notify: bool) -> Any:
        found = list(found)
        both_checked.wait()
        return real_insert(found, notify=notify)

    def spy(recipients: Any, event: str, **kw: Any) -> None:
        real_notify(recipients, event, **kw)
        sent.extend(recipients)

    monkeypatch.setattr(awards, "_insert", insert_after_both_checked)
    monkeypatch.setattr(awards.notifications, "notify", spy)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                post = db.session.get(Answer, answer_id)
                results.append(len(badges.on_event("answer", post=post)))
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(results) == [0, 1]
    assert data.held(helper) == {(helper.id, "helper", "")}
    assert sent == [helper.id]


def _community(make_user: Any, make_question: Any, make_answer: Any) -> dict[str, Any]:
    """Some activity through the real services: every event kind awards something."""
    asker, helper, voter, moderator = make_user(), make_user(), make_user(), make_user(role="moderator")
    agent = make_user(role="agent")
    data.answers(helper, data.questions(asker, 4, tags=("wifi",)), score=1)
    q = make_question(author=asker, tags="wifi")
    a = make_answer(q, author=helper)
    curation.accept_answer(asker, a)
    votes.cast_vote(voter, "answer", a.id, 1)  # the answer turns positive: its tag counts
    db.session.execute(update(Answer).where(Answer.id == a.id).values(score=9))
    db.session.commit()
    votes.cast_vote(make_user(), "answer", a.id, 1)
    db.session.commit()
    # A question, so that hiding it takes no badge basis away (an answer would have earned "helper").
    spam = make_question(title="Cheap hub unlock codes, visit my shop")
    flags.flag_post(voter, "question", spam.id, "spam")
    moderation.act_on_flags(moderator, "question", spam.id, "hide")
    article = articles.create_article(agent, articles.ArticleInput(
        "Pair a door sensor with the hub", "Open the app, choose Add device, and press the sensor's button.", "setup"))
    articles.set_state(agent, article, "published")
    articles.rate_article(voter, article, True)
    db.session.commit()
    return {"asker": asker, "helper": helper, "voter": voter, "answer": a}


def test_award_command_rebuilds_exactly_what_the_events_awarded_and_is_idempotent(
        runner, make_user, make_question, make_answer) -> None:
    people = _community(make_user, make_question, make_answer)
    by_events = data.held()
    assert {k for _, k, _ in by_events} >= {"helper", "solver", "scholar", "supporter", "nice_answer",
                                            "citizen_patrol", "well_read", "tag_helper"}
    db.session.execute(delete(UserBadge))
    db.session.commit()
    result = runner.invoke(args=["badges", "award"])
    assert result.exit_code == 0, result.output
    assert f"Awarded {len(by_events)} badges." in result.output
    assert data.held() == by_events
    again = runner.invoke(args=["badges", "award"])
    assert "Awarded 0 badges." in again.output
    assert data.held() == by_events
    # A badge is never taken away: the score drops below 10 and the award pass keeps it.
    votes.cast_vote(people["voter"], "answer", people["answer"].id, 0)
    db.session.commit()
    assert "Awarded 0 badges." in runner.invoke(args=["badges", "award"]).output
    assert (people["helper"].id, "nice_answer", "") in data.held()


def test_award_command_backfills_badges_earned_before_they_existed(runner, make_user) -> None:
    helper, asker = make_user(), make_user()
    data.answers(helper, data.questions(asker, 10, tags=("zigbee",)), score=1, accept=True)
    assert data.held() == set()  # written without events
    result = runner.invoke(args=["badges", "award"])
    assert "Awarded 5 badges." in result.output
    assert data.held(helper) == {(helper.id, k, t) for k, t in [
        ("helper", ""), ("solver", ""), ("problem_solver", ""), ("tag_helper", "zigbee")]}
    assert data.keys(asker) == {"scholar"}


def test_a_routine_vote_costs_one_badge_query_however_active_the_author(
        make_user, make_question, make_answer, count_queries) -> None:
    author, asker, voter = make_user(), make_user(), make_user()
    data.answers(author, data.questions(asker, 30, tags=("wifi",)), score=3)
    a = make_answer(make_question(author=asker, tags="wifi"), author=author)
    votes.cast_vote(voter, "answer", a.id, 1)  # the answer turns positive: tag badges evaluated
    db.session.commit()
    assert {"supporter"} <= data.keys(voter) and "tag_specialist" in data.keys(author)
    votes.cast_vote(voter, "answer", a.id, 0)
    votes.cast_vote(make_user(), "answer", a.id, 1)  # score stays positive
    db.session.commit()
    with count_queries() as qc:  # badges are awarded inside the vote's transaction
        votes.cast_vote(voter, "answer", a.id, 1)  # score 2: no badge can be crossed
    db.session.commit()  # (which then writes the question's search document, its tags included)
    badge_queries = [s for s in qc.statements if "user_badges" in s or "question_tags" in s]
    # The voter's Supporter badge was awarded in this process: known held, nothing to ask.
    assert badge_queries == []
    awards.forget_known()  # a process that never saw it asks once: what the voter holds
    votes.cast_vote(voter, "answer", a.id, 0)
    db.session.commit()
    with count_queries() as qc:
        votes.cast_vote(voter, "answer", a.id, 1)
    db.session.commit()
    badge_queries = [s for s in qc.statements if "user_badges" in s or "question_tags" in s]
    assert len(badge_queries) == 1, badge_queries


def test_an_answer_asks_for_its_authors_badges_only_until_they_are_known_to_hold_them(
        make_user, make_question, count_queries) -> None:
    """A badge is never taken away, so once Helper is committed the author's later answers run
    no badge query; an award that rolled back is not believed, and is awarded on the next answer."""
    from forum.services import answers

    author, question = make_user(), make_question()
    answers.post_answer(author, question, "Hold the reset button for ten seconds.")
    db.session.rollback()  # the Helper badge went with it
    assert "helper" not in data.keys(author)
    with count_queries() as first:
        answers.post_answer(author, question, "Then pair it again from the app.")
    db.session.commit()
    assert "helper" in data.keys(author)
    assert [s for s in first.statements if "user_badges" in s], "the first answer looks the badges up"
    with count_queries() as later:
        answers.post_answer(author, make_question(), "Same fix here: reset, then pair.")
    db.session.commit()
    assert not [s for s in later.statements if "user_badges" in s]
    # A new process knows nothing yet: it asks once more, and finds the badge held.
    awards.forget_known()
    with count_queries() as fresh:
        answers.post_answer(author, make_question(), "A third answer.")
    db.session.commit()
    assert len([s for s in fresh.statements if "user_badges" in s]) == 1
    assert data.held(author) == {(author.id, "helper", "")}
