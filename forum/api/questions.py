"""Questions: the list (filters, cursor), one question with its answers and comments, asking."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import url_for

from ..services import questions as questions_service
from ..services.questions import QuestionFilter, QuestionInput
from .core import api_blueprint, changes, decode_cursor, idempotent, member, page_limit, page_of, reads, viewer
from .schemas import AskIn, Error, QuestionFilters, QuestionOut, QuestionPage, With

bp = api_blueprint("questions", "Questions with their answers and comments.")


def naive_utc(value: datetime | None) -> datetime | None:
    """A client's aware time as the naive UTC the database stores."""
    if value is None:
        return None
    try:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:  # within hours of year 1 or 9999: as early (or late) as a time can be
        return datetime.min if value.year == 1 else datetime.max


def thread(question_id: int) -> With:
    """The question as the viewer may see it, with its visible answers and comments.

    Raises NotFound for a question the viewer may not see (hidden, deleted, or no such id).
    """
    who = viewer()
    question = questions_service.get_question(question_id, who)
    answers, comments = questions_service.load_thread(question, who)
    return With(question, comments=comments.get(None, []),
                answers=[With(a, comments=comments.get(a.id, [])) for a in answers])


@bp.route("/questions", methods=["GET"])
@reads()
@bp.arguments(QuestionFilters, location="query", as_kwargs=True)
@bp.response(200, QuestionPage)
def list_questions(cursor: str | None, limit: int | None, tag: str | None, solved: bool | None,
                   unanswered: bool | None, since: datetime | None) -> dict[str, Any]:
    """Questions, newest first."""
    before = decode_cursor(cursor, (int,))
    size = page_limit(limit)
    rows = questions_service.questions_after(
        QuestionFilter(tag=tag, solved=solved, unanswered=unanswered, since=naive_utc(since)),
        before[0] if before else None, size + 1)
    return page_of(rows, size, lambda q: (q.id,))


@bp.route("/questions/<int:question_id>", methods=["GET"])
@reads()
@bp.response(200, QuestionOut)
@bp.alt_response(404, schema=Error, description="No such question, or one the caller may not see.")
def get_question(question_id: int) -> With:
    """One question with its answers (accepted first, then by score) and comments."""
    return thread(question_id)


@bp.route("/questions", methods=["POST"])
@changes("write")
@idempotent
@bp.arguments(AskIn)
@bp.response(201, QuestionOut)
def ask(data: dict[str, Any]) -> tuple[With, int, dict[str, str]]:
    """Ask a question (held for review when the safety checks say so, as on the ask page)."""
    question = questions_service.ask_question(
        member(), QuestionInput(title=data["title"], body=data["body"], tags=" ".join(data["tags"])))
    return (With(question, comments=[], answers=[]), 201,
            {"Location": url_for("api_questions.get_question", question_id=question.id, _external=True)})
