"""Statements sent to post one answer through the service layer, with every subscriber on
(links, mentions, first response, following, notifications with mail, badges, drafts, uploads,
webhooks, the search index, the page cache): the write path's budget (issue 11, writes).

The answer is a steady-state one: its question already has a first response and a follower
besides the asker, and its author has answered before (badges earned), so the count does not
depend on which first-time effects happen to fall on it. Budgets may only go down.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from forum.extensions import db
from forum.models import Notification, Question, User
from forum.services import answers, following
from tests.support import page_cache_on


def _post_and_count(make_user: Any, make_question: Any, make_answer: Any, count_queries: Any) -> int:
    asker, follower, helper = make_user("budget_asker"), make_user("budget_follower"), make_user("budget_helper")
    q = make_question(author=asker, title="Thermostat loses its schedule every night")
    following.follow_question(follower, q)
    make_answer(q, author=make_user())  # the first response and the question's first answer are past
    make_answer(make_question(author=asker), author=helper)  # the helper's first answer (and badge) too
    db.session.commit()
    helper_id, question_id, asker_id, follower_id = helper.id, q.id, asker.id, follower.id
    db.session.remove()
    author, question = db.session.get(User, helper_id), db.session.get(Question, question_id)
    assert author is not None and question is not None
    with count_queries() as qc:
        answers.post_answer(author, question, f"Turn off the eco mode, then see #{question_id} again.")
        db.session.commit()
    # Everyone it should reach was told: the asker ("answer") and the other follower ("follow"),
    # each on the unread line the first answer started, now counting two.
    lines = {(n.user_id, n.event): n.count for n in db.session.query(Notification).filter(
        Notification.target == f"question:{question_id}", Notification.read_at.is_(None))}
    assert lines[(asker_id, "answer")] == 2 and lines[(follower_id, "follow")] == 2
    return qc.count


def _budget(sqlite: int) -> int:
    """PostgreSQL sends one statement more than SQLite for the same answer (measured, before and after)."""
    return sqlite + (db.engine.dialect.name == "postgresql")


def test_posting_an_answer_stays_within_its_statement_budget(app: Flask, make_user: Any, make_question: Any,
                                                             make_answer: Any, count_queries: Any) -> None:
    # 26 before (27 on PostgreSQL) the write path was trimmed (issue 11): a second member query and bell INSERT
    # for the followers, a DELETE of the new post's (non-existent) upload references, and four
    # ORM loads where two plain-column statements build the search document.
    assert _post_and_count(make_user, make_question, make_answer, count_queries) <= _budget(21)


@pytest.fixture
def cached(app: Flask) -> Iterator[Flask]:
    with page_cache_on(app, "database", "test:budget") as on:  # generations in the database: no Redis needed
        yield on


def test_posting_an_answer_with_the_page_cache_on_stays_within_its_budget(cached: Flask, make_user: Any,
                                                                          make_question: Any, make_answer: Any,
                                                                          count_queries: Any) -> None:
    # 30 before (31): the page cache selected the rows of each counter UPDATE on the question before
    # running it; it maps an UPDATE whose WHERE names the row's keys by its rowcount now.
    assert _post_and_count(make_user, make_question, make_answer, count_queries) <= _budget(23)


@pytest.mark.pg_search
def test_posting_an_answer_with_postgresql_search_stays_within_its_budget(cached: Flask, make_user: Any,
                                                                          make_question: Any, make_answer: Any,
                                                                          count_queries: Any) -> None:
    # The benchmark's configuration (tools/bench/writes.py --search-backend postgres): the
    # search document is written in the answer's own transaction (30 before; 23 before the
    # document and its title words became one statement).
    assert _post_and_count(make_user, make_question, make_answer, count_queries) <= 22
