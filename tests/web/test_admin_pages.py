"""/admin: members and roles, site settings, links to the mail queue (issue 13, item 11)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import ModerationLog, SiteSetting, User
from tests.web.test_page_cache import cached  # noqa: F401 - the page cache fixture

ADMIN_PAGES = ["/admin", "/admin/settings", "/admin/members/{id}", "/admin/mail"]


@pytest.mark.parametrize("role", ["member", "agent", "moderator"])
def test_only_admins_get_in(client, auth, make_user, role) -> None:
    target = make_user("target_t")
    make_user(f"who_{role}", role=role)
    auth.login(f"who_{role}")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin"' not in home
    for page in ADMIN_PAGES:
        assert client.get(page.format(id=target.id)).status_code == 403, page
    assert auth.post(f"/admin/members/{target.id}/role", {"role": "admin", "reason": "let me in"}).status_code == 403
    assert auth.post("/admin/settings", {"VOTES_PER_DAY": "1"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, target.id).role == "member" and db.session.scalars(select(SiteSetting)).all() == []


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    response = client.get("/admin")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_account_menu_links_the_admin_area_and_the_area_links_the_mail_queue(client, auth, make_user) -> None:
    make_user("menu_admin", role="admin")
    auth.login("menu_admin")
    assert 'href="/admin">Admin</a>' in client.get("/").get_data(as_text=True)
    html = client.get("/admin").get_data(as_text=True)
    assert 'href="/admin/mail"' in html and 'href="/admin/settings"' in html
    assert 'href="/admin/settings"' in client.get("/admin/mail").get_data(as_text=True)


def test_an_admin_finds_a_member_and_changes_the_role_with_a_reason(client, auth, make_user) -> None:
    make_user("boss_w", role="admin")
    lena = make_user("lena_helps", email="lena@shop.example")
    make_user("someone_else")
    auth.login("boss_w")
    html = client.get("/admin?q=SHOP.example").get_data(as_text=True)
    assert "lena_helps" in html and "someone_else" not in html and "1 member matching" in html

    response = auth.post(f"/admin/members/{lena.id}/role", {"role": "moderator", "reason": "Community lead"},
                         follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "lena_helps is now moderator (was member)." in html
    assert "Community lead" in html  # the member's role history
    entry = db.session.scalars(select(ModerationLog).where(ModerationLog.action == "set_role")).one()
    assert entry.target_id == lena.id and entry.reason == "Community lead"
    log = client.get("/moderation/log").get_data(as_text=True)
    assert "set_role" in log and "Community lead" in log


def test_a_role_change_without_a_reason_keeps_the_choice_and_says_why(client, auth, make_user) -> None:
    make_user("boss_r", role="admin")
    tom = make_user("tom_t")
    auth.login("boss_r")
    response = auth.post(f"/admin/members/{tom.id}/role", {"role": "agent", "reason": "  "})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give a reason; it is kept in the moderation log." in html
    assert re.search(r'<option selected value="agent">|<option value="agent" selected>', html)
    db.session.expire_all()
    assert db.session.get(User, tom.id).role == "member"


def test_the_last_admin_and_ones_own_role_are_guarded(client, auth, make_user) -> None:
    boss = make_user("boss_only", role="admin")
    auth.login("boss_only")
    page = client.get(f"/admin/members/{boss.id}").get_data(as_text=True)
    assert "This is you." in page and 'action="/admin/members/' not in page
    response = auth.post(f"/admin/members/{boss.id}/role", {"role": "member", "reason": "oops"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, boss.id).role == "admin"


def test_a_post_without_the_csrf_token_is_refused(client, auth, make_user) -> None:
    make_user("boss_c", role="admin")
    victim = make_user("victim_v")
    auth.login("boss_c")
    response = client.post(f"/admin/members/{victim.id}/role", data={"role": "admin", "reason": "forged"})
    assert response.status_code == 400
    response = client.post("/admin/settings", data={"SITE_TAGLINE": "forged"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, victim.id).role == "member" and db.session.scalars(select(SiteSetting)).all() == []


def _settings_form(client) -> dict[str, str]:
    html = client.get("/admin/settings").get_data(as_text=True)
    values = dict(re.findall(r'<input[^>]*name="([A-Z_]+)"[^>]*type="text"[^>]*value="([^"]*)"', html))
    values.update(re.findall(r'<input[^>]*id="([A-Z_]+)"[^>]*name="[A-Z_]+"[^>]*type="text"[^>]*value="([^"]*)"',
                             html))
    for name in re.findall(r'<input checked[^>]*name="([A-Z_]+)"|<input[^>]*name="([A-Z_]+)"[^>]*checked', html):
        values[[n for n in name if n][0]] = "y"
    return values


def test_bad_settings_show_each_error_beside_its_field_with_the_text_kept(client, auth, make_user) -> None:
    make_user("boss_s", role="admin")
    auth.login("boss_s")
    response = auth.post("/admin/settings", {"VOTES_PER_DAY": "forty", "FLAG_HIDE_THRESHOLD": "99",
                                             "SITE_TAGLINE": "Still here", "POST_RATE_WINDOW_MINUTES": "10",
                                             "REVIEW_USUAL_WAIT_HOURS": "4"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“forty” is not a whole number. Enter a whole number from 0 to 10000." in html
    assert "Enter a whole number from 1 to 50." in html
    assert 'value="forty"' in html and 'value="99"' in html and 'value="Still here"' in html
    assert db.session.scalars(select(SiteSetting)).all() == []


@pytest.mark.usefixtures("cached")
def test_a_tagline_change_shows_on_cached_anonymous_pages_at_once(app, client, auth, make_user) -> None:
    app.config["SITE_SETTINGS_REFRESH_SECONDS"] = 0
    reader = app.test_client()
    reader.get("/")
    first = reader.get("/")
    assert first.headers["X-Cache"] == "HIT" and "customers helping customers" in first.get_data(as_text=True)

    make_user("boss_p", role="admin")
    auth.login("boss_p")
    values = _settings_form(client)
    values.update({"SITE_TAGLINE": "Answers from people who own one", "reason": "new slogan"})
    response = auth.post("/admin/settings", values, follow_redirects=True)
    assert response.status_code == 200 and "Saved: Tagline." in response.get_data(as_text=True)

    again = reader.get("/")
    assert again.headers["X-Cache"] == "MISS" and "Answers from people who own one" in again.get_data(as_text=True)
    entry = db.session.scalars(select(ModerationLog).where(ModerationLog.action == "change_settings")).one()
    assert entry.reason == "new slogan"
