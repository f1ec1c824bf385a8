"""Throttling across workers: gunicorn with 4 workers, production settings, counts in Redis.

An attacker sending 200 wrong passwords from one address, 8 at a time, spread over the
workers, gets a handful of password checks and then only quick 429s; the owner, from another
address, signs in as usual. The route limits (forum/ratelimit.py) are shared by the workers
through Redis the same way. PostgreSQL only (the server needs a database other processes can
open); fails rather than skips in CI without PostgreSQL or Redis.
"""
from __future__ import annotations

import re
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from config import Config
from forum.extensions import db
from tests.support import redis_url_or_skip
from tests.support_http import Browserish, gunicorn

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PASSWORD = "correct-horse-battery"
WORKERS = 4
SEARCHES_PER_MINUTE = 5


def _limit_count(setting: str) -> int:
    """The count of the first limit of a ``limits`` setting ("10 per 15 minutes" -> 10)."""
    return int(re.match(r"\s*(\d+)", setting).group(1))  # type: ignore[union-attr]


@pytest.fixture
def server(app: Any, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """One production gunicorn with 4 workers on the test database and Redis (own key prefix)."""
    redis_url = redis_url_or_skip()
    prefix = f"test-limits-{uuid.uuid4().hex[:10]}"
    env = {
        "FORUM_ENV": "production",
        "FORUM_SECRET_KEY": secrets.token_hex(32),
        "FORUM_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FORUM_REDIS_URL": redis_url,
        "FORUM_REDIS_KEY_PREFIX": prefix,
        "FORUM_INDEX_DIR": str(tmp_path / "index"),
        "FORUM_INSTANCE_PATH": str(tmp_path / "instance"),
        "FORUM_SESSION_COOKIE_SECURE": "false",
        "FORUM_REMEMBER_COOKIE_SECURE": "false",
        "FORUM_PROXY_FIX_X_FOR": "1",  # each test visitor brings its address in X-Forwarded-For
        "FORUM_RATE_LIMIT_SEARCH_PER_IP": f"{SEARCHES_PER_MINUTE} per minute",
    }
    db.session.remove()
    log = tmp_path / "gunicorn.log"
    store = Redis.from_url(redis_url)
    try:
        with gunicorn(env, workers=WORKERS, log=log) as base:
            yield base, log
    finally:
        for key in store.scan_iter(f"{prefix}:*"):
            store.delete(key)
        store.close()


def test_two_hundred_wrong_passwords_from_one_ip_are_slowed_to_a_crawl_and_the_owner_still_gets_in(
        make_user, server: tuple[str, Path]) -> None:
    base, log = server
    make_user("victim")
    attacker_ip = "203.0.113.66"
    results: list[tuple[int, float]] = []
    lock = threading.Lock()

    def attack(n: int) -> None:
        browser = Browserish(base, {"X-Forwarded-For": attacker_ip})
        token = browser.token("/login")
        for _ in range(25):
            started = time.perf_counter()
            status, _, headers = browser.request("POST", "/login", {
                "login": "victim", "password": f"guess-{secrets.token_hex(4)}", "csrf_token": token})
            took = time.perf_counter() - started
            if status == 429:
                assert int(headers["Retry-After"]) >= 1
            with lock:
                results.append((status, took))

    started = time.perf_counter()
    threads = [threading.Thread(target=attack, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    elapsed = time.perf_counter() - started

    statuses = Counter(status for status, _ in results)
    assert sum(statuses.values()) == 200, (statuses, log.read_text(errors="replace")[-3000:])
    checked = statuses[400]  # a password was checked and was wrong
    per_ip = _limit_count(Config.LOGIN_THROTTLE_PER_IP)
    # Counted in Redis by every worker: exactly the IP's limit of "wrong password" answers, even
    # with attempts racing on the workers; everything else is refused (mostly before any hashing).
    assert set(statuses) == {400, 429} and statuses[429] == 200 - checked
    assert checked == per_ip, statuses
    refused = sorted(took for status, took in results if status == 429)
    print(f"\n200 wrong passwords from one IP, 8 at a time, 4 workers: {checked} checked, "
          f"{statuses[429]} refused in {elapsed:.1f} s; median refusal {refused[len(refused) // 2] * 1000:.0f} ms; "
          f"allowed per minute at steady state: {per_ip / 15:.2f} (LOGIN_THROTTLE_PER_IP={Config.LOGIN_THROTTLE_PER_IP!r})")

    owner = Browserish(base, {"X-Forwarded-For": "192.0.2.10"})
    assert owner.login("victim", PASSWORD) == 302
    # The attacker's address stays refused, even with the right password.
    assert Browserish(base, {"X-Forwarded-For": attacker_ip}).login("victim", PASSWORD) == 429


def test_route_limits_are_shared_by_the_workers(server: tuple[str, Path]) -> None:
    base, _ = server
    visitor = Browserish(base, {"X-Forwarded-For": "198.51.100.23"})
    # Four workers each counting on their own would let 4 x 5 through.
    statuses = [visitor.get(f"/search?q=hub+{n}")[0] for n in range(SEARCHES_PER_MINUTE * 2)]
    assert statuses == [200] * SEARCHES_PER_MINUTE + [429] * SEARCHES_PER_MINUTE
    status, page, headers = visitor.get("/search?q=doorbell+chime")
    assert status == 429 and 1 <= int(headers["Retry-After"]) <= 60
    assert 'value="doorbell chime"' in page
    assert Browserish(base, {"X-Forwarded-For": "198.51.100.24"}).get("/search?q=hub")[0] == 200
