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
    total: int  # a lower bound when ``exact`` is false (a capped count: "1,000+")
    exact: bool = True
    more: bool | None = None  # whether a next page exists, when known without the count

    @property
    def pages(self) -> int:
        """The number of pages, or when the count was capped the last page known to exist."""
        known = max(1, -(-self.total // self.per_page))
        return known if self.exact else max(known, self.page + 1 if self.more else self.page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        if self.more is not None:
            return self.more
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


def paginate_bounded(stmt: Select[Any], page: int, per_page: int | None = None, *,
                     count: bool = True, cap: int | None = None, total: int | None = None) -> Page[Any]:
    """Run ``stmt`` for one page, with work bounded whatever the size of the table.

    Fetches ``per_page + 1`` rows to know whether a next page exists (and no further than
    MAX_PAGE), and counts only when the page does not tell the total by itself: the count
    stops at ``cap`` rows (at most LIST_COUNT_CAP, its default), beyond which ``total`` is that cap and ``exact``
    is false ("1,000+ questions"). With ``count=False`` it never counts (``exact`` false
    unless the page is the last). A ``total`` known from a counter (a tag's question_count)
    is used instead of counting. The offset itself is bounded by MAX_PAGE * per_page.
    """
    per_page = per_page or current_app.config["PER_PAGE"]
    ceiling = int(current_app.config["LIST_COUNT_CAP"])  # no count goes further, whoever asks
    cap = min(cap, ceiling) if cap else ceiling
    offset = (page - 1) * per_page
    rows = list(db.session.scalars(stmt.limit(per_page + 1).offset(offset)).unique())
    items, more = rows[:per_page], len(rows) > per_page
    more = more and page < int(current_app.config["MAX_PAGE"])
    if len(rows) <= per_page and (rows or page == 1):
        return Page(items=items, page=page, per_page=per_page, total=offset + len(items), more=False)
    if total is not None:
        return Page(items=items, page=page, per_page=per_page, total=max(total, offset + len(items)), more=more)
    if not count:
        return Page(items=items, page=page, per_page=per_page, total=offset + len(rows), exact=False, more=more)
    counted = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).limit(cap + 1).subquery())) or 0
    return Page(items=items, page=page, per_page=per_page, total=min(counted, cap), exact=counted <= cap, more=more)
