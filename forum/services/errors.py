"""Errors raised by services; views map them to pages, form errors or JSON."""
from __future__ import annotations


class ServiceError(Exception):
    """Base class: a request that the rules refuse."""

    status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    status = 404


class PermissionDenied(ServiceError):
    status = 403


class InvalidState(ServiceError):
    """The object is in a state that forbids the action (e.g. editing a deleted post)."""

    status = 409


class FieldError(ServiceError):
    """One input field is invalid; ``field`` names the form field the message belongs to."""

    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RateLimited(ServiceError):
    """The author posts faster than their role allows; the message says when to try again,
    ``retry_after`` (seconds, when known) goes out as the Retry-After header."""

    status = 429

    def __init__(self, message: str = "", retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
