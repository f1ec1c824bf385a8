"""docs/api.md's curl session, run as written: a real server (gunicorn) on the demo data, the
documented commands in bash (flask webhooks add, tools/webhook_receiver.py, flask api-token
create, curl), and the receiver must print a delivery whose signature holds.

Only the addresses change (free ports instead of 5000 and 9000) and the commands use this
test's virtualenv; the server and the commands share one database, as `make run` and a second
terminal do.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import IN_CI
from tests.support_http import REPO, free_port, gunicorn

DOC = REPO / "docs" / "api.md"
MARKER = "<!-- curl-session:"


def session_block() -> str:
    """The ```sh block right after the curl-session marker in docs/api.md."""
    text = DOC.read_text(encoding="utf-8")
    after = text[text.index(MARKER):]
    match = re.search(r"```sh\n(.*?)```", after, re.S)
    assert match is not None, "docs/api.md lost its curl session block"
    return match.group(1)


def test_the_documented_curl_session_asks_and_the_receiver_gets_a_signed_webhook(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        if IN_CI:
            raise AssertionError("curl is needed for the documented session")
        pytest.skip("curl is not installed")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "FORUM_ENV": "development", "FLASK_APP": "forum:create_app",
           "FORUM_INSTANCE_PATH": str(tmp_path / "instance"),
           "FORUM_DATABASE_URL": f"sqlite:///{tmp_path / 'forum.db'}", "FORUM_INDEX_DIR": str(tmp_path / "index"),
           "FORUM_WEBHOOKS_ALLOW_PRIVATE": "true", "PYTHONPATH": str(REPO)}
    env.pop("FORUM_REDIS_URL", None)  # as make run: no Redis, the delivery is sent after the commit
    for step in (["db", "upgrade"], ["forum", "seed-demo", "--if-empty"]):
        subprocess.run([str(bin_dir / "flask"), *step], cwd=REPO, env=env, check=True, capture_output=True,
                       timeout=300)
    hook_port = free_port()
    with gunicorn(env, workers=1, log=tmp_path / "server.log") as base:
        script = (session_block().replace("http://127.0.0.1:5000", base)
                  .replace("127.0.0.1:9000", f"127.0.0.1:{hook_port}").replace("--port 9000", f"--port {hook_port}")
                  .replace(".venv/bin/", f"{bin_dir}/"))
        run = subprocess.run(["bash", "-e", "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    asked = json.loads(next(line for line in lines if line.startswith('{"')))
    assert asked["author"]["username"] == "maria_k" and asked["tags"] == ["firmware", "wifi"]
    assert asked["title"] == "Hub light blinks orange after the firmware update"
    listed = json.loads([line for line in lines if line.startswith('{"items"')][0])
    assert [q["id"] for q in listed["items"]] == [asked["id"]]
    [delivery] = [line for line in lines if line.startswith("question.created:")]
    assert delivery.startswith("question.created: signature ok: ")
    body = json.loads(delivery.split(": ", 2)[2])
    assert body["event"] == "question.created" and body["data"]["question"]["id"] == asked["id"]
