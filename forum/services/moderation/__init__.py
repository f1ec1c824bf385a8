"""Moderators act on flagged posts, the review queue and people; the log page.

By area: people.py (suspend, silence, warn, notes), flags.py (resolving flags), review.py (the
review queue, un-hiding, restoring) and log.py (the log page). Watched words are managed in
services/safety.py, beside the check that uses them.

Every action checks the permission rule first, changes rows, appends one entry (or two) to
the moderation log with before/after, and flushes; the view commits once. Nothing a
customer wrote is destroyed: "delete" is the soft deletion of the delete services, "hide"
and "reject" hide the post, and both can be undone (``unhide``, ``restore``).
"""
from __future__ import annotations

from .common import REASON_MAX
from .flags import FLAG_ACTIONS, OUTCOMES, act_on_flags
from .log import LOG_TARGET_TYPES, LogPage, log_page
from .people import (
    NOTE_MAX,
    UserTools,
    add_note,
    format_until,
    list_notes,
    posting_block,
    silence_user,
    suspend_user,
    suspension_message,
    unsilence_user,
    unsuspend_user,
    user_tools,
    warn_user,
)
from .review import (
    HIDDEN_LABELS,
    ReviewItem,
    approve_post,
    hidden_label,
    reject_post,
    restore,
    review_count,
    review_queue,
    unhide,
)

__all__ = [
    "FLAG_ACTIONS", "HIDDEN_LABELS", "LOG_TARGET_TYPES", "NOTE_MAX", "OUTCOMES", "REASON_MAX", "LogPage", "ReviewItem",
    "UserTools", "act_on_flags", "add_note", "approve_post", "format_until", "hidden_label", "list_notes", "log_page",
    "posting_block", "reject_post", "restore", "review_count", "review_queue", "silence_user", "suspend_user",
    "suspension_message", "unhide", "unsilence_user", "unsuspend_user", "user_tools", "warn_user",
]
