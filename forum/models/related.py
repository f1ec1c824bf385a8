"""The "Related questions" sidebar, precomputed: a few similar questions per question."""
from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model


class RelatedQuestion(Model):
    """``related_id`` is the ``rank``-th question most like ``question_id`` (0 = most similar).

    Written by ``services/related.py`` when a question is asked or its text edited (and by
    ``flask forum related``), read by the question page with one indexed query, so a view no
    longer runs a similarity search. Only the choice of questions is stored: titles, scores and
    visibility are read fresh from ``questions`` on every view. A computed list also holds one
    marker row, rank -1 pointing at the question itself, so "nothing similar" differs from
    "never computed" (which falls back to a live search).
    """

    __tablename__ = "related_questions"

    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    related_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
