"""With the PostgreSQL search backend the index is written in the writer's own transaction.

Every test runs on PostgreSQL only, with ``SEARCH_BACKEND = "postgres"`` (the ``pg_search``
marker, tests/conftest.py). What a user would notice: a post, an edit, a hide or a vote is
in search as soon as its request committed, from any host (here: another connection), and a
request that failed leaves search as it was.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, func, select, text

from forum import search_sync
from forum.extensions import db
from forum.models import SearchPending
from forum.search_index import get_index
from forum.services import answers, questions, search, visibility, votes
from search.postgres import PgSearchIndex

pytestmark = pytest.mark.pg_search

BODY = "The hub keeps blinking orange after the firmware update and the app cannot find it."


def keys(query: str, **kwargs: object) -> list[str]:
    return [h.key for h in get_index().search(query, **kwargs).hits]  # type: ignore[arg-type]


def other_host_keys(query: str) -> list[str]:
    """What a second web host sees: its own engine and index object over the same tables."""
    engine = create_engine(db.engine.url)
    try:
        return [h.key for h in PgSearchIndex(engine).search(query).hits]
    finally:
        engine.dispose()


def test_the_backend_is_the_database(app) -> None:
    assert isinstance(get_index(), PgSearchIndex)


def test_a_question_is_searchable_from_another_host_once_its_request_commits(make_user) -> None:
    q = questions.ask_question(make_user(), questions.QuestionInput("Thermostat schedule ignores weekends", BODY, "automations"))
    assert other_host_keys("thermostat") == []  # written in the transaction, invisible until it commits
    db.session.commit()
    assert other_host_keys("thermostat") == [f"question:{q.id}"]
    assert keys("thermostat") == [f"question:{q.id}"]
    assert db.session.scalar(select(func.count()).select_from(SearchPending)) == 0  # nothing queued


def test_a_rolled_back_request_leaves_search_unchanged(make_user) -> None:
    questions.ask_question(make_user(), questions.QuestionInput("Thermostat schedule ignores weekends", BODY, "automations"))
    db.session.flush()
    db.session.rollback()
    assert keys("thermostat") == [] and other_host_keys("thermostat") == []


def test_edits_hides_and_restores_follow_in_the_same_request(make_user, make_question) -> None:
    author = make_user()
    q = make_question(author=author, title="Doorbell chime is silent", body=BODY)
    questions.edit_question(author, q, questions.QuestionInput("Doorbell chime is silent after pairing", BODY + " Zigbee.", "devices"))
    db.session.commit()
    assert other_host_keys("zigbee") == [f"question:{q.id}"]
    visibility.hide_post(q, "spam")
    db.session.commit()
    assert other_host_keys("doorbell") == []
    visibility.unhide_post(q)
    db.session.commit()
    assert other_host_keys("doorbell") == [f"question:{q.id}"]


def test_answers_and_votes_reach_the_document(make_user, make_question, make_answer) -> None:
    first = make_question(title="Lights turn on at random", body=BODY)
    second = make_question(title="Lights flicker at random", body=BODY)
    a = make_answer(first, body="Check the sunset offset in the geofence automation settings.")
    assert other_host_keys("geofence") == [f"question:{first.id}"]
    assert keys("lights", sort="votes")[0] == f"question:{second.id}"  # newer first among equal votes
    votes.cast_vote(make_user(), "question", first.id, 1)  # an atomic SQL UPDATE of the score
    db.session.commit()
    assert keys("lights", sort="votes")[0] == f"question:{first.id}"
    answers.delete_answer(a.author, a)
    db.session.commit()
    assert other_host_keys("geofence") == []
    assert search_sync.check(repair=False) == {"missing": [], "stale": [], "extra": []}


def test_the_search_page_and_similar_questions_read_the_database(client, make_user, make_question) -> None:
    q = make_question(title="Garage opener pairing fails", body=BODY, tags="garage")
    html = client.get("/search?q=garage+opener").get_data(as_text=True)
    assert "<mark>Garage</mark> <mark>opener</mark> pairing fails" in html
    assert [row.id for row in search.similar_questions(None, "Garage opener will not pair")] == [q.id]


def test_concurrent_answers_to_one_question_leave_the_document_complete(app, make_user, make_question) -> None:
    """Two requests answering one thread at once: the second waits for the first's document lock and
    builds its document after the first committed, so both answers are in it."""
    q = make_question(title="Sprinkler zones skip watering", body=BODY)
    # Ids read here: touching the test session's (expired) objects from the threads would load them
    # through that one session from two threads at once.
    user_ids, question_id = [make_user().id, make_user().id], q.id
    user_type, question_type = type(q.author), type(q)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def answer(n: int) -> None:
        try:
            with app.app_context():
                author = db.session.get(user_type, user_ids[n])
                question = db.session.get(question_type, question_id)
                barrier.wait(timeout=10)
                answers.post_answer(author, question, f"Answer {n}: reseat the {'valveword' if n else 'solenoidword'}.")
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert other_host_keys("valveword") == other_host_keys("solenoidword") == [f"question:{question_id}"]
    assert search_sync.check(repair=False)["stale"] == []


def test_flask_search_commands_work_on_the_database(runner, make_question) -> None:
    make_question(title="Camera snapshot is black", body=BODY)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM search_documents"))
    result = runner.invoke(args=["search", "check", "--no-repair"])
    assert result.exit_code == 1 and "missing: 1" in result.output
    assert runner.invoke(args=["search", "ensure"]).output.startswith("Search index is outdated or empty")
    assert other_host_keys("camera") != []
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0 and "Indexed 1 documents" in result.output
    assert "Index matches the database." in runner.invoke(args=["search", "check"]).output


def test_the_backend_is_chosen_by_configuration_and_checked_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from forum import create_app

    with pytest.raises(ValueError, match="PostgreSQL database"):
        create_app("testing", {"SEARCH_BACKEND": "postgres"})  # over the testing SQLite database
    with pytest.raises(ValueError, match="SEARCH_BACKEND"):
        create_app("testing", {"SEARCH_BACKEND": "elastic"})
    monkeypatch.setenv("FORUM_SEARCH_BACKEND", "postgres")
    with pytest.raises(ValueError, match="PostgreSQL database"):
        create_app("testing")
    monkeypatch.delenv("FORUM_SEARCH_BACKEND")
    assert create_app("testing").extensions["search"].backend == "whoosh"  # the embedded default


def test_as_you_type_finds_titles_a_few_typos_away(make_doc) -> None:
    """pg_trgm: a title typed with every word misspelt shares no word with the post, but its trigrams."""
    from tests.search.conftest import open_backend

    index = open_backend("postgres")
    try:
        index.upsert([make_doc(1, "Printer offline after Windows update"), make_doc(2, "Sync conflict on two devices")])
        assert [h.key for h in index.similar("Priner oflline aftr Windos updaet")] == ["question:1"]
        assert index.similar("Priner oflline", body="no body words match either") == []  # related: words only
    finally:
        index.close()


def test_a_frequent_word_ranks_title_matches_before_the_newest(make_doc, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past RANK_POOL matches only a bounded pool is ranked: posts with the word in the title come first,
    so an old post titled with the word still tops a word most recent posts only mention."""
    import search.postgres
    from tests.search.conftest import open_backend

    monkeypatch.setattr(search.postgres, "RANK_POOL", 2)
    index = open_backend("postgres")
    try:
        old = make_doc(1, "Router drops the connection nightly", "It happens every night.")
        newer = [make_doc(n, f"Question {n} about lights", "Unrelated, but my router is nearby.") for n in range(2, 8)]
        index.upsert([old, *newer])
        results = index.search("router", per_page=3)
        assert results.total == 7 and results.hits[0].key == "question:1"
    finally:
        index.close()
