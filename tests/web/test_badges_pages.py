"""The badge pages: the catalogue by tier, who earned a badge, the profile list, the nav link."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from markupsafe import escape
from sqlalchemy import insert

from forum.extensions import db
from forum.models import UserBadge
from forum.models.base import utcnow
from forum.services import badges


def _award(user: Any, key: str, tag: str = "", minutes_ago: int = 0) -> None:
    db.session.execute(insert(UserBadge).values(user_id=user.id, badge=key, tag=tag,
                                                awarded_at=utcnow() - timedelta(minutes=minutes_ago)))
    db.session.commit()


def test_badges_page_is_linked_from_the_navigation(client) -> None:
    html = client.get("/").get_data(as_text=True)
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S).group(0)
    assert 'href="/badges"' in nav and ">Badges<" in nav


def test_badges_page_lists_every_badge_by_tier_with_its_number_of_earners(client, make_user) -> None:
    maria, sam = make_user("maria"), make_user("sam")
    _award(maria, "helper")
    _award(sam, "helper")
    _award(sam, "tag_helper", "wifi")
    _award(sam, "tag_helper", "zigbee")  # two tags, one member
    html = client.get("/badges").get_data(as_text=True)
    sections = re.findall(r'<section class="badge-tier" aria-labelledby="tier-(\w+)">(.*?)</section>', html, re.S)
    assert [tier for tier, _ in sections] == ["gold", "silver", "bronze"]
    for tier, body in sections:
        expected = {b.name for b in badges.BADGES if b.tier == tier}
        assert {m for m in re.findall(r'badge: </span>([^<]+)</a>', body)} == expected
        for b in badges.BADGES:
            if b.tier == tier:
                assert str(escape(b.description)) in body
    bronze = dict(sections)["bronze"]
    assert re.search(r'href="/badges/helper">2 members</a> earned it', bronze)
    assert re.search(r'href="/badges/tag_helper">1 member</a> earned it', bronze)
    assert re.search(r'href="/badges/scholar">0 members</a> earned it', bronze)
    assert "once earned a badge stays yours, even if a score drops later" in html


def test_tiers_are_told_apart_by_shape_and_words_not_colour_alone(client) -> None:
    html = client.get("/badges").get_data(as_text=True)
    assert re.search(r'badge-gold" href="/badges/guru"[^>]*><span class="badge-shape[^"]*" aria-hidden="true">★</span>'
                     r'<span class="visually-hidden">Gold badge: </span>Guru', html)
    assert '◆</span><span class="visually-hidden">Silver badge: </span>Problem Solver' in html
    assert '●</span><span class="visually-hidden">Bronze badge: </span>Helper' in html


def test_signed_in_members_see_which_badges_they_hold(client, auth, make_user) -> None:
    maria = make_user("maria")
    _award(maria, "supporter")
    auth.login("maria")
    html = client.get("/badges").get_data(as_text=True)
    card = re.search(r'<li class="card badge-card">\s*<p class="badge-card-head"><a [^>]*href="/badges/supporter".*?</li>',
                     html, re.S).group(0)
    assert "You earned this" in card
    assert html.count("You earned this") == 1


def test_badge_page_lists_earners_newest_first_with_their_tag(client, make_user) -> None:
    old, new = make_user("early_bird"), make_user("late_comer")
    _award(old, "tag_helper", "wifi", minutes_ago=60)
    _award(new, "tag_helper", "zigbee", minutes_ago=1)
    html = client.get("/badges/tag_helper").get_data(as_text=True)
    assert "Earned by (2)" in html
    assert html.index("late_comer") < html.index("early_bird")
    assert re.search(r'>late_comer</a> in <a class="tag" href="[^"]*zigbee" rel="tag">zigbee</a>', html)


def test_badge_page_is_paginated_and_unknown_badges_are_not_found(app, client, make_user) -> None:
    per_page = app.config["PER_PAGE"]
    users = [make_user() for _ in range(per_page + 1)]
    for i, u in enumerate(users):
        _award(u, "helper", minutes_ago=len(users) - i)
    first = client.get("/badges/helper").get_data(as_text=True)
    second = client.get("/badges/helper?page=2").get_data(as_text=True)
    assert first.count('class="user-link"') == per_page and second.count('class="user-link"') == 1
    assert users[0].username in second and users[0].username not in first
    assert client.get("/badges/no_such_badge").status_code == 404


def test_profile_lists_the_members_badges_by_tier(client, make_user) -> None:
    maria, other = make_user("maria"), make_user("other")
    _award(maria, "helper")
    _award(maria, "guru")
    _award(maria, "tag_helper", "wifi")
    _award(other, "deputy")
    html = client.get(f"/users/{maria.id}").get_data(as_text=True)
    section = re.search(r'<section class="profile-badges".*?</section>', html, re.S).group(0)
    assert "Badges (3)" in section
    assert "1 gold" in section and "0 silver" in section and "2 bronze" in section
    assert section.index("Guru") < section.index("Helper")  # rarest first
    assert "wifi" in section and "Deputy" not in section
    empty = client.get(f"/users/{make_user().id}").get_data(as_text=True)
    assert "No badges yet" in empty


def test_badges_page_query_count_does_not_grow_with_awards(client, auth, make_user, count_queries) -> None:
    maria = make_user("maria")
    auth.login("maria")
    with count_queries() as few:
        assert client.get("/badges").status_code == 200
    people = [make_user() for _ in range(6)]
    for person in [maria, *people]:
        for b in badges.BADGES:
            _award(person, b.key, "wifi" if b.per_tag else "")
    with count_queries() as many:
        assert client.get("/badges").status_code == 200
    assert many.count == few.count


def test_badge_page_query_count_is_fixed_whatever_the_page_holds(client, make_user, count_queries) -> None:
    _award(make_user(), "helper")
    client.get("/badges/helper")  # the app's first request also loads the stored site settings once
    with count_queries() as one:
        client.get("/badges/helper")
    for _ in range(8):
        _award(make_user(), "helper")
    with count_queries() as nine:
        client.get("/badges/helper")
    assert nine.count == one.count


def test_demo_community_shows_earned_badges(runner, client) -> None:
    assert runner.invoke(args=["forum", "seed-demo"]).exit_code == 0
    html = client.get("/badges").get_data(as_text=True)
    for key in ("helper", "scholar", "well_read"):
        earned = re.search(rf'href="/badges/{key}">(\d+) members?</a>', html)
        assert earned and int(earned.group(1)) > 0, key
    assert "Awarded 0 badges." in runner.invoke(args=["badges", "award"]).output  # seeding ran the pass
