"""Profile and members pages as a visitor sees them; the vote cap's refusal in page and JSON."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Vote
from forum.services import curation, votes


def _answered(make_user, make_question, make_answer, n_answers: int, name: str):
    member = make_user(name)
    voter = make_user()
    for i in range(n_answers):
        a = make_answer(make_question(tags=f"tag{i % 3}"), author=member, body=f"Answer number {i} with a fix.")
        if i % 2:
            votes.cast_vote(voter, "answer", a.id, 1)
    db.session.commit()
    return member


def test_members_page_is_in_the_navigation_and_ranks_by_period(client, make_user, make_question, make_answer) -> None:
    star = _answered(make_user, make_question, make_answer, 4, "star_helper")
    make_user("quiet_one")
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'<nav class="main-nav".*href="/users"', home, re.S)
    week = client.get("/users").get_data(as_text=True)
    assert 'aria-current="page">This week' in week and "star_helper" in week and "+20" in week
    assert "quiet_one" not in week  # gained nothing this week
    everyone = client.get("/users?period=all").get_data(as_text=True)
    assert everyone.index("star_helper") < everyone.index("quiet_one")
    assert f'href="/users/{star.id}"' in everyone
    found = client.get("/users?period=all&q=quiet").get_data(as_text=True)
    assert "quiet_one" in found and "star_helper" not in found and 'value="quiet"' in found
    none = client.get("/users?period=month&q=nobody-like-this").get_data(as_text=True)
    assert "No member matching “nobody-like-this”" in none
    assert client.get("/users?period=forever&page=abc").status_code == 200


def test_staff_wear_the_staff_badge_on_the_members_page(client, make_user) -> None:
    make_user("agent_ann", role="agent")
    html = client.get("/users?period=all").get_data(as_text=True)
    assert re.search(r'agent_ann</a> <span class="staff-badge"', html)


def test_profile_shows_reputation_chart_tags_answers_and_a_place_for_badges(client, make_user, make_question, make_answer) -> None:
    member = _answered(make_user, make_question, make_answer, 3, "helpful_hana")
    q = make_question(tags="wifi")
    best = make_answer(q, author=member, body="Reset the router, then pair again.")
    curation.accept_answer(q.author, best)
    db.session.commit()
    html = client.get(f"/users/{member.id}").get_data(as_text=True)
    assert "<dt>Reputation</dt><dd>26</dd>" in html and "<dt>Accepted</dt><dd>1</dd>" in html
    svg = re.search(r"<svg class=\"rep-chart-svg\".*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title id=\"rep-chart-title\">" in svg and "<desc id=\"rep-chart-desc\">" in svg
    assert "Reputation went from 1 to 26" in svg and "Reputation went from 1 to 26" in html.split("</svg>")[1]
    assert 'class="chart-line"' in svg and "style=" not in html  # the CSP forbids inline styles
    assert '<section class="profile-badges" id="badges"' in html and "Badges (" in html
    assert re.search(r'href="/tags/wifi" rel="tag">wifi</a>\s*<span class="top-tag-numbers"><strong>0</strong> score · 1 answer', html)
    titles = re.findall(r'class="profile-answer-score[^"]*" title="([^"]+)"', html)
    assert titles == ["score 1", "Accepted answer, score 0", "score 0", "score 0"]  # score, then newest
    questions = client.get(f"/users/{member.id}?tab=questions").get_data(as_text=True)
    assert "No questions yet." in questions
    assert client.get("/users/999999").status_code == 404


def test_profile_and_members_pages_run_a_fixed_number_of_queries(client, make_user, make_question, make_answer,
                                                                 count_queries) -> None:
    small = _answered(make_user, make_question, make_answer, 2, "small_member")
    big = _answered(make_user, make_question, make_answer, 14, "big_member")
    counts = []
    for member in (small, big):
        client.get(f"/users/{member.id}")  # warm-up: templates compiled
        with count_queries() as qc:
            assert client.get(f"/users/{member.id}").status_code == 200
        counts.append(qc.count)
    assert counts[0] == counts[1] <= 10, counts  # 8 today: user, stats, tags, history (2), answers (2), banners
    member_counts = []
    for _ in range(2):
        with count_queries() as qc:
            assert client.get("/users?period=week").status_code == 200
        member_counts.append(qc.count)
        for i in range(6):
            _answered(make_user, make_question, make_answer, 2, f"extra{len(member_counts)}_{i}")
    assert member_counts[0] == member_counts[1] <= 5, member_counts  # count, page, the page's sums, banners


def test_the_vote_cap_refuses_with_429_in_the_page_and_in_json(app, client, auth, make_user, make_question) -> None:
    app.config["VOTES_PER_DAY"] = 2
    make_user("eager")
    qs = [make_question() for _ in range(4)]
    auth.login("eager")
    for q in qs[:2]:
        assert auth.post(f"/questions/{q.id}/vote", {"value": "1"}).status_code == 302
    page = auth.post(f"/questions/{qs[2].id}/vote", {"value": "1"})
    assert page.status_code == 429
    assert "all 2 of your votes for today" in page.get_data(as_text=True)
    data = auth.post(f"/questions/{qs[3].id}/vote", {"value": "1"}, headers={"Accept": "application/json"})
    assert data.status_code == 429 and "Votes renew at 00:00 UTC" in data.get_json()["error"]["message"]
    # Changing a vote already cast still works at the cap.
    assert auth.post(f"/questions/{qs[0].id}/vote", {"value": "-1"}, headers={"Accept": "application/json"}).get_json() \
        == {"score": -1, "my_vote": -1}
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Vote.id))) == 2
