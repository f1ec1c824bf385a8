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


def mails(user: Any, event: str | None = None) -> int:
    """How many notification e-mails ``user`` has in the outbox (of ``event``)."""
    stmt = select(db.func.count()).select_from(OutboxMail).where(OutboxMail.user_id == user.id)
    if event:
        stmt = stmt.where(OutboxMail.event == event)
    return db.session.scalar(stmt) or 0


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
    # E-mail follows the line: the first answer's, none for the three counted up.
    assert mails(asker) == 1


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
    assert mails(asker, "answer") == 1  # the writer that began the line mails; the others count up


def test_the_asker_is_mailed_once_per_unread_line_and_again_after_reading_it(
        thread: tuple[Any, Any, Any], make_user: Any, make_answer: Any) -> None:
    question, asker, follower = thread
    for _ in range(5):
        make_answer(question, author=make_user())
    assert mails(asker, "answer") == 1
    mail = db.session.scalars(select(OutboxMail).where(OutboxMail.user_id == asker.id)).one()
    assert "Until you open the thread, more answers are counted on your notifications" in mail.text
    assert "counted on your notifications" in mail.html

    # Viewing the thread marks the line read: the next answer begins a line and mails again.
    assert notifications.read_target(asker, f"question:{question.id}", 1) == 1
    db.session.commit()
    make_answer(question, author=make_user())
    make_answer(question, author=make_user())
    assert lines(asker) == [("answer", 5, False), ("answer", 2, True)]
    assert mails(asker, "answer") == 2


def test_a_member_with_the_bell_off_is_mailed_each_time_and_not_told_of_a_count(
        thread: tuple[Any, Any, Any], make_user: Any, make_answer: Any) -> None:
    question, asker, follower = thread
    notifications.save_preferences(asker, in_app=[e for e in notifications.EVENTS if e != "answer"],
                                   email=["answer"], digest=False)
    db.session.commit()
    for _ in range(3):
        make_answer(question, author=make_user())
    assert lines(asker, "answer") == []
    assert mails(asker, "answer") == 3  # no line to count on: every answer, as they chose
    texts = db.session.scalars(select(OutboxMail.text).where(OutboxMail.user_id == asker.id)).all()
    assert not any("counted on your notifications" in text for text in texts)


def test_other_threads_and_events_are_mailed_on_their_own_lines(
        thread: tuple[Any, Any, Any], make_user: Any, make_question: Any, make_answer: Any) -> None:
    question, asker, follower = thread
    other = make_question(author=asker, title="Pairing fails with error 7")
    for target in (question, other, question, other):
        make_answer(target, author=make_user())
    # A comment on the asker's own question is an event of its own, with a line and a mail.
    comments.add_comment(make_user(), question, "Same here, since 9am.")
    comments.add_comment(make_user(), question, "And here.")
    db.session.commit()
    assert mails(asker, "answer") == 2  # one per thread
    assert mails(asker, "comment") == 1


def test_a_line_begun_with_email_off_is_mailed_once_email_is_on(
        thread: tuple[Any, Any, Any], make_user: Any, make_answer: Any) -> None:
    question, asker, follower = thread
    notifications.set_email(asker.id, "answer", False)
    db.session.commit()
    make_answer(question, author=make_user())
    make_answer(question, author=make_user())
    assert mails(asker, "answer") == 0
    notifications.set_email(asker.id, "answer", True)
    db.session.commit()
    make_answer(question, author=make_user())
    make_answer(question, author=make_user())
    assert lines(asker) == [("answer", 4, True)]
    assert mails(asker, "answer") == 1  # the first answer after e-mail came on, then counted silently
