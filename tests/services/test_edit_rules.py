"""An edit cannot slip in what a new post could not: blocked words, review words, new members' links."""
from __future__ import annotations

import pytest

from forum.extensions import db
from forum.models import WatchedWord
from forum.services import answers, comments, questions
from forum.services.errors import FieldError

BODY = "After the firmware update the hub blinks orange and the app cannot find it."


@pytest.fixture(autouse=True)
def safety_on(app):
    app.config.update(NEW_MEMBER_LINK_REVIEW=True)
    db.session.add_all([WatchedWord(phrase="casino", action="block"), WatchedWord(phrase="refund hack", action="review")])
    db.session.commit()
    return app


def test_edit_adding_a_blocked_word_is_refused_and_keeps_the_old_text(make_user, make_question) -> None:
    author = make_user()
    q = make_question(author=author, body=BODY)
    with pytest.raises(FieldError) as err:
        questions.edit_question(author, q, questions.QuestionInput(q.title, BODY + " casino bonus", "setup"))
    assert err.value.field == "body"
    db.session.rollback()
    assert db.session.get(type(q), q.id).body == BODY


def test_edit_adding_a_review_word_sends_the_answer_back_to_review(make_user, make_question, make_answer) -> None:
    q = make_question()
    a = make_answer(q, body="Reset the hub from the app settings.")
    assert q.answer_count == 1
    answers.edit_answer(a.author, a, "Reset the hub. Also here is a refund hack for you.")
    db.session.commit()
    assert a.hidden_reason == "review" and q.answer_count == 0


def test_new_member_editing_in_a_link_goes_to_review(make_user, make_question) -> None:
    author = make_user()
    c = comments.add_comment(author, make_question(), "plain comment without links")
    db.session.commit()
    comments.edit_comment(author, c, "see https://spam.example.test for a fix")
    db.session.commit()
    assert c.is_hidden and c.hidden_reason == "review"
