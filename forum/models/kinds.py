"""Closed sets of names the code passes around as strings, typed so that a typo fails mypy.

``Action`` is every action of the permission matrix (``services/permissions.py``: ``RULES``,
``can``, ``require``); a Literal rather than an enum because templates pass the same names as
plain strings. ``LedgerReason`` is every ``ReputationEvent.reason`` the code writes (the column
stores the value). tests/unit/test_kinds.py keeps both equal to what the services use.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args

Action = Literal[
    # Reading and posting
    "view", "view_history", "ask", "answer", "comment",
    # Votes: "vote" may vote here at all (and withdraw); up and down need their privileges
    "vote", "vote_up", "vote_down",
    # "This solved my problem too" (services/solved_too.py)
    "solved_too",
    # Editing and deleting posts
    "edit", "suggest_edit", "review_edits", "delete", "restore", "edit_comment", "delete_comment",
    "see_deleted", "set_role",
    # The admin area (/admin): members and roles, mail, site settings
    "administer",
    # Curation: staff
    "accept", "mark_official", "close", "reopen", "lock", "unlock", "pin", "unpin",
    "write_article", "edit_article", "promote_to_article", "rate_article", "announce", "create_tag", "edit_tag",
    # Notifications and mail
    "follow", "manage_mail",
    # Moderation
    "flag", "moderate", "hide", "suspend", "note_user", "view_moderation_log", "manage_watched_words",
    # Support desk
    "support", "edit_playbooks", "open_case", "view_case", "write_case", "manage_case",
    # Insights (/insights, the weekly report): staff
    "view_insights",
]
ACTIONS: frozenset[str] = frozenset(get_args(Action))

UNDO = "undo:"  # a reversal row's reason is UNDO + the reason it reverses


class LedgerReason(StrEnum):
    """Why a reputation ledger row was written; amounts are in services/reputation.py."""

    UPVOTE = "upvote"  # to the post's author
    DOWNVOTE = "downvote"  # to the post's author
    DOWNVOTE_CAST = "downvote_cast"  # to a member downvoting an answer
    ACCEPTED = "accepted"  # to the accepted answer's author
    ACCEPT = "accept"  # to the asker accepting someone else's answer
    SUGGESTED_EDIT = "suggested_edit"  # to the member whose suggested edit was approved
    DEMO_HISTORY = "demo_history"  # demo seed: reputation earned before the recorded history
    UNDO_UPVOTE = "undo:upvote"
    UNDO_DOWNVOTE = "undo:downvote"
    UNDO_DOWNVOTE_CAST = "undo:downvote_cast"
    UNDO_ACCEPTED = "undo:accepted"
    UNDO_ACCEPT = "undo:accept"

    def undone(self) -> LedgerReason:
        """The reason of the row that reverses one of this reason.

        Raises ValueError for a reason nothing reverses (an adjustment, or an undo itself).
        """
        return LedgerReason(UNDO + self.value)
