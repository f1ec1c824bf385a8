"""Votes through gunicorn with 4 workers: many members at the same moment, and one member
clicking twenty times at once. Runs on SQLite and PostgreSQL like every ``app`` test."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Answer, ReputationEvent, User, Vote
from forum.services import accounts, reputation
from tests.support import run_together
from tests.support_http import Browserish, gunicorn

pytestmark = pytest.mark.slow

PASSWORD = "correct-horse-battery"
JSON = {"Accept": "application/json"}


def _members(prefix: str, n: int) -> list[str]:
    """Insert ``n`` members sharing one password hash: one Argon2 hash instead of ``n``."""
    hashed = accounts.hash_password(PASSWORD)
    names = [f"{prefix}{i}" for i in range(n)]
    db.session.add_all(User(username=name, username_key=name, email=f"{name}@example.com", password_hash=hashed,
                            role="member", display_name="", bio="", bio_html="") for name in names)
    db.session.commit()
    return names


def _server_env(app: Any, tmp_path: Path) -> dict[str, str]:
    return {
        "FORUM_ENV": "testing",
        "FORUM_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FORUM_INDEX_DIR": str(tmp_path / "index"),
        "FORUM_INSTANCE_PATH": str(tmp_path / "instance"),
    }


def _signed_in(base: str, name: str) -> tuple[Browserish, str]:
    """A browser signed in as ``name`` and the CSRF token of its new session."""
    browser = Browserish(base)
    assert browser.login(name, PASSWORD) == 302
    return browser, browser.token("/users")


def test_fifty_members_voting_at_once_through_four_workers_all_count(app, make_question, make_answer, make_user,
                                                                     tmp_path: Path) -> None:
    answer = make_answer(make_question(), author=make_user("answerer"))
    names = _members("crowd", 50)
    answer_id, author_id = answer.id, answer.author_id
    db.session.remove()
    log = tmp_path / "gunicorn.log"
    with gunicorn(_server_env(app, tmp_path), workers=4, log=log) as base:
        with ThreadPoolExecutor(8) as pool:
            sessions = list(pool.map(lambda name: _signed_in(base, name), names))
        results = run_together(len(sessions), lambda i: sessions[i][0].request(
            "POST", f"/answers/{answer_id}/vote", {"value": "1", "csrf_token": sessions[i][1]}, JSON)[:2])

    assert [s for s, _ in results] == [200] * 50, (results[:3], log.read_text(errors="replace")[-3000:])
    # Each response saw its own vote counted: every score from 1 to 50 was returned once.
    assert sorted(json.loads(body)["score"] for _, body in results) == list(range(1, 51))
    db.session.expire_all()
    assert db.session.get(Answer, answer_id).score == 50
    assert db.session.scalar(select(func.count(Vote.id)).where(Vote.post_id == answer_id)) == 50
    # 50 upvotes x 10 = 500, but votes earn at most 200 a day: exactly 20 rows of +10.
    rows = list(db.session.scalars(select(ReputationEvent.amount).where(ReputationEvent.user_id == author_id)))
    assert rows == [10] * 20
    assert db.session.get(User, author_id).reputation == 1 + 200
    assert reputation.recompute(fix=False)[1] == []


def test_one_member_sending_twenty_identical_votes_at_once_counts_once(app, make_question, make_answer, make_user,
                                                                       tmp_path: Path) -> None:
    answer = make_answer(make_question(), author=make_user("answerer"))
    (name,) = _members("clicker", 1)
    answer_id, author_id = answer.id, answer.author_id
    db.session.remove()
    log = tmp_path / "gunicorn.log"
    with gunicorn(_server_env(app, tmp_path), workers=4, log=log) as base:
        browser, token = _signed_in(base, name)
        results = run_together(20, lambda i: browser.request(
            "POST", f"/answers/{answer_id}/vote", {"value": "1", "csrf_token": token}, JSON)[:2])

    assert [s for s, _ in results] == [200] * 20, (results[:3], log.read_text(errors="replace")[-3000:])
    assert {json.loads(body)["score"] for _, body in results} == {1}
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Vote.id)).where(Vote.post_id == answer_id)) == 1
    assert db.session.get(Answer, answer_id).score == 1
    assert db.session.get(User, author_id).reputation == 1 + 10
    assert reputation.recompute(fix=False)[1] == []
