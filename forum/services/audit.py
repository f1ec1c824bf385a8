"""The moderation log: every staff action, with who, what, when, why, before and after."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import ModerationLog, User
from .pagination import Page, paginate


def log_action(actor: User | None, action: str, target_type: str, target_id: int, *, reason: str = "",
               before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> ModerationLog:
    """Append one entry in the current transaction (so it commits or rolls back with the action)."""
    entry = ModerationLog(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason[:500],
        before=json.dumps(before or {}, default=str, sort_keys=True),
        after=json.dumps(after or {}, default=str, sort_keys=True),
    )
    db.session.add(entry)
    return entry


def list_log(page: int, target_type: str | None = None, target_id: int | None = None) -> Page[ModerationLog]:
    stmt = select(ModerationLog)
    if target_type:
        stmt = stmt.where(ModerationLog.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(ModerationLog.target_id == target_id)
    return paginate(stmt.order_by(ModerationLog.created_at.desc(), ModerationLog.id.desc()), page, per_page=50)
