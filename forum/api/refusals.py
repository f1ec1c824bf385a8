"""The error responses an operation documents in the OpenAPI (each in the one error shape), so a
client, and schemathesis, know every status it can answer besides its own 422 for bad input."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_smorest import Blueprint

from .schemas import Error

UNAUTHORIZED = (401, "No token, or one that is not valid.")
FORBIDDEN = (403, "The token lacks the scope, or its member may not do this (as on the pages).")
BAD_CURSOR = (400, "A cursor this API did not hand out.")


def documents(bp: Blueprint, *answers: tuple[int, str]) -> Callable[[Any], Any]:
    """Document ``(status, description)`` error answers of an operation of ``bp``."""
    def decorate(view: Any) -> Any:
        for status, description in answers:
            view = bp.alt_response(status, schema=Error, description=description)(view)
        return view
    return decorate
