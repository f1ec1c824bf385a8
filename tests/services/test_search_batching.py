"""Index writes batched: commits within SEARCH_WRITE_DELAY share one index commit, nothing is
lost when the process dies before writing, and small segments merge by tier."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from flask import Flask
from sqlalchemy import select

from forum import search_sync
from forum.extensions import db
from forum.models import SearchPending
from forum.search_sync import check, get_index
from forum.services import questions
from search.document import Document
from search.index import IndexBatch, SearchIndex
from search.writing import TIER_FACTOR, tier

BODY = "The hub keeps blinking orange after the firmware update and the app cannot find it."
TITLES = ("Thermostat schedule ignores weekends", "Garage sensor reports open when shut",
          "Doorbell chime plays twice at night")


def keys(query: str) -> list[str]:
    return [h.key for h in get_index().search(query).hits]


def _queued() -> list[tuple[str, int]]:
    db.session.expire_all()
    return [(kind, row_id) for kind, row_id in db.session.execute(select(SearchPending.kind, SearchPending.id))]


def test_commits_within_the_write_delay_share_one_index_commit(app: Flask, make_user,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    app.config["SEARCH_WRITE_DELAY"] = 0.5
    commits: list[int] = []
    real_commit = IndexBatch.commit

    def counting(self: IndexBatch) -> None:
        commits.append(1)
        real_commit(self)

    monkeypatch.setattr(IndexBatch, "commit", counting)
    user = make_user()
    asked = []
    for title in TITLES:  # three requests, three transactions
        asked.append(questions.ask_question(user, questions.QuestionInput(title, BODY, "devices")).id)
        db.session.commit()
    assert keys("thermostat") == []  # the request did not wait for the index
    assert sorted(_queued()) == sorted(("question", i) for i in asked)  # but the keys are safe
    assert search_sync.flush_delayed(10)
    assert commits == [1]
    assert keys("thermostat garage doorbell") and {k for w in ("thermostat", "garage", "doorbell")
                                                   for k in keys(w)} == {f"question:{i}" for i in asked}
    assert _queued() == [] and check() == {"missing": [], "stale": [], "extra": []}


def test_a_process_dying_before_its_delayed_write_leaves_the_keys_for_the_next(app: Flask, make_user,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    app.config["SEARCH_WRITE_DELAY"] = 0.05
    with monkeypatch.context() as m:
        m.setattr(search_sync.DelayedWriter, "add", lambda self, keys: None)  # killed before writing
        q = questions.ask_question(make_user(), questions.QuestionInput(TITLES[0], BODY, "devices"))
        db.session.commit()
    assert _queued() == [("question", q.id)] and keys("thermostat") == []
    assert search_sync.drain() == 1  # the job worker's tick (or the next write, or `flask search check`)
    assert keys("thermostat") == [f"question:{q.id}"] and _queued() == []


def test_size_tiers() -> None:
    assert [tier(n) for n in (0, 1, TIER_FACTOR - 1, TIER_FACTOR, TIER_FACTOR ** 2 - 1, TIER_FACTOR ** 2)] == \
        [0, 0, 0, 1, 1, 2]


def _doc(i: int) -> Document:
    return Document(kind="question", id=i, title=f"Question number {i} about the hub", body=BODY,
                    created=datetime(2026, 1, 1, tzinfo=timezone.utc))


def test_one_document_commits_keep_few_segments_and_every_document(tmp_path) -> None:
    index = SearchIndex.open(tmp_path / "index")
    for i in range(1, 80):
        index.upsert([_doc(i)])
    segments = index._ix._segments()
    # At most TIER_FACTOR - 1 segments per size tier: 79 documents need at most three tiers.
    assert len(segments) <= 3 * (TIER_FACTOR - 1)
    assert len(index) == 79 and index.search("hub", per_page=100).total == 79
    index.upsert([_doc(5)])  # a replaced document is not counted twice
    assert len(index) == 79
