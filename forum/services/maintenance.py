"""Keeping stored HTML (and the link table built from it) in line with the current renderer."""
from __future__ import annotations

from typing import cast

from sqlalchemy import select

from ..extensions import db
from ..markup import RENDER_VERSION, render_markdown
from ..models import Answer, Article, CaseEvent, Comment, Question, User
from .links import record_links, remote_images, render_body, source_of
from .mentions import record_mentions


def rerender(everything: bool = False, batch: int = 500) -> dict[str, int]:
    """Re-render body_html (and bio_html) whose render_version is older than RENDER_VERSION.

    Posts also get their links rebuilt and their mentions recorded, without notifying
    anyone (the mention is not new; only the renderer is).
    """
    counts: dict[str, int] = {}
    jobs: tuple[tuple[str, type[Question] | type[Answer] | type[Comment] | type[Article], bool], ...] = (
        ("questions", Question, False),
        ("answers", Answer, False),
        ("comments", Comment, True),
        ("articles", Article, False),
    )
    for label, model, inline in jobs:
        # Batches by id, not one streaming cursor: the bookkeeping runs statements between rows.
        n, last = 0, 0
        while True:
            stmt = select(model).where(model.id > last).order_by(model.id).limit(batch)
            if not everything:
                stmt = stmt.where(model.render_version < RENDER_VERSION)
            # select() over a union of classes is typed as the declarative base.
            rows = cast(list[Question | Answer | Comment | Article], list(db.session.scalars(stmt)))
            for row in rows:
                rendered = render_body(row.body, inline=inline)
                row.body_html = rendered.html if row.body.strip() else ""
                row.render_version = RENDER_VERSION
                record_links(*source_of(row), rendered.links)
                record_mentions(row, rendered.mentions, None, notify=False)
            db.session.flush()
            n += len(rows)
            if len(rows) < batch:
                break
            last = rows[-1].id
        counts[label] = n
    users = select(User)
    if not everything:
        users = users.where(User.render_version < RENDER_VERSION)
    n = 0
    for user in db.session.scalars(users.execution_options(yield_per=batch)):
        user.bio_html = render_markdown(user.bio, remote_images=remote_images()) if user.bio.strip() else ""
        user.render_version = RENDER_VERSION
        n += 1
    db.session.flush()
    counts["bios"] = n
    # Case messages (private: a remote image there would tell its host who reads the case).
    messages = select(CaseEvent).where(CaseEvent.body != "")
    if not everything:
        messages = messages.where(CaseEvent.render_version < RENDER_VERSION)
    n = 0
    for message in db.session.scalars(messages.execution_options(yield_per=batch)):
        message.body_html = render_markdown(message.body, remote_images=remote_images())
        message.render_version = RENDER_VERSION
        n += 1
    db.session.flush()
    counts["case messages"] = n
    return counts
