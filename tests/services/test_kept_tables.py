"""Watched words and webhook endpoints, kept by each process between posts
(``forum/pagecache/tables.py``): a change made on another host applies to the very next post
here, and a post with the tables kept reads neither of them."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, insert, select

from forum import create_app, pagecache
from forum.extensions import db
from forum.models import Answer, Question, User, WatchedWord, WebhookDelivery, WebhookEndpoint
from forum.models.base import utcnow
from forum.services import answers, safety, webhooks
from forum.services.errors import FieldError
from tests.support import page_cache_on

SPAM = "Get free money at the counter, then reset the hub."


@pytest.fixture(params=["database", "redis"])
def host_a(request: pytest.FixtureRequest, app: Flask) -> Iterator[Flask]:
    """The test app with the page cache on (generations in the database, or in Redis)."""
    app.config.update(WEBHOOKS_ALLOW_PRIVATE=True)
    with page_cache_on(app, request.param, "test:kept") as on:
        yield on


@pytest.fixture
def host_b(host_a: Flask) -> Iterator[Flask]:
    """A second app on the same database and generations, with a session of its own."""
    shared = ("SQLALCHEMY_DATABASE_URI", "SEARCH_INDEX_DIR", "SEARCH_BACKEND", "PAGE_CACHE_ENABLED", "REDIS_URL",
              "PAGE_CACHE_PREFIX", "WEBHOOKS_ALLOW_PRIVATE")
    other = create_app("testing", {key: host_a.config[key] for key in shared if key in host_a.config})
    pagecache.init_app(other)
    yield other
    with other.app_context():
        other.extensions["pagecache"].close()
        db.session.remove()
        db.engine.dispose()


def on(host: Flask, work: Callable[[], Any]) -> Any:
    """Run ``work`` in ``host``'s own app context and session, committed."""
    with host.app_context():
        try:
            done = work()
            db.session.commit()
            return done
        finally:
            db.session.remove()


def post(author_id: int, question_id: int, body: str) -> int:
    """Post an answer in the current app and commit; its id."""
    author, question = db.session.get(User, author_id), db.session.get(Question, question_id)
    assert author is not None and question is not None
    answer = answers.post_answer(author, question, body)
    db.session.commit()
    return answer.id


def test_a_word_watched_on_another_host_blocks_the_next_post_here_and_unwatched_frees_it(
        host_a: Flask, host_b: Flask, make_user: Any, make_question: Any) -> None:
    member, moderator = make_user(), make_user(role="moderator")
    question = make_question()
    ids = (member.id, question.id)
    db.session.commit()
    post(*ids, SPAM)  # A keeps the (empty) list now

    def watch() -> int:
        found = db.session.get(User, moderator.id)
        return safety.add_watched_word(found, "free money", "block").id

    word_id = on(host_b, watch)
    with pytest.raises(FieldError, match="free money"):
        post(*ids, SPAM)
    db.session.rollback()

    on(host_b, lambda: safety.remove_watched_word(db.session.get(User, moderator.id), word_id))
    assert post(*ids, SPAM)


def test_an_endpoint_added_or_paused_on_another_host_counts_for_the_next_post_here(
        host_a: Flask, host_b: Flask, make_user: Any, make_question: Any) -> None:
    member, admin = make_user(), make_user(role="admin")
    question = make_question()
    ids = (member.id, question.id)
    db.session.commit()
    post(*ids, "Unplug it for ten seconds.")  # A keeps "no endpoint listens"

    def add() -> int:
        found = db.session.get(User, admin.id)
        made, _ = webhooks.create_endpoint(found, webhooks.EndpointInput("http://127.0.0.1:9/hook", ["answer.created"]))
        return made.id

    endpoint_id = on(host_b, add)
    first = post(*ids, "Then pair it again from the app.")
    deliveries = list(db.session.scalars(select(WebhookDelivery)))
    assert [(d.endpoint_id, d.event) for d in deliveries] == [(endpoint_id, "answer.created")]
    assert str(first) in deliveries[0].payload

    def pause() -> None:
        found = db.session.get(User, admin.id)
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert found is not None and endpoint is not None
        webhooks.set_active(found, endpoint, False)

    on(host_b, pause)
    post(*ids, "Or update the firmware first.")
    assert db.session.scalar(select(db.func.count()).select_from(WebhookDelivery)) == 1


def test_a_word_watched_in_the_same_transaction_applies_before_the_commit(
        host_a: Flask, make_user: Any, make_question: Any) -> None:
    member, moderator = make_user(), make_user(role="moderator")
    question = make_question()
    db.session.commit()
    post(member.id, question.id, SPAM)
    safety.add_watched_word(moderator, "free money", "review")  # flushed, not committed
    assert safety.check_new_post(member, SPAM, kind="answer") == "review"


def test_a_post_with_the_tables_kept_reads_neither(host_a: Flask, make_user: Any, make_question: Any) -> None:
    member, moderator = make_user(), make_user(role="moderator")
    question = make_question()
    safety.add_watched_word(moderator, "free money", "review")
    db.session.commit()
    ids = (member.id, question.id)
    post(*ids, "Unplug it for ten seconds.")  # loads both tables
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        held = post(*ids, f"Also: {SPAM}")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert db.session.get(Answer, held).hidden_reason == "review"  # the kept list still applies
    assert any(s.lstrip().upper().startswith("INSERT INTO ANSWERS") for s in seen)
    assert not [s for s in seen if "watched_words" in s or "webhook_endpoints" in s]


def test_with_the_generations_unreadable_a_post_reads_the_words_itself(
        host_a: Flask, make_user: Any, make_question: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    member, moderator = make_user(), make_user(role="moderator")
    question = make_question()
    db.session.commit()
    post(member.id, question.id, SPAM)  # the empty list is kept

    def down(keys: Any) -> dict[str, int]:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(host_a.extensions["pagecache"].generations, "read", down)
    safety.add_watched_word(moderator, "free money", "block")
    db.session.commit()  # its bump fails too (Redis): the kept list cannot know
    with pytest.raises(FieldError, match="free money"):
        post(member.id, question.id, SPAM)


def test_a_change_whose_bump_was_lost_applies_once_the_kept_list_is_page_cache_ttl_old(
        host_a: Flask, make_user: Any, make_question: Any) -> None:
    member, moderator = make_user(), make_user(role="moderator")
    question = make_question()
    db.session.commit()
    post(member.id, question.id, SPAM)  # the empty list is kept
    with db.engine.begin() as connection:  # behind the session's back: no generation moves
        connection.execute(insert(WatchedWord.__table__).values(phrase="free money", action="block",
                                                                 created_by_id=moderator.id, created_at=utcnow()))
    assert post(member.id, question.id, SPAM)  # still the kept list, as a cached page would be
    host_a.config["PAGE_CACHE_TTL"] = 0
    with pytest.raises(FieldError, match="free money"):
        post(member.id, question.id, SPAM)
