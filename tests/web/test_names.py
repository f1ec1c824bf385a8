"""No impersonation: usernames and display names are normalised, invisible and bidirectional
characters are refused, and so are names that look like another member's or like staff."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import text

from forum.extensions import db
from forum.models import User
from forum.services import accounts, names
from tests.support import Auth

STAFF_LOOK = "looks like a staff name"
MEMBER_LOOK = "looks too much like another member"


def _register(auth: Auth, username: str, email: str = "new@example.com") -> tuple[int, str]:
    r = auth.post("/register", {"username": username, "email": email, "password": "a-long-password"})
    return r.status_code, html.unescape(r.get_data(as_text=True))


def _set_display_name(auth: Auth, name: str, bio: str = "") -> tuple[int, str]:
    r = auth.post("/settings/profile", {"display_name": name, "bio": bio})
    return r.status_code, html.unescape(r.get_data(as_text=True))


@pytest.mark.parametrize("username", [
    "admin_chris",  # a staff word inside a longer name
    "adm1n_sam",  # digit one for i
    "ADMlN",  # capital I / small L
    "SupportSam",
    "m0derator_2",  # zero for o
    "the_staff",
    "LumenCommunity",  # the site name
    "brightway_help",  # the company name
    "ｓｕｐｐｏｒｔ_ｔｅａｍ",  # full-width letters, NFKC to "support_team"
])
def test_usernames_that_look_like_staff_are_refused(auth, username: str) -> None:
    status, page = _register(auth, username)
    assert status == 400 and STAFF_LOOK in page
    assert db.session.query(User).count() == 0


@pytest.mark.parametrize("display_name", [
    "Sam Brightway (Lumen Support)",
    "\u0430dmin",  # Cyrillic а
    "Chris \u2013 Staff",
    "ＳＴＡＦＦ",
    "Maria \U0001d5c6oderator",  # mathematical sans-serif m
    "Nora (mod\u0435rator)",  # Cyrillic е
])
def test_display_names_that_look_like_staff_are_refused_and_the_text_stays(auth, make_user, display_name: str) -> None:
    make_user("maria_k")
    auth.login("maria_k")
    status, page = _set_display_name(auth, display_name, bio="I fix hubs.")
    assert status == 400 and STAFF_LOOK in page
    assert "I fix hubs." in page  # what the member typed is kept
    db.session.expire_all()
    assert db.session.query(User).filter_by(username="maria_k").one().display_name == ""


def test_names_confusable_with_an_existing_member_are_refused(auth, client, make_user) -> None:
    chris = make_user("chris_hale")
    accounts.update_profile(chris, "Chris Hale", "")
    make_user("maria")
    db.session.commit()
    # Usernames: a digit for a letter, "rn" for "m", another member's display name.
    for username in ("chr1s_hale", "ChrisHale", "rnaria"):
        status, page = _register(auth, username)
        assert status == 400 and MEMBER_LOOK in page, username
    # Display names of another member: the same name, and a Cyrillic С in it.
    make_user("someone")
    auth.login("someone")
    for display_name in ("Chris Hale", "\u0421hris Hale", "chris  HALE", "Maria"):
        status, page = _set_display_name(auth, display_name)
        assert status == 400 and MEMBER_LOOK in page, display_name
    # A name that merely shares a first name is fine.
    assert _set_display_name(auth, "Chris Someone")[0] == 302
    # And a member may show their own username as their display name.
    assert _set_display_name(auth, "Some One")[0] == 302


def test_names_are_normalised_nfkc(auth, client) -> None:
    status, _ = _register(auth, "ｍａｒｉａ＿ｋ", "maria@example.com")  # full-width letters
    assert status == 302
    user = db.session.query(User).one()
    assert user.username == "maria_k"
    assert _set_display_name(auth, "\ufb01ona  \u2003Ｋｏｗａｌｓｋｉ")[0] == 302  # "ﬁ" ligature, em space
    db.session.expire_all()
    assert db.session.get(User, user.id).display_name == "fiona Kowalski"
    assert "fiona Kowalski" in client.get(f"/users/{user.id}").get_data(as_text=True)


@pytest.mark.parametrize("display_name, named", [
    ("Maria\u202eKowalski", "U+202E"),  # right-to-left override
    ("Maria\u2066K\u2069", "U+2066"),  # left-to-right isolate
    ("Ma\u200bria", "U+200B"),  # zero-width space
    ("Ma\u200dria", "U+200D"),  # zero-width joiner
    ("Maria\ufeff", "U+FEFF"),  # zero-width no-break space (BOM)
    ("Maria\x07", "U+0007"),  # a control character
    ("Mari\u0301\u0301\u0301a", "combining marks"),  # "Zalgo" stacked accents
])
def test_invisible_and_bidirectional_characters_are_refused(auth, make_user, display_name: str, named: str) -> None:
    make_user("maria_k")
    auth.login("maria_k")
    status, page = _set_display_name(auth, display_name)
    assert status == 400 and named in page and "Names can't contain" in page


def test_existing_names_still_work(auth, client, make_user) -> None:
    # Two members named before these rules, with names the rules would now refuse.
    old = make_user("old_timer")
    twin = make_user("old_timer2")
    db.session.execute(text("UPDATE users SET display_name = :n, display_name_skeleton = :s WHERE id IN (:a, :b)"),
                       {"n": "Old Timer (Support)", "s": names.skeleton("Old Timer (Support)"), "a": old.id,
                        "b": twin.id})
    db.session.commit()
    assert auth.login("old_timer").status_code == 302
    # Saving the profile with the unchanged name works; a changed bio is stored.
    assert _set_display_name(auth, "Old Timer (Support)", bio="Still here.")[0] == 302
    page = client.get(f"/users/{old.id}").get_data(as_text=True)
    assert "Old Timer (Support)" in page and "Still here." in page
    # Changing it to something else is checked.
    assert _set_display_name(auth, "Support Old Timer")[0] == 400


def test_staff_are_marked_only_by_the_badge(auth, client, make_user) -> None:
    agent = make_user("sam_agent", role="agent")  # the CLI may name staff accounts with staff words
    member = make_user("plain_member")
    assert 'class="staff-badge"' in client.get(f"/users/{agent.id}").get_data(as_text=True)
    assert 'class="staff-badge"' not in client.get(f"/users/{member.id}").get_data(as_text=True)
    # ...and a member can't write the badge's word into their name.
    auth.login("plain_member")
    assert _set_display_name(auth, "Plain [Staff]")[0] == 400


def test_cli_and_demo_names_still_work(runner) -> None:
    r = runner.invoke(args=["users", "create", "support_lead", "--email", "lead@example.com", "--password",
                            "a-long-password", "--role", "agent"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["users", "create", "supp0rt_lead", "--email", "lead2@example.com", "--password",
                            "a-long-password"])
    assert r.exit_code != 0 and MEMBER_LOOK in r.output


@pytest.mark.postgres
def test_the_lookalike_check_reads_the_skeleton_indexes(app, make_user) -> None:
    db.session.execute(User.__table__.insert(), [
        {"username": f"m{i}", "username_key": f"m{i}", "username_skeleton": names.skeleton(f"m{i}"),
         "display_name_skeleton": names.skeleton(f"Member {i}"), "email": f"m{i}@example.com", "password_hash": "x",
         "display_name": f"Member {i}", "bio": "", "bio_html": "", "render_version": 0, "role": "member",
         "session_token": f"t{i}", "reputation": 1, "suspension_reason": "", "silence_reason": ""}
        for i in range(3000)])
    db.session.commit()
    db.session.execute(text("ANALYZE users"))
    plan = "\n".join(db.session.execute(text(
        "EXPLAIN SELECT id FROM users WHERE username_skeleton = 'x' OR display_name_skeleton = 'x' LIMIT 1"
    )).scalars())
    assert "ix_users_username_skeleton" in plan and "ix_users_display_name_skeleton" in plan, plan
