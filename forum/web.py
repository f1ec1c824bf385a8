"""HTTP wiring: blueprints, error pages, security headers and sign-in (template globals: templating.py)."""
from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, current_app, flash, jsonify, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException

from . import templating
from .extensions import db, login_manager
from .models import User
from .models.base import utcnow
from .services.errors import ServiceError
from .services.moderation import suspension_message

CSP = (
    "default-src 'self'; img-src 'self' https: ; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
ERROR_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    413: "Too large",
    429: "Slow down",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}
ERROR_TEXT = {
    400: "The request could not be understood. If you were sending a form, go back and try again.",
    403: "You don't have permission to do that.",
    404: "We couldn't find that page. It may have been moved or deleted.",
    405: "That action can't be done this way.",
    413: "What you sent is larger than we accept. Shorten it and try again.",
    429: "You're doing that too often. Wait a minute and try again.",
    500: "Our side failed. The team has been told; please try again in a moment.",
    503: "This part of the site is temporarily unavailable. Please try again in a moment.",
}


class ForumRequest(Request):
    """Drops NUL characters from submitted form values.

    No text a person types contains NUL, PostgreSQL text columns reject it (a 500 where
    SQLite would store it), and some parsers treat it as an end of string. Cleaning it at
    the boundary protects every form, present and future.
    """

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form is not None and any("\x00" in v for _, v in form.items(multi=True)):
            self.__dict__["form"] = ImmutableMultiDict(
                [(k, v.replace("\x00", "")) for k, v in form.items(multi=True)])


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def error_response(status: int, message: str | None = None, help_url: str | None = None) -> tuple[Any, int]:
    """The error page, or ``{"error": {"status", "message"[, "help_url"]}}`` for JSON clients.

    ``help_url`` points to the page that explains the refusal (e.g. /help/privileges).
    """
    message = message or ERROR_TEXT.get(status, "")
    if wants_json():
        error: dict[str, Any] = {"status": status, "message": message}
        if help_url:
            error["help_url"] = help_url
        return jsonify(error=error), status
    title = ERROR_TITLES.get(status, "Error")
    return render_template("errors/error.html", status=status, title=title, message=message,
                           help_url=help_url), status


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # The cookie holds "id:session_token"; a rotated token (logout, password change) no
    # longer matches, so a replayed cookie signs nobody in.
    ident, _, token = user_id.partition(":")
    if not ident.isdigit() or not token:
        return None
    user = db.session.get(User, int(ident))
    if user is None or user.session_token != token:
        return None
    if user.is_suspended(utcnow()):
        _sign_out_suspended(user)
        return None
    return user


def _sign_out_suspended(user: User) -> None:
    """End this browser's session of a suspended user, once, telling them why."""
    for key in ("_user_id", "_fresh", "_id"):
        session.pop(key, None)
    session["_remember"] = "clear"  # Flask-Login drops the remember-me cookie too
    flash(suspension_message(user), "error")


def init_app(app: Flask) -> None:
    from .views import register_blueprints

    app.request_class = ForumRequest
    register_blueprints(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    templating.init_app(app)

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> tuple[Any, int]:
        # A refusal for lack of reputation links to the page listing the privileges.
        help_url = url_for("help.privileges") if getattr(exc, "privilege", None) else None
        return error_response(exc.status, exc.message or None, help_url)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> tuple[Any, int]:
        current_app.logger.info("CSRF rejected: %s", exc.description)
        return error_response(400, "Your form expired or came from another site. Reload the page and try again; your text is not saved.")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        response = error_response(exc.code, None)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            body, status = response
            return body, status, {"Allow": ", ".join(exc.valid_methods)}  # type: ignore[attr-defined]
        return response

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        if app.config["CSP_ENABLED"]:
            headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
