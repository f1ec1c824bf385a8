"""The index follows the database: after commit, never on rollback, retried after failure."""
from __future__ import annotations

from typing import NoReturn

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import SearchPending
from forum.search_sync import check, get_index, rebuild
from forum.services import answers, questions
from search.errors import IndexBusy

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
    index = get_index()
    real_upsert = index.upsert

    def busy(docs):
        raise IndexBusy("simulated lock timeout")

    monkeypatch.setattr(index, "upsert", busy)
    user = make_user()
    q = questions.ask_question(user, questions.QuestionInput("Garage sensor reports open when shut", BODY, "devices"))
    db.session.commit()  # the post succeeds
    assert db.session.scalar(select(SearchPending.id)) == q.id
    assert keys("garage") == []
    monkeypatch.setattr(index, "upsert", real_upsert)
    questions.ask_question(user, questions.QuestionInput("Another question triggers the retry", BODY, "setup"))
    db.session.commit()
    assert keys("garage") == [f"question:{q.id}"]
    assert db.session.scalar(select(SearchPending.id)) is None


def test_check_finds_and_repairs_missing_stale_and_extra_documents(make_question) -> None:
    a = make_question(title="Missing from the index soon", body=BODY)
    b = make_question(title="Stale in the index soon", body=BODY)
    index = get_index()
    index.delete([f"question:{a.id}"])
    from datetime import datetime, timezone

    from search.document import Document
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
    from search.errors import SearchError

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
