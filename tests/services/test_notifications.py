"""Who is told what: each event reaches exactly the right members, once, as they chose."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.mail import site_path
from forum.models import Notification, OutboxMail, QuestionFollow
from forum.models.base import utcnow
from forum.services import answers, comments, curation, flags, moderation, notifications
from forum.services import following as follow_svc
from forum.services.questions import slugify


def told(user: Any, badges: bool = False) -> list[str]:
    """The events in ``user``'s notification list, oldest first; badges (a first answer earns
    one) only when asked for, as the tests of other events are not about them."""
    stmt = select(Notification.event).where(Notification.user_id == user.id).order_by(Notification.id)
    if not badges:
        stmt = stmt.where(Notification.event != "badge")
    return list(db.session.scalars(stmt))


def mailed(user: Any) -> list[str]:
    return list(db.session.scalars(select(OutboxMail.event).where(OutboxMail.user_id == user.id)
                                   .order_by(OutboxMail.id)))


def test_answer_tells_the_asker_once_and_other_followers_but_not_the_answerer(make_user, make_question, make_answer) -> None:
    asker, follower, answerer, bystander = make_user(), make_user(), make_user(), make_user()
    q = make_question(author=asker)
    follow_svc.follow_question(follower, q)
    db.session.commit()

    answer = make_answer(q, author=answerer)

    assert told(asker) == ["answer"]  # not also "follow", though the asker follows
    assert told(follower) == ["follow"]
    assert told(answerer) == [] and told(bystander) == []
    assert mailed(asker) == ["answer"]  # e-mail for answers is on by default
    assert mailed(follower) == []  # "follow" is in-app only by default
    n = db.session.scalar(select(Notification).where(Notification.user_id == asker.id))
    assert n.url == f"/questions/{q.id}/{slugify(q.title)}#answer-{answer.id}"
    assert answerer.name in n.subject and q.title in n.subject


def test_asking_and_answering_follow_the_question(make_user, make_question, make_answer) -> None:
    asker, answerer, later = make_user(), make_user(), make_user()
    q = make_question(author=asker)
    make_answer(q, author=answerer)
    followers = set(db.session.scalars(select(QuestionFollow.user_id).where(QuestionFollow.question_id == q.id)))
    assert followers == {asker.id, answerer.id}

    make_answer(q, author=later)
    assert told(answerer) == ["follow"]  # the first answerer hears about the second answer
    # One unread line for both answers, counting them (tests/services/test_notification_lines.py).
    assert told(asker) == ["answer"]
    assert db.session.scalar(select(Notification.count).where(Notification.user_id == asker.id)) == 2


def test_comment_tells_the_post_author_and_followers(make_user, make_question, make_answer) -> None:
    asker, answerer, commenter = make_user(), make_user(), make_user()
    q = make_question(author=asker)
    a = make_answer(q, author=answerer)
    before_asker = told(asker)

    comments.add_comment(commenter, a, "Did you try the other port?")
    db.session.commit()

    assert told(answerer) == ["comment"]  # the answer's author, once (they also follow)
    assert told(asker) == [*before_asker, "follow"]  # the asker follows the question
    assert told(commenter) == []

    comments.add_comment(asker, q, "Thanks, everyone, trying now")
    db.session.commit()
    assert told(asker) == [*before_asker, "follow"]  # not told of their own comment
    assert told(answerer)[-1] == "follow"


def test_accepted_answer_tells_its_author_but_not_when_accepting_your_own(make_user, make_question, make_answer) -> None:
    asker, answerer = make_user(), make_user()
    q = make_question(author=asker)
    a = make_answer(q, author=answerer)
    curation.accept_answer(asker, a)
    db.session.commit()
    assert told(answerer)[-1] == "accepted"
    assert mailed(answerer)[-1] == "accepted"

    own = make_answer(q, author=asker)
    curation.accept_answer(asker, own)
    db.session.commit()
    assert "accepted" not in told(asker)


def test_flaggers_hear_the_outcome(make_user, make_question) -> None:
    author, f1, f2, mod = make_user(), make_user(), make_user(), make_user(role="moderator")
    q = make_question(author=author)
    for f in (f1, f2):
        flags.flag_post(f, "question", q.id, "off_topic")
    db.session.commit()

    moderation.act_on_flags(mod, "question", q.id, "hide")
    db.session.commit()
    url_for_my_flags = site_path("moderation.my_flags")

    for f in (f1, f2):
        n = db.session.scalars(select(Notification).where(Notification.user_id == f.id,
                                                          Notification.event != "badge")).one()
        assert n.event == "flag" and "upheld: the post is hidden" in n.subject
        assert n.url == url_for_my_flags
    assert told(author) == [] and told(mod) == []


def test_preferences_decide_between_bell_and_email(make_user, make_question, make_answer) -> None:
    asker = make_user()
    notifications.save_preferences(asker, in_app=[], email=["answer"], digest=False)
    db.session.commit()
    q = make_question(author=asker)
    make_answer(q)
    assert told(asker) == [] and mailed(asker) == ["answer"]

    notifications.save_preferences(asker, in_app=["answer"], email=[], digest=False)
    db.session.commit()
    make_answer(q)
    assert told(asker) == ["answer"] and mailed(asker) == ["answer"]
    prefs = notifications.preferences(asker)
    assert prefs.digest is False
    assert {p.event: (p.in_app, p.email) for p in prefs.events}["answer"] == (True, False)


def test_suspended_members_and_duplicates_are_skipped(make_user) -> None:
    a, b, suspended, actor = make_user(), make_user(), make_user(), make_user()
    suspended.suspended_until = utcnow() + timedelta(days=3)
    db.session.commit()
    notifications.notify([a, a.id, b, suspended, actor], "badge", actor=actor, subject="You earned Teacher",
                         url="/users/1")
    db.session.commit()
    assert told(a, badges=True) == ["badge"] and told(b, badges=True) == ["badge"]
    assert told(suspended, badges=True) == [] and told(actor, badges=True) == []


def test_two_badges_at_once_are_two_notifications_but_one_event_per_url(make_user) -> None:
    user = make_user()
    for name in ("Teacher", "Helper"):
        notifications.notify([user], "badge", actor=None, subject=f"You earned {name}", url=f"/users/{user.id}")
    notifications.notify([user], "follow", actor=None, subject="Activity", url=f"/users/{user.id}")
    db.session.commit()
    assert told(user, badges=True) == ["badge", "badge"]


def test_unknown_event_is_refused(make_user) -> None:
    with pytest.raises(ValueError, match="unknown notification event"):
        notifications.notify([make_user()], "party", actor=None, subject="x", url="/")


def test_answer_held_for_review_tells_nobody_until_approved(app, make_user, make_question) -> None:
    app.config["NEW_MEMBER_LINK_REVIEW"] = True
    asker, newcomer, mod = make_user(), make_user(), make_user(role="moderator")
    q = make_question(author=asker)
    held = answers.post_answer(newcomer, q, "Buy a new one at https://spam.example.com today")
    db.session.commit()
    assert held.is_hidden and told(asker) == []

    moderation.approve_post(mod, "answer", held.id)
    db.session.commit()
    assert told(asker) == ["answer"]


def test_rolled_back_request_records_and_sends_nothing(app, make_user, make_question, tmp_path) -> None:
    app.config["MAIL_DIR"] = str(tmp_path)
    asker = make_user()
    q = make_question(author=asker)
    answers.post_answer(make_user(), q, "Unplug it for a minute, then plug it back in.")
    db.session.rollback()
    assert told(asker) == [] and mailed(asker) == []
    assert list(tmp_path.iterdir()) == []

    answers.post_answer(make_user(), q, "Unplug it for a minute, then plug it back in.")
    db.session.commit()
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"  # inline mode: written once the commit happened
    assert db.session.scalar(select(OutboxMail.status)) == "sent"


def test_demo_seed_fills_bells_without_emailing_demo_addresses(runner) -> None:
    from forum.models import TagFollow

    result = runner.invoke(args=["forum", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(db.func.count(Notification.id))) > 10
    assert db.session.scalar(select(db.func.count(OutboxMail.id))) == 0
    assert db.session.scalar(select(db.func.count()).select_from(TagFollow)) == 7


def test_mail_waits_for_the_outer_commit_not_a_savepoint(app, make_user, make_question, tmp_path) -> None:
    """A SAVEPOINT release fires after_commit: sending then would read an uncommitted row from
    another connection (PostgreSQL) or wait on the write lock (SQLite)."""
    app.config["MAIL_DIR"] = str(tmp_path)
    asker, helper = make_user(), make_user()
    q = make_question(author=asker)
    savepoint = db.session.begin_nested()
    answers.post_answer(helper, q, "Unplug it for a minute, then plug it back in.")
    savepoint.commit()
    assert list(tmp_path.iterdir()) == []
    db.session.commit()
    assert [f.suffix for f in tmp_path.iterdir()] == [".eml"]
    assert db.session.scalar(select(OutboxMail.status)) == "sent"


def test_a_question_hidden_since_it_was_followed_leaves_the_followers_list(make_user, make_question) -> None:
    from forum.services import visibility

    author, follower = make_user(), make_user()
    q = make_question(author=author, title="Hub reboots every night at 3 am")
    follow_svc.follow_question(follower, q)
    db.session.commit()
    assert [x.id for x in follow_svc.following(follower).questions] == [q.id]
    visibility.hide_post(q, "flags")
    db.session.commit()
    assert follow_svc.following(follower).questions == []  # no title of a hidden question
    assert [x.id for x in follow_svc.following(author).questions] == [q.id]  # the author still sees it


def test_approving_a_held_post_tells_its_mentions_once_and_an_edit_sent_back_tells_nobody_again(
        app, make_user, make_question) -> None:
    app.config["NEW_MEMBER_LINK_REVIEW"] = True
    asker, newcomer, mod = make_user(), make_user(), make_user(role="moderator")
    maria = make_user("maria_held")
    q = make_question(author=asker)
    held = answers.post_answer(newcomer, q, "@maria_held had this: see https://example.org/fix today")
    db.session.commit()
    assert told(maria) == []
    moderation.approve_post(mod, "answer", held.id)
    db.session.commit()
    assert told(asker) == ["answer"] and told(maria) == ["mention"]

    # An edit adding another link sends the answer back; approving it again tells nobody again.
    answers.edit_answer(newcomer, held, held.body + " and https://example.org/more")
    db.session.commit()
    assert held.is_hidden
    moderation.approve_post(mod, "answer", held.id)
    db.session.commit()
    assert told(asker) == ["answer"] and told(maria) == ["mention"]
