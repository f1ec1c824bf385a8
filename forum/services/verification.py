"""Sign-up without account enumeration, confirming e-mail addresses, and changing them.

A new account's address is unconfirmed until the link mailed to it is used: the member can
sign in, read and ask meanwhile, but only account mail (the confirmation link, password
reset, security notices) goes to the address; notifications and the digest wait
(``services/notifications.py``, ``services/digest.py``). A new address asked for in the
settings waits in ``users.pending_email`` and replaces the old one only when its link is
used; the old address is told at once. An address another account has is answered the same
way, and its owner gets a note instead of a link. Staff (moderators, admins) and ``flask users
verify-email`` can mark an address confirmed.

Sign-up answers the same whether or not the address already has an account: with a taken
address no account is made and the owner is mailed instead. Every outcome spends one Argon2
hash, so the time taken tells nothing either (docs/security.md has the measured figures).
"""
from __future__ import annotations

from sqlalchemy import select

from ..events import EmailChangeRequested, EmailVerificationRequested, SignUpWithTakenEmail, publish
from ..extensions import db
from ..models import User
from ..models.base import utcnow
from . import accounts, mail_throttle
from .account_mail import BadLink, read_verify_token
from .audit import log_action
from .errors import FieldError, InvalidState
from .permissions import require


def sign_up(data: accounts.Registration) -> str:
    """Register from the sign-up form; returns the (normalised) address the link went to.

    A free address: the account is created unconfirmed and a confirmation link mailed. A taken
    address: nothing is created, the owner is mailed that someone tried, and the caller cannot
    tell the difference. Raises FieldError for a malformed, reserved or taken username or a
    weak password (usernames are public, so refusing a taken one reveals nothing).
    """
    # First, on every path (refusals included): the hash is what a response's time is made of.
    password_hash = accounts.hash_password(data.password)
    accounts.check_registration(data)
    email = accounts.normalise_email(data.email)
    owner = db.session.scalar(select(User).where(User.email == email))
    if owner is not None:
        # At most EMAIL_VERIFY_THROTTLE_PER_ACCOUNT notes an hour, so sign-ups cannot flood an
        # owner's inbox; over it the note is silently skipped (a 429 would tell).
        if mail_throttle.allow([("EMAIL_VERIFY_THROTTLE_PER_ACCOUNT", "sign-up-taken", f"user:{owner.id}")]):
            publish(SignUpWithTakenEmail(user_id=owner.id))
        return email
    try:
        user = accounts.register(data, password_hash=password_hash)
    except accounts.EmailTaken:
        # Registered by someone else a moment ago (the check above saw it free): the same
        # answer as any taken address.
        return email
    publish(EmailVerificationRequested(user_id=user.id, address=user.email))
    return email


def spend_sign_up_time(password: str) -> None:
    """The hash a sign-up would compute, for a form refused before the service ran (a
    malformed address), so that refusal takes as long as the others."""
    accounts.hash_password(password or "-")


def _throttle(user: User) -> None:
    mail_throttle.hit("confirmation e-mails for your account",
                      [("EMAIL_VERIFY_THROTTLE_PER_ACCOUNT", "verify-account", f"user:{user.id}")])


def resend(user: User) -> str:
    """Mail the confirmation link again: to the pending new address if there is one, else to the
    unconfirmed address. Returns the address.

    Raises InvalidState when there is nothing to confirm, MailThrottled (429) after
    EMAIL_VERIFY_THROTTLE_PER_ACCOUNT requests.
    """
    address = user.pending_email or (None if user.email_verified else user.email)
    if address is None:
        raise InvalidState("Your e-mail address is already confirmed.")
    _throttle(user)
    event = (EmailChangeRequested(user_id=user.id, address=address, old_address=user.email,
                                  address_taken=_taken(address, user))
             if user.pending_email else EmailVerificationRequested(user_id=user.id, address=address))
    publish(event)
    return address


def _taken(email: str, user: User) -> bool:
    return db.session.scalar(select(User.id).where(User.email == email, User.id != user.id)) is not None


def request_email_change(user: User, password: str, email: str) -> str:
    """Ask to move ``user`` to ``email``: it waits, unconfirmed, in ``pending_email``; a link goes
    to it and a warning to the current address. Returns the normalised new address.

    An address another account has is answered the same way (no account enumeration from the
    settings either), but gets a note instead of a link, so it can never be confirmed.
    Raises FieldError when the password is wrong or the address is the current one;
    MailThrottled (429) after EMAIL_VERIFY_THROTTLE_PER_ACCOUNT requests.
    """
    if not accounts.password_matches(user, password):
        raise FieldError("password", "That is not your current password.")
    email = accounts.normalise_email(email)
    if email == user.email:
        raise FieldError("email", "That is already your address.")
    _throttle(user)
    user.pending_email = email
    db.session.flush()
    publish(EmailChangeRequested(user_id=user.id, address=email, old_address=user.email,
                                 address_taken=_taken(email, user)))
    return email


def cancel_email_change(user: User) -> None:
    """Forget the pending new address (its link stops working). Raises InvalidState when none."""
    if user.pending_email is None:
        raise InvalidState("There is no change of address waiting.")
    user.pending_email = None
    db.session.flush()


def confirm_target(token: str) -> tuple[User, str]:
    """The account and address a confirmation link is for, as long as using it would do
    something. Raises BadLink (400) otherwise."""
    claim = read_verify_token(token)
    user = claim.user
    if claim.address == user.pending_email or (claim.address == user.email and not user.email_verified):
        return user, claim.address
    if claim.address == user.email:
        raise BadLink("This address is already confirmed.")
    raise BadLink("This confirmation link is no longer valid: the address it confirms is not waiting on the account.")


def confirm_email(token: str) -> User:
    """Use a confirmation link: the unconfirmed address becomes confirmed, or the pending new
    address replaces the old one (confirmed). The link does nothing afterwards.

    Raises BadLink (400) for a tampered, expired or used link, or when another account took the
    pending address meanwhile.
    """
    user, address = confirm_target(token)
    if address == user.pending_email and address != user.email:
        if _taken(address, user):
            raise BadLink("Another account uses this address now, so it can't become yours. "
                          "Choose another one in your e-mail settings.")
        user.email = address
    user.pending_email = None
    user.email_verified_at = utcnow()
    db.session.flush()
    return user


def mark_verified(actor: User | None, user: User) -> None:
    """Staff (or the command line: ``actor`` None) vouch for ``user``'s current address; logged.

    Raises PermissionDenied unless the actor moderates, InvalidState when already confirmed.
    """
    if actor is not None:
        require(actor, "moderate")
    if user.email_verified:
        raise InvalidState(f"{user.username}'s e-mail address is already confirmed.")
    user.email_verified_at = utcnow()
    log_action(actor, "verify_email", "user", user.id, before={"email_verified": False},
               after={"email_verified": True})
    db.session.flush()
