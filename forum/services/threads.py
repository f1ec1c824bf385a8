"""The question page's data: everything questions/show.html renders, built in one call.

The template runs no query of its own (tests/web/test_page_data.py holds it to that); the number
of queries here stays fixed whatever the size of the thread (tests/web/test_questions_pages.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import exists, select

from ..extensions import db
from ..markup import excerpt
from ..models import (
    Answer,
    Article,
    CannedReply,
    Comment,
    Draft,
    Question,
    QuestionFollow,
    QuestionTriage,
    SolvedToo,
    SupportCase,
    User,
)
from .articles import article_for_question
from .canned import all_replies
from .cases import case_for_question
from .drafts import drafts_for, thread_keys
from .links import PageLinks, thread_links
from .permissions import can
from .questions import get_question, load_thread
from .related import RelatedLink, stored_related
from .search import similar_questions
from .support import all_playbooks, due_at, triage_of
from .votes import my_votes


@dataclass(frozen=True)
class StaffPanel:
    """The support desk's strip on a question, for staff: its triage and first-response due time."""

    triage: QuestionTriage | None
    due: datetime


@dataclass(frozen=True)
class ThreadPage:
    question: Question
    answers: list[Answer]  # the ones the viewer may see: accepted first, then score, then age
    comments: dict[int | None, list[Comment]]  # by answer id; None holds the question's
    my_votes: dict[str, int]  # the viewer's votes: {"q<id>": 1, "a<id>": -1}
    links: PageLinks  # link cards per post and the sidebar's backlinks
    related: list[RelatedLink]  # the "Related questions" sidebar
    case: SupportCase | None  # the private support case opened from this question
    staff_panel: StaffPanel | None  # staff only
    article: Article | None  # the article promoted from it (any state for staff, published for others)
    following: bool  # whether the viewer follows the question
    solved_too: bool  # whether the viewer said "This solved my problem too"
    canned_replies: list[CannedReply]  # staff composing an answer: the reply picker's library
    drafts: dict[str, Draft]  # the viewer's unsent answer and comments here, by composer key


def related_questions(viewer: User | None, question: Question) -> list[RelatedLink]:
    """The "Related questions" sidebar: the stored neighbours (services/related.py, one query);
    for a question that has none stored yet, a live search. Empty rather than failing if the
    index is unavailable."""
    stored = stored_related(question)
    if stored is not None:
        return stored
    try:
        rows = similar_questions(viewer, question.title, body=excerpt(question.body_html, 400), exclude=question,
                                   use_meaning=False)  # the page never encodes (stored lists are fused)
    except Exception:
        current_app.logger.warning("related questions unavailable", exc_info=True)
        return []
    return [RelatedLink.of(row) for row in rows if isinstance(row, Question)]


def viewer_marks(viewer: User | None, question: Question) -> tuple[bool, bool]:
    """(follows the question, said "This solved my problem too"): one statement for both
    (services/following.follows_question and services/solved_too.has_marked ask the same, one
    query each). Both False for anonymous visitors, and following False where the viewer may not
    follow the question."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False, False
    follows = exists().where(QuestionFollow.user_id == viewer.id, QuestionFollow.question_id == question.id)
    marked = exists().where(SolvedToo.user_id == viewer.id, SolvedToo.question_id == question.id)
    following, solved_too = db.session.execute(select(follows.label("follows"), marked.label("marked"))).one()
    return bool(following) and can(viewer, "follow", question), bool(solved_too)


def staff_panel(question: Question) -> StaffPanel:
    triage = triage_of(question.id)
    return StaffPanel(triage=triage, due=due_at(question, triage, all_playbooks()))


def thread_page(question_id: int, viewer: User | None) -> ThreadPage:
    """The question page as ``viewer`` sees it.

    Raises NotFound when the question does not exist or the viewer may not see it. A fixed
    number of queries whatever the thread holds; the parts only some viewers see (staff
    panel, reply library, votes, follow state) cost nothing for the others.
    """
    question = get_question(question_id, viewer)
    answers, comments = load_thread(question, viewer)
    staff = can(viewer, "support")
    following, solved_too = viewer_marks(viewer, question)
    return ThreadPage(
        question=question,
        answers=answers,
        comments=comments,
        my_votes=my_votes(viewer, question, answers),
        links=thread_links(question, answers, viewer),
        related=related_questions(viewer, question),
        # Opening a case sets first_response_at, so a question without one has no case: no query.
        case=case_for_question(question.id) if question.first_response_at is not None else None,
        staff_panel=staff_panel(question) if staff and question.is_visible else None,
        article=article_for_question(question.id, viewer),
        following=following,
        solved_too=solved_too,
        canned_replies=all_replies(viewer) if staff and viewer is not None and can(viewer, "answer", question) else [],
        drafts=drafts_for(viewer, thread_keys(question, answers)),
    )
