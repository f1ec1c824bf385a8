"""The admin area's rules: role changes (logged, last-admin guard) and member search (issue 13, item 11)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from forum.events import RoleChanged
from forum.extensions import db
from forum.models import ModerationLog, Role
from forum.services import admin
from forum.services.errors import FieldError, InvalidState, PermissionDenied


def role_log(user) -> list[ModerationLog]:
    return list(db.session.scalars(select(ModerationLog).where(
        ModerationLog.action == "set_role", ModerationLog.target_id == user.id).order_by(ModerationLog.id)))


def test_an_admin_changes_a_role_with_a_reason_kept_in_the_log(make_user, monkeypatch) -> None:
    boss, member = make_user("boss", role="admin"), make_user("helpful_hana")
    heard: list[RoleChanged] = []
    monkeypatch.setattr(admin, "publish", heard.append)
    old = admin.change_role(boss, member, "moderator", "  Runs the   community calls ")
    db.session.commit()
    assert old == "member" and member.role == Role.MODERATOR
    [entry] = role_log(member)
    assert entry.actor_id == boss.id and entry.reason == "Runs the community calls"
    assert json.loads(entry.before) == {"role": "member"} and json.loads(entry.after) == {"role": "moderator"}
    assert [(e.user_id, e.old, e.new) for e in heard] == [(member.id, "member", "moderator")]


def test_refusals_change_nothing_and_log_nothing(make_user) -> None:
    boss, other_admin = make_user("boss2", role="admin"), make_user("second_admin", role="admin")
    mod, member = make_user("mod_m", role="moderator"), make_user("plain_p")
    with pytest.raises(PermissionDenied):
        admin.change_role(mod, member, "agent", "because")
    with pytest.raises(PermissionDenied, match="your own role"):
        admin.change_role(boss, boss, "member", "oops")
    with pytest.raises(FieldError) as err:
        admin.change_role(boss, member, "agent", "   ")
    assert err.value.field == "reason"
    with pytest.raises(FieldError) as err:
        admin.change_role(boss, member, "owner", "because")
    assert err.value.field == "role"
    with pytest.raises(InvalidState, match="already"):
        admin.change_role(boss, other_admin, "admin", "because")
    db.session.rollback()
    assert member.role == "member" and boss.role == "admin" and not role_log(member) and not role_log(boss)


def test_the_last_admin_cannot_be_demoted(make_user) -> None:
    only = make_user("only_admin", role="admin")
    with pytest.raises(InvalidState, match="last admin"):
        admin.change_role(None, only, "moderator", "from the command line")
    db.session.rollback()
    helper = make_user("new_admin")
    admin.change_role(only, helper, "admin", "a second admin")
    db.session.commit()
    # Now there are two: the newcomer can demote the first, who is then not the last.
    admin.change_role(helper, only, "moderator", "handing over")
    db.session.commit()
    assert only.role == "moderator"
    with pytest.raises(InvalidState, match="last admin"):
        admin.change_role(None, helper, "member", "command line")
    db.session.rollback()
    assert admin.admin_count() == 1


def test_members_are_found_by_name_or_email_and_role_paginated(app, make_user) -> None:
    boss = make_user("boss3", role="admin")
    make_user("marta_k", email="marta@shop.example")
    make_user("anders", email="a.lind@marta-fans.example")
    make_user("agent_marta", role="agent")
    make_user("percent", email="100%@example.com")
    found = admin.members(boss, "MARTA", "", 1)
    assert [u.username for u in found.page.items] == ["agent_marta", "anders", "marta_k"]
    assert [u.username for u in admin.members(boss, "marta", "agent", 1).page.items] == ["agent_marta"]
    assert [u.username for u in admin.members(boss, "%", "", 1).page.items] == ["percent"]  # % is a character
    app.config["PER_PAGE"] = 2
    first, second = admin.members(boss, "", "", 1), admin.members(boss, "", "", 2)
    assert len(first.page.items) == 2 and first.page.has_next and second.page.items[0] not in first.page.items
    with pytest.raises(PermissionDenied):
        admin.members(make_user("not_admin", role="moderator"), "", "", 1)


def test_the_command_line_logs_role_changes_and_keeps_the_last_admin(runner, make_user) -> None:
    make_user("cli_admin", role="admin")
    helper = make_user("cli_helper")
    result = runner.invoke(args=["users", "set-role", "cli_helper", "agent", "--reason", "joined support"])
    assert result.exit_code == 0, result.output
    [entry] = role_log(helper)
    assert entry.actor_id is None and entry.reason == "joined support"
    result = runner.invoke(args=["users", "set-role", "cli_admin", "member"])
    assert result.exit_code != 0 and "last admin" in result.output
    assert admin.admin_count() == 1


def test_a_setting_shown_on_pages_bumps_every_cached_page_and_others_do_not(app) -> None:
    from forum import pagecache
    from forum.events import SiteSettingChanged
    from forum.pagecache.keys import BUMPS, GLOBAL

    app.config["PAGE_CACHE_ENABLED"] = True
    pagecache.init_app(app)
    try:
        db.session.info.pop(BUMPS, None)
        pagecache.on_event(SiteSettingChanged(key="VOTES_PER_DAY", actor_id=1, on_pages=False))
        assert GLOBAL not in db.session.info.get(BUMPS, set())
        pagecache.on_event(SiteSettingChanged(key="SITE_TAGLINE", actor_id=1, on_pages=True))
        assert GLOBAL in db.session.info[BUMPS]
    finally:
        db.session.info.pop(BUMPS, None)
        app.extensions["pagecache"].close()


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, make_user, database_url) -> None:
    import threading

    from forum.models import User

    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: SQLite runs one writer at a time anyway")
    first, second = make_user("adm_first", role="admin"), make_user("adm_second", role="admin")
    first_id, second_id = first.id, second.id
    admin.change_role(first, second, "moderator", "reorganising")  # not committed yet
    outcome: dict[str, str] = {}

    def the_other_admin() -> None:
        with app.app_context():  # its own session and connection, like another request
            try:
                actor, target = db.session.get(User, second_id), db.session.get(User, first_id)
                admin.change_role(actor, target, "moderator", "reorganising too")
                db.session.commit()
                outcome["done"] = "demoted"
            except InvalidState as exc:
                db.session.rollback()
                outcome["refused"] = exc.message
            finally:
                db.session.remove()

    thread = threading.Thread(target=the_other_admin)
    thread.start()
    thread.join(1.0)
    assert thread.is_alive()  # waits for the first change's locks
    db.session.commit()
    thread.join(10)
    assert "last admin" in outcome.get("refused", "")
    db.session.expire_all()
    assert admin.admin_count() == 1 and db.session.get(User, first_id).role == "admin"
