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
import textwrap
from pathlib import Path

import pytest

from tests.support import IN_CI
from tests.support_http import REPO, gunicorn
from tools.serving import free_port

DOC = REPO / "docs" / "api.md"
README = REPO / "README.md"
MARKER = "<!-- curl-session:"


def session_block(doc: Path) -> str:
    """The ```sh block of ``doc`` that runs the webhook receiver (docs/api.md's follows its
    curl-session marker; the README's sits in a list item, indented)."""
    text = doc.read_text(encoding="utf-8")
    if doc == DOC:
        text = text[text.index(MARKER):]
    blocks = [textwrap.dedent(b) for b in re.findall(r"^ *```sh\n(.*?)^ *```", text, re.S | re.M)
              if "webhook_receiver.py" in b]
    assert blocks, f"{doc.name} lost its curl session block"
    return blocks[0]


def _env(home: Path) -> dict[str, str]:
    """`make run`'s settings (development, SQLite, the on-disk index, no Redis: the delivery is
    sent after the commit), with the forum in ``home`` and webhooks to 127.0.0.1 allowed."""
    env = {**os.environ, "FORUM_ENV": "development", "FLASK_APP": "forum:create_app",
           "FORUM_INSTANCE_PATH": str(home / "instance"),
           "FORUM_DATABASE_URL": f"sqlite:///{home / 'forum.db'}", "FORUM_INDEX_DIR": str(home / "index"),
           "FORUM_WEBHOOKS_ALLOW_PRIVATE": "true", "PYTHONPATH": str(REPO)}
    env.pop("FORUM_REDIS_URL", None)
    return env


@pytest.fixture(scope="module")
def demo_forum(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo community, migrated and seeded once for both sessions (each runs on a copy)."""
    home = tmp_path_factory.mktemp("demo-forum")
    for step in (["db", "upgrade"], ["forum", "seed-demo", "--if-empty"]):
        subprocess.run([str(Path(sys.executable).parent / "flask"), *step], cwd=REPO, env=_env(home), check=True,
                       capture_output=True, timeout=300)
    return home


@pytest.mark.parametrize("doc", [DOC, README], ids=["docs-api", "readme"])
def test_the_documented_curl_session_asks_and_the_receiver_gets_a_signed_webhook(tmp_path: Path, doc: Path,
                                                                                 demo_forum: Path) -> None:
    if shutil.which("curl") is None:
        if IN_CI:
            raise AssertionError("curl is needed for the documented session")
        pytest.skip("curl is not installed")
    bin_dir = Path(sys.executable).parent
    home = tmp_path / "forum"
    shutil.copytree(demo_forum, home)
    env = _env(home)
    hook_port = free_port()
    with gunicorn(env, workers=1, log=tmp_path / "server.log") as base:
        script = (session_block(doc).replace("http://127.0.0.1:5000", base)
                  .replace("127.0.0.1:9000", f"127.0.0.1:{hook_port}").replace("--port 9000", f"--port {hook_port}")
                  .replace(".venv/bin/", f"{bin_dir}/"))
        run = subprocess.run(["bash", "-e", "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    asked = json.loads(next(line for line in lines if line.startswith('{"')))
    assert asked["author"]["username"] == "maria_k" and "firmware" in asked["tags"]
    assert asked["title"].startswith("Hub light blinks orange after the")
    for listed in [json.loads(line) for line in lines if line.startswith('{"items"')]:
        assert [q["id"] for q in listed["items"]] == [asked["id"]]
    [delivery] = [line for line in lines if line.startswith("question.created:")]
    assert delivery.startswith("question.created: signature ok: ")
    body = json.loads(delivery.split(": ", 2)[2])
    assert body["event"] == "question.created" and body["data"]["question"]["id"] == asked["id"]
