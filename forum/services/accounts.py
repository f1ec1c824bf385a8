"""Registration, sign-in checks, profile and account settings."""
from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..events import PasswordChanged, publish
from ..extensions import db
from ..markup import RENDER_VERSION, render_markdown
from ..models import Role, User
from ..models.base import utcnow
from ..models.user import new_session_token
from . import devices, names
from .errors import FieldError, NotFound
from .posts import without_nul

USERNAME_RE = names.USERNAME_RE
PASSWORD_MIN = 10
PASSWORD_MAX = 256
RESERVED_USERNAMES = names.RESERVED_USERNAMES


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _verify(hash_: str, password: str) -> bool:
    try:
        return _hasher().verify(hash_, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# Verifying against this when no account matches keeps the response time the same, so the
# login form does not reveal which usernames exist.
_DUMMY_HASH: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    cfg = current_app.config
    key = (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hash_password("not-a-real-password")
    return _DUMMY_HASH[key]


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class Registration:
    username: str
    email: str
    password: str


def _check_password(password: str, field: str = "password") -> None:
    if len(password) < PASSWORD_MIN:
        raise FieldError(field, f"Use at least {PASSWORD_MIN} characters.")
    if len(password) > PASSWORD_MAX:
        raise FieldError(field, f"Use at most {PASSWORD_MAX} characters.")


class EmailTaken(FieldError):
    """Another account has the address (the sign-up form answers it like a success)."""


def _check_email_free(email: str, exclude_id: int | None = None) -> None:
    stmt = select(User.id).where(User.email == email)
    if exclude_id is not None:
        stmt = stmt.where(User.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise EmailTaken("email", "An account with this e-mail address already exists.")


def check_registration(data: Registration, *, allow_reserved: bool = False) -> str:
    """The username to create, once the username and password pass (the e-mail is not checked).

    Raises FieldError for a malformed, taken or impersonating username (``names.check_username``;
    ``allow_reserved`` lets the CLI and demo seed use staff words), or a weak password.
    """
    username = names.check_username(data.username, allow_reserved=allow_reserved)
    _check_password(data.password)
    return username


def register(data: Registration, role: Role = Role.MEMBER, *, allow_reserved: bool = False,
             verified: bool = False, password_hash: str | None = None) -> User:
    """Create an account and flush it.

    ``verified``: the address counts as confirmed (the CLI, demo data; the sign-up form never
    says so: services/verification.sign_up). ``password_hash``: already computed by the caller.
    Raises FieldError for a malformed or taken username or e-mail, or a weak password.
    """
    username = check_registration(data, allow_reserved=allow_reserved)
    email = normalise_email(data.email)
    _check_email_free(email)
    user = User(
        username=username,
        username_key=username.lower(),
        username_skeleton=names.skeleton(username),
        email=email,
        password_hash=password_hash or hash_password(data.password),
        role=Role(role).value,
        display_name="",
        bio="",
        bio_html="",
        email_verified_at=utcnow() if verified else None,
    )
    try:
        # A savepoint: two sign-ups with the same name or address at the same moment both pass
        # the checks above; the unique constraints pick one, and the other gets the usual refusal.
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        if db.session.scalar(select(User.id).where(User.username_key == username.lower())) is not None:
            raise FieldError("username", "That username is taken.") from None
        raise EmailTaken("email", "An account with this e-mail address already exists.") from None
    return user


def find_by_login(login: str) -> User | None:
    """The user whose username or e-mail (as typed on the sign-in form) is ``login``, else None."""
    login = login.strip()
    column = User.email if "@" in login else User.username_key
    user: User | None = db.session.scalar(select(User).where(column == login.lower()))
    return user


def authenticate(login: str, password: str) -> User | None:
    """Return the user whose username or e-mail and password match, else None.

    Always spends one hash verification, whether or not the account exists.
    """
    return check_password(find_by_login(login), password)


def check_password(user: User | None, password: str) -> User | None:
    """Return ``user`` when ``password`` is theirs, else None (``user`` None: no such account).

    Always spends one hash verification, whether or not the account exists, so the time taken
    does not tell which accounts exist.
    """
    if user is None:
        _verify(_dummy_hash(), password)
        return None
    if not _verify(user.password_hash, password):
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session and remember-me cookie of ``user`` (all signed-in devices)."""
    user.session_token = new_session_token()
    devices.end_all(user)


def change_password(user: User, current: str, new: str) -> None:
    """Raises FieldError when the current password is wrong or the new one too weak."""
    if not _verify(user.password_hash, current):
        raise FieldError("current_password", "That is not your current password.")
    set_password(user, new, "new_password")


def set_password(user: User, new: str, field: str = "password") -> None:
    """Store a new password and end every session and remember-me cookie of ``user``; announces
    PasswordChanged (its subscribers revoke the member's API tokens).

    Raises FieldError(``field``) when the new password is too short or too long.
    """
    _check_password(new, field)
    user.password_hash = hash_password(new)
    end_sessions(user)
    db.session.flush()
    publish(PasswordChanged(user_id=user.id))


def password_matches(user: User, password: str) -> bool:
    """Whether ``password`` is ``user``'s (one hash verification)."""
    return _verify(user.password_hash, password)


def update_profile(user: User, display_name: str, bio: str, *, allow_reserved: bool = False) -> None:
    """Raises FieldError when the bio exceeds its limit, or a new display name is too long, holds
    an invisible or bidirectional character, or impersonates (``names.check_display_name``;
    ``allow_reserved`` is for the demo seed). An unchanged display name is kept as it is, so
    names chosen before these rules still save."""
    bio, display_name = without_nul(bio), without_nul(display_name)
    limit = current_app.config["BIO_MAX_LENGTH"]
    if len(bio) > limit:
        raise FieldError("bio", f"Keep the bio under {limit} characters.")
    if display_name != user.display_name:
        display_name = names.check_display_name(display_name, exclude_user_id=user.id, allow_reserved=allow_reserved)
    if display_name != user.display_name:
        user.display_name = display_name
        user.display_name_skeleton = names.skeleton(display_name)
    user.bio = bio
    user.bio_html = render_markdown(bio, remote_images=bool(current_app.config["REMOTE_IMAGES"])) if bio.strip() else ""
    user.render_version = RENDER_VERSION
    db.session.flush()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def find_user(username: str) -> User:
    user: User | None = db.session.scalar(select(User).where(User.username_key == username.lower()))
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    return user


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0
