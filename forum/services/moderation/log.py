"""The moderation log page: every logged action, newest first, with its targets loaded."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ...extensions import db
from ...models import ModerationLog, User
from ..audit import list_log
from ..flags import PostRef, load_posts
from ..pagination import Page
from ..permissions import require

LOG_TARGET_TYPES = ("question", "answer", "comment", "user", "watched_word", "tag", "site")


@dataclass
class LogPage:
    page: Page[ModerationLog]
    posts: dict[tuple[str, int], PostRef]
    users: dict[int, User]


def log_page(viewer: User, page: int, target_type: str | None = None, target_id: int | None = None) -> LogPage:
    """The moderation log, newest first, with its targets loaded (a fixed number of queries).

    Raises PermissionDenied unless the viewer is staff ("view_moderation_log").
    """
    require(viewer, "view_moderation_log")
    if target_type not in LOG_TARGET_TYPES:
        target_type, target_id = None, None
    result = list_log(page, target_type, target_id)
    posts = load_posts([(e.target_type, e.target_id) for e in result.items
                        if e.target_type in ("question", "answer", "comment")])
    user_ids = {e.target_id for e in result.items if e.target_type == "user"}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    return LogPage(result, posts, users)
