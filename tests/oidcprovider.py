"""A real OpenID Connect provider for the SSO tests, and a browser that signs in through it.

The provider is the certified ``oidc-provider`` package for Node.js (tests/oidc/provider/:
the script, package.json and package-lock.json). ``npm ci`` installs it once per lockfile into a
cache folder outside the repository (``FORUM_TEST_CACHE``, default ~/.cache/forum-tests), so
later runs start it in a fraction of a second. Without node or npm the tests are skipped, and
fail in CI.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from flask.testing import FlaskClient

from tests.support import IN_CI, REPO

SOURCE = REPO / "tests" / "oidc" / "provider"
CLIENT_ID = "forum-tests"
CLIENT_SECRET = "forum-tests-client-secret-not-secret"
SITE = "http://localhost"  # the test client's host: the forum's SITE_URL in these tests
REDIRECT_URI = f"{SITE}/sso/callback"
#: The fixed test user of provider.mjs.
ALICE = "alice-0001"


def cache_root() -> Path:
    return Path(os.environ.get("FORUM_TEST_CACHE") or Path.home() / ".cache" / "forum-tests")


def _tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        message = "node and npm are needed for the OpenID Connect provider tests"
        if IN_CI:
            pytest.fail(f"{message} (required in CI)")
        pytest.skip(message)
    return node, npm


def install(npm: str) -> tuple[Path, float]:
    """The folder holding the provider's node_modules for this lockfile, and the seconds
    ``npm ci`` took (0 when it was already there)."""
    lock = (SOURCE / "package-lock.json").read_bytes()
    target = cache_root() / f"oidc-provider-{hashlib.sha256(lock).hexdigest()[:16]}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".oidc-provider.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # two test runs at once install once
        if (target / "node_modules" / "oidc-provider").is_dir():
            return target, 0.0
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".install-"))
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(SOURCE / name, staging / name)
        started = time.monotonic()
        done = subprocess.run([npm, "ci", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline",
                               "--loglevel=error"], cwd=staging, capture_output=True, text=True, timeout=300)
        took = time.monotonic() - started
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.fail(f"npm ci for the test OpenID provider failed:\n{done.stdout}\n{done.stderr}")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        return target, took


@dataclass
class Provider:
    issuer: str
    install_seconds: float

    def set_account(self, sub: str, **claims: Any) -> None:
        """Create or replace the provider account ``sub`` with these claims (email, name, ...)."""
        requests.put(f"{self.issuer}/test/accounts/{sub}", json=claims, timeout=5).raise_for_status()


@contextmanager
def running_provider(tmp_dir: Path, redirect_uris: tuple[str, ...] = (REDIRECT_URI,)) -> Iterator[Provider]:
    node, npm = _tools()
    folder, took = install(npm)
    shutil.copy2(SOURCE / "provider.mjs", folder / "provider.mjs")  # imports resolve from its node_modules
    clients = [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": list(redirect_uris)}]
    log_path = tmp_dir / "oidc-provider.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([node, "provider.mjs"], cwd=folder, stdout=subprocess.PIPE, stderr=log, text=True,
                                env={**os.environ, "OIDC_TEST_CLIENTS": json.dumps(clients)})
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], 30)
            line = proc.stdout.readline() if ready else ""
            if not line:
                proc.kill()
                pytest.fail(f"the test OpenID provider did not start:\n{log_path.read_text()}")
            yield Provider(json.loads(line)["issuer"], took)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def _session() -> requests.Session:
    http = requests.Session()
    # No socket outlives its request: an unclosed one would surface later as a ResourceWarning.
    http.headers["Connection"] = "close"
    return http


@dataclass
class Browser:
    """One person's browser: the forum through Flask's test client, the provider over HTTP.

    Its provider cookies live in ``http`` (a requests session), so a second sign-in in the same
    browser finds the provider's session, as a real one would.
    """

    client: FlaskClient
    http: requests.Session = field(default_factory=_session)
    last_authorize_url: str = ""

    def start(self, path: str = "/sso/login") -> str:
        """Press the sign-in button; the provider's authorization URL."""
        r = self.client.get(path)
        assert r.status_code == 302, r.get_data(as_text=True)
        self.last_authorize_url = r.headers["Location"]
        return self.last_authorize_url

    def at_provider(self, url: str, login: str) -> str:
        """Sign in at the provider as ``login`` (its subject) and consent; the callback URL it sends back."""
        for _ in range(12):
            if url.startswith(SITE + "/"):
                return url
            r = self.http.get(url, allow_redirects=False, timeout=10)
            if r.is_redirect:
                url = urljoin(url, r.headers["Location"])
                continue
            assert r.status_code == 200, f"{r.status_code} at {url}: {r.text[:500]}"
            prompt = re.search(r'name="prompt" value="(\w+)"', r.text)
            action = re.search(r'<form[^>]*action="([^"]+)"', r.text)
            assert prompt and action, r.text[:500]
            data = {"prompt": prompt.group(1)}
            if prompt.group(1) == "login":
                data |= {"login": login, "password": "any password: the test provider checks none"}
            r = self.http.post(urljoin(url, action.group(1)), data=data, allow_redirects=False, timeout=10)
            assert r.is_redirect, f"{r.status_code}: {r.text[:500]}"
            url = urljoin(url, r.headers["Location"])
        raise AssertionError("the provider never sent the browser back")

    def callback(self, url: str) -> Any:
        parts = urlsplit(url)
        return self.client.get(f"{parts.path}?{parts.query}")

    def sign_in(self, login: str = ALICE, username: str | None = None, email: str | None = None,
                start: str = "/sso/login") -> Any:
        """The whole round trip, then the forum's "Continue" or "Create your account" form; the last response."""
        r = self.callback(self.at_provider(self.start(start), login))
        if r.status_code != 302 or not r.headers["Location"].endswith("/sso/continue"):
            return r
        return self.finish(username, email)

    def finish(self, username: str | None = None, email: str | None = None) -> Any:
        page = self.client.get("/sso/continue")
        html = page.get_data(as_text=True)
        if page.status_code != 200:
            return page
        data = {"csrf_token": csrf_token(html)}
        if 'name="username"' in html:
            suggested = re.search(r'name="username"[^>]*value="([^"]*)"', html)
            data["username"] = username if username is not None else (suggested.group(1) if suggested else "")
            if email is not None:
                data["email"] = email
        return self.client.post("/sso/continue", data=data)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)
