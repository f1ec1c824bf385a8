"""The error page, or its JSON twin, for every refusal and failure a request can meet.

Kept apart from ``forum/web.py`` so that views can answer JSON clients without importing
the module that registers them.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request

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


def wants_json() -> bool:
    """True for the API and for scripts that ask for JSON (votes, the composer's helpers)."""
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def error_response(status: int, message: str | None = None, help_url: str | None = None,
                   field: str | None = None) -> tuple[Any, int]:
    """The error page, or ``{"error": {"status", "message"[, "help_url"][, "field"]}}`` for JSON clients.

    ``help_url`` points to the page that explains the refusal (e.g. /help/privileges);
    ``field`` names the input a FieldError is about (JSON only: the page has no form).
    """
    message = message or ERROR_TEXT.get(status, "")
    if wants_json():
        error: dict[str, Any] = {"status": status, "message": message}
        if help_url:
            error["help_url"] = help_url
        if field:
            error["field"] = field
        return jsonify(error=error), status
    title = ERROR_TITLES.get(status, "Error")
    return render_template("errors/error.html", status=status, title=title, message=message,
                           help_url=help_url), status
