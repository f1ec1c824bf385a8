"""The edit-or-suggest decision behind both edit pages (forum/services/editing.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Revision, SuggestedEdit
from forum.services import curation, editing
from forum.services.editing import EditMode
from forum.services.errors import PermissionDenied
from forum.services.questions import QuestionInput
from tests.support import HUB_BODY, set_reputation

FIXED = HUB_BODY + "\n\nFirmware 4.2.1, Lumen Hub Gen 2."


pytestmark = pytest.mark.usefixtures("production_thresholds")


@pytest.fixture
def thread(asked_and_answered):
    return asked_and_answered


def test_the_mode_follows_the_edit_privilege(make_user, thread) -> None:
    q, a = thread
    newbie, veteran = make_user("newbie"), set_reputation(make_user("veteran"), 2000)
    assert editing.edit_mode(newbie, q) is EditMode.SUGGEST and editing.edit_mode(newbie, a) is EditMode.SUGGEST
    assert editing.edit_mode(veteran, q) is EditMode.EDIT and editing.edit_mode(veteran, a) is EditMode.EDIT
    assert editing.edit_mode(q.author, q) is EditMode.EDIT  # one's own post, at any reputation


def test_below_the_privilege_an_edit_becomes_a_suggestion(make_user, thread) -> None:
    q, a = thread
    outcome = editing.edit_or_suggest(make_user("newbie"), a, "Hold the reset button until the ring blinks blue.")
    db.session.commit()
    assert outcome.suggested and outcome.suggestion is not None and outcome.suggestion.status == "pending"
    db.session.expire_all()
    assert a.body == "Hold the reset button for ten seconds."
    data = QuestionInput(q.title, FIXED, "setup")
    outcome = editing.edit_or_suggest(make_user("other"), q, data, "versions")
    assert outcome.mode is EditMode.SUGGEST and db.session.scalar(select(func.count()).select_from(SuggestedEdit)) == 2


def test_with_the_privilege_an_edit_applies_as_a_revision(make_user, thread) -> None:
    q, _ = thread
    outcome = editing.edit_or_suggest(set_reputation(make_user("veteran"), 2000), q,
                                      QuestionInput(q.title, FIXED, "setup"), "versions")
    db.session.commit()
    assert not outcome.suggested and outcome.suggestion is None and outcome.post.body == FIXED
    assert db.session.scalar(select(func.count()).select_from(Revision).where(Revision.question_id == q.id)) == 2


def test_neither_edit_nor_suggestion_is_refused_before_any_change(make_user, thread) -> None:
    q, a = thread
    curation.set_locked(make_user("mod", role="moderator"), q, True, "")
    db.session.commit()
    newbie = make_user("newbie")
    with pytest.raises(PermissionDenied):
        editing.edit_mode(newbie, a)
    with pytest.raises(PermissionDenied):
        editing.edit_or_suggest(newbie, a, "Hold the reset button until the ring blinks blue.")
    assert db.session.scalar(select(func.count()).select_from(SuggestedEdit)) == 0


def test_the_data_must_fit_the_post(make_user, thread) -> None:
    q, a = thread
    with pytest.raises(TypeError):
        editing.edit_or_suggest(q.author, q, "just a body")  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        editing.edit_or_suggest(a.author, a, QuestionInput(q.title, FIXED, "setup"))  # type: ignore[call-overload]
