"""E-mail over a real SMTP conversation (aiosmtpd on 127.0.0.1): content, headers, retries, failures."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from forum import mail
from forum.extensions import db
from forum.models import NotificationPreference, OutboxMail
from forum.models.base import utcnow
from forum.services import notifications
from tests.mailserver import parts, smtp_server
from tools.serving import free_port


def use_smtp(app, port: int) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TIMEOUT=5.0, SITE_URL="https://help.lumen.example")


def test_answer_mail_arrives_with_text_html_and_one_click_unsubscribe(app, client, make_user, make_question, make_answer) -> None:
    asker, answerer = make_user(email="asker@example.com"), make_user(username="sam_answers")
    q = make_question(author=asker, title="Hub blinks orange after the update")
    with smtp_server() as (inbox, port):
        use_smtp(app, port)
        answer = make_answer(q, author=answerer, body="Hold the reset button for ten seconds.")

    [msg] = inbox.to("asker@example.com")
    assert msg["Subject"] == "sam_answers answered your question “Hub blinks orange after the update”"
    assert msg["From"] == app.config["MAIL_FROM"]
    assert msg.get_content_type() == "multipart/alternative"
    text, html = parts(msg)
    link = f"https://help.lumen.example/questions/{q.id}/hub-blinks-orange-after-the-update#answer-{answer.id}"
    assert "Hold the reset button for ten seconds." in text and link in text
    assert f'href="{link}"' in html and "<script" not in html
    unsubscribe = re.fullmatch(r"<(https://help\.lumen\.example/unsubscribe/[^>]+)>", msg["List-Unsubscribe"])
    assert unsubscribe and msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.group(1) in text and unsubscribe.group(1) in html
    assert db.session.scalar(select(OutboxMail.status)) == "sent"

    # RFC 8058: the mail client POSTs the form body to the header's URL, without a session or CSRF token.
    path = unsubscribe.group(1).removeprefix("https://help.lumen.example")
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "You are unsubscribed" in response.get_data(as_text=True)
    pref = db.session.get(NotificationPreference, (asker.id, "answer"))
    assert pref is not None and pref.email is False and pref.in_app is True

    with smtp_server() as (inbox, port):
        use_smtp(app, port)
        make_answer(q, author=make_user())
    assert inbox.messages == []  # no more answer e-mails; the bell still works
    assert [p.event for p in notifications.preferences(asker).events if not p.email] == ["answer", "follow", "flag", "badge"]


def test_smtp_down_keeps_the_mail_pending_and_a_later_retry_delivers_it(app, runner, make_user) -> None:
    port = free_port()  # nothing listens here yet
    use_smtp(app, port)
    app.config["MAIL_RETRY_BASE_SECONDS"] = 60
    user = make_user(email="waiting@example.com")
    notifications.set_email(user.id, "badge", True)  # badges are in-app only by default
    db.session.commit()
    started = utcnow()
    notifications.notify([user], "badge", actor=None, subject="You earned the Teacher badge", url="/users/1")
    db.session.commit()  # the inline send fails: connection refused

    row = db.session.scalars(select(OutboxMail)).one()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.last_error
    assert timedelta(seconds=59) < row.next_attempt_at - started < timedelta(seconds=62)
    assert mail.due_ids() == []  # not due before its back-off has passed

    with smtp_server(port) as (inbox, _):
        assert mail.deliver(row.id) is None and inbox.messages == []  # still backing off
        assert mail.deliver(row.id, now=row.next_attempt_at + timedelta(seconds=1)) is None
    [msg] = inbox.to("waiting@example.com")
    assert msg["Subject"] == "You earned the Teacher badge"
    db.session.expire_all()
    row = db.session.get(OutboxMail, row.id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    # A second worker holding the same id sends nothing: the claim is atomic.
    assert mail.deliver(row.id, now=utcnow() + timedelta(days=1)) is None


def test_after_max_attempts_the_mail_is_failed_and_operators_see_it(app, runner, make_user) -> None:
    use_smtp(app, free_port())
    app.config.update(MAIL_MAX_ATTEMPTS=3, MAIL_RETRY_BASE_SECONDS=10)
    user = make_user(email="unlucky@example.com")
    notifications.notify([user], "answer", actor=None, subject="An answer to your question", url="/")
    db.session.commit()
    row_id = db.session.scalar(select(OutboxMail.id))
    delays = [mail.deliver(row_id, now=utcnow() + timedelta(hours=h)) for h in (1, 2)]
    assert delays == [timedelta(seconds=20), None]  # back-off doubles; the third attempt is the last
    db.session.expire_all()
    row = db.session.get(OutboxMail, row_id)
    assert (row.status, row.attempts) == ("failed", 3)

    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 1
    assert "failed: 1" in result.output and "unlucky@example.com" in result.output and "ConnectionRefusedError" in result.output

    with smtp_server() as (inbox, port):
        use_smtp(app, port)
        assert runner.invoke(args=["mail", "status", "--requeue-failed"]).exit_code == 0
        result = runner.invoke(args=["mail", "retry"])
    assert result.exit_code == 0 and "Handed over 1 due mails" in result.output
    assert [m["To"] for m in inbox.messages] == ["unlucky@example.com"]
