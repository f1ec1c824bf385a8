"""Typed loading of one row whose class is chosen at run time ("question" → Question)."""
from __future__ import annotations

from typing import TypeVar

from ..extensions import Base, db

R = TypeVar("R", bound=Base)


def get_row(model: type[R], row_id: int) -> R | None:
    """``db.session.get`` typed by the class passed: with ``type[Question] | type[Answer]`` the
    result is ``Question | Answer | None``, not the declarative base."""
    return db.session.get(model, row_id)
