"""Run-time site settings: checked, stored, logged, and seen by every process within the interval."""
from __future__ import annotations

import json
import time

import pytest
from flask import Flask
from sqlalchemy import select

from forum import create_app
from forum.extensions import db
from forum.models import ModerationLog, SiteSetting
from forum.services import site_settings
from forum.services.errors import FieldErrors, PermissionDenied


def form(**changes: object) -> dict[str, object]:
    """Every setting at its current value, with ``changes``: what the settings page submits."""
    values = {row.setting.key: row.value for row in site_settings.settings_page(_admin[0])}
    values.update(changes)
    return values


_admin: list = []


@pytest.fixture
def boss(make_user):
    user = make_user("settings_boss", role="admin")
    _admin[:] = [user]
    return user


def test_bad_values_are_refused_field_by_field_and_nothing_is_stored(app: Flask, boss) -> None:
    with pytest.raises(FieldErrors) as refused:
        site_settings.change_settings(boss, form(VOTES_PER_DAY="lots", FLAG_HIDE_THRESHOLD="0",
                                                 SITE_TAGLINE="x" * 121, POST_RATE_WINDOW_MINUTES=""))
    messages = {e.field: e.message for e in refused.value.each()}
    assert messages == {
        "SITE_TAGLINE": "Keep it under 120 characters (this is 121).",
        "FLAG_HIDE_THRESHOLD": "Enter a whole number from 1 to 50.",
        "POST_RATE_WINDOW_MINUTES": "Enter a whole number from 1 to 1440.",
        "VOTES_PER_DAY": "“lots” is not a whole number. Enter a whole number from 0 to 10000.",
    }
    db.session.rollback()
    assert db.session.scalars(select(SiteSetting)).all() == []


def test_a_change_is_stored_logged_and_applied_and_the_default_removes_the_row(app: Flask, boss) -> None:
    app.config["SITE_SETTINGS_REFRESH_SECONDS"] = 0
    default = app.config["VOTES_PER_DAY"]
    changed = site_settings.change_settings(boss, form(VOTES_PER_DAY=" 7 ", SITE_TAGLINE="Fix it   together"),
                                            "launch week")
    db.session.commit()
    assert sorted(changed) == ["SITE_TAGLINE", "VOTES_PER_DAY"]
    rows = {r.key: r for r in db.session.scalars(select(SiteSetting))}
    assert rows["VOTES_PER_DAY"].value == "7" and rows["VOTES_PER_DAY"].updated_by_id == boss.id
    assert rows["SITE_TAGLINE"].value == "Fix it together"
    [entry] = db.session.scalars(select(ModerationLog).where(ModerationLog.action == "change_settings")).all()
    assert entry.actor_id == boss.id and entry.reason == "launch week"
    assert json.loads(entry.before) == {"SITE_TAGLINE": "", "VOTES_PER_DAY": default}
    assert json.loads(entry.after) == {"SITE_TAGLINE": "Fix it together", "VOTES_PER_DAY": 7}
    site_settings.refresh_if_due(app)
    assert app.config["VOTES_PER_DAY"] == 7 and app.config["SITE_TAGLINE"] == "Fix it together"

    assert site_settings.change_settings(boss, form()) == []  # nothing new: nothing logged
    site_settings.change_settings(boss, form(VOTES_PER_DAY=str(default)))
    db.session.commit()
    assert db.session.get(SiteSetting, "VOTES_PER_DAY") is None  # back to the configuration
    site_settings.refresh_if_due(app)
    assert app.config["VOTES_PER_DAY"] == default


def test_only_admins_change_settings(make_user) -> None:
    with pytest.raises(PermissionDenied):
        site_settings.change_settings(make_user("mod_s", role="moderator"), {"VOTES_PER_DAY": "3"})


def test_another_host_sees_a_change_within_the_refresh_interval(app: Flask, boss, database_url: str) -> None:
    other = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "SEARCH_INDEX_DIR": ":memory:",
                                   "SITE_SETTINGS_REFRESH_SECONDS": 0.5})
    try:
        reader = other.test_client()
        assert "customers helping customers" in reader.get("/").get_data(as_text=True)  # loaded now
        site_settings.change_settings(boss, form(SITE_TAGLINE="Answers within the hour", VOTES_PER_DAY="9"))
        db.session.commit()
        # Within the interval the other host still uses what it loaded...
        assert "customers helping customers" in reader.get("/").get_data(as_text=True)
        time.sleep(0.6)
        # ...and after it, the new values, on its pages and in its configuration.
        assert "Answers within the hour" in reader.get("/").get_data(as_text=True)
        assert other.config["VOTES_PER_DAY"] == 9
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_an_unusable_stored_value_is_ignored(app: Flask, boss) -> None:
    app.config["SITE_SETTINGS_REFRESH_SECONDS"] = 0
    db.session.add(SiteSetting(key="FLAG_HIDE_THRESHOLD", value="many"))
    db.session.add(SiteSetting(key="NOT_ON_THE_LIST", value="1"))
    db.session.commit()
    before = app.config["FLAG_HIDE_THRESHOLD"]
    site_settings.refresh_if_due(app)
    assert app.config["FLAG_HIDE_THRESHOLD"] == before and "NOT_ON_THE_LIST" not in app.config
