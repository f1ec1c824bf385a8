"""Bounded pagination for every list."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import current_app
from sqlalchemy import Select, func, select

from ..extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def clamp_page(raw: Any) -> int:
    """Turn a query-string page into a number between 1 and MAX_PAGE (bad input -> 1)."""
    try:
        page = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), int(current_app.config["MAX_PAGE"]))


def paginate(stmt: Select[Any], page: int, per_page: int | None = None) -> Page[Any]:
    """Run ``stmt`` (already ordered with a unique tie-breaker) for one page plus a count."""
    per_page = per_page or current_app.config["PER_PAGE"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, page=page, per_page=per_page, total=total)
