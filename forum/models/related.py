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


class TagTopHelper(Model):
    """The ``rank``-th member with most answers accepted in ``tag_id`` over the last 90 days.

    Written by ``services/reach.py`` when an acceptance in the tag changes (the subscribers) and
    nightly by ``flask insights top-helpers`` (acceptances age out of the window); read by the
    tag page with one indexed query instead of counting every acceptance of the period. A
    computed ranking also holds one marker row, rank -1 with no member, so "nobody helped
    lately" differs from "never computed" (which counts live). Suspended and deleted members are
    left out when read, so a suspension shows at once and its end too.
    """

    __tablename__ = "tag_top_helpers"

    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    accepted: Mapped[int] = mapped_column(default=0)
