"""E-mail: composing outbox rows, signed unsubscribe links, and delivering through SMTP.

``compose`` renders ``templates/email/<event>.txt`` and ``.html`` (falling back to
``notification.*``) into an ``OutboxMail`` row in the caller's transaction. ``deliver`` sends one
row: it claims it with an atomic UPDATE (so two workers never send the same mail), talks SMTP
(or, without ``SMTP_HOST``, writes an .eml file to ``MAIL_DIR`` and logs a line) and records
the outcome. A failed attempt is retried with exponential back-off; after ``MAIL_MAX_ATTEMPTS``
the row is "failed" and listed by ``flask mail status``. Nothing here raises for a send error:
the row keeps the error.
"""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, cast

from flask import current_app, render_template
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from .extensions import db
from .models import OutboxMail, User
from .models.base import utcnow

log = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "forum.unsubscribe"


# ---------------------------------------------------------------- links and tokens


def absolute_url(path: str) -> str:
    """``SITE_URL`` + a site-relative path: e-mails are read away from the site."""
    if path.startswith(("http://", "https://")):
        return path
    return current_app.config["SITE_URL"].rstrip("/") + "/" + path.lstrip("/")


def site_path(endpoint: str, **values: Any) -> str:
    """A site-relative URL for ``endpoint`` that works without a request (CLI, worker)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, event: str) -> str:
    """A signed token that turns off e-mail for one user and one event (or "digest")."""
    return _serializer().dumps({"u": user_id, "e": event})


class BadToken(ValueError):
    """The unsubscribe token was altered, or is older than UNSUBSCRIBE_MAX_AGE_DAYS."""


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """Return (user_id, event). Raises BadToken for a tampered, malformed or expired token."""
    max_age = int(current_app.config["UNSUBSCRIBE_MAX_AGE_DAYS"]) * 86400
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise BadToken("This unsubscribe link has expired.") from exc
    except BadSignature as exc:
        raise BadToken("This unsubscribe link is not valid.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("e"), str):
        raise BadToken("This unsubscribe link is not valid.")
    return data["u"], data["e"]


# ---------------------------------------------------------------- composing


def compose(user: User, event: str, subject: str, context: dict[str, Any]) -> OutboxMail:
    """Render the e-mail for ``event`` to ``user`` and add it to the outbox (not yet sent).

    ``context`` reaches the templates beside ``user``, ``subject``, ``unsubscribe_url``,
    ``settings_url`` and ``site_name``.
    """
    unsubscribe = absolute_url(site_path("notifications.unsubscribe", token=unsubscribe_token(user.id, event)))
    values = {
        "user": user, "subject": subject, "event": event, "unsubscribe_url": unsubscribe,
        "settings_url": absolute_url(site_path("notifications.settings")),
        "site_name": current_app.config["SITE_NAME"], **context,
    }
    env = current_app.jinja_env
    text = select_template_name(env, event, "txt")
    html = select_template_name(env, event, "html")
    row = OutboxMail(user_id=user.id, event=event, recipient=user.email, subject=subject[:300],
                     text=render_template(text, **values), html=render_template(html, **values),
                     unsubscribe_url=unsubscribe, status="pending", attempts=0, next_attempt_at=utcnow(),
                     created_at=utcnow())
    db.session.add(row)
    return row


def compose_account(recipient: str, user: User | None, event: str, subject: str,
                    context: dict[str, Any]) -> OutboxMail:
    """Add an account mail (a verification or reset link, a security notice) to the outbox.

    Unlike ``compose`` it goes to ``recipient`` (a new address waiting to be confirmed, or one
    with no account: ``user`` None), whether or not the address is verified, and carries no
    unsubscribe link: these mails answer something the member (or someone using their
    address) just did, and a member must not be able to switch off hearing that their
    password changed. Rendered from ``templates/email/<event>.txt`` and ``.html``, which
    extend ``email/_account``.
    """
    values = {"user": user, "subject": subject, "event": event, "recipient": recipient,
              "site_name": current_app.config["SITE_NAME"], **context}
    row = OutboxMail(user_id=user.id if user is not None else None, event=event, recipient=recipient,
                     subject=subject[:300], text=render_template(f"email/{event}.txt", **values),
                     html=render_template(f"email/{event}.html", **values), unsubscribe_url="",
                     status="pending", attempts=0, next_attempt_at=utcnow(), created_at=utcnow())
    db.session.add(row)
    return row


def select_template_name(env: Any, event: str, ext: str) -> str:
    # Events added by other features get the generic layout until they bring their own.
    return env.select_template([f"email/{event}.{ext}", f"email/notification.{ext}"]).name


# ---------------------------------------------------------------- sending


def build_message(row: OutboxMail) -> EmailMessage:
    """A multipart/alternative message (text first, then HTML) with RFC 8058 one-click headers."""
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_FROM"]
    msg["To"] = row.recipient
    msg["Subject"] = row.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(idstring=f"outbox{row.id}")
    msg["Auto-Submitted"] = "auto-generated"
    if row.unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(row.text)
    msg.add_alternative(row.html, subtype="html")
    return msg


def transmit(msg: EmailMessage, row_id: int) -> None:
    """Send through SMTP, or write ``MAIL_DIR/<id>.eml`` when no SMTP host is configured."""
    cfg = current_app.config
    if not cfg.get("SMTP_HOST"):
        folder = Path(cfg.get("MAIL_DIR") or Path(current_app.instance_path) / "mail")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{row_id:08d}.eml"
        path.write_bytes(bytes(msg))
        log.info("mail %s to %s written to %s: %s", row_id, msg["To"], path, msg["Subject"])
        return
    smtp_class = smtplib.SMTP_SSL if cfg["SMTP_SSL"] else smtplib.SMTP
    with smtp_class(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=float(cfg["SMTP_TIMEOUT"])) as smtp:
        if cfg["SMTP_STARTTLS"] and not cfg["SMTP_SSL"]:
            smtp.starttls()
        if cfg.get("SMTP_USERNAME"):
            smtp.login(cfg["SMTP_USERNAME"], cfg.get("SMTP_PASSWORD") or "")
        smtp.send_message(msg)


def _due(now: datetime) -> Any:
    stale = now - timedelta(seconds=current_app.config["MAIL_SENDING_STALE_SECONDS"])
    return or_(and_(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= now),
               and_(OutboxMail.status == "sending", OutboxMail.next_attempt_at <= stale))


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the ``attempts``-th failure: base, 2 x base, 4 x base ..."""
    return timedelta(seconds=current_app.config["MAIL_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0))


def deliver(outbox_id: int, now: datetime | None = None) -> timedelta | None:
    """Send one outbox row if it is due. Returns the delay before the next try after a failure.

    Claims the row with one UPDATE (pending and due, or stuck in "sending"), so concurrent
    workers and sweeps never send it twice. Never raises for a send failure.
    """
    now = now or utcnow()
    with Session(db.engine) as session:
        claimed = cast(CursorResult[Any], session.execute(
            update(OutboxMail).where(OutboxMail.id == outbox_id, _due(now))
            .values(status="sending", attempts=OutboxMail.attempts + 1, next_attempt_at=now),
            execution_options={"synchronize_session": False},
        )).rowcount
        session.commit()
        if not claimed:
            return None
        row = session.get(OutboxMail, outbox_id)
        assert row is not None
        try:
            transmit(build_message(row), row.id)
        except Exception as exc:  # noqa: BLE001 - any send failure is recorded on the row
            row.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
                row.status = "failed"
                log.error("mail %s to %s failed for good after %s attempts: %s", row.id, row.recipient,
                          row.attempts, row.last_error)
                session.commit()
                return None
            delay = retry_delay(row.attempts)
            row.status, row.next_attempt_at = "pending", now + delay
            log.warning("mail %s to %s failed (attempt %s), retrying in %s: %s", row.id, row.recipient,
                        row.attempts, delay, row.last_error)
            session.commit()
            return delay
        row.status, row.sent_at, row.last_error = "sent", utcnow(), ""
        session.commit()
    return None


def due_ids(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of the rows due for a (re)try, oldest first."""
    now = now or utcnow()
    with Session(db.engine) as session:
        return list(session.scalars(select(OutboxMail.id).where(_due(now)).order_by(OutboxMail.id).limit(limit)))


@dataclass(frozen=True)
class OutboxStatus:
    counts: dict[str, int]
    failed: list[OutboxMail]


def status(limit: int = 20) -> OutboxStatus:
    """Rows per state, and the most recent failed rows (for operators: CLI and /admin/mail)."""
    counts = dict(db.session.execute(select(OutboxMail.status, func.count()).group_by(OutboxMail.status)).all())
    failed = list(db.session.scalars(select(OutboxMail).where(OutboxMail.status == "failed")
                                     .order_by(OutboxMail.id.desc()).limit(limit)))
    return OutboxStatus(counts={s: counts.get(s, 0) for s in ("pending", "sending", "sent", "failed")}, failed=failed)


def requeue_failed() -> int:
    """Give every failed row a fresh set of attempts (after fixing the SMTP settings).

    The rows are due at once: the next sweep, ``flask mail retry`` or worker sends them.
    """
    result = cast(CursorResult[Any], db.session.execute(
        update(OutboxMail).where(OutboxMail.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=utcnow()),
        execution_options={"synchronize_session": False}))
    return result.rowcount or 0
