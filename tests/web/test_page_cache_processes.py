"""Two server processes share one database (and Redis): a write through one shows on the
other's cached anonymous page at once."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import redis

from forum.extensions import db
from forum.services.questions import slugify
from tests.support import redis_url_or_skip
from tests.support_http import Browserish, gunicorn

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("store", ["database", "redis"])
def test_answer_posted_through_one_process_shows_on_the_other(app: Any, asked_and_answered: Any, store: str,
                                                              tmp_path: Path) -> None:
    question, _ = asked_and_answered
    path = f"/questions/{question.id}/{slugify(question.title)}"
    env = {"FORUM_ENV": "testing", "FORUM_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "FORUM_INDEX_DIR": str(tmp_path / "index"), "FORUM_PAGE_CACHE_ENABLED": "true"}
    prefix = f"test:pagecache:{uuid.uuid4().hex}:"
    if store == "redis":
        env |= {"FORUM_REDIS_URL": redis_url_or_skip(), "FORUM_PAGE_CACHE_PREFIX": prefix}
    db.session.remove()
    try:
        with gunicorn({**env, "FORUM_INSTANCE_PATH": str(tmp_path / "a")}, workers=1, log=tmp_path / "a.log") as a, \
             gunicorn({**env, "FORUM_INSTANCE_PATH": str(tmp_path / "b")}, workers=1, log=tmp_path / "b.log") as b:
            reader = Browserish(b)
            reader.request("GET", path)
            status, page, headers = reader.request("GET", path)
            assert status == 200 and headers.get("X-Cache") == "HIT"
            assert "Power-cycle the router first." not in page

            writer = Browserish(a)
            assert writer.login("asker", "correct-horse-battery") == 302
            status, _, _ = writer.post(f"/questions/{question.id}/answers", {"body": "Power-cycle the router first."})
            assert status == 302

            status, page, headers = reader.request("GET", path)
            assert status == 200 and headers.get("X-Cache") == "MISS"
            assert "Power-cycle the router first." in page
    finally:
        if store == "redis":
            client = redis.Redis.from_url(env["FORUM_REDIS_URL"])
            for name in client.scan_iter(match=prefix + "*"):
                client.delete(name)
            client.close()
