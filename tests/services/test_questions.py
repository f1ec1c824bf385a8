"""Asking, editing, deleting questions; tags and revisions."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Revision, Tag
from forum.services import questions as svc
from forum.services.errors import FieldError, InvalidState, NotFound, PermissionDenied

BODY = "After the 2.4 firmware update the hub blinks orange and the app cannot find it."


def ask(user, title="Hub blinks orange after the update", body=BODY, tags="firmware setup"):
    q = svc.ask_question(user, svc.QuestionInput(title, body, tags))
    db.session.commit()
    return q


def test_new_tags_are_normalised_to_lowercase_and_deduplicated(make_user) -> None:
    q = ask(make_user(), tags="WiFi, wifi  C++ setup,Setup")
    assert [t.name for t in q.tags] == ["c++", "setup", "wifi"]


@pytest.mark.parametrize(("tags", "message"), [
    ("", "at least one"),
    ("a b c d e f", "at most 5"),
    ("x" * 36, "35 characters"),
    ("!!! ???", "no usable characters"),
])
def test_bad_tags_are_refused_with_a_field_error(make_user, tags: str, message: str) -> None:
    with pytest.raises(FieldError) as info:
        svc.ask_question(make_user(), svc.QuestionInput("A perfectly fine title", BODY, tags))
    assert info.value.field == "tags" and message in info.value.message


@pytest.mark.parametrize(("title", "field"), [("Too short", "title"), ("x" * 151, "title")])
def test_title_length_is_enforced(make_user, title: str, field: str) -> None:
    with pytest.raises(FieldError) as info:
        svc.ask_question(make_user(), svc.QuestionInput(title, BODY, "setup"))
    assert info.value.field == field


def test_body_over_30000_characters_is_refused(make_user) -> None:
    with pytest.raises(FieldError) as info:
        svc.ask_question(make_user(), svc.QuestionInput("A perfectly fine title", "x" * 30_001, "setup"))
    assert info.value.field == "body"


def test_body_of_exactly_30000_characters_is_accepted(make_user) -> None:
    q = ask(make_user(), body="word " * 5999 + "end!")
    assert len(q.body) == 29_999


def test_tag_counts_follow_asks_edits_deletes_and_restores(make_user) -> None:
    user = make_user()
    q = ask(user, tags="setup wifi")
    ask(user, title="Another question about wifi", tags="wifi")
    counts = lambda: {t.name: t.question_count for t in db.session.scalars(select(Tag))}  # noqa: E731
    assert counts() == {"setup": 1, "wifi": 2}
    svc.edit_question(user, q, svc.QuestionInput(q.title, q.body, "setup firmware"))
    db.session.commit()
    assert counts() == {"setup": 1, "wifi": 1, "firmware": 1}
    svc.delete_question(user, q)
    db.session.commit()
    assert counts() == {"setup": 0, "wifi": 1, "firmware": 0}
    svc.restore_question(user, q)
    db.session.commit()
    assert counts() == {"setup": 1, "wifi": 1, "firmware": 1}


def test_every_edit_is_kept_as_a_revision(make_user) -> None:
    user = make_user()
    q = ask(user)
    svc.edit_question(user, q, svc.QuestionInput("Hub blinks orange after the 2.4 update", BODY + " Edited.", "firmware"),
                      "more detail")
    db.session.commit()
    revs = list(db.session.scalars(select(Revision).where(Revision.question_id == q.id).order_by(Revision.number)))
    assert [r.number for r in revs] == [1, 2]
    assert revs[0].title == "Hub blinks orange after the update" and revs[0].tags == "firmware setup"
    assert revs[1].body.endswith("Edited.") and revs[1].summary == "more detail"
    assert q.edited_at is not None


def test_an_edit_that_changes_nothing_stores_no_revision(make_user) -> None:
    user = make_user()
    q = ask(user)
    with pytest.raises(InvalidState):
        svc.edit_question(user, q, svc.QuestionInput(q.title, q.body, "firmware setup"))


def test_members_cannot_edit_or_delete_others_questions(make_user) -> None:
    q = ask(make_user())
    other = make_user()
    with pytest.raises(PermissionDenied):
        svc.edit_question(other, q, svc.QuestionInput("A new title for this", BODY, "setup"))
    with pytest.raises(PermissionDenied):
        svc.delete_question(other, q)


def test_soft_deleted_question_is_hidden_from_others_but_not_from_author_or_staff(make_user) -> None:
    author = make_user()
    q = ask(author)
    svc.delete_question(author, q)
    db.session.commit()
    assert svc.get_question(q.id, author).is_deleted
    assert svc.get_question(q.id, make_user(role="moderator")).id == q.id
    with pytest.raises(NotFound):
        svc.get_question(q.id, make_user())
    assert q.id not in [x.id for x in svc.list_questions("newest", 1).items]
    # Nothing is destroyed: the row and its text are still there.
    assert q.body == BODY


def test_author_cannot_restore_a_question_a_moderator_deleted(make_user) -> None:
    author = make_user()
    q = ask(author)
    svc.delete_question(make_user(role="moderator"), q)
    db.session.commit()
    with pytest.raises(PermissionDenied):
        svc.restore_question(author, q)


def test_lists_are_paginated_in_a_stable_order(app, make_user) -> None:
    user = make_user()
    ids = [ask(user, title=f"Question number {i:02d} about the hub").id for i in range(25)]
    app.config["PER_PAGE"] = 10
    pages = [svc.list_questions("newest", p) for p in (1, 2, 3)]
    seen = [q.id for page in pages for q in page.items]
    assert seen == sorted(ids, reverse=True)
    assert pages[0].total == 25 and pages[0].pages == 3 and not pages[2].has_next


def test_list_counts_stop_at_the_cap_and_the_last_page_needs_no_count(app, make_user, count_queries) -> None:
    user = make_user()
    for i in range(7):
        ask(user, title=f"Question number {i:02d} about the hub")
    app.config.update(PER_PAGE=3, LIST_COUNT_CAP=5)
    first = svc.list_questions("newest", 1)
    assert (len(first.items), first.total, first.exact, first.has_next, first.pages) == (3, 5, False, True, 2)
    with count_queries() as qc:
        last = svc.list_questions("newest", 3)
    assert (len(last.items), last.total, last.exact, last.has_next, last.pages) == (1, 7, True, False, 3)
    assert not any("count(" in s.lower() for s in qc.statements)  # the last page tells the total
    uncounted = svc.list_questions("newest", 1, count=False)
    assert uncounted.has_next and not uncounted.exact
    app.config["MAX_PAGE"] = 2
    assert not svc.list_questions("newest", 2).has_next  # no link past the last reachable page


def test_unanswered_tab_lists_only_questions_without_answers(make_user, make_answer) -> None:
    user = make_user()
    answered = ask(user, title="This one gets an answer")
    lonely = ask(user, title="This one stays unanswered")
    make_answer(answered)
    assert [q.id for q in svc.list_questions("unanswered", 1).items] == [lonely.id]


def test_slug_is_ascii_and_bounded() -> None:
    assert svc.slugify("Hub won't pair — Wi-Fi 2.4 GHz, café!") == "hub-won-t-pair-wi-fi-2-4-ghz-cafe"
    assert len(svc.slugify("word " * 100)) <= 80
    assert svc.slugify("!!!") == "question"


def test_tag_pages_list_by_the_date_asked_even_when_a_tag_is_added_later(make_user) -> None:
    user = make_user()
    old = ask(user, title="Hub blinks orange after the update", tags="firmware")
    new = ask(user, title="Hub blinks red after the update", tags="wifi")
    svc.apply_question_edit(user, old, svc.QuestionInput(old.title, old.body, "firmware wifi"))
    db.session.commit()
    wifi = svc.get_tag("wifi")
    page = svc.list_questions("newest", 1, tag=wifi)
    assert [q.id for q in page.items] == [new.id, old.id]  # the retagged question keeps its own date
    assert page.total == wifi.question_count == 2
