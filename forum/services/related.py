"""The "Related questions" sidebar, computed when a question is written rather than on every view.

A similarity search (the search index's ``similar``) used to run on each view of a question
page: at 200,000 posts it was a third of the page's time and grew with the index. Now it runs
when a question is asked or its text is edited (subscribers in ``forum/subscribers.py``) and
the ids are stored in ``related_questions``; the page reads them with one indexed query.
Titles, scores and visibility come fresh from ``questions`` on every view, so only the choice
of neighbours can be older than the newest questions; ``flask forum related --all`` (a nightly
cron line) recomputes every list so new questions show up beside old ones too.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DBAPIError

from ..events import PostEdited, QuestionAsked
from ..extensions import db
from ..markup import excerpt
from ..models import Question, RelatedQuestion
from .search import SIMILAR_LIMIT, similar_questions

log = logging.getLogger(__name__)

#: How many neighbours are stored: twice what the sidebar shows, so that some can be hidden
#: or deleted later and the sidebar still fills up without a recomputation.
STORED = SIMILAR_LIMIT * 2
#: The rank of the row that says a question's list was computed (its ``related_id`` is the
#: question itself); neighbours start at rank 0.
MARKER_RANK = -1


def compute_related(question: Question, query_vector: Sequence[float] | None = None) -> list[int]:
    """Ids of the questions most like ``question`` (best first), from the search index.

    BM25F alone, unless ``query_vector`` (the question's stored title-and-body vector, given by
    the vectors job after the commit: `forum.semantic_sync`) re-ranks the candidates; this never
    encodes, so a writer's transaction pays nothing for meaning.

    Raises whatever the search index raises when it is unavailable; callers decide.
    """
    rows = similar_questions(None, question.title, body=excerpt(question.body_html, 400), exclude=question,
                             limit=STORED, use_meaning=query_vector is not None, query_vector=query_vector)
    return [row.id for row in rows if isinstance(row, Question)]


def _rows(question_id: int, related_ids: Iterable[int]) -> list[dict[str, int]]:
    """A stored list: the marker row (rank -1, the question itself: "computed", so a list
    with no neighbours is not mistaken for one never computed) and the neighbours from rank 0."""
    ids = [rid for rid in dict.fromkeys(related_ids) if rid != question_id][:STORED]
    return [{"question_id": question_id, "rank": rank, "related_id": rid}
            for rank, rid in enumerate([question_id, *ids], start=MARKER_RANK)]


def store_related(question_id: int, related_ids: Iterable[int]) -> None:
    """Replace the stored neighbours of a question (executes, does not commit)."""
    db.session.execute(delete(RelatedQuestion).where(RelatedQuestion.question_id == question_id))
    db.session.execute(insert(RelatedQuestion), _rows(question_id, related_ids))


def link_back(question_id: int, related_ids: list[int]) -> None:
    """Put ``question_id`` into the stored lists of its own neighbours, at the rank each of them
    has in its list (its best match gets it near the top), so a new question shows up beside
    the older ones like it at once rather than after the nightly ``flask forum related --all``.

    Two statements plus one insert, whatever the number of neighbours: the lists are read in
    one query and rewritten in one executemany. Lists that were never computed are left alone
    (they fall back to a live search, which already finds the new question).
    """
    targets = [rid for rid in related_ids if rid != question_id]
    if not targets:
        return
    lists: dict[int, list[int]] = {}
    for qid, rid in db.session.execute(
            select(RelatedQuestion.question_id, RelatedQuestion.related_id)
            .where(RelatedQuestion.question_id.in_(targets)).order_by(RelatedQuestion.question_id, RelatedQuestion.rank)
            # Locked in id order on PostgreSQL, so two questions asked at once queue rather than
            # deadlock on the lists they share (SQLite has one writer anyway and omits the clause).
            .with_for_update()):
        lists.setdefault(qid, []).append(rid)
    rows = []
    for rank, target in enumerate(targets):
        if target not in lists:
            continue
        current = [rid for rid in lists[target] if rid not in (question_id, target)]
        current.insert(min(rank, len(current)), question_id)
        rows += _rows(target, current)
    if rows:
        db.session.execute(delete(RelatedQuestion).where(RelatedQuestion.question_id.in_(list(lists))))
        db.session.execute(insert(RelatedQuestion), rows)


def refresh_related(question_id: int, *, both_ways: bool = False,
                    query_vector: Sequence[float] | None = None) -> bool:
    """Recompute and store one question's neighbours (and with ``both_ways``, add it to theirs:
    ``link_back``). False (logged, nothing stored) when the search index is unavailable: the
    page then falls back to searching live until the next refresh, so a broken index never
    fails a write."""
    question = db.session.get(Question, question_id)
    if question is None:
        return False
    try:
        ids = compute_related(question, query_vector)
    except Exception:
        log.warning("related questions of %s not refreshed: search unavailable", question_id, exc_info=True)
        return False
    # Each step in a savepoint: a list rewritten by a concurrent writer at the same moment (a
    # unique (question_id, rank) clash, or a deadlock on PostgreSQL) costs that list's update,
    # never the question being asked or edited; `flask forum related --all` catches up.
    try:
        with db.session.begin_nested():
            store_related(question_id, ids)
    except DBAPIError:
        log.warning("related questions of %s not stored: concurrent update", question_id, exc_info=True)
        return False
    if both_ways:
        try:
            with db.session.begin_nested():
                link_back(question_id, ids)
        except DBAPIError:
            log.warning("question %s not added to its neighbours' lists: concurrent update", question_id,
                        exc_info=True)
    return True


def question_written(event: QuestionAsked | PostEdited) -> None:
    """Subscriber: a question was asked, or a question's title or body edited."""
    if isinstance(event, PostEdited) and event.post_type != "question":
        return
    if event.question_id is not None:
        refresh_related(event.question_id, both_ways=True)


@dataclass(frozen=True)
class RelatedLink:
    """A row of the sidebar: what it shows and links to (question_url takes it like a Question)."""

    id: int
    title: str
    score: int

    @classmethod
    def of(cls, question: Question) -> RelatedLink:
        return cls(question.id, question.title, question.score)


def stored_related(question: Question, limit: int = SIMILAR_LIMIT) -> list[RelatedLink] | None:
    """The stored neighbours that anyone may see now, best first, at most ``limit``; None when
    none were ever stored for this question (a forum loaded in bulk, or a refresh that failed).

    One query of three columns (no ORM rows: the sidebar needs no more), joined to
    ``questions`` so titles, scores and visibility are those of now.
    """
    rows = db.session.execute(
        select(RelatedQuestion.rank, Question.id, Question.title, Question.score)
        .select_from(RelatedQuestion)
        .outerjoin(Question, (Question.id == RelatedQuestion.related_id) & Question.is_visible)
        .where(RelatedQuestion.question_id == question.id)
        .order_by(RelatedQuestion.rank)
    ).all()
    if not rows:
        return None
    return [RelatedLink(qid, title, score) for rank, qid, title, score in rows
            if qid is not None and rank != MARKER_RANK][:limit]


def missing_ids() -> list[int]:
    """Visible questions with no stored neighbours (asked before this table, or a refresh failed)."""
    has = select(RelatedQuestion.question_id).where(RelatedQuestion.question_id == Question.id).exists()
    return list(db.session.scalars(select(Question.id).where(Question.is_visible, ~has).order_by(Question.id)))


def refresh_all(question_ids: Iterable[int] | None = None, *, batch: int = 500,
                progress: Callable[[int], None] | None = None) -> int:
    """Recompute the neighbours of every visible question (or of ``question_ids``), committing
    every ``batch`` questions so a long run holds no long transaction. Returns how many were
    stored. For ``flask forum related --all`` and the benchmark's generator.
    """
    if question_ids is None:
        question_ids = list(db.session.scalars(select(Question.id).where(Question.is_visible).order_by(Question.id)))
    done = 0
    for n, qid in enumerate(question_ids, 1):
        if refresh_related(qid):
            done += 1
        if n % batch == 0:
            db.session.commit()
            db.session.expunge_all()
            if progress is not None:
                progress(n)
    db.session.commit()
    return done
