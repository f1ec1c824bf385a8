"""Data set-up for badge tests: many rows at once, written straight to the tables.

A threshold test needs N-1 qualifying rows before the event that crosses it; making them one
by one through the services would cost seconds per test. The crossing event itself always goes
through the real service, so the hook and the rule are what the test exercises.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from forum.extensions import db
from forum.markup import render_markdown
from forum.models import Answer, Flag, Question, Tag, UserBadge, question_tags

BODY = "Unplug the hub for a minute, then pair again."


def tag_id(name: str) -> int:
    found = db.session.scalar(select(Tag.id).where(Tag.name == name))
    if found is None:
        tag = Tag(name=name, description="", question_count=0)
        db.session.add(tag)
        db.session.flush()
        found = tag.id
    return found


def questions(author: Any, n: int, tags: tuple[str, ...] = ("setup",), score: int = 0) -> list[int]:
    """``n`` visible questions by ``author`` carrying ``tags``; returns their ids."""
    ids = []
    for i in range(n):
        q = Question(author_id=author.id, title=f"Bulk question {i} about the hub", body=BODY,
                     body_html=render_markdown(BODY), score=score)
        db.session.add(q)
        db.session.flush()
        ids.append(q.id)
    tids = [tag_id(t) for t in tags]
    if ids and tids:
        db.session.execute(insert(question_tags), [{"question_id": q, "tag_id": t} for q in ids for t in tids])
    db.session.commit()
    return ids


def answers(author: Any, question_ids: list[int], score: int = 0, accept: bool = False) -> list[int]:
    """One answer by ``author`` on each question (accepted when ``accept``); returns their ids."""
    rows = [Answer(question_id=q, author_id=author.id, body=BODY, body_html=render_markdown(BODY), score=score)
            for q in question_ids]
    db.session.add_all(rows)
    db.session.flush()
    if accept:
        for a in rows:
            db.session.get(Question, a.question_id).accepted_answer_id = a.id
    db.session.commit()
    return [a.id for a in rows]


def actioned_flags(flagger: Any, answer_ids: list[int]) -> None:
    db.session.add_all([Flag(post_type="answer", post_id=a, flagger_id=flagger.id, reason="spam",
                             status="actioned", outcome="A moderator hid the post.") for a in answer_ids])
    db.session.commit()


def held(user: Any = None) -> set[tuple[int, str, str]]:
    """(user id, badge, tag) of every award, or of one member's."""
    stmt = select(UserBadge.user_id, UserBadge.badge, UserBadge.tag)
    if user is not None:
        stmt = stmt.where(UserBadge.user_id == user.id)
    db.session.expire_all()
    return {tuple(r) for r in db.session.execute(stmt)}  # type: ignore[misc]


def keys(user: Any) -> set[str]:
    return {badge for _, badge, _ in held(user)}
