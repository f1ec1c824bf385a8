"""Single sign-on with the company's account (OpenID Connect): who a verified sign-in is, and
the forum accounts it signs in as, creates and links.

The protocol itself (discovery, PKCE, state, nonce, the ID token's signature, issuer, audience
and expiry) is Authlib's, driven by ``forum/views/sso.py``; what reaches this module is a
provider account that has already been verified. The rules here:

- A provider account is known by (issuer, subject) alone, stored in ``user_identities``.
  An e-mail address never links anything by itself: whoever controls a provider account with
  a member's address would otherwise take that member's account over. When a sign-in is not
  linked yet and a local account already has its e-mail, the person links it by proving they
  own that account too: its password, right there (``claim_with_password``, throttled like
  any sign-in), or signed in with it, from Settings → Linked accounts.
- The first sign-in creates a member: the username is derived from the provider's claims (or
  chosen by the person), the e-mail is the provider's, verified when the provider says so.
  The account has no password (``NO_PASSWORD``): it signs in through the provider only.
- Suspended members cannot get in this way either.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..events import EmailVerificationRequested, publish
from ..extensions import db
from ..models import User, UserIdentity
from ..models.base import utcnow
from . import accounts, throttle
from .errors import FieldError, InvalidState, NotFound, PermissionDenied
from .moderation import suspension_message

# Stored as the password hash of accounts created through the provider. It is not an Argon2
# hash, so no password ever verifies against it (argon2 raises InvalidHashError, which
# accounts.check_password reads as a mismatch).
NO_PASSWORD = "!sso"

USERNAME_MAX = 30
USERNAME_MIN = 3
_NOT_USERNAME = re.compile(r"[^A-Za-z0-9_]+")


class EmailInUse(InvalidState):
    """The provider's e-mail belongs to an account here that this provider account is not linked to."""


# ---------------------------------------------------------------- configuration


def enabled() -> bool:
    """True when an issuer and a client id are configured."""
    cfg = current_app.config
    return bool(cfg.get("OIDC_ISSUER") and cfg.get("OIDC_CLIENT_ID"))


def sso_only() -> bool:
    """True when members may sign in only through the provider (staff keep a password sign-in)."""
    return enabled() and bool(current_app.config.get("SSO_ONLY"))


def button_label() -> str:
    """The sign-in button's text ("" when single sign-on is off)."""
    if not enabled():
        return ""
    return str(current_app.config.get("OIDC_LABEL") or f"Sign in with {current_app.config['COMPANY_NAME']}")


def check_settings(config: Mapping[str, Any]) -> None:
    """Refuse a configuration that cannot work, at start-up rather than at the first sign-in.

    Raises RuntimeError when SSO_ONLY is on without an issuer and client id (nobody but staff
    could sign in), or when the scopes lack ``openid`` (no ID token would be issued).
    """
    on = bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))
    if config.get("SSO_ONLY") and not on:
        raise RuntimeError("FORUM_SSO_ONLY needs FORUM_OIDC_ISSUER and FORUM_OIDC_CLIENT_ID.")
    if on and "openid" not in str(config.get("OIDC_SCOPES", "")).split():
        raise RuntimeError("FORUM_OIDC_SCOPES must include 'openid'.")


# ---------------------------------------------------------------- who signed in


@dataclass(frozen=True)
class ProviderIdentity:
    """A provider account whose ID token was verified, with the claims the forum uses."""

    issuer: str
    subject: str
    email: str = ""  # normalised; "" when the provider gave none
    email_verified: bool = False
    preferred_username: str = ""
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProviderIdentity:
        return cls(str(data["issuer"]), str(data["subject"]), str(data.get("email", "")),
                   bool(data.get("email_verified")), str(data.get("preferred_username", "")),
                   str(data.get("name", "")))


def identity_from_claims(id_token: Mapping[str, Any], userinfo: Mapping[str, Any] | None = None) -> ProviderIdentity:
    """The identity in a verified ID token, completed by the userinfo response.

    Providers put the profile claims in the ID token or only at the userinfo endpoint (the
    test provider, like many, does the latter); the ID token's ``iss`` and ``sub`` are the
    ones that count. Raises InvalidState when the token has no issuer or subject, or when the
    userinfo answer is about another subject (OpenID Connect Core 5.3.2: it must not be used).
    """
    issuer, subject = str(id_token.get("iss") or ""), str(id_token.get("sub") or "")
    if not issuer or not subject:
        raise InvalidState("The provider's answer did not say who signed in.")
    claims = dict(id_token)
    if userinfo:
        if str(userinfo.get("sub") or "") != subject:
            raise InvalidState("The provider's answer was inconsistent; sign-in refused.")
        claims.update(userinfo)
    email = claims.get("email")
    verified = claims.get("email_verified")
    return ProviderIdentity(
        issuer=issuer,
        subject=subject,
        email=accounts.normalise_email(email) if isinstance(email, str) and "@" in email else "",
        # Some providers send the string "true"; anything else is "not verified".
        email_verified=verified is True or (isinstance(verified, str) and verified.lower() == "true"),
        preferred_username=str(claims.get("preferred_username") or ""),
        name=str(claims.get("name") or ""),
    )


def find_identity(identity: ProviderIdentity) -> UserIdentity | None:
    row: UserIdentity | None = db.session.scalar(select(UserIdentity).where(
        UserIdentity.issuer == identity.issuer, UserIdentity.subject == identity.subject))
    return row


def resolve_sign_in(identity: ProviderIdentity) -> User | None:
    """The member this provider account signs in as, or None when it is new here.

    Raises PermissionDenied (with the suspension's message) for a suspended member, and
    EmailInUse when the account is new but a member here already has its e-mail address:
    only that member can link the two (``claim_with_password``, or from their settings).
    """
    row = find_identity(identity)
    if row is not None:
        user = db.session.get(User, row.user_id)
        if user is None:  # the member was deleted between the two reads
            return None
        if user.is_suspended(utcnow()):
            raise PermissionDenied(suspension_message(user))
        return user
    if identity.email and _email_taken(identity.email):
        raise EmailInUse(f"An account here already uses {identity.email}.")
    return None


def email_owner(identity: ProviderIdentity) -> User | None:
    """The member here whose e-mail is the provider's (whom this sign-in must not simply become)."""
    if not identity.email:
        return None
    user: User | None = db.session.scalar(select(User).where(User.email == identity.email))
    return user


def _email_taken(email: str) -> bool:
    return db.session.scalar(select(User.id).where(User.email == email)) is not None


# ---------------------------------------------------------------- the first sign-in


def _clean_username(raw: str) -> str:
    """``raw`` as a valid username: accents dropped, other characters as "_", cut to 30; "" if too short."""
    ascii_text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    name = _NOT_USERNAME.sub("_", ascii_text).strip("_")
    name = re.sub(r"_{2,}", "_", name)[:USERNAME_MAX].rstrip("_")
    return name if len(name) >= USERNAME_MIN else ""


def _username_free(name: str) -> bool:
    if name.lower() in accounts.RESERVED_USERNAMES:
        return False
    return db.session.scalar(select(User.id).where(User.username_key == name.lower())) is None


def suggest_username(identity: ProviderIdentity) -> str:
    """A free, valid username from the provider's claims, or "" when none can be made.

    Tries preferred_username, then name, then the e-mail's local part; when every one of them
    is taken, the first with a number appended ("alice_2" … "alice_99").
    """
    local_part = identity.email.split("@", 1)[0] if identity.email else ""
    candidates = [c for c in (_clean_username(raw) for raw in (identity.preferred_username, identity.name, local_part)) if c]
    for name in candidates:
        if _username_free(name):
            return name
    for name in candidates[:1]:
        for n in range(2, 100):
            suffix = f"_{n}"
            numbered = name[:USERNAME_MAX - len(suffix)] + suffix
            if _username_free(numbered):
                return numbered
    return ""


def create_member(identity: ProviderIdentity, username: str, email: str = "") -> User:
    """Create the member a new provider account signs in as, linked to it, and flush.

    ``email`` is used only when the provider gave none (it is then unverified). The username
    goes through the same rules as a registration (``accounts.register``). Raises FieldError
    for a username or e-mail the rules refuse, EmailInUse when the provider's e-mail belongs
    to an account here, InvalidState when the provider account got linked meanwhile.
    """
    if find_identity(identity) is not None:
        raise InvalidState("This company account is already linked to a member here; sign in again.")
    address = identity.email or accounts.normalise_email(email)
    if not address:
        raise FieldError("email", "Enter an e-mail address.")
    if _email_taken(address):
        if identity.email:
            raise EmailInUse(f"An account here already uses {address}; sign in again to link it.")
        raise FieldError("email", "An account with this e-mail address already exists.")
    # Through register, so a username from the provider meets every rule a typed one does. The
    # random password is never told to anyone and is replaced at once: these accounts have none.
    # The provider's word that the address is its owner's counts as our confirmation (an address
    # typed here instead gets the usual confirmation link: services/verification.py).
    verified = identity.email_verified and bool(identity.email)
    user = accounts.register(accounts.Registration(username, address, secrets.token_urlsafe(32)),
                             verified=verified, password_hash=NO_PASSWORD)
    _insert_identity(user, identity, verified=verified)
    if not verified:
        publish(EmailVerificationRequested(user_id=user.id, address=user.email))
    return user


def _insert_identity(user: User, identity: ProviderIdentity, *, verified: bool) -> UserIdentity:
    row = UserIdentity(user_id=user.id, issuer=identity.issuer, subject=identity.subject,
                       email=identity.email, email_verified=verified)
    try:
        # A savepoint: two tabs finishing the same first sign-in at once meet the unique
        # constraint, and the loser gets a message instead of a failed transaction.
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise InvalidState("This company account was just linked to a member here; sign in again.") from None
    return row


def claim_with_password(identity: ProviderIdentity, password: str, ip: str | None) -> User:
    """Link ``identity`` to the member who has its e-mail, proven by that member's password; flush.

    The password is checked through the sign-in throttle, so guesses here count like guesses
    on the login form. Raises FieldError("password") when it does not match, LoginThrottled
    (429) while the account or IP is throttled, PermissionDenied for a suspended member, and
    InvalidState when no member has the e-mail any more or the identity got linked meanwhile.
    """
    if email_owner(identity) is None:
        raise InvalidState("No account here uses that e-mail address any more; sign in again.")
    user = throttle.sign_in(identity.email, password, ip)
    if user is None:
        raise FieldError("password", "That is not the password of this account.")
    if user.is_suspended(utcnow()):
        raise PermissionDenied(suspension_message(user))
    link(user, identity)
    return user


# ---------------------------------------------------------------- settings: linked accounts


def identities_of(user: User) -> list[UserIdentity]:
    return list(db.session.scalars(
        select(UserIdentity).where(UserIdentity.user_id == user.id).order_by(UserIdentity.id)))


def has_password(user: User) -> bool:
    return user.password_hash != NO_PASSWORD


def link(user: User, identity: ProviderIdentity) -> UserIdentity:
    """Link a verified provider account to ``user`` (who is signed in) and flush.

    Raises InvalidState when the provider account is already linked, to this member or another.
    """
    row = find_identity(identity)
    if row is not None:
        if row.user_id == user.id:
            raise InvalidState("That company account is already linked to yours.")
        raise InvalidState("That company account is linked to another member here. Sign in with it to use "
                           "that account, or ask an administrator.")
    return _insert_identity(user, identity, verified=identity.email_verified and bool(identity.email))


def unlink(user: User, identity_id: int) -> None:
    """Remove one of ``user``'s linked provider accounts and flush.

    Raises NotFound when ``identity_id`` is not one of theirs, and InvalidState when it is the
    only way they can sign in (an account created through the provider has no password).
    """
    row = db.session.get(UserIdentity, identity_id)
    if row is None or row.user_id != user.id:
        raise NotFound("No such linked account.")
    if not has_password(user) and len(identities_of(user)) <= 1:
        raise InvalidState("This is the only way you sign in, so it cannot be unlinked.")
    db.session.delete(row)
    db.session.flush()
