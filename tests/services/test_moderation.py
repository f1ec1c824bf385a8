"""Flags, auto-hiding, moderator actions, the review queue, people and watched words (services)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Answer, Flag, ModerationLog, Question, Tag, UserNote, WatchedWord
from forum.models.base import utcnow
from forum.services import comments, flags, moderation, questions
from forum.services.errors import FieldError, InvalidState, NotFound, PermissionDenied
from forum.services.visibility import hide_post


@pytest.fixture
def thread(make_user, make_question, make_answer):
    author = make_user("author")
    q = make_question(author=author, title="Hub blinks orange after the update", tags="setup firmware")
    a = make_answer(q, author=author, body="Unplug it for a minute.")
    c = comments.add_comment(author, q, "Any news on this?")
    db.session.commit()
    return {"author": author, "q": q, "a": a, "c": c, "mod": make_user("mod", role="moderator")}


def flag(user, post_type, post, reason="spam", note=""):
    f = flags.flag_post(user, post_type, post.id, reason, note)
    db.session.commit()
    return f


def log_entries(action: str | None = None) -> list[ModerationLog]:
    stmt = select(ModerationLog).order_by(ModerationLog.id)
    if action:
        stmt = stmt.where(ModerationLog.action == action)
    return list(db.session.scalars(stmt))


# --- flagging and auto-hide -------------------------------------------------------------


@pytest.mark.parametrize("post_type", ["question", "answer", "comment"])
def test_three_distinct_spam_flags_hide_a_post_and_log_a_system_action(thread, make_user, post_type: str) -> None:
    post = thread[{"question": "q", "answer": "a", "comment": "c"}[post_type]]
    for _ in range(3):
        flag(make_user(), post_type, post)
    db.session.refresh(post)
    assert post.hidden_at is not None and post.hidden_reason == "flags"
    [entry] = log_entries("auto_hide")
    assert entry.actor_id is None and entry.target_type == post_type and entry.target_id == post.id
    assert json.loads(entry.before)["hidden_at"] is None and json.loads(entry.after)["hidden_reason"] == "flags"
    assert all(f.status == "pending" for f in db.session.scalars(select(Flag)))


def test_two_spam_flags_do_not_hide(thread, make_user) -> None:
    for _ in range(2):
        flag(make_user(), "question", thread["q"])
    assert thread["q"].is_visible and not log_entries("auto_hide")


def test_spam_and_rude_flags_add_up_but_other_reasons_do_not(thread, make_user) -> None:
    flag(make_user(), "answer", thread["a"], "spam")
    flag(make_user(), "answer", thread["a"], "off_topic")
    flag(make_user(), "answer", thread["a"], "needs_staff")
    assert thread["a"].is_visible
    flag(make_user(), "answer", thread["a"], "rude")
    assert thread["a"].is_visible
    flag(make_user(), "answer", thread["a"], "rude")
    db.session.refresh(thread["a"])
    assert thread["a"].hidden_reason == "flags"


def test_the_same_member_flagging_twice_counts_once(thread, make_user) -> None:
    twice = make_user()
    flag(twice, "question", thread["q"])
    with pytest.raises(flags.AlreadyFlagged, match="already flagged"):
        flag(twice, "question", thread["q"], "rude")
    db.session.rollback()
    flag(make_user(), "question", thread["q"])
    assert thread["q"].is_visible
    assert db.session.scalar(select(func.count(Flag.id))) == 2


def test_hiding_by_flags_fixes_the_counts(thread, make_user) -> None:
    q, a = thread["q"], thread["a"]
    for _ in range(3):
        flag(make_user(), "answer", a)
    db.session.refresh(q)
    assert q.answer_count == 0
    for _ in range(3):
        flag(make_user(), "question", q)
    assert {t.name: t.question_count for t in db.session.scalars(select(Tag))} == {"setup": 0, "firmware": 0}


def test_members_cannot_flag_their_own_post(thread) -> None:
    with pytest.raises(PermissionDenied, match="own post"):
        flags.flag_post(thread["author"], "question", thread["q"].id, "spam")


@pytest.mark.parametrize(("post_type", "post_id"), [("question", 999999), ("answer", 999999), ("comment", 999999),
                                                    ("article", 1)])
def test_flagging_an_unknown_post_is_not_found(make_user, post_type: str, post_id: int) -> None:
    with pytest.raises(NotFound):
        flags.flag_post(make_user(), post_type, post_id, "spam")


def test_flagging_a_post_hidden_from_the_flagger_is_not_found(thread, make_user) -> None:
    hide_post(thread["a"], "moderator")
    questions.delete_question(thread["author"], thread["q"])
    db.session.commit()
    for post_type, key in (("question", "q"), ("answer", "a"), ("comment", "c")):
        with pytest.raises(NotFound):
            flags.flag_post(make_user(), post_type, thread[key].id, "spam")


def test_other_needs_a_note_and_notes_are_bounded(thread, make_user) -> None:
    user = make_user()
    with pytest.raises(FieldError) as err:
        flags.flag_post(user, "question", thread["q"].id, "other", "   ")
    assert err.value.field == "note"
    with pytest.raises(FieldError):
        flags.flag_post(user, "question", thread["q"].id, "spam", "x" * 501)
    with pytest.raises(FieldError) as err:
        flags.flag_post(user, "question", thread["q"].id, "dismissed", "")
    assert err.value.field == "reason"
    assert flag(user, "question", thread["q"], "other", "Copies text from our manual").note


def test_silenced_members_cannot_flag(thread, make_user) -> None:
    user = make_user()
    moderation.silence_user(thread["mod"], user, 3, "Cooling off")
    with pytest.raises(PermissionDenied):
        flags.flag_post(user, "question", thread["q"].id, "spam")


# --- moderator actions on flags -----------------------------------------------------------


def test_dismissing_flags_unhides_a_post_hidden_by_flags(thread, make_user) -> None:
    flaggers = [make_user() for _ in range(3)]
    for u in flaggers:
        flag(u, "answer", thread["a"])
    assert moderation.act_on_flags(thread["mod"], "answer", thread["a"].id, "dismiss") == 3
    db.session.commit()
    db.session.refresh(thread["q"])
    assert thread["a"].is_visible and thread["q"].answer_count == 1
    assert {f.status for f in db.session.scalars(select(Flag))} == {"dismissed"}
    page, rows = flags.my_flags(flaggers[0], 1)
    assert rows[0].outcome == moderation.OUTCOMES["dismiss"]
    entry = log_entries("dismiss_flags")[0]
    assert json.loads(entry.before)["pending_flags"] == 3 and entry.actor_id == thread["mod"].id


@pytest.mark.parametrize("action", ["hide", "delete"])
def test_hide_and_delete_keep_the_post_and_action_the_flags(thread, make_user, action: str) -> None:
    flag(make_user(), "question", thread["q"], "off_topic")
    moderation.act_on_flags(thread["mod"], "question", thread["q"].id, action, reason="Advert")
    db.session.commit()
    q = db.session.get(Question, thread["q"].id)
    assert q is not None and q.body  # nothing destroyed
    if action == "hide":
        assert q.hidden_reason == "moderator" and q.deleted_at is None
    else:
        assert q.deleted_at is not None and q.deleted_by_id == thread["mod"].id
    assert db.session.scalar(select(Tag.question_count).where(Tag.name == "setup")) == 0
    assert db.session.scalar(select(Flag.status)) == "actioned"
    entry = log_entries(f"{action}_flagged")[0]
    assert entry.reason == "Advert" and json.loads(entry.after)["flags"] == "actioned"


def test_warning_the_author_is_logged_and_noted(thread, make_user) -> None:
    flag(make_user(), "comment", thread["c"], "rude")
    moderation.act_on_flags(thread["mod"], "comment", thread["c"].id, "warn", reason="Be kind")
    db.session.commit()
    note = db.session.scalar(select(UserNote))
    assert note.user_id == thread["author"].id and "Be kind" in note.body
    assert log_entries("warn")[0].target_type == "user"
    with pytest.raises(FieldError):
        moderation.act_on_flags(thread["mod"], "comment", thread["c"].id, "warn", reason="")


def test_suspending_the_author_from_a_flag(thread, make_user) -> None:
    flag(make_user(), "answer", thread["a"], "spam")
    moderation.act_on_flags(thread["mod"], "answer", thread["a"].id, "suspend", reason="Spam run", days=7)
    db.session.commit()
    author = thread["author"]
    assert author.suspension_reason == "Spam run"
    assert (author.suspended_until - author.created_at).days in (6, 7)
    assert "Spam run" in moderation.suspension_message(author)


def test_resolving_flags_twice_is_refused(thread, make_user) -> None:
    flag(make_user(), "question", thread["q"])
    moderation.act_on_flags(thread["mod"], "question", thread["q"].id, "dismiss")
    db.session.commit()
    with pytest.raises(InvalidState, match="already handled"):
        moderation.act_on_flags(thread["mod"], "question", thread["q"].id, "hide")
    db.session.rollback()
    assert thread["q"].is_visible


@pytest.mark.parametrize("role", ["member", "agent"])
def test_only_moderators_act_on_flags(thread, make_user, role: str) -> None:
    flag(make_user(), "question", thread["q"])
    with pytest.raises(PermissionDenied):
        moderation.act_on_flags(make_user(role=role), "question", thread["q"].id, "hide")


def test_pending_flags_are_grouped_by_post_oldest_first(thread, make_user) -> None:
    users = [make_user() for _ in range(3)]
    flag(users[0], "answer", thread["a"], "spam")
    flag(users[0], "question", thread["q"], "other", "Looks copied")
    flag(users[1], "answer", thread["a"], "rude")
    flag(users[2], "answer", thread["a"], "spam")
    page = flags.pending_groups(1)
    assert page.total == 2
    first, second = page.items
    assert (first.post_type, first.post_id) == ("answer", thread["a"].id)
    assert [(r, n) for r, _, n in first.counts] == [("spam", 2), ("rude", 1)]
    assert second.notes[0].note == "Looks copied" and second.ref.question.id == thread["q"].id


# --- review queue, unhide, restore ---------------------------------------------------------


def test_review_queue_approve_and_reject(thread, make_user, make_question) -> None:
    held = make_question(title="Held question about the hub")
    hide_post(held, "review")
    c = comments.add_comment(make_user(), thread["q"], "Held comment")
    hide_post(c, "review")
    db.session.commit()
    assert [(i.ref.post.id, i.why) for i in moderation.review_queue(1).items] == [
        (held.id, "Held for review"), (c.id, "Held for review")]
    moderation.approve_post(thread["mod"], "question", held.id)
    moderation.reject_post(thread["mod"], "comment", c.id, "Off-topic")
    db.session.commit()
    assert held.is_visible and c.hidden_reason == "moderator" and c.body == "Held comment"
    assert moderation.review_queue(1).total == 0
    with pytest.raises(InvalidState):
        moderation.approve_post(thread["mod"], "question", held.id)
    assert [e.action for e in log_entries()] == ["approve", "reject"]


def test_review_queue_says_why_a_post_was_held(app, make_user) -> None:
    app.config["NEW_MEMBER_LINK_REVIEW"] = True
    db.session.add(WatchedWord(phrase="gift card", action="review"))
    db.session.commit()
    newcomer = make_user()
    for title, body in (("Where do I buy spare hub cables", "Found them at https://cables.example today."),
                        ("Can I pay the plan with a gift card", "The shop sells a Gift Card, does it work?")):
        questions.ask_question(newcomer, questions.QuestionInput(title, body, "billing"))
    db.session.commit()
    assert [i.why for i in moderation.review_queue(1).items] == ["Link from a new member", "Watched word: “gift card”"]


def test_unhide_and_restore_undo_moderation(thread, make_user) -> None:
    flag(make_user(), "answer", thread["a"])
    moderation.act_on_flags(thread["mod"], "answer", thread["a"].id, "delete")
    db.session.commit()
    moderation.restore(thread["mod"], "answer", thread["a"].id)
    hide_post(thread["c"], "moderator")
    moderation.unhide(thread["mod"], "comment", thread["c"].id)
    db.session.commit()
    db.session.refresh(thread["q"])
    assert thread["a"].is_visible and thread["c"].is_visible and thread["q"].answer_count == 1
    with pytest.raises(InvalidState):
        moderation.restore(thread["mod"], "answer", thread["a"].id)
    with pytest.raises(InvalidState):
        moderation.unhide(thread["mod"], "comment", thread["c"].id)
    assert {"restore", "unhide"} <= {e.action for e in log_entries()}


def test_moderators_restore_deleted_comments(thread) -> None:
    comments.delete_comment(thread["author"], thread["c"])
    db.session.commit()
    moderation.restore(thread["mod"], "comment", thread["c"].id)
    db.session.commit()
    assert thread["c"].deleted_at is None


# --- people -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["suspend", "silence"])
def test_suspend_and_silence_then_lift(thread, make_user, mode: str) -> None:
    user = make_user()
    getattr(moderation, f"{mode}_user")(thread["mod"], user, 2, "Repeated spam")
    db.session.commit()
    assert (user.is_suspended if mode == "suspend" else user.is_silenced)(utcnow())
    getattr(moderation, f"un{mode}_user")(thread["mod"], user)
    db.session.commit()
    assert not (user.is_suspended if mode == "suspend" else user.is_silenced)(utcnow())
    before, after = (json.loads(e.before) for e in log_entries(mode)), (json.loads(e.after) for e in log_entries(mode))
    assert next(after)[f"{'suspension' if mode == 'suspend' else 'silence'}_reason"] == "Repeated spam"
    assert next(before)[f"{'suspended' if mode == 'suspend' else 'silenced'}_until"] is None
    assert len(log_entries(f"un{mode}")) == 1


@pytest.mark.parametrize("role", ["agent", "moderator", "admin"])
def test_staff_cannot_be_suspended(thread, make_user, role: str) -> None:
    with pytest.raises(PermissionDenied, match="Staff"):
        moderation.suspend_user(thread["mod"], make_user(role=role), 1, "No")


@pytest.mark.parametrize(("days", "reason", "field"), [(0, "x", "days"), (366, "x", "days"), ("a", "x", "days"),
                                                      (3, "", "reason"), (3, "r" * 501, "reason")])
def test_suspension_needs_sane_days_and_a_reason(thread, make_user, days, reason, field) -> None:
    with pytest.raises(FieldError) as err:
        moderation.suspend_user(thread["mod"], make_user(), days, reason)
    assert err.value.field == field


def test_notes_are_for_moderators_only(thread, make_user) -> None:
    user = make_user()
    moderation.add_note(thread["mod"], user, "Asked twice about refunds; be patient.")
    db.session.commit()
    assert [n.body for n in moderation.list_notes(thread["mod"], user)] == ["Asked twice about refunds; be patient."]
    for role in ("member", "agent"):
        with pytest.raises(PermissionDenied):
            moderation.list_notes(make_user(role=role), user)
    with pytest.raises(PermissionDenied):
        moderation.list_notes(user, user)
    # The log records that a note was added, never its text (agents read the log).
    assert "refunds" not in log_entries("add_note")[0].after


# --- hidden content shows nothing of itself -------------------------------------------------


def test_hidden_posts_are_invisible_to_others_but_not_to_author_and_staff(thread, make_user) -> None:
    q, a, c = thread["q"], thread["a"], thread["c"]
    for post in (a, c):
        hide_post(post, "moderator")
    db.session.commit()
    stranger = make_user()
    shown, cmts = questions.load_thread(q, stranger)
    assert a.id not in [x.id for x in shown] and c.id not in [x.id for x in cmts[None]]
    shown, cmts = questions.load_thread(q, None)
    assert not shown and not cmts[None]
    for viewer in (thread["author"], thread["mod"]):
        shown, cmts = questions.load_thread(q, viewer)
        assert a.id in [x.id for x in shown] and c.id in [x.id for x in cmts[None]]
    hide_post(q, "flags")
    db.session.commit()
    for viewer in (None, stranger):
        with pytest.raises(NotFound):
            questions.get_question(q.id, viewer)
    assert questions.get_question(q.id, thread["author"]) and questions.get_question(q.id, thread["mod"])
    assert questions.list_questions("newest", 1).total == 0
    assert questions.questions_by(thread["author"], 1).total == 0
    assert db.session.scalar(select(Answer.id).where(Answer.id == a.id))  # still stored
