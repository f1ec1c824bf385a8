"""The encoding service (search/encoding_service.py, ``flask semantic serve``): one process holds
the embedding model and every worker asks it.

* A real service, started by ``flask semantic serve`` on a temporary Unix socket with the real
  packaged model, gives exactly the in-process vectors (bytes equal), in small and split requests.
* A forum process configured with it never imports the model (nor numpy): similar-as-you-type,
  a sentence search and the background vector writer all go through the service, and the
  vectors it stored equal the in-process ones.
* A dead or hanging service degrades search and similar-as-you-type to BM25F (200, never a 500,
  a logged warning, a hanging service costs one timeout), and the vector write is retried later.

Needs the packaged model (skipped without it, a failure under CI=true, as tests/search/test_semantic.py).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from forum import semantic_sync
from forum.search_index import get_handle, service_key
from forum.services import search as search_svc
from search import encoding_service, semantic
from search.encoding_service import EncoderUnavailable, RemoteEncoder, Vector
from tests.search.test_semantic import _need_model
from tools.serving import stop, wait_until_answering

ROOT = Path(__file__).resolve().parents[2]
SECRET = "encoding-service-test-secret"
KEY = encoding_service.service_key(SECRET)

TEXTS = [
    "Printer offline after the Windows update",
    "",
    "How do I reset my password?",
    "Der Drucker druckt nicht mehr — café, naïve, 日本語",
    "hub " * 400,  # longer than the model's 256 tokens: truncated the same way on both sides
]

LAPTOP = ("Laptop does not turn on", "Black screen when I press the power button, no lights at all.")
DARK = ("How do I turn on dark mode in the app", "Looking for the setting to turn on dark mode, the screen is too bright.")
DEAD = ("Notebook will not boot after the update", "It stays dead: nothing happens when I press power, the fan is silent.")


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    """`flask semantic serve` on a Unix socket in a short temporary directory; its address."""
    _need_model()
    workdir = Path(tempfile.mkdtemp(prefix="enc-"))  # a Unix socket path must stay under 108 bytes
    address = f"unix:{workdir / 'encoder.sock'}"
    log = workdir / "serve.log"
    env = {**os.environ, "FORUM_ENV": "development", "FORUM_SECRET_KEY": SECRET,
           "FORUM_INSTANCE_PATH": str(workdir / "instance"), "FORUM_DATABASE_URL": f"sqlite:///{workdir / 'x.db'}",
           "FORUM_EMBEDDING_SERVICE": address, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "forum:create_app", "semantic", "serve",
                                    "--threads", "2"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        encoder = RemoteEncoder(address, KEY, retry_after=0)
        wait_until_answering(process, lambda: encoder.manifest, what="the encoding service", log=log, timeout=90,
                             interval=0.3, not_yet=(EncoderUnavailable,))
        assert encoder.manifest.dim > 0
        yield address
    finally:
        stop(process, timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def local() -> Any:
    _need_model()
    encoder = semantic.shared_encoder()
    assert encoder is not None
    return encoder


# --- the service and its client ---------------------------------------------------------------


def test_the_service_gives_exactly_the_in_process_vectors(service: str, local: Any) -> None:
    import numpy as np

    remote = RemoteEncoder(service, KEY, timeout=encoding_service.BULK_TIMEOUT)  # equality here, not speed
    assert remote.manifest.name == local.manifest.name and remote.dim == local.dim == 384
    rows = remote.encode(TEXTS)
    expected = local.encode(TEXTS)
    assert len(rows) == len(TEXTS) and all(isinstance(r, Vector) for r in rows)
    assert np.array(rows, dtype=np.float32).tobytes() == expected.tobytes()
    # What the callers read: the query's list of floats, the stored little-endian bytes.
    assert rows[0].tolist() == expected[0].tolist()
    assert [r.astype("<f4").tobytes() for r in rows] == [e.astype("<f4").tobytes() for e in expected]
    # A batch as the background writer sends it (more than the model's batch of 32): the same rows.
    batch = [f"{t} {n}" for n in range(8) for t in TEXTS]
    assert np.array(remote.encode(batch), dtype=np.float32).tobytes() == local.encode(batch).tobytes()
    # A list longer than one request is split: each part equals that part encoded in-process.
    split = RemoteEncoder(service, KEY, timeout=encoding_service.BULK_TIMEOUT, chunk=2)
    assert np.array(split.encode(TEXTS), dtype=np.float32).tobytes() == np.concatenate(
        [local.encode(TEXTS[i:i + 2]) for i in range(0, len(TEXTS), 2)]).tobytes()
    assert remote.encode([]) == []


def test_the_service_refuses_a_wrong_key_and_bad_requests(service: str) -> None:
    with pytest.raises(EncoderUnavailable, match="401"):
        RemoteEncoder(service, "not-the-key").encode(["hello"])
    path = service[len("unix:"):]
    conn = encoding_service._UnixConnection(path, timeout=5)
    for body, status in ((json.dumps(["x"] * (encoding_service.MAX_TEXTS + 1)), 400), ('{"not": "a list"}', 400),
                         ("[1, 2]", 400)):
        conn.request("POST", "/encode", body=body.encode(), headers={"Authorization": f"Bearer {KEY}"})
        response = conn.getresponse()
        response.read()
        assert response.status == status
        conn.close()


def test_addresses_and_keys() -> None:
    assert encoding_service._target("unix:/run/forum/encoder.sock") == "/run/forum/encoder.sock"
    assert encoding_service._target("/run/e.sock") == "/run/e.sock"
    assert encoding_service._target("127.0.0.1:8765") == ("127.0.0.1", 8765)
    for wrong in ("localhost", "host:port", ":80"):
        with pytest.raises(ValueError):
            RemoteEncoder(wrong, KEY)
    command = encoding_service.gunicorn_command("127.0.0.1:8765")
    assert command[command.index("--bind") + 1] == "127.0.0.1:8765"
    assert command[command.index("--workers") + 1] == "1"  # one copy of the model
    assert KEY not in " ".join(command)  # the key travels in the environment
    assert KEY == encoding_service.service_key(SECRET) != encoding_service.service_key(SECRET + "x")
    assert SECRET not in KEY


def test_a_malformed_service_address_fails_at_start_up(database_url: str) -> None:
    from forum import create_app

    with pytest.raises(ValueError, match="unix:/path"):
        create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "EMBEDDING_SERVICE": "nowhere"})


# --- a forum process configured with the service --------------------------------------------

WORKER = textwrap.dedent("""
    import json, sys
    from forum import create_app, semantic_sync
    from forum.extensions import db
    from forum.search_index import get_handle
    from forum.services import accounts, questions
    from forum.models import Role

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SEARCH_INDEX_DIR": ":memory:",
                                 "SEMANTIC_SEARCH": True, "EMBEDDING_SERVICE": sys.argv[2],
                                 "SECRET_KEY": sys.argv[3], "RATE_LIMITS_ENABLED": False})
    posts = json.loads(sys.argv[4])
    with app.app_context():
        db.create_all()
        author = accounts.register(accounts.Registration("writer", "writer@example.com", "correct-horse-battery"),
                                   role=Role.MEMBER, allow_reserved=True, verified=True)
        ids = [questions.ask_question(author, questions.QuestionInput(t, b, "setup")).id for t, b in posts]
        db.session.commit()
        semantic_sync.flush()  # the background vector writer, through the service
        stored = get_handle(app).vectors.get(f"question:{i}" for i in ids)
        client = app.test_client()
        similar = client.get("/search/similar", query_string={"title": "my laptop will not power on"})
        found = client.get("/search", query_string={"q": "laptop does not turn on"})
        print(json.dumps({
            "ids": ids, "similar_status": similar.status_code, "similar": [r["id"] for r in similar.json["results"]],
            "search_status": found.status_code,
            "full": {k: r.full.hex() for k, r in stored.items()},
            "fingerprints": {k: r.fingerprint for k, r in stored.items()},
            "modules": sorted(m for m in ("numpy", "tokenizers", "safetensors", "threadpoolctl", "search.embedding")
                              if m in sys.modules),
        }))
""")


def test_a_forum_process_with_the_service_never_loads_the_model(service: str, local: Any, tmp_path: Path) -> None:
    """Run in a fresh interpreter, so that what it imported is its own doing."""
    import numpy as np

    from search.document import Document

    posts = [LAPTOP, DARK, DEAD]
    done = subprocess.run([sys.executable, "-c", WORKER, f"sqlite:///{tmp_path / 'forum.db'}", service, SECRET,
                           json.dumps(posts)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["modules"] == []  # not the model, nor numpy (21 MiB a worker)
    assert report["similar_status"] == 200 and report["search_status"] == 200
    laptop, dark, dead = report["ids"]
    assert report["similar"][:2] in ([laptop, dead], [dead, laptop])  # re-ranked by meaning, as in-process
    # The vectors the background writer stored through the service are the in-process ones.
    assert sorted(report["full"]) == sorted(f"question:{i}" for i in report["ids"])
    docs = [Document(kind="question", id=qid, title=title, body=body, created=datetime.now(UTC))
            for qid, (title, body) in zip(report["ids"], posts)]
    # The same texts (the fingerprints say so); the writer encoded the three (one commit) in one
    # call, and a row depends in its last bits on the batch it was padded in: the same call here.
    full = local.encode([semantic.document_texts(doc).full for doc in docs])
    for doc, row in zip(docs, full):
        assert report["fingerprints"][doc.key] == semantic.vector_fingerprint(doc, local.manifest.name)
        assert bytes.fromhex(report["full"][doc.key]) == row.astype("<f4").tobytes()
    assert np.float32  # numpy is imported here, in the test, not in the forum process


def _use_service(app: Flask, address: str, timeout: float = 2.0) -> None:
    """Point the test app at an encoding service (the `app` fixture's settings are fixed)."""
    handle = get_handle(app)
    app.config.update(SEMANTIC_SEARCH=True, EMBEDDING_SERVICE=address, EMBEDDING_SERVICE_TIMEOUT=timeout)
    handle.service, handle.service_timeout, handle.service_key = address, timeout, service_key(app)
    handle.semantic, handle._remote = True, {}
    handle.vectors.clear()


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the model in this process fails the test."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded in a worker configured with the encoding service")

    monkeypatch.setattr(semantic, "shared_encoder", refuse)


def test_the_app_encodes_through_the_service_only(app: Flask, service: str, make_user, make_question,
                                                  no_model: None, monkeypatch: pytest.MonkeyPatch) -> None:
    app.config["SECRET_KEY"] = SECRET
    _use_service(app, service)
    author = make_user()
    ids = [make_question(author=author, title=t, body=b).id for t, b in (LAPTOP, DARK, DEAD)]
    semantic_sync.flush()
    assert semantic_sync.refreshed_ids(ids) == sorted(ids)
    assert isinstance(get_handle(app).encoder(), RemoteEncoder)
    typed = app.test_client().get("/search/similar", query_string={"title": "my laptop will not power on"})
    assert typed.status_code == 200
    assert [r["id"] for r in typed.json["results"]][:2] in ([ids[0], ids[2]], [ids[2], ids[0]])


# --- a dead or hanging service -----------------------------------------------------------------


def _lexical(title: str) -> list[int]:
    return [q.id for q in search_svc.similar_questions(None, title, with_articles=True, use_meaning=False)]


def test_a_dead_service_degrades_search_and_retries_the_vector_writes(
        app: Flask, service: str, make_user, make_question, no_model: None, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    app.config["SECRET_KEY"] = SECRET
    workdir = Path(tempfile.mkdtemp(prefix="enc-dead-"))
    _use_service(app, f"unix:{workdir / 'nobody.sock'}")
    retries: list[tuple[list[str], int, float]] = []
    monkeypatch.setattr(semantic_sync.InlineWriter, "later",
                        lambda self, keys, attempt, seconds: retries.append((keys, attempt, seconds)))
    caplog.set_level(logging.WARNING)
    try:
        author = make_user()
        ids = [make_question(author=author, title=t, body=b).id for t, b in (LAPTOP, DARK, DEAD)]
        semantic_sync.flush()
        # Nothing written; the job is handed over again after the first delay.
        assert semantic_sync.refreshed_ids(ids) == []
        assert retries and {(attempt, delay) for _, attempt, delay in retries} == {(1, semantic_sync.RETRY_DELAYS[0])}
        assert sorted(k for keys, _, _ in retries for k in keys) == sorted(f"question:{i}" for i in ids)

        client = app.test_client()
        typed = client.get("/search/similar", query_string={"title": "my laptop will not power on"})
        assert typed.status_code == 200
        assert [r["id"] for r in typed.json["results"]] == _lexical("my laptop will not power on")
        sentence = "laptop does not turn on"  # four words: a sentence, re-ranked by meaning when it can be
        found = client.get("/search", query_string={"q": sentence})
        assert found.status_code == 200
        lexical = search_svc.search_posts(None, sentence, use_meaning=False)
        assert lexical.results and lexical.results[0].question is not None
        assert f'/{lexical.results[0].question.id}' in found.get_data(as_text=True)
        assert any("encoding service" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)

        # The service is back: the retried job writes the vectors.
        _use_service(app, service)
        assert sum(semantic_sync.write_vectors(keys, attempt) for keys, attempt, _ in list(retries)) == len(ids)
        assert semantic_sync.refreshed_ids(ids) == sorted(ids)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_a_hanging_service_costs_one_timeout_then_nothing(app: Flask, make_user, make_question, no_model: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A service that accepts connections and never answers: the first query waits the timeout,
    the next ones (within `retry_after`) none; both answer 200 in BM25F order."""
    monkeypatch.setattr(semantic_sync.InlineWriter, "later", lambda *args: None)
    workdir = Path(tempfile.mkdtemp(prefix="enc-hang-"))
    path = workdir / "hang.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(16)  # never accepted: connects succeed, reads time out
    try:
        author = make_user()
        for title, body in (LAPTOP, DARK, DEAD):
            make_question(author=author, title=title, body=body)
        _use_service(app, f"unix:{path}", timeout=0.5)
        client = app.test_client()
        timings = []
        for _ in range(3):
            started = time.monotonic()
            typed = client.get("/search/similar", query_string={"title": "my laptop will not power on"})
            timings.append(time.monotonic() - started)
            assert typed.status_code == 200
            assert [r["id"] for r in typed.json["results"]] == _lexical("my laptop will not power on")
        assert timings[0] >= 0.5
        assert max(timings[1:]) < 0.5
    finally:
        listener.close()
        shutil.rmtree(workdir, ignore_errors=True)


# --- small parts -----------------------------------------------------------------------------


def test_plain_python_cosines_equal_cosine() -> None:
    """What re-ranking computes in a worker without numpy (search.vectors._cosines)."""
    query = [0.3, -1.2, 2.0, 0.0, 0.5]
    vectors = [semantic.unpack(semantic.pack(v)) for v in
               ([0.3, -1.2, 2.0, 0.0, 0.5], [-0.3, 1.2, -2.0, 0.0, -0.5], [1.0, 0.0, 0.0, 0.0, 0.0], [0.0] * 5)]
    found = semantic.cosines(query, vectors)
    assert found == pytest.approx([semantic.cosine(query, v) for v in vectors], abs=1e-12)
    assert found[0] == pytest.approx(1.0) and found[1] == pytest.approx(-1.0) and found[3] == 0.0
    assert semantic.cosines([0.0] * 5, vectors) == [0.0] * 4


def test_a_row_from_the_service_reads_like_a_numpy_row() -> None:
    row = Vector.from_le_bytes(semantic.pack([0.25, -1.5, 3.0]))
    assert row.tolist() == [0.25, -1.5, 3.0]
    assert row.astype("<f4").tobytes() == semantic.pack([0.25, -1.5, 3.0])
    with pytest.raises(TypeError):
        row.astype("float64")


def test_serve_needs_an_address(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["semantic", "serve"])
    assert result.exit_code != 0 and "FORUM_EMBEDDING_SERVICE" in result.output
    result = app.test_cli_runner().invoke(args=["semantic", "serve", "--bind", "nowhere"])
    assert result.exit_code != 0 and "unix:/path" in result.output


def test_with_redis_a_dead_service_reschedules_the_vector_job(app: Flask, service: str, make_user, make_question,
                                                              no_model: None) -> None:
    """The job worker's path: the failed job enqueues itself again with a delay (RQ's scheduler)."""
    import uuid

    from forum import jobs
    from tests.support import redis_url_or_skip

    app.config.update(REDIS_URL=redis_url_or_skip(), JOBS_QUEUE=f"test-{uuid.uuid4().hex[:12]}", SECRET_KEY=SECRET)
    jobs.init_app(app)
    queue = jobs.get_jobs(app).queue
    workdir = Path(tempfile.mkdtemp(prefix="enc-rq-"))
    try:
        _use_service(app, f"unix:{workdir / 'nobody.sock'}")
        q = make_question(author=make_user(), title=LAPTOP[0], body=LAPTOP[1])
        assert jobs.make_worker(app).work(burst=True)
        assert semantic_sync.refreshed_ids([q.id]) == []
        scheduled = [queue.fetch_job(i) for i in queue.scheduled_job_registry.get_job_ids()]
        [retry] = [j for j in scheduled if j is not None and j.func_name == semantic_sync.JOB]
        assert retry.args == ([f"question:{q.id}"], 1)
        assert semantic_sync.RETRY_DELAYS[0] - 5 <= (queue.scheduled_job_registry.get_scheduled_time(retry)
                                                     - datetime.now(UTC)).total_seconds() <= semantic_sync.RETRY_DELAYS[0]
        _use_service(app, service)
        assert semantic_sync.write_vectors(*retry.args) == 1  # what the scheduler will run
        assert semantic_sync.refreshed_ids([q.id]) == [q.id]
    finally:
        queue.empty()
        for registry in (queue.scheduled_job_registry, queue.failed_job_registry, queue.finished_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)
        queue.connection.close()
        shutil.rmtree(workdir, ignore_errors=True)


def test_flask_search_check_says_the_service_is_down(app: Flask) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="enc-cli-"))
    try:
        _use_service(app, f"unix:{workdir / 'nobody.sock'}")
        result = app.test_cli_runner().invoke(args=["search", "check"])
        assert result.exit_code == 1 and "vectors not checked: the encoding service" in result.output
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
