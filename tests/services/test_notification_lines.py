"""One unread line per member and thread: the follower of an incident thread hears of its
200th answer by a count on the line they have not read yet, not by a 200th line
(services/notifications._bell_insert; models.notification.COLLAPSING)."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum.extensions import db
from forum.models import Notification, OutboxMail
from forum.services import answers, comments, notifications
from forum.services import following as follow_svc
from tests.support import run_together


def lines(user: Any, event: str | None = None) -> list[tuple[str, int, bool]]:
    """(event, count, unread) of each of ``user``'s lines, oldest first (badges left out)."""
    db.session.expire_all()
    stmt = select(Notification).where(Notification.user_id == user.id, Notification.event != "badge")
    if event:
        stmt = stmt.where(Notification.event == event)
    return [(n.event, n.count, n.read_at is None) for n in db.session.scalars(stmt.order_by(Notification.id))]


@pytest.fixture
def thread(make_user: Any, make_question: Any) -> tuple[Any, Any, Any]:
    """A question, its asker, and a member who follows it."""
    asker, follower = make_user(), make_user()
    question = make_question(author=asker, title="Hub offline for everyone since the outage")
    follow_svc.follow_question(follower, question)
    db.session.commit()
    return question, asker, follower


def test_answers_on_a_thread_count_up_one_unread_line_each_for_the_asker_and_a_follower(
        thread: tuple[Any, Any, Any], make_user: Any, make_answer: Any) -> None:
    question, asker, follower = thread
    first = make_answer(question, author=make_user())
    for _ in range(3):
        make_answer(question, author=make_user())

    assert lines(asker) == [("answer", 4, True)]
    assert lines(follower) == [("follow", 4, True)]
    line = db.session.scalar(select(Notification).where(Notification.user_id == follower.id))
    assert line.url.endswith(f"#answer-{first.id}")  # the first answer they have not seen
    # E-mail is per event, as before: the asker asked for each answer (the default).
    assert db.session.scalar(select(db.func.count()).select_from(OutboxMail)
                             .where(OutboxMail.user_id == asker.id)) == 4


def test_once_read_the_next_answer_starts_a_new_line(thread: tuple[Any, Any, Any], make_user: Any,
                                                     make_answer: Any) -> None:
    question, asker, follower = thread
    make_answer(question, author=make_user())
    make_answer(question, author=make_user())
    assert notifications.read_target(follower, f"question:{question.id}", 1) == 1
    db.session.commit()
    make_answer(question, author=make_user())

    assert lines(follower) == [("follow", 2, False), ("follow", 1, True)]
    assert notifications.unread_count(follower) == 1


def test_other_threads_and_other_events_keep_their_own_lines(thread: tuple[Any, Any, Any], make_user: Any,
                                                             make_question: Any, make_answer: Any) -> None:
    question, asker, follower = thread
    other = make_question(author=asker, title="Pairing fails with error 7")
    follow_svc.follow_question(follower, other)
    db.session.commit()
    answer = make_answer(question, author=make_user())
    make_answer(other, author=make_user())
    make_answer(question, author=make_user())
    comments.add_comment(make_user(), answer, "Same here, since 9am.")
    db.session.commit()

    # The asker: answers on two threads are two lines; the comment (on someone's answer) reaches
    # them as a follower of their own question, an event of its own.
    assert sorted(lines(asker)) == [("answer", 1, True), ("answer", 2, True), ("follow", 1, True)]
    # The follower: two answers and the comment are one line on the first thread.
    assert sorted(lines(follower)) == [("follow", 1, True), ("follow", 3, True)]
    assert notifications.unread_count(follower) == 2


def test_the_inbox_shows_the_count_on_the_line(app: Flask, client: FlaskClient, thread: tuple[Any, Any, Any],
                                               make_user: Any, make_answer: Any, auth: Any) -> None:
    question, asker, follower = thread
    for _ in range(3):
        make_answer(question, author=make_user())
    auth.login(follower.username)
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count('class="notification-subject"') == 1
    assert "and 2 more" in page


def test_answers_at_the_same_moment_count_up_the_same_line(
        app: Flask, thread: tuple[Any, Any, Any], make_user: Any) -> None:
    question, asker, follower = thread
    helpers = [make_user().id for _ in range(4)]
    question_id = question.id
    db.session.commit()

    def post(i: int) -> None:
        from forum.models import Question, User

        with app.app_context():
            try:
                author, q = db.session.get(User, helpers[i]), db.session.get(Question, question_id)
                answers.post_answer(author, q, f"Restart the hub ({i}), then re-pair it from the app.")
                db.session.commit()
            finally:
                db.session.remove()

    run_together(4, post)
    assert lines(follower) == [("follow", 4, True)]
    assert lines(asker) == [("answer", 4, True)]
