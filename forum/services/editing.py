"""Editing a post: the one decision behind both edit pages, edit it or suggest the edit.

With the edit privilege (or on one's own post, or as a moderator) an edit applies at once
(``questions.edit_question`` / ``answers.edit_answer``). Below it, an edit to someone
else's visible post becomes a suggestion that waits for review
(``suggestions.suggest_question_edit`` / ``suggest_answer_edit``). The edit page asks
``edit_mode`` to know which form to show; saving goes through ``edit_or_suggest``.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import overload

from ..models import Answer, Question, SuggestedEdit, User
from . import answers, questions, suggestions
from .permissions import can, require
from .questions import QuestionInput

Post = Question | Answer


class EditMode(StrEnum):
    EDIT = "edit"  # the change applies at once, as a new revision
    SUGGEST = "suggest"  # the change waits for a reviewer


@dataclass(frozen=True, slots=True)
class EditOutcome:
    """What saving an edit did: applied (``suggestion`` is None) or suggested for review."""

    mode: EditMode
    post: Post
    suggestion: SuggestedEdit | None = None

    @property
    def suggested(self) -> bool:
        return self.mode is EditMode.SUGGEST


def edit_mode(user: User, post: Post) -> EditMode:
    """How ``user`` may change ``post``: EDIT when the edit rule allows it, SUGGEST when only
    a suggestion is allowed.

    Raises PermissionDenied (with the edit rule's message) when neither is allowed.
    """
    if not can(user, "edit", post) and can(user, "suggest_edit", post):
        return EditMode.SUGGEST
    require(user, "edit", post)
    return EditMode.EDIT


@overload
def edit_or_suggest(user: User, post: Question, data: QuestionInput, summary: str = "") -> EditOutcome: ...
@overload
def edit_or_suggest(user: User, post: Answer, data: str, summary: str = "") -> EditOutcome: ...


def edit_or_suggest(user: User, post: Post, data: QuestionInput | str, summary: str = "") -> EditOutcome:
    """Apply ``user``'s edit of ``post`` (a question takes QuestionInput, an answer its new
    body), or record it as a suggestion when ``edit_mode`` says so.

    Raises PermissionDenied when the user may neither edit nor suggest, FieldError for bad
    input or a blocked word, and InvalidState when nothing changed or (suggesting) an edit of
    the post is already waiting for review. TypeError when ``data`` does not fit the post.
    """
    mode = edit_mode(user, post)
    if isinstance(post, Question) and isinstance(data, QuestionInput):
        if mode is EditMode.SUGGEST:
            return EditOutcome(mode, post, suggestions.suggest_question_edit(user, post, data, summary))
        return EditOutcome(mode, questions.edit_question(user, post, data, summary))
    if isinstance(post, Answer) and isinstance(data, str):
        if mode is EditMode.SUGGEST:
            return EditOutcome(mode, post, suggestions.suggest_answer_edit(user, post, data, summary))
        return EditOutcome(mode, answers.edit_answer(user, post, data, summary))
    raise TypeError(f"an edit of a {type(post).__name__} takes "
                    f"{'QuestionInput' if isinstance(post, Question) else 'the new body'}, not {type(data).__name__}")
