"""The error page, or its JSON twin, for every refusal and failure a request can meet.

Kept apart from ``forum/web.py`` so that views can answer JSON clients without importing
the module that registers them.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request

ERROR_TITLES = {
    400: "Bad request",
    401: "Sign in first",
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
    401: "Sign in first.",
    405: "That action can't be done this way.",
    413: "What you sent is larger than we accept. Shorten it and try again.",
    429: "You're doing that too often. Wait a minute and try again.",
    500: "Our side failed. The team has been told; please try again in a moment.",
    503: "This part of the site is temporarily unavailable. Please try again in a moment.",
}


ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


def is_api() -> bool:
    """True while answering the REST API (``forum/api``)."""
    return request.path.startswith("/api/")


def wants_json() -> bool:
    """True for the API and for scripts that ask for JSON (votes, the composer's helpers)."""
    return is_api() or (
        request.accept_mimetypes.best == "application/json"
    )


def error_response(status: int, message: str | None = None, help_url: str | None = None,
                   field: str | None = None, code: str | None = None) -> tuple[Any, int]:
    """The error page, or ``{"error": {"code", "status", "message", "field"[, "help_url"]}}`` for
    JSON clients (the API's one error shape, docs/api.md).

    ``code`` is a stable machine-readable word (default: by status, :data:`ERROR_CODES`);
    ``help_url`` points to the page that explains the refusal (e.g. /help/privileges);
    ``field`` names the input a FieldError is about (JSON only: the page has no form; null
    when the error is about no one field).
    """
    message = message or ERROR_TEXT.get(status, "")
    if wants_json():
        error: dict[str, Any] = {"code": code or ERROR_CODES.get(status, "error"), "status": status,
                                 "message": message, "field": field}
        if help_url:
            error["help_url"] = help_url
        return jsonify(error=error), status
    title = ERROR_TITLES.get(status, "Error")
    return render_template("errors/error.html", status=status, title=title, message=message,
                           help_url=help_url), status
