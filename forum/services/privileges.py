"""Privileges: what a member may do once their reputation reaches a threshold.

The thresholds live in config (``PRIVILEGE_*``, overridable with ``FORUM_PRIVILEGE_*``) and are
read on every check, so a changed setting applies at once. Staff have every privilege.
``services/permissions.py`` asks ``has_privilege`` inside its rules; nothing else decides.

The new-member limits (links held for review, a lower posting rate) are the other side of the
same ladder: ``services/safety.py`` applies them to new members (``services/membership.py``),
and they lift at ``NEW_MEMBER_REPUTATION`` reputation or ``NEW_MEMBER_POSTS`` published posts;
``new_member_limits`` describes them with the figures from config for ``/help/privileges``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from .errors import PermissionDenied
from .membership import is_new_member


@dataclass(frozen=True)
class Privilege:
    key: str
    label: str
    config_key: str
    description: str
    # Used in refusals: "<verb> needs 125 reputation; you have 12."
    verb: str


PRIVILEGES: tuple[Privilege, ...] = (
    Privilege("upvote", "Vote up", "PRIVILEGE_UPVOTE",
              "Mark questions and answers that are useful; upvotes give their authors reputation.", "Upvoting"),
    Privilege("comment_everywhere", "Comment everywhere", "PRIVILEGE_COMMENT_EVERYWHERE",
              "Comment on anyone's question or answer. Before this you can comment on your own posts "
              "and on answers to your own questions.", "Commenting on other people's posts"),
    Privilege("downvote", "Vote down", "PRIVILEGE_DOWNVOTE",
              "Mark posts that are wrong or unhelpful. Downvoting an answer costs you 1 reputation.",
              "Downvoting"),
    Privilege("edit_others", "Edit others' posts", "PRIVILEGE_EDIT_OTHERS",
              "Edit any question or answer directly. Before this, your edits to other people's posts "
              "are suggestions that wait for review; each approved one earns you 2 reputation.",
              "Editing other people's posts directly"),
    Privilege("review_edits", "Review suggested edits", "PRIVILEGE_REVIEW_EDITS",
              "Approve or reject the edits other members suggest, in the suggested-edits queue.",
              "Reviewing suggested edits"),
    Privilege("create_tag", "Create tags", "PRIVILEGE_CREATE_TAG",
              "Tag a question with a tag nobody has used yet. Before this, pick from the existing tags "
              "the tag box suggests as you type.", "Creating new tags"),
)
BY_KEY = {p.key: p for p in PRIVILEGES}


class PrivilegeRequired(PermissionDenied):
    """A refusal because the member's reputation is below a privilege's threshold (403).

    ``privilege`` names it, so pages and the JSON error can point to /help/privileges.
    """

    def __init__(self, privilege: str, message: str) -> None:
        super().__init__(message)
        self.privilege = privilege


def threshold(key: str) -> int:
    """The reputation needed for privilege ``key`` (KeyError for an unknown key)."""
    return int(current_app.config[BY_KEY[key].config_key])


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def has_privilege(user: Any, key: str) -> bool:
    """Whether ``user`` (possibly anonymous) has privilege ``key``: staff always, members by reputation."""
    if not _signed_in(user):
        return False
    if user.is_staff:
        return True
    return int(user.reputation) >= threshold(key)


def refusal(user: Any, key: str) -> str:
    """The sentence that says what is missing: "Downvoting needs 125 reputation; you have 12."."""
    rep = int(getattr(user, "reputation", 0) or 0) if _signed_in(user) else 0
    return f"{BY_KEY[key].verb} needs {threshold(key):,} reputation; you have {rep:,}."


def require_privilege(user: Any, key: str) -> None:
    """Raise PrivilegeRequired (403) with the refusal sentence unless ``user`` has ``key``."""
    if not has_privilege(user, key):
        raise PrivilegeRequired(key, refusal(user, key))


@dataclass(frozen=True)
class PrivilegeRow:
    privilege: Privilege
    threshold: int
    held: bool
    to_go: int  # reputation still missing (0 when held)


@dataclass(frozen=True)
class Ladder:
    rows: list[PrivilegeRow]
    reputation: int | None  # None for anonymous viewers
    staff: bool
    next: PrivilegeRow | None  # the lowest privilege the viewer does not have yet


def ladder(user: Any) -> Ladder:
    """Every privilege in threshold order with whether ``user`` has it and how far off it is."""
    signed_in = _signed_in(user)
    rep = int(user.reputation) if signed_in else None
    rows = []
    for p in sorted(PRIVILEGES, key=lambda p: (threshold(p.key), PRIVILEGES.index(p))):
        held = has_privilege(user, p.key)
        to_go = 0 if held or rep is None else threshold(p.key) - rep
        rows.append(PrivilegeRow(p, threshold(p.key), held, to_go))
    upcoming = next((r for r in rows if not r.held), None) if signed_in else None
    return Ladder(rows, rep, signed_in and user.is_staff, upcoming)


@dataclass(frozen=True)
class NewMemberLimits:
    reputation: int  # the limits lift at this reputation ...
    posts: int  # ... or at this many published questions and answers
    link_review: bool
    rate_limits: bool
    window_minutes: int
    new_member_rates: dict[str, int]  # kind -> posts per window (0 = unlimited)
    member_rates: dict[str, int]
    applies: bool | None  # to the viewer; None for anonymous viewers


def new_member_limits(user: Any) -> NewMemberLimits:
    """The new-member limits enforced by services/safety.py, with the figures from config."""
    cfg = current_app.config
    kinds = ("question", "answer", "comment")
    return NewMemberLimits(
        reputation=int(cfg["NEW_MEMBER_REPUTATION"]),
        posts=int(cfg["NEW_MEMBER_POSTS"]),
        link_review=bool(cfg["NEW_MEMBER_LINK_REVIEW"]),
        rate_limits=bool(cfg["POST_RATE_LIMITS_ENABLED"]),
        window_minutes=int(cfg["POST_RATE_WINDOW_MINUTES"]),
        new_member_rates={k: int(cfg[f"POST_RATE_NEW_MEMBER_{k.upper()}S"]) for k in kinds},
        member_rates={k: int(cfg[f"POST_RATE_MEMBER_{k.upper()}S"]) for k in kinds},
        applies=is_new_member(user) if _signed_in(user) else None,
    )
