"""Password reset by e-mail.

Asking (``request_reset``) always answers the same: the address gets a mail either way, a
reset link when an account has it and a note saying no account does otherwise, so neither
the page nor its timing tells whether the address is registered. Requests are throttled per
address and per client IP (``mail_throttle``). The link (``account_mail.reset_token``) is
signed, expires after PASSWORD_RESET_MAX_AGE seconds, and dies once used because it is bound
to the password hash it was issued against.

Using it (``reset_password``) sets the new password, ends every session and remember-me
cookie of the account (``accounts.set_password`` rotates the session token), counts the
address as confirmed (the link reached it), and mails a security notice.
"""
from __future__ import annotations

from sqlalchemy import select

from ..events import PasswordResetDone, PasswordResetRequested, publish
from ..extensions import db
from ..models import User
from ..models.base import utcnow
from . import accounts, mail_throttle
from .account_mail import read_reset_token


def request_reset(email: str, ip: str | None) -> str:
    """Mail a reset link to ``email`` (or a note when no account has it); returns the address.

    Raises MailThrottled (429) while this address or this IP has used up its requests
    (PASSWORD_RESET_THROTTLE_PER_ADDRESS, PASSWORD_RESET_THROTTLE_PER_IP); the same for
    registered and unknown addresses.
    """
    address = accounts.normalise_email(email)
    mail_throttle.hit("password reset requests for this address or from your network", [
        ("PASSWORD_RESET_THROTTLE_PER_IP", "reset-ip", ip or "unknown"),
        ("PASSWORD_RESET_THROTTLE_PER_ADDRESS", "reset-address", mail_throttle.address_key(address)),
    ])
    user = db.session.scalar(select(User).where(User.email == address))
    publish(PasswordResetRequested(user_id=user.id if user is not None else None, address=address))
    return address


def reset_target(token: str) -> User:
    """The account a reset link is for. Raises BadLink (400): tampered, expired or used."""
    return read_reset_token(token)


def reset_password(token: str, new_password: str) -> User:
    """Set a new password through a reset link, end every session, and tell the account.

    Raises BadLink (400) for a tampered, expired or already used link, FieldError("password")
    for a password too short or too long.
    """
    user = read_reset_token(token)
    accounts.set_password(user, new_password, "password")
    if not user.email_verified:
        user.email_verified_at = utcnow()  # the link was read at this address
        db.session.flush()
    publish(PasswordResetDone(user_id=user.id))
    return user
