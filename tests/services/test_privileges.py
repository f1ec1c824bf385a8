"""Privileges by reputation: just below and at each threshold, staff bypass, refusals that say what is missing."""
from __future__ import annotations

import pytest

from config import Config, TestingConfig, settings_from_env
from forum.extensions import db
from forum.services import answers, comments, questions, suggestions, votes
from forum.services.errors import PermissionDenied
from forum.services.permissions import can
from forum.services.privileges import PrivilegeRequired, has_privilege, ladder
from tests.support import production_privileges, set_reputation

pytestmark = pytest.mark.usefixtures("production_thresholds")


@pytest.fixture
def thread(asked_and_answered):
    return asked_and_answered


def test_production_defaults_are_the_documented_thresholds() -> None:
    assert (Config.PRIVILEGE_UPVOTE, Config.PRIVILEGE_COMMENT_EVERYWHERE, Config.PRIVILEGE_DOWNVOTE,
            Config.PRIVILEGE_EDIT_OTHERS, Config.PRIVILEGE_REVIEW_EDITS) == (15, 50, 125, 2000, 2000)
    # Tests lower only the vote and comment thresholds; editing stays at its default.
    assert TestingConfig.PRIVILEGE_EDIT_OTHERS == 2000 and TestingConfig.PRIVILEGE_UPVOTE == 1
    assert settings_from_env(Config, {"FORUM_PRIVILEGE_DOWNVOTE": "100"})["PRIVILEGE_DOWNVOTE"] == 100


def test_a_changed_threshold_applies_at_once(app, make_user, thread) -> None:
    q, a = thread
    member = set_reputation(make_user(), 100)
    assert not can(member, "vote_down", a)
    app.config["PRIVILEGE_DOWNVOTE"] = 100
    assert can(member, "vote_down", a)


@pytest.mark.parametrize(("rep", "allowed"), [(14, False), (15, True)])
def test_upvote_needs_15(make_user, thread, rep: int, allowed: bool) -> None:
    q, a = thread
    voter = set_reputation(make_user(), rep)
    assert can(voter, "vote_up", a) is allowed
    if allowed:
        assert votes.cast_vote(voter, "answer", a.id, 1).score == 1
    else:
        with pytest.raises(PrivilegeRequired, match=r"^Upvoting needs 15 reputation; you have 14\.$") as err:
            votes.cast_vote(voter, "answer", a.id, 1)
        assert err.value.status == 403 and err.value.privilege == "upvote"


@pytest.mark.parametrize(("rep", "allowed"), [(124, False), (125, True)])
def test_downvote_needs_125(make_user, thread, rep: int, allowed: bool) -> None:
    q, a = thread
    voter = set_reputation(make_user(), rep)
    assert can(voter, "vote_up", q) and can(voter, "vote_down", q) is allowed
    if allowed:
        assert votes.cast_vote(voter, "question", q.id, -1).score == -1
    else:
        with pytest.raises(PrivilegeRequired, match=r"^Downvoting needs 125 reputation; you have 124\.$"):
            votes.cast_vote(voter, "question", q.id, -1)


def test_a_vote_cast_before_the_threshold_rose_can_still_be_withdrawn(app, make_user, thread) -> None:
    q, a = thread
    voter = set_reputation(make_user(), 20)
    votes.cast_vote(voter, "answer", a.id, 1)
    db.session.commit()
    app.config["PRIVILEGE_UPVOTE"] = 100
    assert votes.cast_vote(voter, "answer", a.id, 0).score == 0


@pytest.mark.parametrize(("rep", "allowed"), [(49, False), (50, True)])
def test_commenting_on_other_peoples_posts_needs_50(make_user, thread, rep: int, allowed: bool) -> None:
    q, a = thread
    member = set_reputation(make_user(), rep)
    for target in (q, a):
        assert can(member, "comment", target) is allowed
    if allowed:
        comments.add_comment(member, a, "Which firmware version is this on?")
    else:
        with pytest.raises(PrivilegeRequired, match=r"^Commenting on other people's posts needs 50 reputation; you have 49\.$"):
            comments.add_comment(member, a, "Which firmware version is this on?")


def test_new_members_comment_on_their_own_posts_and_answers_to_their_questions(make_user, make_question, make_answer, thread) -> None:
    q, a = thread
    asker = q.author
    assert asker.reputation == 1
    comments.add_comment(asker, q, "Update: it happens on Wi-Fi too.")
    comments.add_comment(asker, a, "Thanks, I will try that tonight.")  # an answer to their question
    helper = a.author
    comments.add_comment(helper, a, "Also check the hub's firmware.")  # their own answer
    other = make_answer(q, author=make_user(), body="A second answer from someone else.")
    assert not can(helper, "comment", q) and not can(helper, "comment", other)


@pytest.mark.parametrize(("rep", "direct"), [(1999, False), (2000, True)])
def test_editing_other_peoples_posts_needs_2000_below_it_is_a_suggestion(make_user, thread, rep: int, direct: bool) -> None:
    q, a = thread
    editor = set_reputation(make_user(), rep)
    assert can(editor, "edit", a) is direct and can(editor, "suggest_edit", a) is not direct
    body = "Set the time zone again in the app, then reboot the hub."
    if direct:
        answers.edit_answer(editor, a, body)
        assert a.body == body
    else:
        with pytest.raises(PermissionDenied):
            answers.edit_answer(editor, a, body)
        suggestion = suggestions.suggest_answer_edit(editor, a, body)
        assert suggestion.status == "pending" and a.body != body
        q_suggestion = suggestions.suggest_question_edit(
            editor, q, questions.QuestionInput(q.title + " (Gen 2)", q.body, "setup"))
        assert q_suggestion.title.endswith("(Gen 2)")


def test_the_review_privilege_follows_its_own_threshold(app, make_user) -> None:
    member = set_reputation(make_user(), 1999)
    assert not can(member, "review_edits")
    set_reputation(member, 2000)
    assert can(member, "review_edits")
    app.config["PRIVILEGE_REVIEW_EDITS"] = 3000
    assert not can(member, "review_edits")


@pytest.mark.parametrize("role", ["agent", "moderator", "admin"])
def test_staff_have_every_privilege_whatever_their_reputation(make_user, thread, role: str) -> None:
    q, a = thread
    staff = make_user(role=role)
    assert staff.reputation == 1
    assert all(row.held for row in ladder(staff).rows) and ladder(staff).staff
    for action in ("vote_up", "vote_down", "comment", "edit"):
        assert can(staff, action, a), action
    assert can(staff, "review_edits") and not can(staff, "suggest_edit", a)
    votes.cast_vote(staff, "answer", a.id, -1)
    answers.edit_answer(staff, a, "Set the time zone again in the app (edited by staff).")


def test_anonymous_visitors_have_no_privilege(thread) -> None:
    assert not any(has_privilege(None, row.privilege.key) for row in ladder(None).rows)
    assert ladder(None).next is None and ladder(None).reputation is None


def test_the_ladder_shows_the_next_privilege_and_how_far_it_is(app, make_user) -> None:
    production_privileges(app, create_tag=True)
    member = set_reputation(make_user(), 40)
    result = ladder(member)
    assert [r.threshold for r in result.rows] == sorted(r.threshold for r in result.rows)
    assert result.next.privilege.key == "comment_everywhere" and result.next.to_go == 10
    assert [r.privilege.key for r in result.rows if r.held] == ["upvote"]
