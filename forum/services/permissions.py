"""Who may do what: the one permission matrix.

Templates ask ``can(user, action, obj)``; services call ``require`` before they change
anything. Nothing else re-implements these rules.

Roles: anonymous, member, agent, moderator, admin. Agents, moderators and admins are staff.
Staff curate answers (accept, mark official, write articles, close, lock, pin); moderators and
admins also moderate people and hidden content (review queue, suspend, delete others' posts).

Privileges (services/privileges.py) gate some actions by reputation: "vote_up" and
"vote_down" need the upvote and downvote privileges ("vote" alone, which withdraws a vote,
does not); "comment" on someone else's post needs "comment_everywhere" unless it is one's
own post or an answer to one's own question; "edit" of someone else's post needs
"edit_others" (below it, "suggest_edit" applies); "review_edits" opens the suggested-edits
queue. ``missing_privilege`` tells a refusal caused only by reputation from any other.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from ..models import Answer, Article, Comment, Question, Role, Tag, User
from ..models.base import utcnow
from ..models.kinds import Action
from .errors import PermissionDenied
from .privileges import PrivilegeRequired, has_privilege, refusal

MODERATORS = frozenset({Role.MODERATOR, Role.ADMIN})


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def _is_author(user: Any, obj: Any) -> bool:
    return _signed_in(user) and getattr(obj, "author_id", None) == user.id


def _moderates(user: Any) -> bool:
    return _signed_in(user) and user.role in MODERATORS


def _staff(user: Any) -> bool:
    return _signed_in(user) and user.is_staff


def _may_post(user: Any) -> bool:
    """Signed in and neither suspended nor silenced (a silenced user can read, not post)."""
    if not _signed_in(user):
        return False
    now = utcnow()
    return not (user.is_suspended(now) or user.is_silenced(now))


def _question_of(obj: Any) -> Question | None:
    if isinstance(obj, Question):
        return obj
    if isinstance(obj, Answer):
        return obj.question
    return None


def _can_view(user: Any, obj: Any) -> bool:
    if obj is None:
        return False
    if isinstance(obj, Article):
        return obj.is_published or _staff(user)
    if not obj.is_visible and not (_is_author(user, obj) or _staff(user)):
        return False
    if isinstance(obj, Answer):
        q = obj.question
        return q is not None and (q.is_visible or _is_author(user, q) or _staff(user))
    return True


def _can_answer(user: Any, obj: Any) -> bool:
    return (_may_post(user) and isinstance(obj, Question) and obj.is_visible
            and not obj.is_closed and not obj.is_locked)


def _may_comment_on(user: Any, obj: Any) -> bool:
    """Every rule for commenting except the reputation one."""
    if not _may_post(user) or obj is None or not obj.is_visible:
        return False
    q = _question_of(obj)
    return q is not None and q.is_visible and (not q.is_locked or _staff(user))


def _own_thread(user: Any, obj: Any) -> bool:
    """One's own post, or an answer to one's own question (where new members may comment)."""
    if _is_author(user, obj):
        return True
    return isinstance(obj, Answer) and obj.question is not None and _is_author(user, obj.question)


def _can_comment(user: Any, obj: Any) -> bool:
    return _may_comment_on(user, obj) and (_own_thread(user, obj) or has_privilege(user, "comment_everywhere"))


def _can_edit_post(user: Any, obj: Any) -> bool:
    if obj.is_deleted or not _may_post(user):
        return False
    q = _question_of(obj)
    if q is not None and q.is_locked and not _moderates(user):
        return False
    return _is_author(user, obj) or _moderates(user) or (
        isinstance(obj, (Question, Answer)) and obj.is_visible and has_privilege(user, "edit_others"))


def _can_suggest_edit(user: Any, obj: Any) -> bool:
    """Below the edit privilege, an edit to someone else's visible post becomes a suggestion."""
    if not isinstance(obj, (Question, Answer)) or not obj.is_visible or _is_author(user, obj):
        return False
    if not _may_post(user) or _can_edit_post(user, obj):
        return False
    q = _question_of(obj)
    return q is not None and q.is_visible and not q.is_locked


def _can_review_edit(user: Any, obj: Any) -> bool:
    """Privileged members and staff review suggestions, never their own."""
    if not _may_post(user) or not has_privilege(user, "review_edits"):
        return False
    return obj is None or getattr(obj, "proposer_id", None) != user.id


def _can_delete_post(user: Any, obj: Any) -> bool:
    return (_is_author(user, obj) or _moderates(user)) and not obj.is_deleted


def _can_restore_post(user: Any, obj: Any) -> bool:
    if not obj.is_deleted:
        return False
    # The author may undo their own deletion, not a moderator's.
    if _moderates(user):
        return True
    return _is_author(user, obj) and obj.deleted_by_id == user.id


def _can_edit_comment(user: Any, obj: Comment) -> bool:
    if obj.is_deleted or not _signed_in(user):
        return False
    if _moderates(user):
        return True
    window = timedelta(seconds=current_app.config["COMMENT_EDIT_SECONDS"])
    return _may_post(user) and _is_author(user, obj) and utcnow() - obj.created_at <= window


def _can_delete_comment(user: Any, obj: Comment) -> bool:
    return not obj.is_deleted and (_is_author(user, obj) or _moderates(user))


def _can_accept(user: Any, obj: Answer) -> bool:
    """The asker, or any staff member, accepts an answer on a live, unlocked question."""
    q = obj.question
    if q is None or not q.is_visible or not obj.is_visible or q.is_locked:
        return False
    return _staff(user) or (_is_author(user, q) and _may_post(user))


def _can_vote(user: Any, obj: Any) -> bool:
    """Members who may post vote on others' visible questions and answers, not in locked threads."""
    if not _may_post(user) or not isinstance(obj, (Question, Answer)) or not obj.is_visible or _is_author(user, obj):
        return False
    q = _question_of(obj)
    return q is not None and q.is_visible and not q.is_locked


def _can_vote_up(user: Any, obj: Any) -> bool:
    return _can_vote(user, obj) and has_privilege(user, "upvote")


def _can_vote_down(user: Any, obj: Any) -> bool:
    return _can_vote(user, obj) and has_privilege(user, "downvote")


def _can_mark_solved_too(user: Any, obj: Any) -> bool:
    """"This solved my problem too": any member who may post, on someone else's visible question
    that is not locked (closed ones too: closing stops answers, not thanks); no reputation needed."""
    return (_may_post(user) and isinstance(obj, Question) and obj.is_visible and not obj.is_locked
            and not _is_author(user, obj))


def _can_flag(user: Any, obj: Any) -> bool:
    return _may_post(user) and obj is not None and obj.is_visible and not _is_author(user, obj)


def _can_edit_article(user: Any, obj: Any) -> bool:
    return _staff(user)


def _party_to_case(user: Any, obj: Any) -> bool:
    """A private support case: its asker and staff, nobody else."""
    return obj is not None and (_staff(user) or (_signed_in(user) and obj.asker_id == user.id))


def case_reopen_until(case: Any) -> datetime | None:
    """Until when the customer may reply to a resolved case to reopen it (``CASE_REOPEN_DAYS``
    after it was resolved); None for a case that is not resolved."""
    resolved_at: datetime | None = case.resolved_at
    if not case.is_resolved or resolved_at is None:
        return None
    return resolved_at + timedelta(days=int(current_app.config["CASE_REOPEN_DAYS"]))


def _can_write_case(user: Any, obj: Any) -> bool:
    """Staff and the asker write on an open or waiting case; on a resolved one only the asker,
    whose reply reopens it, and only within ``CASE_REOPEN_DAYS``."""
    if not _party_to_case(user, obj) or not (_staff(user) or _may_post(user)):
        return False
    if not obj.is_resolved:
        return True
    until = case_reopen_until(obj)
    return obj.asker_id == user.id and until is not None and utcnow() <= until


def _can_open_case(user: Any, obj: Any) -> bool:
    return _staff(user) and isinstance(obj, Question) and obj.is_visible and obj.author_id != user.id


RULES: dict[Action, Callable[[Any, Any], bool]] = {
    "view": _can_view,
    "view_history": _can_view,
    "ask": lambda user, obj: _may_post(user),
    "answer": _can_answer,
    "vote": _can_vote,  # may vote here at all (and withdraw a vote)
    "vote_up": _can_vote_up,
    "vote_down": _can_vote_down,
    "solved_too": _can_mark_solved_too,  # mark and take back
    "comment": _can_comment,
    "edit": _can_edit_post,
    "suggest_edit": _can_suggest_edit,
    "review_edits": _can_review_edit,
    "delete": _can_delete_post,
    "restore": _can_restore_post,
    "edit_comment": _can_edit_comment,
    "delete_comment": _can_delete_comment,
    "see_deleted": lambda user, obj: _staff(user),
    "set_role": lambda user, obj: _signed_in(user) and user.role == Role.ADMIN,
    "administer": lambda user, obj: _signed_in(user) and user.role == Role.ADMIN,
    # Curation: staff
    "accept": _can_accept,
    "mark_official": lambda user, obj: _staff(user) and obj.is_visible and obj.author.is_staff,
    "close": lambda user, obj: _staff(user) and obj.is_visible and not obj.is_closed,
    "reopen": lambda user, obj: _staff(user) and obj.is_closed,
    "lock": lambda user, obj: _staff(user) and not obj.is_locked,
    "unlock": lambda user, obj: _staff(user) and obj.is_locked,
    "pin": lambda user, obj: _staff(user) and not obj.is_pinned and obj.is_visible,
    "unpin": lambda user, obj: _staff(user) and obj.is_pinned,
    "write_article": lambda user, obj: _staff(user),
    "edit_article": _can_edit_article,
    "promote_to_article": lambda user, obj: _staff(user) and obj.is_visible and obj.is_solved,
    "rate_article": lambda user, obj: _signed_in(user) and obj.is_published,
    "announce": lambda user, obj: _staff(user),
    # Tags: a tag nobody used yet needs the privilege (questions.check_new_tags); staff describe tags.
    "create_tag": lambda user, obj: _signed_in(user) and has_privilege(user, "create_tag"),
    "edit_tag": lambda user, obj: _staff(user),
    # Notifications: any member follows a tag, or a question they can see.
    "follow": lambda user, obj: _signed_in(user) and (isinstance(obj, Tag) or _can_view(user, obj)),
    "manage_mail": lambda user, obj: _signed_in(user) and user.role == Role.ADMIN,
    # Moderation: moderators and admins
    "flag": _can_flag,
    "moderate": lambda user, obj: _moderates(user),
    "hide": lambda user, obj: _moderates(user),
    "suspend": lambda user, obj: _moderates(user) and obj is not None and not obj.is_staff,
    "note_user": lambda user, obj: _moderates(user),
    "view_moderation_log": lambda user, obj: _staff(user),
    "manage_watched_words": lambda user, obj: _moderates(user),
    # Support desk: staff triage and work the queue; admins edit the playbooks.
    "support": lambda user, obj: _staff(user),
    "edit_playbooks": lambda user, obj: _signed_in(user) and user.role == Role.ADMIN,
    "open_case": _can_open_case,
    "view_case": _party_to_case,
    "write_case": _can_write_case,
    "manage_case": lambda user, obj: _staff(user) and obj is not None and not obj.is_resolved,
    # Insights: response times, deflection and savings are for staff.
    "view_insights": lambda user, obj: _staff(user),
}


def can(user: User | Any, action: Action, obj: Any = None) -> bool:
    """Return whether ``user`` (possibly anonymous) may do ``action`` to ``obj``.

    Raises KeyError for an unknown action, so a typo in a template fails loudly in tests.
    """
    return RULES[action](user, obj)


# Actions whose only missing ingredient can be reputation: (rule without it, privilege).
PRIVILEGED: dict[Action, tuple[Callable[[Any, Any], bool], str]] = {
    "vote_up": (_can_vote, "upvote"),
    "vote_down": (_can_vote, "downvote"),
    "comment": (_may_comment_on, "comment_everywhere"),
    "create_tag": (lambda user, obj: _signed_in(user), "create_tag"),
}


def missing_privilege(user: User | Any, action: Action, obj: Any = None) -> str | None:
    """The privilege key when ``action`` is refused only for lack of reputation, else None."""
    if action not in PRIVILEGED or can(user, action, obj):
        return None
    rule, key = PRIVILEGED[action]
    return key if rule(user, obj) and not has_privilege(user, key) else None


def privilege_note(user: User | Any, action: Action, obj: Any = None) -> str | None:
    """The refusal sentence ("Downvoting needs 125 reputation; you have 12.") or None."""
    key = missing_privilege(user, action, obj)
    return refusal(user, key) if key else None


def require(user: User | Any, action: Action, obj: Any = None, message: str | None = None) -> None:
    """Raise PermissionDenied unless ``can(user, action, obj)``.

    A refusal caused only by reputation raises PrivilegeRequired (also a 403) whose message
    says what is missing, whatever ``message`` was passed.
    """
    if not can(user, action, obj):
        key = missing_privilege(user, action, obj)
        if key:
            raise PrivilegeRequired(key, refusal(user, key))
        raise PermissionDenied(message or "You are not allowed to do that.")
