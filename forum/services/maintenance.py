"""Keeping stored HTML in line with the current renderer."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..markup import RENDER_VERSION, render_inline, render_markdown
from ..models import Answer, Article, Comment, Question, User


def rerender(everything: bool = False, batch: int = 500) -> dict[str, int]:
    """Re-render body_html (and bio_html) whose render_version is older than RENDER_VERSION."""
    counts: dict[str, int] = {}
    jobs = (
        ("questions", Question, "body", "body_html", render_markdown),
        ("answers", Answer, "body", "body_html", render_markdown),
        ("comments", Comment, "body", "body_html", render_inline),
        ("bios", User, "bio", "bio_html", render_markdown),
        ("articles", Article, "body", "body_html", render_markdown),
    )
    for label, model, src, dst, render in jobs:
        stmt = select(model)
        if not everything:
            stmt = stmt.where(model.render_version < RENDER_VERSION)
        n = 0
        for row in db.session.scalars(stmt.execution_options(yield_per=batch)):
            text = getattr(row, src)
            setattr(row, dst, render(text) if text.strip() else "")
            row.render_version = RENDER_VERSION
            n += 1
        db.session.flush()
        counts[label] = n
    return counts
