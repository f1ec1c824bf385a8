"""Each badge is awarded by its event at its threshold, not before, and once."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from forum.extensions import db
from forum.models import Answer, Question
from forum.services import articles, badges, curation, flags, moderation, votes
from forum.services.badges import awards
from tests import support_badges as data


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str, str]]:
    """Every badge notification sent: (user id, subject, url), through the real notify()."""
    sent: list[tuple[int, str, str]] = []
    real = awards.notifications.notify

    def spy(recipients: Any, event: str, **kw: Any) -> None:
        real(recipients, event, **kw)
        if event == "badge":
            sent.extend((r, kw["subject"], kw["url"]) for r in recipients)

    monkeypatch.setattr(awards.notifications, "notify", spy)
    return sent


def _set_score(model: type[Question] | type[Answer], post_id: int, score: int) -> None:
    db.session.execute(update(model).where(model.id == post_id).values(score=score))
    db.session.commit()


def _upvote(voter: Any, post: Question | Answer, value: int = 1) -> None:
    votes.cast_vote(voter, post.kind, post.id, value)
    db.session.commit()


def test_catalogue_has_at_least_twelve_badges_in_every_tier() -> None:
    assert len(badges.BADGES) >= 12
    assert {b.tier for b in badges.BADGES} == {"bronze", "silver", "gold"}
    assert len({b.key for b in badges.BADGES}) == len(badges.BADGES)


def test_first_answer_earns_helper_once_with_one_notification(make_question, make_answer, make_user, told) -> None:
    helper = make_user()
    q = make_question()
    assert "helper" not in data.keys(helper)
    make_answer(q, author=helper)
    make_answer(make_question(), author=helper)
    assert data.held(helper) == {(helper.id, "helper", "")}
    assert told == [(helper.id, "You earned the bronze badge “Helper”.", "/badges/helper")]


@pytest.mark.parametrize(("key", "n"), [("solver", 1), ("problem_solver", 10), ("guru", 50)])
def test_accepted_answer_badges_at_their_threshold(make_user, make_question, make_answer, key, n) -> None:
    helper, asker = make_user(), make_user()
    data.answers(helper, data.questions(asker, n - 1), accept=True)
    q = make_question(author=asker)
    a = make_answer(q, author=helper)
    assert key not in data.keys(helper)
    curation.accept_answer(asker, a)
    db.session.commit()
    assert key in data.keys(helper)


def test_accepting_your_own_answer_earns_neither_solver_nor_scholar(make_user, make_question, make_answer) -> None:
    asker = make_user()
    q = make_question(author=asker)
    curation.accept_answer(asker, make_answer(q, author=asker))
    db.session.commit()
    assert data.keys(asker) == {"helper"}


def test_accepting_someone_elses_answer_makes_the_asker_a_scholar(make_user, make_question, make_answer) -> None:
    asker, helper = make_user(), make_user()
    q = make_question(author=asker)
    curation.accept_answer(asker, make_answer(q, author=helper))
    db.session.commit()
    assert "scholar" in data.keys(asker)
    assert {"helper", "solver"} <= data.keys(helper)


def test_first_upvote_makes_a_supporter_and_a_downvote_does_not(make_user, make_question) -> None:
    voter = make_user()
    _upvote(voter, make_question(), -1)
    assert "supporter" not in data.keys(voter)
    _upvote(voter, make_question(), 1)
    assert "supporter" in data.keys(voter)


@pytest.mark.parametrize(("key", "n"), [("nice_answer", 10), ("good_answer", 25), ("great_answer", 100)])
def test_answer_score_badges_at_their_score_and_not_one_below(make_user, make_question, make_answer, key, n) -> None:
    author = make_user()
    a = make_answer(make_question(), author=author)
    _set_score(Answer, a.id, n - 2)
    _upvote(make_user(), a)
    assert key not in data.keys(author)  # n - 1
    _upvote(make_user(), a)
    assert key in data.keys(author)


def test_question_scoring_ten_earns_nice_question(make_user, make_question) -> None:
    asker = make_user()
    q = make_question(author=asker)
    _set_score(Question, q.id, 8)
    _upvote(make_user(), q)
    assert "nice_question" not in data.keys(asker)
    _upvote(make_user(), q)
    assert "nice_question" in data.keys(asker)


def test_badges_stay_when_the_score_drops_and_are_not_awarded_twice_when_it_returns(
        make_user, make_question, make_answer, told) -> None:
    author, voter = make_user(), make_user()
    a = make_answer(make_question(), author=author)
    _set_score(Answer, a.id, 9)
    _upvote(voter, a)
    _upvote(voter, a, 0)  # undone: the score is back to 9
    assert "nice_answer" in data.keys(author)
    _upvote(voter, a)  # redone
    assert [t for t in told if t[2] == "/badges/nice_answer"] == [
        (author.id, "You earned the bronze badge “Nice Answer”.", "/badges/nice_answer")]
    assert len([k for _, k, _ in data.held(author) if k == "nice_answer"]) == 1


def test_tag_badges_are_per_tag_at_five_positive_answers(make_user, make_question, make_answer) -> None:
    helper = make_user()
    asker = make_user()
    data.answers(helper, data.questions(asker, 4, tags=("wifi",)), score=1)
    data.answers(helper, data.questions(asker, 3, tags=("zigbee",)), score=2)
    data.answers(helper, data.questions(asker, 2, tags=("wifi",)), score=0)  # not positive: not counted
    a = make_answer(make_question(author=asker, tags="wifi zigbee"), author=helper)
    assert not {k for k in data.keys(helper) if k.startswith("tag_")}
    _upvote(make_user(), a)
    tag_awards = {(k, t) for _, k, t in data.held(helper) if k.startswith("tag_")}
    assert tag_awards == {("tag_helper", "wifi")}  # zigbee has 4 of 5


@pytest.mark.parametrize(("key", "n"), [("tag_specialist", 20), ("tag_expert", 50)])
def test_silver_and_gold_tag_badges_at_their_threshold(make_user, make_question, make_answer, key, n) -> None:
    helper, asker = make_user(), make_user()
    data.answers(helper, data.questions(asker, n - 1, tags=("wifi",)), score=1)
    a = make_answer(make_question(author=asker, tags="wifi"), author=helper)
    assert key not in data.keys(helper)
    _upvote(make_user(), a)
    assert (helper.id, key, "wifi") in data.held(helper)


def _flag_and_resolve(flagger: Any, post: Answer, moderator: Any, action: str) -> None:
    flags.flag_post(flagger, "answer", post.id, "spam")
    db.session.commit()
    moderation.act_on_flags(moderator, "answer", post.id, action)
    db.session.commit()


def test_helpful_flags_earn_citizen_patrol_then_deputy_at_ten(make_user, make_question, make_answer) -> None:
    flagger, moderator = make_user(), make_user(role="moderator")
    q = make_question()
    _flag_and_resolve(flagger, make_answer(q), moderator, "dismiss")
    assert data.keys(flagger) == set()  # a dismissed flag was not helpful
    _flag_and_resolve(flagger, make_answer(q), moderator, "hide")
    assert data.keys(flagger) == {"citizen_patrol"}
    data.actioned_flags(flagger, [make_answer(q).id for _ in range(8)])  # 9 helpful flags
    _flag_and_resolve(flagger, make_answer(q), moderator, "dismiss")
    assert "deputy" not in data.keys(flagger)
    _flag_and_resolve(flagger, make_answer(q), moderator, "delete")
    assert "deputy" in data.keys(flagger)


def test_rating_an_official_article_helpful_earns_well_read(make_user) -> None:
    agent, reader = make_user(role="agent"), make_user()
    article = articles.create_article(agent, articles.ArticleInput(
        "Reset the hub to factory settings", "Hold the button for ten seconds, then wait for the light.", "setup"))
    articles.set_state(agent, article, "published")
    db.session.commit()
    articles.rate_article(reader, article, False)
    db.session.commit()
    assert "well_read" not in data.keys(reader)
    articles.rate_article(reader, article, True)
    db.session.commit()
    assert data.keys(reader) == {"well_read"}


def test_an_answer_held_for_review_earns_helper_when_a_moderator_approves_it(make_user, make_question) -> None:
    from forum.services import answers, safety

    moderator, helper = make_user(role="moderator"), make_user()
    safety.add_watched_word(moderator, "warranty", "review")
    db.session.commit()
    answer = answers.post_answer(helper, make_question(), "Ask for a warranty swap at the shop.")
    db.session.commit()
    assert answer.is_hidden and "helper" not in data.keys(helper)
    moderation.approve_post(moderator, "answer", answer.id)
    db.session.commit()
    assert data.keys(helper) == {"helper"}
