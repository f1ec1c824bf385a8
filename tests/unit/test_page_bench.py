"""The page benchmark's parts that need neither wrk nor gunicorn: the forum generator (its pages
render and its counters agree with its rows) and the reading of wrk's output."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum import create_app
from forum.extensions import db
from forum.models import Answer, Question, ReputationEvent, Tag, User, Vote, question_tags
from tools.bench import wrk
from tools.bench.generate import FREQUENT_WORD, RARE_WORD, Manifest, generate
from tools.bench.run import pages

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:40123/questions/12/how-do-i-sync
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    38.21ms   12.02ms 191.24ms   88.10%
    Req/Sec    49.61     10.12    70.00     71.00%
  Latency Distribution
     50%   35.10ms
     75%   41.00ms
     90%   52.33ms
     99%    1.02s
  496 requests in 5.01s, 12.34MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:     99.00
Transfer/sec:      2.46MB
"""


def test_wrk_output_is_parsed() -> None:
    result = wrk.parse(WRK_OUTPUT)
    assert result.requests == 496
    assert result.seconds == pytest.approx(5.01)
    assert result.rps == pytest.approx(99.0)
    assert result.p50 == pytest.approx(35.1)
    assert result.p99 == pytest.approx(1020.0)
    assert result.errors == 6


def test_wrk_microseconds_and_no_errors() -> None:
    out = WRK_OUTPUT.replace("   35.10ms", "  812.00us").replace("  Socket errors: connect 0, read 1, write 0, timeout 2\n", "")
    out = out.replace("  Non-2xx or 3xx responses: 3\n", "")
    result = wrk.parse(out)
    assert result.p50 == pytest.approx(0.812)
    assert result.errors == 0


def test_output_without_latency_distribution_is_refused() -> None:
    with pytest.raises(ValueError):
        wrk.parse(WRK_OUTPUT.replace("     50%   35.10ms\n", ""))


def test_post_script_carries_cookie_token_and_targets(tmp_path: Path) -> None:
    script = wrk.post_script(tmp_path / "post.lua", cookie='session=a.b"c', csrf_token="tok.en-1", question_ids=[3, 5])
    text = script.read_text()
    assert "local targets = {3, 5}" in text
    assert 'local cookie = "session=a.b\\"c"' in text and '"tok.en-1"' in text
    assert 'wrk.format("POST", "/questions/" .. qid .. "/answers"' in text


def test_typing_script_sends_a_title_nobody_typed_before_each_time(tmp_path: Path) -> None:
    script = wrk.typing_script(tmp_path / "typing.lua", url_path="/search/similar?title=hub+offline")
    text = script.read_text()
    assert 'local base = "/search/similar?title=hub+offline"' in text
    # A word of its own on every request: the salt (per wrk thread) and the request's number.
    assert 'wrk.format("GET", base .. "+t" .. salt .. "x" .. n)' in text and "n = n + 1" in text


@pytest.fixture(scope="module")
def small_forum(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    work = tmp_path_factory.mktemp("bench")
    return generate(200, f"sqlite:///{work / 'forum.db'}", work / "index", log=lambda _: None)


def test_generated_pages_render(small_forum: Manifest, tmp_path: Path) -> None:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": small_forum.database_url,
                                 "SEARCH_INDEX_DIR": small_forum.index_dir})
    client = app.test_client()
    for label, path, _ in pages(small_forum):
        response = client.get(path)
        assert response.status_code == 200, (label, path, response.status_code)
    rare = client.get(f"/search?q={RARE_WORD}").get_data(as_text=True)
    frequent = client.get(f"/search?q={FREQUENT_WORD}").get_data(as_text=True)
    assert "/questions/" in rare and "/questions/" in frequent
    assert client.get("/search/similar?title=" + small_forum.similar_title).get_json()["results"]
    # The benchmark's account signs in through the real login form.
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    response = client.post("/login", data={"login": small_forum.member, "password": small_forum.password,
                                           "csrf_token": token.group(1)})
    assert response.status_code == 302
    assert small_forum.member in client.get(small_forum.question_path).get_data(as_text=True)


def test_generated_counters_agree_with_rows(small_forum: Manifest) -> None:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": small_forum.database_url,
                                 "SEARCH_INDEX_DIR": small_forum.index_dir})
    with app.app_context():
        assert 200 <= small_forum.posts < 200 + 20
        assert small_forum.questions + small_forum.answers == small_forum.posts
        per_question = dict(db.session.execute(select(Answer.question_id, func.count()).group_by(Answer.question_id)).all())
        for q in db.session.scalars(select(Question)):
            assert q.answer_count == per_question.get(q.id, 0)
            votes = db.session.scalar(select(func.coalesce(func.sum(Vote.value), 0))
                                      .where(Vote.post_type == "question", Vote.post_id == q.id))
            assert q.score == votes
            if q.accepted_answer_id is not None:
                assert db.session.get(Answer, q.accepted_answer_id).question_id == q.id
        for tag in db.session.scalars(select(Tag)):
            assert tag.question_count == db.session.scalar(
                select(func.count()).select_from(question_tags).where(question_tags.c.tag_id == tag.id))
        ledger = dict(db.session.execute(select(ReputationEvent.user_id, func.sum(ReputationEvent.amount))
                                         .group_by(ReputationEvent.user_id)).all())
        for user in db.session.scalars(select(User)):
            assert user.reputation == 1 + ledger.get(user.id, 0)
        assert db.session.scalar(select(func.count()).where(Answer.body_text.is_(None))) == 0
        db.session.remove()
        db.engine.dispose()
