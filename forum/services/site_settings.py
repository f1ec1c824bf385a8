"""Site settings an admin may change at run time, and the small cache every process reads them through.

Only settings on the whitelist below (``SETTINGS``) can be changed: each has a type, bounds
and a label, and all are safe to change while the site runs (nothing is built from them at
start-up). A changed setting is a row of ``site_settings``; without a row the configuration's
value (config.py or ``FORUM_*``) applies.

Reading: the code keeps reading ``current_app.config[KEY]``. Each process keeps what it last
loaded and reloads it (one SELECT on a short connection of its own) at most every
``SITE_SETTINGS_REFRESH_SECONDS`` (default 5), from a ``before_request`` hook and whenever
``pages_version`` is asked (the page cache asks before it serves); what it loads it writes
into ``app.config``, so a change on one web host reaches every process on every host within
that interval. A key whose row is removed gets its configured value back. Nothing in
``app.config`` is touched for a key that never had a row.

Writing: ``change_settings`` checks every field, stores the changed ones, writes one entry to
the moderation log with before and after, and publishes ``SiteSettingChanged`` per key (the
page cache drops every anonymous page when a setting shown on pages changed). Since the page
cache key also carries ``pages_version`` (a digest of the stored page-visible settings), a
process that has not reloaded yet can't store a page rendered with the old value under the
new key, and its own old pages stop being served once it reloads.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from ..events import SiteSettingChanged, publish
from ..extensions import db
from ..models import SiteSetting, User
from ..models.base import utcnow
from .audit import log_action
from .errors import FieldError, check_fields
from .permissions import require
from .posts import without_nul

EXTENSION = "forum.site_settings"


@dataclass(frozen=True)
class Setting:
    """One setting on the whitelist. ``kind``: "int" (``low``..``high``), "bool", or "text"
    (at most ``high`` characters, one line). ``on_pages``: shown on anonymous pages."""

    key: str
    label: str
    hint: str
    kind: str
    low: int = 0
    high: int = 0
    on_pages: bool = False
    group: str = "Site"


SETTINGS: tuple[Setting, ...] = (
    Setting("SITE_TAGLINE", "Tagline", "Shown in the footer of every page, after the site's name. Empty: the standard line.", "text",
            high=120, on_pages=True),
    Setting("REVIEW_USUAL_WAIT_HOURS", "Usual review wait (hours)",
            "What new members are told to expect when a post waits for review.", "int", 1, 168, group="Moderation"),
    Setting("FLAG_HIDE_THRESHOLD", "Flags that hide a post",
            "Spam or rude flags from this many members hide a post until reviewed.", "int", 1, 50, group="Moderation"),
    Setting("NEW_MEMBER_LINK_REVIEW", "Hold new members' posts with links",
            "New members' posts linking to other sites wait in the review queue.", "bool", group="Moderation"),
    Setting("POST_RATE_LIMITS_ENABLED", "Posting limits on", "Staff are never limited.", "bool",
            group="Posting limits"),
    Setting("POST_RATE_WINDOW_MINUTES", "Window (minutes)", "The limits below count posts in this window.", "int",
            1, 1440, group="Posting limits"),
    Setting("POST_RATE_NEW_MEMBER_QUESTIONS", "New member: questions", "0 means unlimited.", "int", 0, 1000,
            group="Posting limits"),
    Setting("POST_RATE_NEW_MEMBER_ANSWERS", "New member: answers", "0 means unlimited.", "int", 0, 1000,
            group="Posting limits"),
    Setting("POST_RATE_NEW_MEMBER_COMMENTS", "New member: comments", "0 means unlimited.", "int", 0, 1000,
            group="Posting limits"),
    Setting("POST_RATE_MEMBER_QUESTIONS", "Member: questions", "0 means unlimited.", "int", 0, 1000,
            group="Posting limits"),
    Setting("POST_RATE_MEMBER_ANSWERS", "Member: answers", "0 means unlimited.", "int", 0, 1000,
            group="Posting limits"),
    Setting("POST_RATE_MEMBER_COMMENTS", "Member: comments", "0 means unlimited.", "int", 0, 1000,
            group="Posting limits"),
    Setting("VOTES_PER_DAY", "Votes per member per day", "0 means unlimited.", "int", 0, 10_000,
            group="Posting limits"),
    Setting("INSIGHTS_ENABLED", "Measure deflection",
            "Count the moments visitors find an answer instead of asking (no personal data is kept).", "bool",
            group="Insights"),
    Setting("DEFLECTION_WINDOW_MINUTES", "Deflection window (minutes)",
            "An opened suggestion or search result counts when no question follows from that visitor within this time.",
            "int", 1, 1440, group="Insights"),
    Setting("INSIGHTS_RETENTION_DAYS", "Keep raw events (days)", "Daily counts are kept; raw events are deleted after this.",
            "int", 1, 365, group="Insights"),
    Setting("INSIGHTS_COST_ASSISTED_CENTS", "Cost of an assisted contact (cents)",
            "A call or ticket handled by staff. Industry figures: 200 to 500.", "int", 0, 100_000, group="Insights"),
    Setting("INSIGHTS_COST_SELF_SERVICE_CENTS", "Cost of a self-service answer (cents)",
            "An answer found online. Industry figures: 25 to 40.", "int", 0, 100_000, group="Insights"),
    Setting("WEBHOOKS_ALLOW_PRIVATE", "Allow webhooks to private addresses",
            "Off: webhook URLs on loopback, private, link-local or reserved addresses are refused, so "
            "nobody can aim the forum at internal services. Turn on only for a receiver inside your network.",
            "bool", group="Integrations"),
    Setting("CRM_CASE_URL", "CRM link for a case",
            "A case's external reference becomes a link to this address, {ref} replaced by the reference "
            "(e.g. https://crm.example.com/tickets/{ref}). Empty: shown as plain text.", "text", high=300,
            group="Integrations"),
)
BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(s.group for s in SETTINGS))  # in the order above
TRUE, FALSE = "true", "false"


# ---------------------------------------------------------------- values


def parse(setting: Setting, raw: Any) -> Any:
    """The typed value of ``raw`` (a form's text, or a stored value). Raises FieldError(key)
    with a message a person can act on."""
    if setting.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw or "").strip().lower()
        if text in ("true", "on", "1", "yes", "y"):
            return True
        if text in ("false", "off", "0", "no", "n", ""):
            return False
        raise FieldError(setting.key, "Choose on or off.")
    if setting.kind == "int":
        text = str(raw if raw is not None else "").strip()
        bounds = f"Enter a whole number from {setting.low} to {setting.high}."
        if not text:
            raise FieldError(setting.key, bounds)
        try:
            number = int(text)
        except ValueError:
            raise FieldError(setting.key, f"“{text[:20]}” is not a whole number. {bounds}") from None
        if not setting.low <= number <= setting.high:
            raise FieldError(setting.key, bounds)
        return number
    text = " ".join(without_nul(str(raw or "")).split())
    if len(text) > setting.high:
        raise FieldError(setting.key, f"Keep it under {setting.high} characters (this is {len(text)}).")
    return text


def to_text(setting: Setting, value: Any) -> str:
    """The stored (and shown) text of a typed value."""
    if setting.kind == "bool":
        return TRUE if value else FALSE
    return str(value)


# ---------------------------------------------------------------- the per-process cache


@dataclass
class _Cache:
    loaded_at: float | None = None  # time.monotonic() of the last load; None: load on next read
    stored: dict[str, Any] = field(default_factory=dict)  # typed values of the rows
    defaults: dict[str, Any] = field(default_factory=dict)  # the configured value of every key ever overridden
    version: str = ""


def _cache(app: Flask) -> _Cache:
    found = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions[EXTENSION] = _Cache()
    return found


def refresh_if_due(app: Flask | None = None) -> None:
    """Reload the stored settings when the last load is older than SITE_SETTINGS_REFRESH_SECONDS.

    A failed load (database unreachable, table not migrated yet) is logged; the values already
    in use stay, and the next attempt is one interval later.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache = _cache(app)
    now = time.monotonic()
    interval = float(app.config.get("SITE_SETTINGS_REFRESH_SECONDS", 5))
    if cache.loaded_at is not None and now - cache.loaded_at < interval:
        return
    cache.loaded_at = now
    with app.app_context():  # the page cache's fast path calls this outside one
        try:
            with db.engine.connect() as conn:
                rows = conn.execute(select(SiteSetting.key, SiteSetting.value)).all()
        except Exception:  # settings keep their last values; pages still work
            app.logger.warning("site settings could not be loaded", exc_info=True)
            return
        _apply(app, cache, {key: value for key, value in rows})


def _apply(app: Flask, cache: _Cache, rows: Mapping[str, str]) -> None:
    stored: dict[str, Any] = {}
    for key, raw in rows.items():
        setting = BY_KEY.get(key)
        if setting is None:
            continue  # a setting taken off the whitelist: its row is ignored
        try:
            stored[key] = parse(setting, raw)
        except FieldError:
            app.logger.warning("site setting %s has an unusable stored value %r; the configured one applies", key, raw)
    for key in cache.stored.keys() - stored.keys():
        app.config[key] = cache.defaults.get(key, app.config.get(key))  # the row is gone: back to the configuration
    for key, value in stored.items():
        cache.defaults.setdefault(key, app.config.get(key))
        app.config[key] = value
    cache.stored = stored
    visible = sorted((k, to_text(BY_KEY[k], v)) for k, v in stored.items() if BY_KEY[k].on_pages)
    cache.version = hashlib.sha256(repr(visible).encode()).hexdigest()[:12] if visible else ""


def expire(app: Flask | None = None) -> None:
    """Make this process load the settings again on its next read (after its own change)."""
    _cache(app or current_app._get_current_object()).loaded_at = None  # type: ignore[attr-defined]


def pages_version(app: Flask | None = None) -> str:
    """A digest of the stored settings shown on pages ("" when none is stored): part of the
    page cache's key, so pages rendered with other values are neither served nor stored.
    ``app`` defaults to the current one (the page cache's WSGI fast path has no app context)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    refresh_if_due(app)
    return _cache(app).version


def default_of(key: str) -> Any:
    """The configured value of ``key`` (what applies without a stored row)."""
    cache = _cache(current_app._get_current_object())  # type: ignore[attr-defined]
    return cache.defaults[key] if key in cache.defaults else current_app.config.get(key)


# ---------------------------------------------------------------- the admin page


@dataclass(frozen=True)
class SettingRow:
    setting: Setting
    value: Any
    default: Any
    changed: bool
    updated_by: User | None
    updated_at: Any


def settings_page(viewer: User) -> list[SettingRow]:
    """Every setting with its current value, default and last change (two queries).

    Raises PermissionDenied unless the viewer is an admin.
    """
    require(viewer, "administer")
    rows = {r.key: r for r in db.session.scalars(select(SiteSetting))}
    editors = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({r.updated_by_id for r in rows.values() if r.updated_by_id})))} if rows else {}
    out = []
    for s in SETTINGS:
        row = rows.get(s.key)
        default = default_of(s.key)
        value = default
        if row is not None:
            try:
                value = parse(s, row.value)
            except FieldError:
                row = None
        out.append(SettingRow(s, value, default, row is not None, editors.get(row.updated_by_id) if row and
                              row.updated_by_id else None, row.updated_at if row else None))
    return out


def check_settings(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Every whitelisted key's typed value from ``raw`` (a missing boolean is off). Raises
    FieldErrors with one message per bad field; writes nothing."""
    values = check_fields(*[(lambda s=s: parse(s, raw.get(s.key))) for s in SETTINGS])
    return {s.key: v for s, v in zip(SETTINGS, values, strict=True)}


def change_settings(actor: User, raw: Mapping[str, Any], reason: str = "") -> list[str]:
    """Store the settings in ``raw`` that differ from their current value; returns their keys.

    A value equal to the configured default removes the row (the configuration applies again).
    One moderation log entry ("site_settings") holds every change with before and after; each
    changed key publishes SiteSettingChanged. This process reloads on its next read; others
    within SITE_SETTINGS_REFRESH_SECONDS.

    Raises PermissionDenied unless the actor is an admin, FieldErrors for bad values (one per
    field, nothing stored).
    """
    require(actor, "administer")
    values = check_settings(raw)
    rows = {r.key: r for r in db.session.scalars(select(SiteSetting).with_for_update())}
    now = utcnow()
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for s in SETTINGS:
        row = rows.get(s.key)
        default = default_of(s.key)
        try:
            current = parse(s, row.value) if row is not None else default
        except FieldError:
            current = default
        new = values[s.key]
        if new == current and (row is None or new != default):
            continue
        if new == default:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(SiteSetting(key=s.key, value=to_text(s, new), updated_by_id=actor.id, updated_at=now))
        else:
            row.value, row.updated_by_id, row.updated_at = to_text(s, new), actor.id, now
        if new != current:
            before[s.key], after[s.key] = current, new
    db.session.flush()
    if after:
        log_action(actor, "change_settings", "site", 0, reason=reason, before=before, after=after)
        db.session.flush()
        for key in after:
            publish(SiteSettingChanged(key=key, actor_id=actor.id, on_pages=BY_KEY[key].on_pages))
    expire()
    return list(after)


def init_app(app: Flask) -> None:
    """Reload the settings (when due) before every request of ``app``."""
    app.before_request(lambda: refresh_if_due(app))
