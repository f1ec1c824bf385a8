"""Four gunicorn workers posting at once: every post is indexed and no lock error reaches a user."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Question, SearchPending
from search.index import SearchIndex
from tests.support_http import Browserish, gunicorn

pytestmark = pytest.mark.slow

CLIENTS = 8
POSTS_EACH = 5


def test_four_workers_posting_at_once_index_every_post(app, make_user, tmp_path: Path) -> None:
    for i in range(CLIENTS):
        make_user(f"poster{i}")
    index_dir = tmp_path / "index"
    env = {
        "FORUM_ENV": "testing",
        "FORUM_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FORUM_INDEX_DIR": str(index_dir),
        "FORUM_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    db.session.remove()
    statuses: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(CLIENTS)

    log = tmp_path / "gunicorn.log"
    with gunicorn(env, workers=4, log=log) as base:
        def client(n: int) -> None:
            try:
                browser = Browserish(base)
                assert browser.login(f"poster{n}", "correct-horse-battery") == 302
                barrier.wait(30)
                for k in range(POSTS_EACH):
                    status, page, _ = browser.post("/questions/ask", {
                        "title": f"Concurrent question {n}-{k} about the hub",
                        "body": f"Posted by client {n}, number {k}: the hub reboots at night.",
                        "tags": "concurrency",
                    })
                    statuses.append(status)
                    assert status == 302, page[-2000:]
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)

    assert not errors, (errors[:3], log.read_text(errors="replace")[-4000:])
    assert statuses == [302] * (CLIENTS * POSTS_EACH)
    index = SearchIndex.open(index_dir)
    try:
        indexed = {k for k in index.fingerprints() if k.startswith("question:")}
    finally:
        index.close()
    ids = set(db.session.scalars(select(Question.id)))
    assert len(ids) == CLIENTS * POSTS_EACH
    assert indexed == {f"question:{i}" for i in ids}
    # Each post queued its key in its own transaction; every one was settled by an index write.
    assert db.session.scalar(select(func.count()).select_from(SearchPending)) == 0
