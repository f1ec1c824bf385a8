"""The index follows the database: after commit, never on rollback, retried after failure."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import NoReturn

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from forum import jobs, search_sync
from forum.extensions import db
from forum.models import Answer, Question, SearchPending, User
from forum.search_sync import check, get_index, rebuild
from forum.services import answers, questions, votes
from search.document import Document
from search.errors import IndexBusy, SearchError
from search.index import IndexBatch

BODY = "The hub keeps blinking orange after the firmware update and the app cannot find it."


def keys(query: str) -> list[str]:
    return [h.key for h in get_index().search(query).hits]


def test_a_new_question_is_searchable_after_commit(make_user) -> None:
    q = questions.ask_question(make_user(), questions.QuestionInput("Thermostat schedule ignores weekends", BODY, "automations"))
    assert keys("thermostat") == []  # not before commit
    db.session.commit()
    assert keys("thermostat") == [f"question:{q.id}"]


def test_a_rollback_indexes_nothing(make_user) -> None:
    user = make_user()
    questions.ask_question(user, questions.QuestionInput("Thermostat schedule ignores weekends", BODY, "automations"))
    db.session.rollback()
    db.session.commit()
    assert keys("thermostat") == []


def test_edits_update_and_deletes_remove_and_restores_return(make_user, make_question) -> None:
    author = make_user()
    q = make_question(author=author, title="Doorbell chime is silent", body=BODY)
    questions.edit_question(author, q, questions.QuestionInput("Doorbell chime is silent after pairing", BODY + " Zigbee.", "devices"))
    db.session.commit()
    assert keys("zigbee") == [f"question:{q.id}"]
    questions.delete_question(author, q)
    db.session.commit()
    assert keys("doorbell") == []
    questions.restore_question(author, q)
    db.session.commit()
    assert keys("doorbell") == [f"question:{q.id}"]


def test_answer_text_makes_the_question_findable(make_question, make_answer) -> None:
    q = make_question(title="Lights turn on at random", body=BODY)
    a = make_answer(q, body="Check the sunset offset in the geofence automation settings.")
    assert keys("geofence") == [f"question:{q.id}"]
    answers.delete_answer(a.author, a)
    db.session.commit()
    assert keys("geofence") == []


def test_a_failed_index_write_keeps_the_post_and_retries_later(app, make_user, monkeypatch: pytest.MonkeyPatch) -> None:
    real_upsert = IndexBatch.upsert

    def busy(self, docs):
        raise IndexBusy("simulated lock timeout")

    monkeypatch.setattr(IndexBatch, "upsert", busy)
    user = make_user()
    q = questions.ask_question(user, questions.QuestionInput("Garage sensor reports open when shut", BODY, "devices"))
    db.session.commit()  # the post succeeds
    assert db.session.scalar(select(SearchPending.id)) == q.id
    assert keys("garage") == []
    monkeypatch.setattr(IndexBatch, "upsert", real_upsert)
    questions.ask_question(user, questions.QuestionInput("Another question triggers the retry", BODY, "setup"))
    db.session.commit()
    assert keys("garage") == [f"question:{q.id}"]
    assert db.session.scalar(select(SearchPending.id)) is None


def test_check_finds_and_repairs_missing_stale_and_extra_documents(make_question) -> None:
    a = make_question(title="Missing from the index soon", body=BODY)
    b = make_question(title="Stale in the index soon", body=BODY)
    index = get_index()
    index.delete([f"question:{a.id}"])
    index.upsert([Document(kind="question", id=b.id, title="old title", body="old", created=datetime.now(timezone.utc)),
                  Document(kind="question", id=99999, title="ghost", body="ghost", created=datetime.now(timezone.utc))])
    report = check(repair=True)
    assert report == {"missing": [f"question:{a.id}"], "stale": [f"question:{b.id}"], "extra": ["question:99999"]}
    assert check(repair=False) == {"missing": [], "stale": [], "extra": []}


def test_rebuild_indexes_every_visible_question(make_question) -> None:
    made = [make_question(title=f"Rebuild candidate number {i}", body=BODY) for i in range(5)]
    questions.delete_question(made[0].author, made[0])
    db.session.commit()
    get_index().rebuild([])
    assert rebuild() == 4
    assert sorted(keys("rebuild candidate")) == sorted(f"question:{q.id}" for q in made[1:])


def test_search_cli_commands(runner, make_question) -> None:
    make_question(title="CLI rebuild target question", body=BODY)
    r = runner.invoke(args=["search", "rebuild"])
    assert r.exit_code == 0 and "Indexed 1 documents" in r.output
    r = runner.invoke(args=["search", "check"])
    assert r.exit_code == 0 and "missing: 0" in r.output and "Index matches the database." in r.output


def test_an_unreadable_index_gives_a_friendly_503_not_a_crash(client, make_question, monkeypatch: pytest.MonkeyPatch) -> None:

    q = make_question(title="Thread that must still render", body=BODY)

    def broken(*args: object, **kwargs: object) -> NoReturn:
        raise SearchError("search index schema is outdated; rebuild the index")

    monkeypatch.setattr(get_index(), "search", broken)
    monkeypatch.setattr(get_index(), "similar", broken)
    r = client.get("/search?q=thread")
    assert r.status_code == 503 and "temporarily unavailable" in r.get_data(as_text=True)
    assert client.get(f"/questions/{q.id}", follow_redirects=True).status_code == 200


def test_search_ensure_rebuilds_only_when_needed(runner, make_question) -> None:
    make_question(title="Question present before the index was lost", body=BODY)
    assert "current" in runner.invoke(args=["search", "ensure"]).output
    get_index().rebuild([])
    r = runner.invoke(args=["search", "ensure"])
    assert "rebuilding" in r.output and "Indexed 1 documents" in r.output
    assert len(get_index()) == 1


def test_a_savepoint_release_waits_for_the_real_commit(make_user) -> None:
    """Releasing a SAVEPOINT fires SQLAlchemy's after_commit too; the index must wait for the
    outer transaction, and a rolled-back savepoint must not drop what came before it."""
    user = make_user()
    kept = questions.ask_question(user, questions.QuestionInput("Thermostat schedule ignores weekends", BODY, "automations"))
    savepoint = db.session.begin_nested()
    questions.ask_question(user, questions.QuestionInput("Doorbell chime is silent after pairing", BODY, "devices"))
    savepoint.rollback()
    savepoint = db.session.begin_nested()
    inner = questions.ask_question(user, questions.QuestionInput("Garage sensor reports open all night", BODY, "devices"))
    savepoint.commit()
    assert keys("garage") == []  # the outer transaction is still open
    db.session.commit()
    assert keys("thermostat") == [f"question:{kept.id}"]
    assert keys("garage") == [f"question:{inner.id}"]
    assert keys("doorbell") == []


def _queued() -> list[tuple[str, int]]:
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(select(SearchPending.kind, SearchPending.id).order_by(SearchPending.id))]


def _die_before_indexing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process is killed between the commit and the index write: the write never happens."""
    monkeypatch.setattr(search_sync, "sync", lambda questions=(), articles=(): 0)


def test_a_worker_killed_after_commit_leaves_a_key_the_next_write_repairs(make_user, make_question,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    q = make_question(title="Garage sensor reports open when shut", body=BODY)
    assert _queued() == []  # an index write that succeeds leaves nothing behind
    with monkeypatch.context() as m:
        _die_before_indexing(m)
        votes.cast_vote(make_user(), "question", q.id, 1)  # an atomic UPDATE: only the event says so
        db.session.commit()
    assert _queued() == [("question", q.id)]  # committed with the vote itself
    assert check(repair=False)["stale"] == [f"question:{q.id}"]
    questions.ask_question(make_user(), questions.QuestionInput("Another question triggers the repair", BODY, "setup"))
    db.session.commit()
    assert _queued() == [] and check(repair=False) == {"missing": [], "stale": [], "extra": []}


def test_the_job_workers_tick_repairs_what_a_killed_worker_left(app: Flask, make_user,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        _die_before_indexing(m)
        q = questions.ask_question(make_user(), questions.QuestionInput("Garage sensor reports open when shut", BODY, "devices"))
        db.session.commit()
    assert _queued() == [("question", q.id)] and keys("garage") == []
    jobs.periodic(app, time.monotonic())  # the worker's housekeeping, no new post needed
    assert _queued() == [] and keys("garage") == [f"question:{q.id}"]


def test_a_rollback_queues_nothing(make_user) -> None:
    questions.ask_question(make_user(), questions.QuestionInput("Thermostat schedule ignores weekends", BODY, "automations"))
    db.session.rollback()
    assert _queued() == []


def test_two_writers_queuing_the_same_key_both_succeed(app: Flask, make_question) -> None:
    q = make_question(title="Garage sensor reports open when shut", body=BODY)
    for _ in range(2):  # as two requests would, each in its own transaction
        with db.engine.begin() as conn:
            search_sync.enqueue(conn, [("question", q.id)])
    assert db.session.scalar(select(SearchPending.attempts)) == 2
    search_sync.drain()
    assert _queued() == []


def test_a_key_queued_again_during_an_index_write_is_kept_for_the_next(make_question,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process commits a change (and queues its key) while this one writes the index
    from what it read before: the queue row must survive, or that change would be lost if the
    other process died before its own index write."""
    q = make_question(title="Garage sensor reports open when shut", body=BODY)
    with db.engine.begin() as conn:
        search_sync.enqueue(conn, [("question", q.id)])
    real_upsert = IndexBatch.upsert

    def concurrent_write(self, docs):
        with db.engine.begin() as conn:
            conn.execute(update(Answer).values(score=Answer.score))  # stands for the other writer's change
            search_sync.enqueue(conn, [("question", q.id)])
        return real_upsert(self, docs)

    monkeypatch.setattr(IndexBatch, "upsert", concurrent_write)
    assert search_sync.sync() == 0  # read one version of the row, which changed meanwhile
    assert _queued() == [("question", q.id)]
    monkeypatch.setattr(IndexBatch, "upsert", real_upsert)
    assert search_sync.drain() == 1 and _queued() == []


def test_answer_plain_text_is_stored_at_write_time(make_question, make_answer) -> None:
    q = make_question(title="Lights turn on at random", body=BODY)
    a = make_answer(q, body="Check the **sunset offset** in the [geofence](https://example.com) settings.")
    assert db.session.scalar(select(Answer.body_text).where(Answer.id == a.id)) == \
        "Check the sunset offset in the geofence settings."
    answers.edit_answer(a.author, a, "Set the offset to zero.")
    db.session.commit()
    assert db.session.scalar(select(Answer.body_text).where(Answer.id == a.id)) == "Set the offset to zero."
    assert keys("offset zero") == [f"question:{q.id}"] and keys("geofence") == []
    # Rows from before the column existed (NULL text) are still indexed from their HTML.
    db.session.execute(update(Answer).where(Answer.id == a.id).values(body_text=None))
    db.session.commit()
    assert check(repair=False) == {"missing": [], "stale": [], "extra": []}


def test_concurrent_votes_on_one_question_all_succeed_and_leave_the_index_exact(app: Flask, make_user,
                                                                                 make_question) -> None:
    """Six requests vote on the same question at once: each queues the same key in its own
    transaction; none fails, and the index ends with the final score."""
    q_id = make_question(title="Garage sensor reports open when shut", body=BODY).id
    voters = [make_user().id for _ in range(6)]
    db.session.commit()
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(voters))

    def vote(user_id: int) -> None:
        try:
            with app.app_context():
                user = db.session.get(User, user_id)
                barrier.wait()
                votes.cast_vote(user, "question", q_id, 1)
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(v,)) for v in voters]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    db.session.expire_all()
    assert db.session.get(Question, q_id).score == len(voters)
    search_sync.drain()  # what a write that lost the race for the index lock left, if any
    assert _queued() == [] and check(repair=False) == {"missing": [], "stale": [], "extra": []}


def test_behind_a_backlog_a_write_settles_its_own_keys_and_some_of_the_backlog(make_user, make_question,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_sync, "QUEUE_BATCH", 2)
    backlog = [make_question(title=f"Backlog question number {i}", body=BODY).id for i in range(3)]
    with db.engine.begin() as conn:
        search_sync.enqueue(conn, [("question", i) for i in backlog])
    q = questions.ask_question(make_user(), questions.QuestionInput("Garage sensor reports open when shut", BODY, "devices"))
    db.session.commit()
    left = _queued()
    assert ("question", q.id) not in left and len(left) == 1  # its own key, and the two oldest
    assert search_sync.drain() == 1 and _queued() == []


def test_a_database_error_in_the_index_write_does_not_fail_the_committed_post(make_user,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def lost_connection(session, wanted):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    with monkeypatch.context() as m:
        m.setattr(search_sync, "_read_queue", lost_connection)
        q = questions.ask_question(make_user(), questions.QuestionInput("Garage sensor reports open when shut", BODY, "devices"))
        db.session.commit()  # does not raise: the post is committed
    assert _queued() == [("question", q.id)]
    assert search_sync.drain() == 1 and keys("garage") == [f"question:{q.id}"]


def test_an_answer_is_extracted_once_not_every_answer_of_its_thread(make_user, make_question, make_answer,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    q = make_question(title="Lights turn on at random", body=BODY)
    for i in range(6):
        make_answer(q, body=f"Answer number {i}: check the sunset offset.")
    extracted: list[str] = []
    real = search_sync.to_plain_text

    def counting(html: str) -> str:
        extracted.append(html)
        return real(html)

    monkeypatch.setattr(search_sync, "to_plain_text", counting)
    make_answer(q, body="The seventh answer: a geofence radius of 100 m.")
    # The new answer once (at flush) and the question's body; the six earlier answers not at all.
    assert len(extracted) == 2 and any("seventh" in h for h in extracted)
    assert keys("geofence radius") == [f"question:{q.id}"]


WORDS = ["aardvark", "bromeliad", "cormorant", "dulcimer", "egret", "flamingo", "gazelle", "heron"]


def test_a_long_thread_indexes_its_accepted_and_best_answers_and_counts_them_all(
        make_user, make_question, make_answer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every answer rebuilds its thread's document, so the document holds a bounded part of the
    thread (the accepted answer and the best-scored ones) whatever its length."""
    from forum.services import curation

    monkeypatch.setattr(search_sync, "ANSWERS_PER_DOCUMENT", 5)
    asker = make_user()
    q = make_question(author=asker, title="Hub offline for everyone since the outage", body=BODY)
    posted = [make_answer(q, body=f"Same here, the {word} workaround did nothing.") for word in WORDS]
    # Equal scores rank the oldest first: answers 0-4 are in the document, 5-7 are not.
    assert keys("flamingo") == [] and keys("egret") == [f"question:{q.id}"]

    votes.cast_vote(make_user(), "answer", posted[6].id, 1)  # the best answer now
    curation.accept_answer(asker, posted[7])
    db.session.commit()
    (doc,), gone = search_sync._question_documents(db.session, [q.id])
    assert gone == [] and doc.answer_count == 8  # every visible answer counted
    assert "heron" in doc.accepted and doc.solved
    assert "gazelle" in doc.answers and "flamingo" not in doc.answers and "heron" not in doc.answers
    assert [w for w in WORDS if w in doc.answers] == ["aardvark", "bromeliad", "cormorant", "dulcimer", "gazelle"]
    assert keys("gazelle") == keys("heron") == [f"question:{q.id}"] and keys("flamingo") == []
    assert check() == {"missing": [], "stale": [], "extra": []}

    # The text budget bounds the field too: here the first answer alone fills it.
    monkeypatch.setattr(search_sync, "ANSWER_TEXT_BUDGET", 20)
    (doc,), _ = search_sync._question_documents(db.session, [q.id])
    assert doc.answers == "Same here, the gazel" and doc.answer_count == 8 and "heron" in doc.accepted
