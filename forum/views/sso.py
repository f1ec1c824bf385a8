"""Single sign-on with the company's account: the OpenID Connect round trip, the first sign-in's
account form, and Settings → Linked accounts.

Authlib's Flask client does the protocol: discovery from ``<issuer>/.well-known/openid-configuration``,
the authorization request with PKCE (S256), ``state`` and ``nonce`` kept in the session, the
code exchange, and the ID token's signature, issuer, audience, expiry and nonce. A callback whose
state this browser did not start, or that was already used, is refused with a 400 page.

The callback answers a GET (the provider sends the browser there), and GET never writes here
(``formglue.guard_reads``). So it only verifies: the provider account is kept in the session
(signed, for ``PENDING_SECONDS``) and a POST finishes. ``/sso/continue`` signs a linked member in
(the page submits itself; without JavaScript it is one button), so whatever signing in writes is
committed like any sign-in; the first time, it is the "Create your account" form. A link from
settings is finished by the "Link this account" button.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import requests
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..forms import ActionForm
from ..forms.sso import SsoAccountForm, SsoClaimForm
from ..services import sso, throttle
from ..services.errors import ServiceError
from ..services.sso import ProviderIdentity
from .auth import start_session
from .formglue import NOT_SAVED, flashed, form_status, save, writes
from .redirects import next_from_request, safe_next

bp = Blueprint("sso", __name__)
log = logging.getLogger(__name__)

# The verified provider account waiting for a POST: {"identity": {...}, "at": epoch seconds,
# "next": path} for a first sign-in, or with "link": user id for a link from settings.
PENDING = "sso_pending"
PENDING_SECONDS = 600
_EXTENSION = "forum.sso"


def _client() -> Any:
    """Authlib's client for the configured provider, built once per app and configuration."""
    cfg = current_app.config
    key = (cfg["OIDC_ISSUER"], cfg["OIDC_CLIENT_ID"], cfg.get("OIDC_CLIENT_SECRET"), cfg["OIDC_SCOPES"],
           cfg["OIDC_TIMEOUT"])
    cached = current_app.extensions.get(_EXTENSION)
    if cached is None or cached[0] != key:
        # Authlib (with joserfc and cryptography) is imported on the first sign-in, not by every
        # web worker: about 11 MiB each, for a feature most sites leave off (issue 11's memory).
        from authlib.integrations.flask_client import OAuth

        client_kwargs: dict[str, Any] = {"scope": cfg["OIDC_SCOPES"], "code_challenge_method": "S256",
                                         "default_timeout": float(cfg["OIDC_TIMEOUT"])}
        if not cfg.get("OIDC_CLIENT_SECRET"):
            client_kwargs["token_endpoint_auth_method"] = "none"  # a public client: PKCE alone
        client = OAuth(current_app).register(
            "oidc",
            client_id=cfg["OIDC_CLIENT_ID"],
            client_secret=cfg.get("OIDC_CLIENT_SECRET") or None,
            server_metadata_url=f"{cfg['OIDC_ISSUER'].rstrip('/')}/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
        )
        cached = (key, client)
        current_app.extensions[_EXTENSION] = cached
    return cached[1]


def redirect_uri() -> str:
    """The callback URL to register at the provider: SITE_URL + /sso/callback."""
    return current_app.config["SITE_URL"].rstrip("/") + url_for("sso.callback")


def _refused(status: int, message: str, *, retry: bool = True) -> tuple[str, int]:
    """A page in the site's layout saying why the sign-in did not happen, and where to go."""
    return render_template("sso/refused.html", status=status, message=message, retry=retry), status


def _to_provider(intent: dict[str, Any], **params: str) -> ResponseReturnValue:
    """Redirect to the provider's authorization endpoint, with ``intent`` kept beside this flow's state."""
    client = _client()
    try:
        metadata = client.load_server_metadata()
        if metadata.get("issuer") != current_app.config["OIDC_ISSUER"]:
            # OpenID Connect Discovery 4.3: the document must name the issuer it was fetched for.
            log.error("OIDC discovery names issuer %r, FORUM_OIDC_ISSUER is %r; they must be equal",
                      metadata.get("issuer"), current_app.config["OIDC_ISSUER"])
            return _refused(502, "Single sign-on is misconfigured on our side. Please try again later.", retry=False)
        rv = client.create_authorization_url(redirect_uri(), **params)
    except (requests.RequestException, ValueError, KeyError):
        log.warning("OIDC provider unreachable", exc_info=True)
        return _refused(502, "The sign-in service could not be reached. Please try again in a moment.")
    # Kept with the state Authlib checks, so two tabs signing in at once keep their own intent.
    # The URL itself is not needed back and would only grow the session cookie.
    client.save_authorize_data(redirect_uri=redirect_uri(), intent=intent, **{k: v for k, v in rv.items() if k != "url"})
    return redirect(rv["url"])


@bp.route("/sso/login")
def login() -> ResponseReturnValue:
    """Start signing in (or, the first time, signing up) with the provider."""
    if not sso.enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(next_from_request(url_for("main.index")))
    return _to_provider({"action": "sign_in", "next": next_from_request(url_for("main.index"))})


@bp.route("/sso/callback")
def callback() -> ResponseReturnValue:
    """Where the provider sends the browser back: verify, then sign in or ask for a POST."""
    if not sso.enabled():
        abort(404)
    from authlib.common.errors import AuthlibBaseError
    from authlib.integrations.base_client.errors import MismatchingStateError
    from joserfc.errors import JoseError

    client = _client()
    state = client.framework.get_state_data(session, request.args.get("state")) or {}
    intent: dict[str, Any] = state.get("intent") or {}
    try:
        token = client.authorize_access_token()
        claims = token.get("userinfo")  # the ID token's claims, verified by Authlib
        if not claims:
            return _refused(400, "The sign-in service sent no ID token, so the sign-in could not be verified.")
        userinfo = client.userinfo(token=token) if client.server_metadata.get("userinfo_endpoint") else None
        identity = sso.identity_from_claims(claims, userinfo)
    except MismatchingStateError:
        return _refused(400, "This sign-in did not start in this browser, or its link was already used. "
                             "Nothing was changed; start again.")
    except AuthlibBaseError as exc:
        if exc.error == "access_denied":
            return _refused(400, "The sign-in was cancelled at the sign-in service.")
        log.info("OIDC sign-in refused: %s %s", exc.error, exc.description)
        return _refused(400, f"The sign-in service refused the sign-in ({exc.error}). Start again.")
    except JoseError as exc:
        log.warning("OIDC ID token rejected: %s", exc)
        return _refused(400, "The sign-in could not be verified. Start again.")
    except requests.RequestException:
        log.warning("OIDC provider unreachable at the callback", exc_info=True)
        return _refused(502, "The sign-in service could not be reached. Please try again in a moment.")
    except ServiceError as exc:
        return _refused(400, exc.message)
    if intent.get("action") == "link":
        return _link_returned(identity, intent)
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    try:
        sso.resolve_sign_in(identity)  # a suspended member is refused now, before any form
    except sso.EmailInUse:
        pass  # /sso/continue asks for that account's password; the e-mail alone links nothing
    except ServiceError as exc:
        return _refused(exc.status, exc.message, retry=False)
    session[PENDING] = {"identity": identity.to_dict(), "at": time.time(),
                        "next": safe_next(intent.get("next"), url_for("main.index"))}
    return redirect(url_for("sso.finish"))


def _pending(link_user_id: int | None = None) -> tuple[ProviderIdentity, dict[str, Any]] | None:
    """The verified provider account waiting in the session for this purpose, if still fresh."""
    data = session.get(PENDING)
    if not isinstance(data, dict) or time.time() - float(data.get("at", 0)) > PENDING_SECONDS:
        return None
    if data.get("link") != link_user_id:
        return None
    return ProviderIdentity.from_dict(data["identity"]), data


@bp.route("/sso/continue", methods=["GET", "POST"])
@writes
def finish() -> ResponseReturnValue:
    """Finish a verified sign-in with a POST: a linked member is signed in (the page submits
    itself; without JavaScript it is one button); the first time, the person confirms or chooses
    a username and the account is created."""
    pending = _pending()
    if pending is None or current_user.is_authenticated:
        flash("That sign-in has expired. Please sign in again.", "info")
        return redirect(url_for("auth.login"))
    identity, data = pending
    next_url = safe_next(data.get("next"), url_for("main.index"))
    if sso.find_identity(identity) is not None:
        form = ActionForm()
        if form.validate_on_submit():
            user = save(None, lambda: sso.resolve_sign_in(identity), refused=flashed("error"))
            if user is NOT_SAVED or user is None:  # refused (flashed), or unlinked meanwhile
                return redirect(url_for("auth.login"))
            start_session(user, remember=False)  # also drops the pending sign-in
            return redirect(next_url)
        return render_template("sso/continue.html", form=form)
    owner = sso.email_owner(identity)
    if owner is not None:
        return _claim(identity, next_url, has_password=sso.has_password(owner))
    form = SsoAccountForm()
    if request.method == "GET":
        form.username.data = sso.suggest_username(identity)
        if not form.username.data:
            form.username.errors = ["Choose a username: none could be made from your company account."]
    elif form.validate_on_submit():
        user = save(form, lambda: sso.create_member(identity, form.username.data, form.email.data or ""))
        if user is not NOT_SAVED:
            start_session(user, remember=False)
            flash(f"Welcome, {user.username}! Your account is ready.", "success")
            return redirect(next_url)
    return render_template("sso/welcome.html", form=form, identity=identity), form_status(form)


def _claim(identity: ProviderIdentity, next_url: str, *, has_password: bool) -> ResponseReturnValue:
    """A member here has the provider's e-mail: link only with that account's password."""
    form = SsoClaimForm()
    if has_password and form.validate_on_submit():
        try:
            user = save(form, lambda: sso.claim_with_password(identity, form.password.data, request.remote_addr))
        except throttle.LoginThrottled as exc:
            form.form_errors.append(exc.message)
            form.password.data = ""
            return (render_template("sso/claim.html", form=form, identity=identity, has_password=has_password),
                    429, {"Retry-After": str(exc.retry_after)})
        if user is not NOT_SAVED:
            start_session(user, remember=False)
            flash("Your company account is linked to your account here. Next time the button signs you in.",
                  "success")
            return redirect(next_url)
    form.password.data = ""
    return render_template("sso/claim.html", form=form, identity=identity, has_password=has_password), \
        form_status(form)


def _link_returned(identity: ProviderIdentity, intent: dict[str, Any]) -> ResponseReturnValue:
    """Back from the provider to link an account: confirm on the settings page (a POST writes)."""
    if not current_user.is_authenticated or current_user.id != intent.get("user_id"):
        return _refused(400, "Sign in to the account you want to link, then start again from Settings.")
    existing = sso.find_identity(identity)
    if existing is not None:
        flash("That company account is already linked to yours." if existing.user_id == current_user.id
              else "That company account is linked to another member here, so it cannot be linked to yours.",
              "info" if existing.user_id == current_user.id else "error")
        return redirect(url_for("sso.linked_accounts"))
    session[PENDING] = {"identity": identity.to_dict(), "at": time.time(), "link": current_user.id}
    return redirect(url_for("sso.linked_accounts"))


@bp.route("/settings/linked-accounts")
@login_required
def linked_accounts() -> ResponseReturnValue:
    pending = _pending(current_user.id)
    return render_template("users/settings_linked.html", section="linked", form=ActionForm(),
                           identities=sso.identities_of(current_user), has_password=sso.has_password(current_user),
                           pending=pending[0] if pending else None)


@bp.route("/settings/linked-accounts/link")
@login_required
def start_link() -> ResponseReturnValue:
    """Go to the provider to sign in (afresh) with the account to link.

    A link, not a form: the Content-Security-Policy's ``form-action 'self'`` stops a form whose
    answer redirects to another site. Nothing is linked here; that takes the confirming POST.
    """
    if not sso.enabled():
        abort(404)
    return _to_provider({"action": "link", "user_id": current_user.id}, prompt="login")


@bp.route("/settings/linked-accounts/confirm", methods=["POST"])
@login_required
@writes
def confirm_link() -> ResponseReturnValue:
    pending = _pending(current_user.id)
    if not ActionForm().validate_on_submit() or pending is None:
        flash("That link request has expired. Start again.", "info")
        return redirect(url_for("sso.linked_accounts"))
    session.pop(PENDING, None)
    if save(None, lambda: sso.link(current_user, pending[0])) is not NOT_SAVED:
        flash("Your company account is linked. You can sign in with it from now on.", "success")
    return redirect(url_for("sso.linked_accounts"))


@bp.route("/settings/linked-accounts/<int:identity_id>/unlink", methods=["POST"])
@login_required
@writes
def unlink(identity_id: int) -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        if save(None, lambda: sso.unlink(current_user, identity_id), refused=flashed("error")) is not NOT_SAVED:
            flash("The account is unlinked; it no longer signs you in here.", "success")
    return redirect(url_for("sso.linked_accounts"))
