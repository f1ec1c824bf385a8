"""Personal access tokens for the REST API: created in settings, shown once, stored hashed.

Rules (docs/api.md is the clients' contract):

- A token belongs to one member and carries scopes: ``read`` (GET), ``write`` (what a member
  does on the pages: ask, answer, comment, edit, vote, accept, flag, follow) and ``staff``
  (curation, cases, articles). ``staff`` is offered to staff only; whatever the scopes, every
  call goes through the same services and permission checks as the pages, so a token never
  lets its member do more than they could signed in.
- The secret is ``fct_`` and 43 random URL-safe characters (256 bits); only its SHA-256 is
  stored, so a database leak reveals no usable token. A secret this long needs no slow hash.
- A token expires (``expires_at``, at most ``API_TOKEN_MAX_DAYS``; none when the member chose
  "never"), can be revoked at once, and stops working for a suspended or deleted member.
- ``last_used_at`` is written at most once per ``API_TOKEN_LAST_USED_SECONDS``, with a
  conditional UPDATE on a connection of its own (GET requests never commit).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from ..events import AccountDeleted, PasswordChanged, UserSuspended
from ..extensions import db
from ..models import TOKEN_SCOPES, ApiIdempotencyKey, ApiToken, User
from ..models.base import utcnow
from .errors import FieldError, NotFound, check_fields

SECRET_PREFIX = "fct_"
NAME_MAX = 80
#: Expiry choices offered by the settings page, in days (0: never).
EXPIRY_CHOICES = (7, 30, 90, 365, 0)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise FieldError("name", "Give the token a name, such as the script or app that will use it.")
    if len(name) > NAME_MAX:
        raise FieldError("name", f"Keep the name under {NAME_MAX} characters.")
    return name


def _check_scopes(user: User, scopes: list[str]) -> str:
    wanted = [s for s in TOKEN_SCOPES if s in scopes]
    unknown = sorted(set(scopes) - set(TOKEN_SCOPES))
    if unknown:
        raise FieldError("scopes", f"Unknown scope: {', '.join(unknown)}.")
    if not wanted:
        raise FieldError("scopes", "Choose at least one scope.")
    if "staff" in wanted and not user.is_staff:
        raise FieldError("scopes", "Only staff can create tokens with the staff scope.")
    return " ".join(wanted)


def _check_days(days: int) -> int:
    limit = int(current_app.config["API_TOKEN_MAX_DAYS"])
    if days < 0 or days > limit or (days == 0 and 0 not in EXPIRY_CHOICES):
        raise FieldError("expires_in_days", f"Choose an expiry of at most {limit} days.")
    return days


def check_token_input(user: User, name: str, scopes: list[str], expires_in_days: int) -> tuple[str, str, int]:
    """The cleaned name, the scopes as stored and the days, checked whole and writing nothing
    (the settings form checks the rest with it when its own validation failed).

    Raises FieldErrors, one per bad field: name, scopes, expires_in_days.
    """
    clean_name, scope_text, days = check_fields(lambda: _check_name(name), lambda: _check_scopes(user, scopes),
                                                lambda: _check_days(expires_in_days))
    return clean_name, scope_text, days


def expiry_choices() -> list[int]:
    """The expiries the settings page offers, in days (0: never), within API_TOKEN_MAX_DAYS."""
    limit = int(current_app.config["API_TOKEN_MAX_DAYS"])
    return [d for d in EXPIRY_CHOICES if d <= limit]


def create_token(user: User, name: str, scopes: list[str], expires_in_days: int,
                 now: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns it and its secret, which is never shown again.

    Raises FieldErrors for a missing or long name, no or unknown scopes, ``staff`` for a
    non-staff member, or an expiry beyond ``API_TOKEN_MAX_DAYS``; FieldError("name") when the
    member already has ``API_TOKENS_PER_USER`` live tokens.
    """
    now = now or utcnow()
    clean_name, scope_text, days = check_token_input(user, name, scopes, expires_in_days)
    live = db.session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
        (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now)))
    limit = int(current_app.config["API_TOKENS_PER_USER"])
    if (live or 0) >= limit:
        raise FieldError("name", f"You have {limit} active tokens; revoke one you no longer use first.")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=clean_name, prefix=secret[:10], token_hash=hash_secret(secret),
                     scopes=scope_text, created_at=now,
                     expires_at=now + timedelta(days=days) if days else None)
    db.session.add(token)
    db.session.flush()
    return token, secret


def tokens_of(user: User) -> list[ApiToken]:
    """The member's tokens, newest first, revoked ones included (they show as revoked)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(user: User, token_id: int, now: datetime | None = None) -> ApiToken:
    """Revoke one of ``user``'s tokens; its next call is refused. Revoking twice is harmless.

    Raises NotFound for a token that is not theirs (another member's looks like no token).
    """
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
    return token


def revoke_all(user: User, now: datetime | None = None) -> int:
    """Revoke every live token of ``user`` (password change or reset, account deletion)."""
    result = db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                                .values(revoked_at=now or utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def credentials_changed(event: PasswordChanged | AccountDeleted | UserSuspended) -> None:
    """Subscriber: a new password, a deleted account or a suspension revokes every live token
    of the member, as it ends their sessions (a token must not outlive the password that let
    someone create it; a suspension lifted later does not bring the tokens back)."""
    user = db.session.get(User, event.user_id)
    if user is not None:
        revoke_all(user)


def authenticate(secret: str, now: datetime | None = None) -> ApiToken | None:
    """The live token whose secret this is, with its member loaded; None for an unknown,
    revoked or expired token, or a member who is deleted or suspended."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    now = now or utcnow()
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or not token.is_active(now):
        return None
    user = token.user
    if user.deleted_at is not None or user.is_suspended(now):
        return None
    return token


def touch_due(token: ApiToken, now: datetime) -> bool:
    last = token.last_used_at
    return last is None or (now - last).total_seconds() >= int(current_app.config["API_TOKEN_LAST_USED_SECONDS"])


def touch(token_id: int, now: datetime) -> None:
    """Write ``last_used_at`` on a connection of its own (the request's session may never
    commit); conditional, so two workers seeing the same stale time write once."""
    window = now - timedelta(seconds=int(current_app.config["API_TOKEN_LAST_USED_SECONDS"]))
    with db.engine.begin() as conn:
        conn.execute(update(ApiToken).where(ApiToken.id == token_id,
                                            (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= window))
                     .values(last_used_at=now))


def purge_idempotency_keys(now: datetime | None = None) -> int:
    """Delete stored replies older than ``API_IDEMPOTENCY_HOURS`` (the worker's sweep)."""
    cutoff = (now or utcnow()) - timedelta(hours=int(current_app.config["API_IDEMPOTENCY_HOURS"]))
    result = db.session.execute(delete(ApiIdempotencyKey).where(ApiIdempotencyKey.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
