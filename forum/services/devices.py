"""Signed-in devices: one ``UserSession`` row per browser a member signed in with.

The key of the row travels in the login cookie and the remember-me cookie
(``User.get_id``: "id:session_token:key"); only its SHA-256 is stored. ``web.load_user``
finds the row for every request, so deleting a row signs that browser out, remember-me
cookie included; ``accounts.end_sessions`` deletes them all (and rotates the token).
"""
from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from ua_parser import parse as parse_user_agent

from ..extensions import db
from ..models import User, UserSession
from ..models.base import utcnow
from .errors import InvalidState

USER_AGENT_MAX = 1000  # longer headers are cut before parsing: no real browser sends more


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def coarse_ip(address: str | None) -> str:
    """The network of ``address``, not the address: an IPv4 /24 or an IPv6 /48 ("" when unknown)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def describe_user_agent(user_agent: str) -> tuple[str, str]:
    """(browser, operating system) named from a User-Agent header, e.g. ("Firefox 128", "Windows 10")."""
    result = parse_user_agent(user_agent[:USER_AGENT_MAX])

    def label(family: str | None, major: str | None, minor: str | None = None) -> str:
        if not family or family == "Other":
            return ""
        version = ".".join(p for p in (major, minor) if p)
        return f"{family} {version}".strip()[:100]

    browser = label(result.user_agent.family, result.user_agent.major) if result.user_agent else ""
    system = label(result.os.family, result.os.major, result.os.minor) if result.os else ""
    return browser, system


def start(user: User, user_agent: str, ip: str | None) -> UserSession:
    """Record a new signed-in device for ``user`` and put its key on ``user.device_key`` (for the cookie)."""
    key = secrets.token_urlsafe(24)
    browser, system = describe_user_agent(user_agent)
    now = utcnow()
    row = UserSession(user_id=user.id, key_hash=_hash(key), browser=browser, os=system, ip_prefix=coarse_ip(ip),
                      created_at=now, last_seen_at=now)
    db.session.add(row)
    db.session.flush()
    user.device_key = key
    return row


def find(user_id: int, key: str) -> UserSession | None:
    """The device row ``key`` (from a cookie) names, if it still exists and belongs to ``user_id``."""
    if not key:
        return None
    row: UserSession | None = db.session.scalar(
        select(UserSession).where(UserSession.key_hash == _hash(key), UserSession.user_id == user_id))
    return row


def load(user_id: int, key: str) -> tuple[User, UserSession] | None:
    """The member and their device row named by a cookie's id and key, in one query (every
    signed-in request runs it); None when either is gone."""
    if not key:
        return None
    row = db.session.execute(select(User, UserSession).join(UserSession, UserSession.user_id == User.id)
                             .where(User.id == user_id, UserSession.key_hash == _hash(key))).first()
    return (row[0], row[1]) if row is not None else None


def current_id(user: User) -> int | None:
    """The id of the device row this request came with (None outside a signed-in request)."""
    if not user.device_key:
        return None
    row = find(user.id, user.device_key)
    return row.id if row is not None else None


def touch_due(row: UserSession, now: datetime) -> bool:
    """True when ``row``'s last-seen time is older than SESSION_LAST_SEEN_MINUTES."""
    interval = timedelta(minutes=current_app.config["SESSION_LAST_SEEN_MINUTES"])
    last = row.last_seen_at if row.last_seen_at.tzinfo else row.last_seen_at.replace(tzinfo=now.tzinfo)
    return now - last >= interval


def touch(session_id: int, now: datetime) -> None:
    """Write ``now`` as the device's last-seen time, in its own short transaction.

    Runs after the request's work (``web``'s after_request hook) on a connection of its own,
    because GET requests never commit the request's session (``views/formglue.guard_reads``);
    the condition makes a second process that got there first a no-op.
    """
    interval = timedelta(minutes=current_app.config["SESSION_LAST_SEEN_MINUTES"])
    with db.engine.begin() as conn:
        conn.execute(update(UserSession).where(UserSession.id == session_id,
                                               UserSession.last_seen_at <= now - interval)
                     .values(last_seen_at=now))


@dataclass(frozen=True)
class Device:
    id: int
    browser: str
    os: str
    ip_prefix: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def list_devices(user: User) -> list[Device]:
    """``user``'s signed-in devices, this one first, then the most recently seen."""
    this = current_id(user)
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)
                              .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())).all()
    devices = [Device(r.id, r.browser, r.os, r.ip_prefix, r.created_at, r.last_seen_at, r.id == this) for r in rows]
    return sorted(devices, key=lambda d: not d.current)


def end(user: User, session_id: int) -> None:
    """Sign one of ``user``'s devices out (its session and remember-me cookie stop working).

    Raises InvalidState when ``session_id`` is not a signed-in device of ``user`` (already ended,
    e.g. a second click, or another member's: the answer is the same, so ids reveal nothing).
    """
    result = db.session.execute(delete(UserSession).where(UserSession.id == session_id,
                                                          UserSession.user_id == user.id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise InvalidState("That device is already signed out.")


def end_others(user: User) -> int:
    """Sign out every device of ``user`` but this one; returns how many were signed out."""
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    this = current_id(user)
    if this is not None:
        stmt = stmt.where(UserSession.id != this)
    result = db.session.execute(stmt)
    return int(result.rowcount)  # type: ignore[attr-defined]


def end_current(user: User) -> None:
    """Sign out the device this request came with (signing out)."""
    this = current_id(user)
    if this is not None:
        db.session.execute(delete(UserSession).where(UserSession.id == this))


def end_all(user: User) -> None:
    """Delete every device row of ``user`` (with ``accounts.end_sessions``: sign out everywhere)."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
