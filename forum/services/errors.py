"""Errors raised by services; views map them to pages, form errors or JSON."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


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

    def each(self) -> tuple[FieldError, ...]:
        """Every field error this refusal carries: itself (FieldErrors: one per bad field)."""
        return (self,)


class FieldErrors(FieldError):
    """Several fields are invalid at once (``errors``, one per field, in the form's order), so a
    form shows every problem after one submit. ``field`` and ``message`` are the first's."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(errors[0].field, errors[0].message)
        self.errors: tuple[FieldError, ...] = tuple(errors)

    def each(self) -> tuple[FieldError, ...]:
        return self.errors


def check_fields(*checks: Callable[[], Any]) -> list[Any]:
    """Run every check, also after one has failed, and return their results in order.

    Raises FieldErrors with every FieldError the checks raised (the only one, when one failed),
    so that a person fixing a form learns all its problems at once, not one per round trip.
    """
    results: list[Any] = []
    failed: list[FieldError] = []
    for check in checks:
        try:
            results.append(check())
        except FieldError as exc:
            failed.extend(exc.each())
            results.append(None)
    if len(failed) == 1:
        raise failed[0]
    if failed:
        raise FieldErrors(failed)
    return results


class RateLimited(ServiceError):
    """The author posts faster than their role allows; the message says when to try again,
    ``retry_after`` (seconds, when known) goes out as the Retry-After header."""

    status = 429

    def __init__(self, message: str = "", retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
