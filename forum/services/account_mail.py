"""Account mail: the signed links (confirm an address, reset a password) and the subscribers
that write those mails and the security notices into the outbox.

Links are itsdangerous tokens signed with ``SECRET_KEY``, one salt per purpose, so a
confirmation token can never be used as a reset token. What makes each single-use:

- a reset token carries a fingerprint of the password hash it was issued against; setting
  any new password (Argon2 salts every hash) changes the hash, so the token dies once used,
  and also when the member changes the password some other way;
- a confirmation token names the address it confirms; it only acts while that address is
  the account's unconfirmed address or its pending new one, so it does nothing once used.

Every mail here goes through ``mail.compose_account``: sent whatever the address's state,
without an unsubscribe link. The subscribers run inside the writer's transaction
(``forum/subscribers.py``); the job layer sends the rows after the commit.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..events import (
    EmailChangeRequested,
    EmailVerificationRequested,
    PasswordResetDone,
    PasswordResetRequested,
    SignUpWithTakenEmail,
)
from ..extensions import db
from ..mail import absolute_url, compose_account, site_path
from ..models import User
from .errors import ServiceError

RESET_SALT = "forum.password-reset"
VERIFY_SALT = "forum.verify-email"


class BadLink(ServiceError):
    """A reset or confirmation link that is tampered with, expired or already used (400)."""

    status = 400


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def reset_token(user: User) -> str:
    return _serializer(RESET_SALT).dumps({"u": user.id, "p": password_fingerprint(user)})


def verify_token(user: User, address: str) -> str:
    return _serializer(VERIFY_SALT).dumps({"u": user.id, "e": address})


@dataclass(frozen=True)
class VerifyClaim:
    user: User
    address: str


def _load(salt: str, token: str, max_age: int, expired: str, invalid: str) -> dict[str, object]:
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise BadLink(expired) from exc
    except BadSignature as exc:
        raise BadLink(invalid) from exc
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise BadLink(invalid)
    return data


RESET_INVALID = "This reset link is not valid, or was already used. Ask for a new one below."


def read_reset_token(token: str) -> User:
    """The account a reset link may set a password for.

    Raises BadLink when the link is tampered with, older than PASSWORD_RESET_MAX_AGE, or dead
    because the password changed since it was sent (it was used).
    """
    data = _load(RESET_SALT, token, int(current_app.config["PASSWORD_RESET_MAX_AGE"]),
                 "This reset link has expired. Ask for a new one below.", RESET_INVALID)
    user = db.session.get(User, data["u"])
    if user is None or data.get("p") != password_fingerprint(user):
        raise BadLink(RESET_INVALID)
    return user


def read_verify_token(token: str) -> VerifyClaim:
    """Who the confirmation link is for and which address it confirms (not checked against the
    account's current state: ``verification.confirm_email`` does that). Raises BadLink for a
    tampered or expired link, or an account that no longer exists."""
    data = _load(VERIFY_SALT, token, int(current_app.config["EMAIL_VERIFY_MAX_AGE"]),
                 "This confirmation link has expired. Sign in and ask for a new one in your e-mail settings.",
                 "This confirmation link is not valid.")
    user = db.session.get(User, data["u"])
    address = data.get("e")
    if user is None or not isinstance(address, str):
        raise BadLink("This confirmation link is not valid.")
    return VerifyClaim(user, address)


# ---------------------------------------------------------------- subscribers


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    assert user is not None, "the event's account was written in this transaction"
    return user


def _hours(seconds: int) -> str:
    hours = max(1, round(seconds / 3600))
    return f"{hours} hour{'s' if hours != 1 else ''}"


def send_verification_link(event: EmailVerificationRequested) -> None:
    """Mail the confirmation link to the address to confirm (a new one, for a change). An
    address another account has gets a note instead: the asker is not told it is taken."""
    user = _user(event.user_id)
    if isinstance(event, EmailChangeRequested) and event.address_taken:
        compose_account(event.address, None, "email_change_taken", "Someone tried to use your e-mail address",
                        {"reset_url": absolute_url(site_path("account.forgot_password"))})
        return
    link = absolute_url(site_path("account.verify_email", token=verify_token(user, event.address)))
    change = isinstance(event, EmailChangeRequested)
    compose_account(event.address, user, "verify_email", f"Confirm your e-mail address for {current_app.config['SITE_NAME']}",
                    {"link": link, "change": change,
                     "valid_for": _hours(int(current_app.config["EMAIL_VERIFY_MAX_AGE"]))})


def tell_old_address(event: EmailChangeRequested) -> None:
    """Warn the current address that the account asked to move elsewhere."""
    user = _user(event.user_id)
    compose_account(event.old_address, user, "email_change", "Your e-mail address is about to change",
                    {"new_address": event.address,
                     "reset_url": absolute_url(site_path("account.forgot_password"))})


def tell_owner_of_sign_up(event: SignUpWithTakenEmail) -> None:
    """Tell the owner of a taken address that someone tried to register with it."""
    user = _user(event.user_id)
    site = current_app.config["SITE_NAME"]
    compose_account(user.email, user, "sign_up_taken", f"Someone tried to sign up to {site} with your address",
                    {"login_url": absolute_url(site_path("auth.login")),
                     "reset_url": absolute_url(site_path("account.forgot_password"))})


def send_reset_link(event: PasswordResetRequested) -> None:
    """The reset link to the account's address; to an address with no account, a note saying
    so (the same work on both paths, so the request's timing tells nothing either)."""
    site = current_app.config["SITE_NAME"]
    if event.user_id is None:
        compose_account(event.address, None, "reset_no_account", f"Password reset for {site}",
                        {"register_url": absolute_url(site_path("auth.register")),
                         "forgot_url": absolute_url(site_path("account.forgot_password"))})
        return
    user = _user(event.user_id)
    link = absolute_url(site_path("account.reset_password", token=reset_token(user)))
    compose_account(event.address, user, "password_reset", f"Reset your password for {site}",
                    {"link": link, "valid_for": _hours(int(current_app.config["PASSWORD_RESET_MAX_AGE"]))})


def tell_password_reset(event: PasswordResetDone) -> None:
    """Security notice: the password was just set through a reset link."""
    user = _user(event.user_id)
    compose_account(user.email, user, "password_changed", "Your password was changed",
                    {"reset_url": absolute_url(site_path("account.forgot_password"))})
