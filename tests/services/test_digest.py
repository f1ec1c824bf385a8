"""The daily digest: new unanswered questions in followed tags, once per member per day."""
from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

from sqlalchemy import select, update

from forum.extensions import db
from forum.models import DigestSent, OutboxMail, Question
from forum.models.base import utcnow
from forum.services import following, notifications
from forum.services.questions import get_tag


def test_digest_lists_new_unanswered_questions_in_followed_tags_once_a_day(app, runner, make_user, make_question,
                                                                           make_answer, tmp_path) -> None:
    app.config.update(MAIL_DIR=str(tmp_path), SITE_URL="https://help.lumen.example")
    reader, other = make_user(email="reader@example.com"), make_user()
    fresh = make_question(title="Zigbee bulbs drop off every night", tags="zigbee")
    answered = make_question(title="Zigbee range with a repeater plug", tags="zigbee")
    make_answer(answered)
    old = make_question(title="Zigbee pairing from last week, still open", tags="zigbee")
    db.session.execute(update(Question).where(Question.id == old.id).values(created_at=utcnow() - timedelta(days=3)))
    make_question(title="Wi-Fi drops when the microwave runs", tags="wifi")
    make_question(author=reader, title="My own zigbee question from today", tags="zigbee")
    following.follow_tag(reader, get_tag("zigbee"))
    following.follow_tag(other, get_tag("wifi"))
    notifications.save_preferences(other, in_app=[], email=[], digest=False)  # wifi follower opted out
    db.session.commit()
    before = {p.name for p in tmp_path.iterdir()}

    result = runner.invoke(args=["notifications", "digest"])
    assert result.exit_code == 0 and "Digests sent: 1;" in result.output
    [row] = db.session.scalars(select(OutboxMail).where(OutboxMail.event == "digest")).all()
    assert row.recipient == "reader@example.com" and row.status == "sent"
    assert row.subject == "1 new unanswered question in your tags"
    assert f"https://help.lumen.example/questions/{fresh.id}/zigbee-bulbs-drop-off-every-night" in row.text
    for title in ("range with a repeater", "from last week", "Wi-Fi", "My own"):
        assert title not in row.text and title not in row.html
    [path] = [p for p in tmp_path.iterdir() if p.name not in before]
    msg = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert db.session.scalar(select(DigestSent.user_id)) == reader.id

    make_question(title="Zigbee hub firmware 4.2 questions", tags="zigbee")
    again = runner.invoke(args=["notifications", "digest"])
    assert again.exit_code == 0 and "Digests sent: 0; already sent today: 1" in again.output
    assert db.session.scalar(select(db.func.count(OutboxMail.id)).where(OutboxMail.event == "digest")) == 1


def test_unsubscribing_from_the_digest_stops_it(app, client, runner, make_user, make_question) -> None:
    reader = make_user()
    make_question(title="Thread hub keeps losing its border router", tags="thread")
    following.follow_tag(reader, get_tag("thread"))
    db.session.commit()
    assert runner.invoke(args=["notifications", "digest"]).exit_code == 0
    row = db.session.scalars(select(OutboxMail).where(OutboxMail.event == "digest")).one()
    path = row.unsubscribe_url.split("://", 1)[1].split("/", 1)[1]
    assert client.post(f"/{path}").status_code == 200
    assert notifications.preferences(reader).digest is False
    db.session.execute(db.delete(DigestSent))
    db.session.commit()
    result = runner.invoke(args=["notifications", "digest"])
    assert "Digests sent: 0;" in result.output
