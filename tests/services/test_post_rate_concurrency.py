"""Posting limits hold under concurrency: 20 posts sent at the same moment by one member whose
limit is 10 store exactly 10 (issue 12, item 4), on SQLite and PostgreSQL.

Real concurrency: each post is its own thread with its own application context, session and
database connection, released together by a barrier, four bursts in a row.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Question, User
from forum.services import questions
from forum.services.errors import RateLimited
from tests.support import run_together

pytestmark = pytest.mark.slow

LIMIT = 10
SENT = 20


def _post_at_once(app, user_id: int, burst: int) -> list[str]:
    def post(i: int) -> str:
        with app.app_context():
            author = db.session.get_one(User, user_id)
            try:
                questions.ask_question(author, questions.QuestionInput(
                    f"Burst {burst} question {i}: the hub drops off the network",
                    "It drops off every night around two and comes back at six.", "setup"))
                db.session.commit()
                return "posted"
            except RateLimited:
                db.session.rollback()
                return "limited"
            finally:
                db.session.remove()
    return run_together(SENT, post)


@pytest.mark.parametrize("burst", range(4))
def test_twenty_posts_at_once_with_a_limit_of_ten_store_exactly_ten(app, make_user, burst: int) -> None:
    app.config.update(POST_RATE_LIMITS_ENABLED=True, POST_RATE_MEMBER_QUESTIONS=LIMIT)
    author = make_user()
    author.reputation = 50  # a member, not a new one
    db.session.commit()
    user_id = author.id
    db.session.remove()

    outcomes = _post_at_once(app, user_id, burst)

    stored = db.session.scalar(select(func.count(Question.id)).where(Question.author_id == user_id))
    assert (stored, outcomes.count("posted"), outcomes.count("limited")) == (LIMIT, LIMIT, SENT - LIMIT)
