"""Several hosts, proven: write through host A, read through host B (and the other way round).

Two gunicorn hosts with separate instance folders on one PostgreSQL and one Redis (the
``hosts`` fixture in conftest.py). Whatever one host writes, the other shows: questions,
answers, votes, acceptances, sessions, notifications, flashed messages; and the limits that
protect the site (posting limits, the sign-in throttle) count across both.
"""
from __future__ import annotations

import re

import pytest

from config import Config
from tests.multihost.conftest import PASSWORD, THROTTLE_PER_ACCOUNT, THROTTLE_PER_IP, Hosts
from tests.support_http import Browserish

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def ask(browser: Browserish, title: str, body: str = "Since this morning the hub blinks orange twice.") -> str:
    """Ask through the real form; returns the question's path."""
    status, page, headers = browser.post("/questions/ask", {"title": title, "body": body, "tags": "hub"})
    assert status == 302, page[-1500:]
    return headers["Location"]


def answer(browser: Browserish, question_path: str, body: str) -> int:
    """Answer through the real form; returns the answer's id."""
    question_id = re.search(r"/questions/(\d+)", question_path).group(1)  # type: ignore[union-attr]
    status, page, headers = browser.post(f"/questions/{question_id}/answers", {"body": body})
    assert status == 302, page[-1500:]
    return int(re.search(r"#answer-(\d+)", headers["Location"]).group(1))  # type: ignore[union-attr]


def answer_block(page: str, answer_id: int) -> str:
    start = page.index(f'id="answer-{answer_id}"')
    end = page.find('id="answer-', start + 10)
    return page[start:end if end > 0 else None]


def bell_count(page: str) -> int:
    match = re.search(r'class="bell-count"[^>]*>(\d+)<', page)
    return int(match.group(1)) if match else 0


def test_a_question_asked_on_a_shows_on_b(hosts: Hosts) -> None:
    asker = hosts.signed_in(hosts.make_user(), hosts.a)
    path = ask(asker, "Hub blinks orange after the spring update")

    reader = hosts.client(hosts.b)
    hosts.eventually(reader, path, contains="Hub blinks orange after the spring update")
    hosts.eventually(reader, "/questions?tab=newest", contains="Hub blinks orange after the spring update")


def test_answer_vote_and_acceptance_on_one_host_show_on_the_other(hosts: Hosts) -> None:
    asker = hosts.signed_in(hosts.make_user(), hosts.a)
    path = ask(asker, "Thermostat loses its schedule overnight")
    anonymous_b = hosts.client(hosts.b)
    anonymous_a = hosts.client(hosts.a)
    # Both hosts have served the page before the writes (a cache, if any, holds the old one).
    hosts.eventually(anonymous_b, path, contains="Thermostat loses its schedule overnight")
    hosts.eventually(anonymous_a, path, contains="Thermostat loses its schedule overnight")

    helper = hosts.signed_in(hosts.make_user(), hosts.b)
    answer_id = answer(helper, path, "Turn off the eco mode, then set the schedule again.")
    hosts.eventually(anonymous_a, path, contains="Turn off the eco mode")

    voter = hosts.signed_in(hosts.make_user(reputation=50), hosts.a)
    status, _, _ = voter.post(f"/answers/{answer_id}/vote", {"value": "1"})
    assert status == 302
    page = hosts.eventually(anonymous_b, path, contains='<span class="score-value">1</span>')
    assert '<span class="score-value">1</span>' in answer_block(page, answer_id)

    status, _, _ = asker.at(hosts.b).post(f"/answers/{answer_id}/accept", {})
    assert status == 302
    page = hosts.eventually(anonymous_a, path, contains="Accepted by the asker")
    assert "Accepted by the asker" in answer_block(page, answer_id)


def test_a_session_made_on_a_works_on_b_and_sign_out_on_b_ends_it_on_a(hosts: Hosts) -> None:
    name = hosts.make_user()
    on_a = hosts.signed_in(name, hosts.a)
    other_browser = on_a.copy(hosts.a)  # the same cookie, carried elsewhere

    status, page, _ = on_a.at(hosts.b).get("/")
    assert status == 200 and 'action="/logout"' in page and name in page

    status, _, _ = on_a.at(hosts.b).post("/logout", {})
    assert status == 302
    # Signing out deletes this browser's device row in the database: the copied cookie,
    # shown to host A, signs nobody in any more.
    _, page, _ = other_browser.get("/")
    assert 'action="/logout"' not in page


def test_a_form_posted_on_b_with_a_token_got_on_a(hosts: Hosts) -> None:
    """The CSRF token lives in the signed session cookie, which both hosts can read; the
    flashed message B sets is shown by A."""
    browser = hosts.signed_in(hosts.make_user(), hosts.a)
    token = browser.token("/questions/ask")  # from host A

    status, page, headers = browser.at(hosts.b).request("POST", "/questions/ask", {
        "title": "Doorbell chime plays twice for one press", "body": "Both chimes ring, one second apart.",
        "tags": "doorbell", "csrf_token": token})

    assert status == 302, page[-1500:]
    _, page, _ = browser.get(headers["Location"])  # host A
    assert "Your question is posted" in page
    assert "Doorbell chime plays twice for one press" in page


def test_posting_limits_count_across_hosts(hosts: Hosts) -> None:
    """A member may ask POST_RATE_MEMBER_QUESTIONS questions per 10 minutes (production), on any host."""
    limit = Config.POST_RATE_MEMBER_QUESTIONS
    browser = hosts.signed_in(hosts.make_user(reputation=20), hosts.a)  # a member, not a new one
    for n in range(limit):
        ask(browser.at(hosts.b if n % 2 else hosts.a), f"Camera number {n} drops off the network at night")

    status, page, _ = browser.at(hosts.b if limit % 2 else hosts.a).post("/questions/ask", {
        "title": "One camera too many drops off the network at night",
        "body": "It drops off like all the other cameras do.", "tags": "hub"})

    assert status == 429
    assert "You're posting too fast" in page.replace("&#39;", "'"), re.findall(r'role="alert">.*?</div>', page, re.S)


def test_failed_sign_ins_from_one_ip_count_across_hosts(hosts: Hosts) -> None:
    name = hosts.make_user()
    attacker = hosts.client(hosts.a)
    for n in range(THROTTLE_PER_IP):  # each host and each of its workers sees only some of them
        browser = attacker.at(hosts.a if n % 2 else hosts.b)
        assert browser.login(f"guess_target_{n}", "not-the-password") == 400

    for host in (hosts.a, hosts.b):
        status, page, headers = attacker.at(host).request(
            "POST", "/login", {"login": name, "password": PASSWORD, "csrf_token": attacker.at(host).token("/login")})
        assert status == 429
        assert int(headers["Retry-After"]) > 0
        assert "Too many failed sign-ins" in page
    # The counts are in the shared Redis, under this site's prefix.
    assert list(hosts.redis.scan_iter(f"{hosts.redis_prefix}:limits:*"))
    # Another visitor signs in to that account from elsewhere as usual.
    assert hosts.client(hosts.b).login(name, PASSWORD) == 302


def test_failed_sign_ins_for_one_account_count_across_hosts(hosts: Hosts) -> None:
    name = hosts.make_user()
    for n in range(THROTTLE_PER_ACCOUNT):  # from as many addresses, alternating hosts
        assert hosts.client(hosts.a if n % 2 else hosts.b).login(name, "not-the-password") == 400

    assert hosts.client(hosts.a).login(name, PASSWORD) == 429


def test_notifications_from_a_write_on_a_show_in_bs_bell(hosts: Hosts) -> None:
    asker_name = hosts.make_user()
    asker_on_b = hosts.signed_in(asker_name, hosts.b)
    path = ask(asker_on_b, "Smart plug forgets its name after a power cut")
    _, page, _ = asker_on_b.get("/")
    assert bell_count(page) == 0

    helper = hosts.signed_in(hosts.make_user(), hosts.a)
    answer(helper, path, "Rename it in the app after the firmware update finishes.")

    page = hosts.eventually(asker_on_b, "/", contains='class="bell-count"')
    assert bell_count(page) == 1
    hosts.eventually(asker_on_b, "/notifications", contains="Smart plug forgets its name after a power cut")



def test_a_members_kept_page_on_b_follows_their_vote_and_a_reply_on_a(hosts: Hosts) -> None:
    asker = hosts.signed_in(hosts.make_user(), hosts.a)
    path = ask(asker, "Garage door opener ignores the remote")
    answer_id = answer(hosts.signed_in(hosts.make_user(), hosts.b), path, "Re-pair it with the learn button.")
    voter_on_b = hosts.signed_in(hosts.make_user(reputation=50), hosts.b)
    # The first GET after signing in renders afresh (the session gets its CSRF secret then). B runs
    # two workers that each keep their own copy, and a sync worker takes whichever request it
    # accepts first: of the three GETs after it, two reach one worker, and the later one is kept.
    states = [voter_on_b.get(path)[2].get("X-Cache") for _ in range(4)]
    assert "HIT" in states, states  # the member's own copy, kept on B (forum/pagecache: private_hit)

    # Their vote, cast on A in the same session, shows on B's kept page at once.
    status, _, _ = voter_on_b.at(hosts.a).post(f"/answers/{answer_id}/vote", {"value": "1"})
    assert status == 302
    page = hosts.eventually(voter_on_b, path, contains="vote-up is-active")
    assert "vote-up is-active" in answer_block(page, answer_id)


def test_a_question_asked_on_a_is_found_by_search_on_b(hosts: Hosts) -> None:
    """Whoosh keeps its index on each host's disk, so only a shared backend (FORUM_SEARCH_BACKEND=
    postgres, set for both hosts by the fixture) finds on B what was asked on A."""
    asker = hosts.signed_in(hosts.make_user(), hosts.a)
    ask(asker, "Zigbee repeater xylophone pairing fails",
        body="The repeater never shows up in the app when pairing.")

    # The title's matching word comes back highlighted (<mark>), so look for the rest of it.
    hosts.eventually(hosts.client(hosts.b), "/search?q=xylophone", contains="Zigbee repeater ")
