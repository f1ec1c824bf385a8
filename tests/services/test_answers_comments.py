"""Answers and comments: counts, ordering, edit windows, concurrency."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Answer, Question
from forum.services import answers, comments, questions
from forum.services.errors import FieldError, PermissionDenied


def test_answer_count_and_activity_follow_answers(make_question, make_answer, make_user) -> None:
    q = make_question()
    before = q.last_activity_at
    a = make_answer(q)
    make_answer(q)
    assert q.answer_count == 2 and q.last_activity_at >= before
    answers.delete_answer(a.author, a)
    db.session.commit()
    assert q.answer_count == 1
    answers.restore_answer(a.author, a)
    db.session.commit()
    assert q.answer_count == 2


def test_answers_are_ordered_by_score_then_age(make_question, make_answer) -> None:
    q = make_question()
    first, second, third = (make_answer(q, body=f"Answer {i}") for i in range(3))
    third.score = 5
    db.session.commit()
    shown, _ = questions.load_thread(q, None)
    assert [a.id for a in shown] == [third.id, first.id, second.id]


def test_deleted_answer_is_visible_only_to_author_and_staff(make_question, make_answer, make_user) -> None:
    q = make_question()
    a = make_answer(q)
    answers.delete_answer(a.author, a)
    db.session.commit()
    assert [x.id for x in questions.load_thread(q, make_user())[0]] == []
    assert [x.id for x in questions.load_thread(q, a.author)[0]] == [a.id]
    assert [x.id for x in questions.load_thread(q, make_user(role="agent"))[0]] == [a.id]


def test_answer_body_limit_is_enforced(make_question, make_user) -> None:
    with pytest.raises(FieldError):
        answers.post_answer(make_user(), make_question(), "y" * 30_001)
    with pytest.raises(FieldError):
        answers.post_answer(make_user(), make_question(), "   ")


def test_no_answers_on_a_deleted_question(make_question, make_user) -> None:
    q = make_question()
    questions.delete_question(q.author, q)
    db.session.commit()
    with pytest.raises(PermissionDenied):
        answers.post_answer(make_user(), q, "Try turning it off and on again.")


def test_comment_is_inline_markdown_only_and_limited_to_600(make_question, make_user) -> None:
    q = make_question()
    c = comments.add_comment(make_user(), q, "# Not a heading\n\n*really* see `code`")
    assert "<h1" not in c.body_html and "<em>really</em>" in c.body_html and "<code>code</code>" in c.body_html
    with pytest.raises(FieldError):
        comments.add_comment(make_user(), q, "z" * 601)


def test_comment_can_be_edited_for_five_minutes_only(make_question, make_user) -> None:
    author = make_user()
    c = comments.add_comment(author, make_question(), "first version of the comment")
    db.session.commit()
    comments.edit_comment(author, c, "second version of the comment")
    c.created_at = c.created_at - timedelta(minutes=6)
    db.session.commit()
    with pytest.raises(PermissionDenied, match="five minutes"):
        comments.edit_comment(author, c, "third version of the comment")
    with pytest.raises(PermissionDenied):
        comments.edit_comment(make_user(), c, "someone else's edit")


def test_comment_author_can_delete_but_others_cannot(make_question, make_user) -> None:
    author = make_user()
    c = comments.add_comment(author, make_question(), "a comment to delete later")
    db.session.commit()
    with pytest.raises(PermissionDenied):
        comments.delete_comment(make_user(), c)
    comments.delete_comment(author, c)
    assert c.is_deleted


def test_two_concurrent_answers_both_count(app: Flask, make_question, make_user) -> None:
    """Two requests answering at once: the stored count equals the real number of answers."""
    q = make_question()
    users = [make_user() for _ in range(8)]
    qid = q.id
    user_ids = [u.id for u in users]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(user_ids))

    def worker(uid: int) -> None:
        try:
            with app.app_context():
                from forum.models import User
                user = db.session.get(User, uid)
                question = db.session.get(Question, qid)
                barrier.wait()
                answers.post_answer(user, question, f"Answer from user {uid}")
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    db.session.expire_all()
    real = db.session.scalar(select(func.count(Answer.id)).where(Answer.question_id == qid))
    assert real == 8
    assert db.session.get(Question, qid).answer_count == 8
