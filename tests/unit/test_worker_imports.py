"""A web worker does not import what only migrations and single sign-on need (issue 11's
memory per worker): Alembic with Flask-Migrate (about 12 MiB) and Authlib with joserfc and
cryptography (about 11 MiB) are imported when a migration or a sign-in asks for them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SERVE_PAGES = """
import json, sys
from forum import create_app
app = create_app("production")
client = app.test_client()
statuses = [client.get(path).status_code for path in ("/", "/questions", "/login", "/search?q=hub")]
print(json.dumps({"statuses": statuses, "loaded": sorted(m for m in ("alembic", "flask_migrate", "authlib", "joserfc")
                                                           if m in sys.modules)}))
"""


def _run(code: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FORUM_ENV": "production", "FORUM_SECRET_KEY": "k" * 40,
           "FORUM_DATABASE_URL": f"sqlite:///{tmp_path / 'forum.db'}", "FORUM_INDEX_DIR": str(tmp_path / "index"),
           "FORUM_INSTANCE_PATH": str(tmp_path / "instance"), "FORUM_SEMANTIC_SEARCH": "false",
           "FLASK_APP": "forum:create_app"}
    command = [sys.executable, "-c", code] if code else [str(Path(sys.executable).parent / "flask"), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_serving_pages_loads_neither_alembic_nor_authlib(tmp_path: Path) -> None:
    migrated = _run("", tmp_path, "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    served = _run(SERVE_PAGES, tmp_path)
    assert served.returncode == 0, served.stderr
    result = json.loads(served.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [200, 200, 200, 200]
    assert result["loaded"] == []


def test_flask_db_still_migrates_with_its_options(tmp_path: Path) -> None:
    assert _run("", tmp_path, "db", "-d", "migrations", "upgrade").returncode == 0
    current = _run("", tmp_path, "db", "current")
    assert current.returncode == 0 and "(head)" in current.stdout
    listed = _run("", tmp_path, "db", "--help")
    assert "upgrade" in listed.stdout and "downgrade" in listed.stdout
