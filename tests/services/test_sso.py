"""The rules of single sign-on (forum/services/sso.py) below HTTP: claims, usernames, claiming
an account by its password. The flows over HTTP against a real provider are in tests/oidc/."""
from __future__ import annotations

from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models.base import utcnow
from forum.services import accounts, sso, throttle
from forum.services.errors import FieldError, InvalidState, PermissionDenied
from forum.services.sso import ProviderIdentity

ISSUER = "https://login.acme.example"


def test_userinfo_about_another_subject_is_refused() -> None:
    with pytest.raises(InvalidState):
        sso.identity_from_claims({"iss": ISSUER, "sub": "a"}, {"sub": "b", "email": "b@acme.example"})


def test_claims_are_completed_by_userinfo_and_normalised() -> None:
    identity = sso.identity_from_claims({"iss": ISSUER, "sub": "a", "name": "From token"},
                                        {"sub": "a", "email": " Ann@ACME.example ", "email_verified": "true"})
    assert identity == ProviderIdentity(ISSUER, "a", "ann@acme.example", True, "", "From token")
    assert sso.identity_from_claims({"iss": ISSUER, "sub": "a", "email": "x@y.z"}).email_verified is False
    with pytest.raises(InvalidState):
        sso.identity_from_claims({"iss": ISSUER})


def test_usernames_are_made_valid_and_unique(app, make_user) -> None:
    def suggest(**claims: str) -> str:
        return sso.suggest_username(ProviderIdentity(ISSUER, "s", **claims))

    assert suggest(preferred_username="José.García-López") == "Jose_Garcia_Lopez"
    assert suggest(preferred_username="admin", email="pat@acme.example") == "pat"  # reserved words are skipped
    assert suggest(name="x" * 40) == "x" * 30
    assert suggest(preferred_username="李", name="!!") == ""
    make_user("pat")
    make_user("pat_2")
    assert suggest(preferred_username="pat", email="Pat@acme.example") == "pat_3"


def test_claiming_an_account_needs_its_password_and_counts_as_a_sign_in(app, make_user) -> None:
    owner = make_user("dana", email="dana@acme.example", password="danas-password-1")
    identity = ProviderIdentity(ISSUER, "dana-sso", "dana@acme.example", True)
    app.config.update(LOGIN_THROTTLE_PER_IP="3 per 15 minutes", LOGIN_THROTTLE_PER_ACCOUNT="50 per 5 minutes")
    for _ in range(3):
        with pytest.raises(FieldError):
            sso.claim_with_password(identity, "a wrong guess!", "203.0.113.9")
    with pytest.raises(throttle.LoginThrottled):  # even the right password, from that IP, for now
        sso.claim_with_password(identity, "danas-password-1", "203.0.113.9")
    assert sso.identities_of(owner) == []
    assert sso.claim_with_password(identity, "danas-password-1", "198.51.100.4") is owner
    db.session.flush()
    assert [i.subject for i in sso.identities_of(owner)] == ["dana-sso"]
    with pytest.raises(InvalidState):  # and only once
        sso.link(owner, identity)


def test_a_suspended_member_cannot_claim_or_sign_in(app, make_user) -> None:
    owner = make_user("eve", email="eve@acme.example", password="eves-password-12")
    owner.suspended_until = utcnow() + timedelta(days=1)
    identity = ProviderIdentity(ISSUER, "eve-sso", "eve@acme.example", True)
    with pytest.raises(PermissionDenied):
        sso.claim_with_password(identity, "eves-password-12", "203.0.113.1")


def test_an_account_created_through_the_provider_has_no_password(app) -> None:
    user = sso.create_member(ProviderIdentity(ISSUER, "new-1", "new@acme.example", True), "newbie")
    db.session.flush()
    assert not sso.has_password(user)
    assert accounts.check_password(user, sso.NO_PASSWORD) is None
    with pytest.raises(InvalidState):  # its only way in cannot be unlinked
        sso.unlink(user, sso.identities_of(user)[0].id)


def test_sso_only_needs_a_provider_and_scopes_need_openid() -> None:
    with pytest.raises(RuntimeError, match="FORUM_SSO_ONLY"):
        sso.check_settings({"SSO_ONLY": True, "OIDC_ISSUER": None, "OIDC_CLIENT_ID": None})
    with pytest.raises(RuntimeError, match="openid"):
        sso.check_settings({"OIDC_ISSUER": ISSUER, "OIDC_CLIENT_ID": "c", "OIDC_SCOPES": "email profile"})
    sso.check_settings({"OIDC_ISSUER": ISSUER, "OIDC_CLIENT_ID": "c", "OIDC_SCOPES": "openid email"})
