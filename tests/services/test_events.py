"""Domain events: what a subscriber does commits or rolls back with the write that announced it."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

import pytest
from sqlalchemy import func, select

from forum import events
from forum.events import ArticleChanged, ArticleRated, Event, Phase, Registry, publish, subscribe
from forum.extensions import db
from forum.models import Notification, Question, QuestionFollow, Tag, UserBadge
from forum.models.base import utcnow
from forum.services import answers


@dataclass(frozen=True, slots=True, kw_only=True)
class SomethingHappened(Event):
    name: ClassVar[str] = "something_happened"
    what: str


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Registry:
    """An empty registry for the test: the app's real subscribers stay out of the way."""
    fresh = Registry()
    monkeypatch.setattr(events, "registry", fresh)
    return fresh


def _tag_names() -> set[str]:
    return set(db.session.scalars(select(Tag.name)))


def _add_tag(event: SomethingHappened) -> None:
    db.session.add(Tag(name=event.what, description="", question_count=0, created_at=utcnow()))
    db.session.flush()


def test_an_in_transaction_subscriber_runs_at_once_and_rolls_back_with_the_writer(app, registry) -> None:
    subscribe(SomethingHappened, _add_tag)
    publish(SomethingHappened(what="kept"))
    assert "kept" in _tag_names()  # before publish returned
    db.session.commit()
    publish(SomethingHappened(what="dropped"))
    assert "dropped" in _tag_names()
    db.session.rollback()
    assert _tag_names() == {"kept"}


def test_an_in_transaction_subscriber_that_fails_fails_the_writer(app, registry) -> None:
    def refuse(event: SomethingHappened) -> None:
        raise RuntimeError("no")

    subscribe(SomethingHappened, _add_tag)
    subscribe(SomethingHappened, refuse)
    with pytest.raises(RuntimeError):
        publish(SomethingHappened(what="half"))
    db.session.rollback()
    assert _tag_names() == set()


def test_an_after_commit_subscriber_waits_for_the_outer_commit_and_runs_once(app, registry) -> None:
    seen: list[str] = []
    subscribe(SomethingHappened, lambda e: seen.append(e.what), Phase.AFTER_COMMIT)
    publish(SomethingHappened(what="outer"))
    with db.session.begin_nested():  # a SAVEPOINT released here is not the real commit
        _add_tag(SomethingHappened(what="inner"))
        publish(SomethingHappened(what="inner"))
    assert seen == []
    db.session.commit()
    assert seen == ["outer", "inner"]
    db.session.commit()  # nothing is left to run a second time
    assert seen == ["outer", "inner"]


def test_an_after_commit_subscriber_never_runs_for_a_rolled_back_transaction(app, registry) -> None:
    seen: list[str] = []
    subscribe(SomethingHappened, lambda e: seen.append(e.what), Phase.AFTER_COMMIT)
    _add_tag(SomethingHappened(what="t"))
    publish(SomethingHappened(what="lost"))
    db.session.rollback()
    db.session.commit()
    assert seen == []
    publish(SomethingHappened(what="next"))
    db.session.commit()
    assert seen == ["next"]


def test_a_failing_after_commit_subscriber_is_logged_and_the_others_still_run(app, registry, caplog) -> None:
    seen: list[str] = []

    def broken(event: SomethingHappened) -> None:
        raise RuntimeError("index unavailable")

    subscribe(SomethingHappened, broken, Phase.AFTER_COMMIT)
    subscribe(SomethingHappened, lambda e: seen.append(e.what), Phase.AFTER_COMMIT)
    publish(SomethingHappened(what="committed"))
    with caplog.at_level(logging.ERROR, logger="forum.events"):
        db.session.commit()  # the data is committed: the failure does not reach the writer
    assert seen == ["committed"]
    assert "after-commit subscriber" in caplog.text


def test_handlers_run_in_the_order_they_were_subscribed(app, registry) -> None:
    order: list[str] = []
    for name in ("links", "mentions", "notifications", "badges"):
        subscribe(SomethingHappened, lambda e, name=name: order.append(name))
    subscribe(SomethingHappened, registry.handlers[(SomethingHappened, Phase.IN_TRANSACTION)][0])  # again: no-op
    publish(SomethingHappened(what="x"))
    assert order == ["links", "mentions", "notifications", "badges"]


def test_a_subscriber_of_a_base_event_hears_its_subclasses(app, registry) -> None:
    heard: list[str] = []
    subscribe(ArticleChanged, lambda e: heard.append(f"changed:{e.name}"))
    subscribe(ArticleRated, lambda e: heard.append("rated"))
    publish(ArticleRated(article_id=1, user_id=2, helpful=True))
    publish(ArticleChanged(article_id=1))
    assert heard == ["rated", "changed:article_rated", "changed:article_changed"]


def test_what_follows_an_answer_is_undone_when_the_answer_is_rolled_back(make_user, make_question) -> None:
    asker, answerer = make_user(), make_user()
    q = make_question(author=asker)
    answers.post_answer(answerer, q, "Hold the reset button for ten seconds, then pair again.")
    db.session.flush()
    # Inside the transaction the subscribers have done their part ...
    assert db.session.scalar(select(func.count()).select_from(Notification)) > 0
    assert db.session.get(QuestionFollow, (answerer.id, q.id)) is not None
    db.session.rollback()
    # ... and none of it survives the rollback: no bell, no follow, no badge, no first response.
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert db.session.get(QuestionFollow, (answerer.id, q.id)) is None
    assert db.session.scalar(select(func.count()).select_from(UserBadge)) == 0
    assert db.session.get(Question, q.id).first_response_at is None

