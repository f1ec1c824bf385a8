"""The "Related questions" sidebar is stored when questions are written and read back fresh."""
from __future__ import annotations

from sqlalchemy import delete, select

from forum.extensions import db
from forum.models import RelatedQuestion
from forum.services import questions, related
from forum.services.threads import thread_page

BODY = "After the firmware update the hub blinks orange and the app cannot find it on Wi-Fi."


def stored(question_id: int) -> list[int]:
    return list(db.session.scalars(
        select(RelatedQuestion.related_id)
        .where(RelatedQuestion.question_id == question_id, RelatedQuestion.rank >= 0)  # not the marker row
        .order_by(RelatedQuestion.rank)))


def test_asking_stores_the_neighbours_and_adds_the_new_question_to_theirs(make_question) -> None:
    old = make_question(title="Hub blinks orange after firmware update", body=BODY, tags="firmware")
    other = make_question(title="Charged twice for Lumen Plus this month", body="Two charges for the plan.",
                          tags="billing")
    new = make_question(title="Hub blinks orange since the latest firmware", body=BODY, tags="firmware")
    assert stored(new.id)[0] == old.id
    assert other.id not in stored(new.id)
    assert new.id in stored(old.id)  # the old question sees the new one without a recomputation
    assert [q.id for q in thread_page(old.id, None).related][0] == new.id


def test_editing_a_title_recomputes_the_list(make_question, make_user) -> None:
    orange = make_question(title="Hub blinks orange after firmware update", body=BODY, tags="firmware")
    billing = make_question(title="Charged twice for Lumen Plus this month", body="Two charges for the plan, "
                            "the invoice shows the subscription twice.", tags="billing")
    q = make_question(title="Hub blinks orange when pairing", body=BODY, tags="setup")
    assert stored(q.id)[0] == orange.id
    questions.apply_question_edit(q.author, q, questions.QuestionInput(
        "Charged twice for my subscription", "The invoice shows the Lumen Plus subscription twice this month.",
        "billing"))
    db.session.commit()
    assert stored(q.id)[0] == billing.id


def test_a_hidden_neighbour_leaves_the_sidebar_at_once(make_question) -> None:
    old = make_question(title="Hub blinks orange after firmware update", body=BODY, tags="firmware")
    new = make_question(title="Hub blinks orange since the latest firmware", body=BODY, tags="firmware")
    questions.delete_question(old.author, old)
    db.session.commit()
    assert old.id in stored(new.id)  # the stored choice stays ...
    assert old.id not in [q.id for q in thread_page(new.id, None).related]  # ... but is never shown


def test_questions_without_a_stored_list_search_live_and_the_command_fills_them(make_question, runner) -> None:
    old = make_question(title="Hub blinks orange after firmware update", body=BODY, tags="firmware")
    new = make_question(title="Hub blinks orange since the latest firmware", body=BODY, tags="firmware")
    db.session.execute(delete(RelatedQuestion))
    db.session.commit()
    assert related.stored_related(new) is None
    assert [q.id for q in thread_page(new.id, None).related] == [old.id]
    result = runner.invoke(args=["forum", "related"])
    assert result.exit_code == 0, result.output
    assert "stored for 2 questions" in result.output
    assert stored(new.id) == [old.id] and stored(old.id) == [new.id]


def test_the_question_page_reads_related_questions_in_one_query(make_question, count_queries) -> None:
    make_question(title="Hub blinks orange after firmware update", body=BODY, tags="firmware")
    new = make_question(title="Hub blinks orange since the latest firmware", body=BODY, tags="firmware")
    db.session.expire_all()
    with count_queries() as qc:
        assert related.stored_related(new)
    assert qc.count <= 2  # the question's id (expired by expire_all) and the stored list with its rows
