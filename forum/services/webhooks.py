"""Outbound webhooks: admins register endpoints; domain events become signed JSON deliveries.

Rules (docs/webhooks.md is the receivers' contract):

- **Endpoints** (admins only): a URL (http or https), the events wanted, a format ("json", or
  "slack" for chat channels). The secret is generated here and returned once by
  ``create_endpoint``; pages show it masked afterwards.
- **No request forgery**: every address the URL's host resolves to must be public (not
  loopback, private, link-local, multicast, reserved or unspecified) unless the site setting
  ``WEBHOOKS_ALLOW_PRIVATE`` is on. Checked when the endpoint is saved and again before every
  attempt (the name may resolve elsewhere by then).
- **Outbox**: the subscribers below run in the writer's transaction and add one
  ``webhook_deliveries`` row per active endpoint subscribed to the event, with the exact body
  to send; ``forum/jobs.py`` collects the new ids at flush and hands them to the job queue
  after the real commit (inline without Redis), exactly as it does for mail. A rolled-back
  write sends nothing.
- **Delivery** (``deliver``): claims the row with one UPDATE (so two workers never send it
  twice), POSTs the body signed with HMAC-SHA256 over ``f"{timestamp}.{body}"``, follows no
  redirect, and records the status code, the time taken and the start of the response.
  A non-2xx answer, a timeout or a refused address is a failure: the row waits
  ``WEBHOOK_RETRY_BASE_SECONDS * 2**(attempts-1)`` (at most ``WEBHOOK_RETRY_MAX_SECONDS``) and
  is given up ``WEBHOOK_GIVE_UP_HOURS`` after it was created.
- **Disabling** (``disable_failing``, run by the sweep): an endpoint that has not accepted a
  delivery for ``WEBHOOK_DISABLE_AFTER_HOURS`` while its deliveries failed is switched off,
  its waiting deliveries given up, and every admin told ("webhook" notification).
- **Privacy**: question, answer, flag, SLA and article payloads are built from public rows
  only; nothing from a private case is read for them. Case events carry the case's id,
  status, external reference and public question, never the private messages.

``clock`` is the time source of the whole module (tests replace it to live through a day of
retries in seconds).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from sqlalchemy import CursorResult, and_, delete, exists, func, select, update
from sqlalchemy.orm import Session
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

from ..events import (
    AnswerAccepted,
    AnswerPosted,
    ArticlePublished,
    CaseMessageAdded,
    CaseOpened,
    CaseResolved,
    FlagRaised,
    PostApproved,
    QuestionAsked,
    SlaBreached,
)
from ..extensions import db
from ..mail import absolute_url, site_path
from ..models import (
    WEBHOOK_FORMATS,
    Answer,
    Article,
    CaseEvent,
    Flag,
    Question,
    Role,
    SupportCase,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from ..models.base import utcnow
from ..pagecache.tables import kept
from . import notifications, site_settings
from .audit import log_action
from .errors import FieldError, InvalidState, NotFound, check_fields
from .pagination import Page, paginate
from .permissions import require
from .questions import slugify

log = logging.getLogger(__name__)

#: Every event an endpoint can subscribe to, in the order the admin form lists them.
EVENTS: tuple[str, ...] = (
    "question.created", "answer.created", "answer.accepted", "question.solved", "case.opened", "case.message",
    "case.resolved", "flag.created", "sla.breached", "article.published",
)
EVENT_LABELS: dict[str, str] = {
    "question.created": "A question is published", "answer.created": "An answer is published",
    "answer.accepted": "An answer is accepted", "question.solved": "A question gets its first accepted answer",
    "case.opened": "A private case is opened", "case.message": "A message is added to a private case",
    "case.resolved": "A private case is resolved", "flag.created": "A post is flagged",
    "sla.breached": "A question misses its first-response target", "article.published": "An article is published",
}
CASE_EVENTS = frozenset({"case.opened", "case.message", "case.resolved"})
PING = "ping"  # sent by "Send test ping", whatever the endpoint subscribed to
FORMAT_LABELS = {"json": "JSON (signed)", "slack": "Slack-compatible ({\"text\": …})"}
URL_MAX = 500
EXCERPT_MAX = 500
SIGNATURE_TOLERANCE_SECONDS = 300  # what docs/webhooks.md tells receivers to accept
USER_AGENT = "Lumen-Webhooks/1"

clock: Callable[[], datetime] = utcnow


def now() -> datetime:
    """The module's current time (``clock``)."""
    return clock()


# ---------------------------------------------------------------- addresses


def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


def forbidden_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``ip`` is one webhooks may not reach without WEBHOOKS_ALLOW_PRIVATE: loopback,
    private, link-local, multicast, reserved, unspecified or otherwise not global (an IPv6
    address mapping an IPv4 one is judged as that IPv4 address)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global)


def check_url(url: str, *, allow_private: bool | None = None) -> str:
    """The cleaned URL when webhooks may be sent to it.

    Raises FieldError("url") when it is not an http(s) URL with a host, carries credentials,
    is too long, its host does not resolve, or any address it resolves to is forbidden
    (``forbidden_address``) while WEBHOOKS_ALLOW_PRIVATE is off.
    """
    return _checked(url, allow_private)[0]


def _checked(url: str, allow_private: bool | None) -> tuple[str, list[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """``check_url``, also returning the addresses it checked (a delivery connects to the
    first, so a name that resolves elsewhere a moment later cannot redirect it)."""
    url = url.strip()
    if not url:
        raise FieldError("url", "Enter the address that receives the webhooks.")
    if len(url) > URL_MAX:
        raise FieldError("url", f"Keep the address under {URL_MAX} characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FieldError("url", "Use an http:// or https:// address with a host name.")
    if parts.username or parts.password:
        raise FieldError("url", "Leave credentials out of the address: receivers check the signature instead.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FieldError("url", "The port is not a number from 1 to 65535.") from None
    addresses = _resolve(parts.hostname, port)
    if not addresses:
        raise FieldError("url", f"{parts.hostname} does not resolve to an address.")
    if allow_private is None:
        allow_private = bool(current_app.config.get("WEBHOOKS_ALLOW_PRIVATE"))
    if not allow_private:
        for ip in addresses:
            if forbidden_address(ip):
                raise FieldError("url", f"{parts.hostname} is {ip}, a loopback, private, link-local or reserved "
                                        "address. Webhooks go to public addresses only, unless an admin allows "
                                        "private ones in the site settings (Integrations).")
    return url, addresses


# ---------------------------------------------------------------- signing


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Forum-Signature value: ``sha256=`` + hex HMAC-SHA256(secret, f"{timestamp}.{body}")."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, at: float | None = None,
           tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """The receiver's check (docs/webhooks.md): recompute, compare in constant time, and refuse
    a timestamp more than ``tolerance`` seconds away from ``at`` (now). Never raises."""
    try:
        timestamp = int(headers.get("X-Forum-Timestamp", ""))
    except ValueError:
        return False
    if abs((time.time() if at is None else at) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), headers.get("X-Forum-Signature", ""))


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# ---------------------------------------------------------------- endpoints (admins)


@dataclass(frozen=True)
class EndpointInput:
    url: str
    events: list[str]
    format: str = "json"


def _check_events(events: Iterable[str]) -> list[str]:
    chosen = [e for e in EVENTS if e in set(events)]
    if not chosen:
        raise FieldError("events", "Choose at least one event.")
    return chosen


def _check_format(fmt: str) -> str:
    if fmt not in WEBHOOK_FORMATS:
        raise FieldError("format", "Choose JSON or Slack-compatible.")
    return fmt


def check_endpoint_input(data: EndpointInput) -> tuple[str, list[str], str]:
    """(url, events, format), checked. Raises FieldErrors, one per bad field; writes nothing."""
    url, events, fmt = check_fields(lambda: check_url(data.url), lambda: _check_events(data.events),
                                    lambda: _check_format(data.format))
    return url, events, fmt


def create_endpoint(actor: User, data: EndpointInput) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its secret (the only time the secret is returned).

    Raises PermissionDenied unless the actor is an admin, FieldErrors for a bad URL (see
    ``check_url``), no event chosen or an unknown format.
    """
    require(actor, "administer")
    url, events, fmt = check_endpoint_input(data)
    secret = new_secret()
    endpoint = WebhookEndpoint(url=url, secret=secret, events=" ".join(events), format=fmt, active=True,
                               created_by_id=actor.id, created_at=now())
    db.session.add(endpoint)
    db.session.flush()
    log_action(actor, "create_webhook", "webhook", endpoint.id, after={"url": url, "events": events, "format": fmt})
    return endpoint, secret


def update_endpoint(actor: User, endpoint: WebhookEndpoint, data: EndpointInput) -> bool:
    """Change an endpoint's URL, events and format, with the checks registration makes (the
    private-address rule included). Returns False when nothing changed. Deliveries still
    waiting for a retry go to the new URL, each with the body it was made with.

    Raises PermissionDenied unless the actor is an admin, FieldErrors (one per bad field).
    """
    require(actor, "administer")
    url, events, fmt = check_endpoint_input(data)
    before = {"url": endpoint.url, "events": endpoint.event_list, "format": endpoint.format}
    after = {"url": url, "events": events, "format": fmt}
    if before == after:
        return False
    endpoint.url, endpoint.events, endpoint.format = url, " ".join(events), fmt
    db.session.flush()
    log_action(actor, "edit_webhook", "webhook", endpoint.id, before=before, after=after)
    return True


def rotate_secret(actor: User, endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret and return it (the only time it is returned): every
    delivery from now on, retries included, is signed with it. Raises PermissionDenied unless
    the actor is an admin."""
    require(actor, "administer")
    secret = new_secret()
    endpoint.secret = secret
    db.session.flush()
    log_action(actor, "rotate_webhook_secret", "webhook", endpoint.id)
    return secret


def admin_only(viewer: User) -> None:
    """Raises PermissionDenied unless the viewer is an admin (the pages check it before reading a form)."""
    require(viewer, "administer")


def get_endpoint(viewer: User, endpoint_id: int) -> WebhookEndpoint:
    """Raises PermissionDenied unless the viewer is an admin, NotFound for an unknown id."""
    require(viewer, "administer")
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


@dataclass(frozen=True)
class EndpointRow:
    endpoint: WebhookEndpoint
    counts: dict[str, int]  # deliveries per status


def list_endpoints(viewer: User) -> list[EndpointRow]:
    """Every endpoint with its deliveries counted per status (two queries). Raises PermissionDenied
    unless the viewer is an admin."""
    require(viewer, "administer")
    endpoints = list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))
    counts: dict[int, dict[str, int]] = {}
    if endpoints:
        for endpoint_id, status, n in db.session.execute(
                select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
                .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)):
            counts.setdefault(endpoint_id, {})[status] = n
    return [EndpointRow(e, counts.get(e.id, {})) for e in endpoints]


def set_active(actor: User, endpoint: WebhookEndpoint, active: bool) -> None:
    """Enable or disable. Enabling clears the failure record (its next failure starts a new
    day). Raises PermissionDenied unless the actor is an admin, InvalidState when nothing changes."""
    require(actor, "administer")
    if endpoint.active == active:
        raise InvalidState(f"The endpoint is already {'enabled' if active else 'disabled'}.")
    endpoint.active = active
    if active:
        endpoint.failing_since = endpoint.disabled_at = None
    else:
        endpoint.disabled_at = now()
    db.session.flush()
    log_action(actor, "enable_webhook" if active else "disable_webhook", "webhook", endpoint.id)


def delete_endpoint(actor: User, endpoint: WebhookEndpoint) -> None:
    """Delete it and its delivery log. Raises PermissionDenied unless the actor is an admin."""
    require(actor, "administer")
    log_action(actor, "delete_webhook", "webhook", endpoint.id, before={"url": endpoint.url})
    # Explicitly, not only by the foreign key's ON DELETE CASCADE, which SQLite ignores unless
    # its foreign keys are switched on.
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id),
                       execution_options={"synchronize_session": False})
    db.session.delete(endpoint)
    db.session.flush()


def delivery_log(viewer: User, endpoint: WebhookEndpoint, page: int, per_page: int = 25) -> Page[WebhookDelivery]:
    """The endpoint's deliveries, newest first. Raises PermissionDenied unless the viewer is an admin."""
    require(viewer, "administer")
    return paginate(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                    .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()), page, per_page)


def redeliver(actor: User, delivery_id: int) -> WebhookDelivery:
    """Queue the same body again (same event id, so receivers can tell it is a repeat) as a
    new delivery, sent after the commit. Raises PermissionDenied unless the actor is an admin,
    NotFound for an unknown delivery, InvalidState when its endpoint is disabled."""
    require(actor, "administer")
    old = db.session.get(WebhookDelivery, delivery_id)
    if old is None:
        raise NotFound("No such delivery.")
    if not old.endpoint.active:
        raise InvalidState("Enable the endpoint before redelivering.")
    at = now()
    again = WebhookDelivery(endpoint_id=old.endpoint_id, event=old.event, event_id=old.event_id, payload=old.payload,
                            status="pending", attempts=0, next_attempt_at=at, created_at=at)
    db.session.add(again)
    db.session.flush()
    return again


def send_ping(actor: User, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a "ping" delivery to ``endpoint`` (sent after the commit). Raises PermissionDenied
    unless the actor is an admin, InvalidState when the endpoint is disabled."""
    require(actor, "administer")
    if not endpoint.active:
        raise InvalidState("Enable the endpoint before sending a test ping.")
    data = {"endpoint_id": endpoint.id, "events": endpoint.event_list, "sent_by": actor.username}
    return _add_deliveries(PING, data, [endpoint], f"Test ping from {_esc(current_app.config['SITE_NAME'])}")[0]


# ---------------------------------------------------------------- the outbox (in the transaction)


def _esc(text: str) -> str:
    """Slack's escaping of &, < and > in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, text: str) -> str:
    return f"<{url}|{_esc(text)}>"


@dataclass(frozen=True)
class _Listener:
    """An active endpoint as `emit` needs it, kept by each process (`_listeners`)."""

    id: int
    format: str
    events: frozenset[str]


def _listeners() -> tuple[_Listener, ...]:
    """The active endpoints, loaded once per process and again after any change to them commits,
    on any host (``pagecache.tables.kept``): nearly every write asks, and there are a handful."""
    def load() -> tuple[_Listener, ...]:
        return tuple(_Listener(e.id, e.format, frozenset(e.event_list)) for e in db.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id)))

    return kept("webhook_endpoints", load)


def _subscribers(event: str) -> list[_Listener]:
    return [e for e in _listeners() if event in e.events]


def _add_deliveries(event: str, data: dict[str, Any], endpoints: Sequence[_Listener | WebhookEndpoint],
                    line: str) -> list[WebhookDelivery]:
    at = now()
    event_id = str(uuid.uuid4())
    body = json.dumps({"id": event_id, "event": event, "created_at": at.isoformat(), "data": data},
                      separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    slack = json.dumps({"text": line}, separators=(",", ":"), ensure_ascii=False)
    rows = [WebhookDelivery(endpoint_id=e.id, event=event, event_id=event_id,
                            payload=slack if e.format == "slack" else body, status="pending", attempts=0,
                            next_attempt_at=at, created_at=at) for e in endpoints]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def emit(event: str, data: Callable[[], dict[str, Any]], line: Callable[[dict[str, Any]], str]) -> list[WebhookDelivery]:
    """Add a delivery of ``event`` for every active endpoint subscribed to it (one query when
    none is). ``data`` builds the payload's data only when someone listens; ``line`` is the
    Slack text."""
    endpoints = _subscribers(event)
    if not endpoints:
        return []
    built = data()
    return _add_deliveries(event, built, endpoints, line(built))


def _question(q: Question) -> dict[str, Any]:
    return {"id": q.id, "title": q.title, "url": absolute_url(site_path("questions.show", question_id=q.id,
                                                                          slug=slugify(q.title))),
            "author": q.author.username, "tags": [t.name for t in q.tags]}


def _answer(a: Answer) -> dict[str, Any]:
    return {"id": a.id, "url": absolute_url(site_path("answers.show", answer_id=a.id)), "author": a.author.username}


def _case(case: SupportCase) -> dict[str, Any]:
    return {"id": case.id, "url": absolute_url(site_path("cases.show", case_id=case.id)), "status": case.status,
            "external_ref": case.external_ref, "asker": case.asker.username, "question": _question(case.question)}


def question_created(event: QuestionAsked) -> None:
    """QuestionAsked (published, not held for review) → question.created."""
    if event.published:
        _question_created(event.body.source_id)


def _question_created(question_id: int) -> None:
    def data() -> dict[str, Any]:
        q = db.session.get(Question, question_id)
        assert q is not None
        return {"question": _question(q)}

    emit("question.created", data, lambda d: f"New question by {d['question']['author']}: "
         f"{_link(d['question']['url'], d['question']['title'])}")


def answer_created(event: AnswerPosted) -> None:
    """AnswerPosted (published; a case's public resolution too) → answer.created."""
    if event.published:
        _answer_created(event.answer_id)


def _answer_created(answer_id: int) -> None:
    def data() -> dict[str, Any]:
        a = db.session.get(Answer, answer_id)
        assert a is not None
        return {"answer": _answer(a), "question": _question(a.question)}

    emit("answer.created", data, lambda d: f"{d['answer']['author']} answered "
         f"{_link(d['answer']['url'], d['question']['title'])}")


def post_approved(event: PostApproved) -> None:
    """A post held for review published for the first time: question.created / answer.created."""
    if event.first_publication and event.post_type == "question":
        _question_created(event.post_id)
    elif event.first_publication and event.post_type == "answer":
        _answer_created(event.post_id)


def answer_accepted(event: AnswerAccepted) -> None:
    """AnswerAccepted → answer.accepted, and question.solved when no answer was accepted before."""
    def data() -> dict[str, Any]:
        a = db.session.get(Answer, event.answer_id)
        actor = db.session.get(User, event.actor_id)
        assert a is not None and actor is not None
        return {"answer": _answer(a), "question": _question(a.question), "accepted_by": actor.username}

    emit("answer.accepted", data, lambda d: f"{d['accepted_by']} accepted {d['answer']['author']}'s answer to "
         f"{_link(d['answer']['url'], d['question']['title'])}")
    if event.previous_answer_id is None:
        emit("question.solved", data, lambda d: f"Solved: {_link(d['question']['url'], d['question']['title'])}")


def flag_created(event: FlagRaised) -> None:
    """FlagRaised → flag.created (the reason and the post; not the flagger's private note)."""
    def data() -> dict[str, Any]:
        flag = db.session.get(Flag, event.flag_id)
        assert flag is not None
        out: dict[str, Any] = {"flag": {"id": flag.id, "reason": flag.reason, "post_type": event.post_type,
                                        "post_id": event.post_id}}
        q = db.session.get(Question, event.question_id) if event.question_id else None
        if q is not None:
            out["question"] = _question(q)
        return out

    emit("flag.created", data, lambda d: f"A {d['flag']['post_type']} was flagged ({d['flag']['reason']})"
         + (f" on {_link(d['question']['url'], d['question']['title'])}" if "question" in d else ""))


def sla_breached(event: SlaBreached) -> None:
    """SlaBreached (the support sweep) → sla.breached."""
    def data() -> dict[str, Any]:
        q = db.session.get(Question, event.breached_question_id)
        assert q is not None
        return {"question": _question(q), "target_hours": event.target_hours}

    emit("sla.breached", data, lambda d: f"No first response after {d['target_hours']} h: "
         f"{_link(d['question']['url'], d['question']['title'])}")


def article_published(event: ArticlePublished) -> None:
    """ArticlePublished → article.published."""
    def data() -> dict[str, Any]:
        article = db.session.get(Article, event.article_id)
        assert article is not None
        url = absolute_url(site_path("articles.show", article_id=article.id, slug=slugify(article.title)))
        return {"article": {"id": article.id, "title": article.title, "url": url, "author": article.author.username,
                            "tags": [t.name for t in article.tags]}}

    emit("article.published", data, lambda d: f"New article: {_link(d['article']['url'], d['article']['title'])}")


def _case_line(verb: str) -> Callable[[dict[str, Any]], str]:
    def line(d: dict[str, Any]) -> str:
        c = d["case"]
        ref = f" ({_esc(c['external_ref'])})" if c["external_ref"] else ""
        return f"Case #{c['id']}{ref} {verb} by {d['actor']}: {_link(c['url'], c['question']['title'])}"
    return line


def _case_data(case_id: int, actor_id: int, **extra: Any) -> Callable[[], dict[str, Any]]:
    def data() -> dict[str, Any]:
        case = db.session.get(SupportCase, case_id)
        actor = db.session.get(User, actor_id)
        assert case is not None and actor is not None
        return {"case": _case(case), "actor": actor.username, **extra}
    return data


def case_opened(event: CaseOpened) -> None:
    """CaseOpened → case.opened (only to endpoints subscribed to it)."""
    emit("case.opened", _case_data(event.case_id, event.actor_id), _case_line("opened"))


def case_message(event: CaseMessageAdded) -> None:
    """CaseMessageAdded → case.message: who wrote and when, with the case; not the text."""
    def data() -> dict[str, Any]:
        message = db.session.get(CaseEvent, event.case_event_id)
        at = message.created_at.isoformat() if message is not None else None
        return _case_data(event.case_id, event.actor_id, message={"id": event.case_event_id, "created_at": at})()

    emit("case.message", data, _case_line("got a message"))


def case_resolved(event: CaseResolved) -> None:
    """CaseResolved → case.resolved, with the public resolution answer."""
    def data() -> dict[str, Any]:
        out = _case_data(event.case_id, event.actor_id)()
        answer = db.session.get(Answer, event.answer_id)
        if answer is not None:
            out["resolution"] = _answer(answer)
        return out

    emit("case.resolved", data, _case_line("resolved"))


# ---------------------------------------------------------------- delivery (after the commit)


def _claimable(at: datetime) -> Any:
    active = exists().where(WebhookEndpoint.id == WebhookDelivery.endpoint_id, WebhookEndpoint.active.is_(True))
    return and_(WebhookDelivery.status.in_(("pending", "failed")), WebhookDelivery.next_attempt_at <= at, active)


def due_ids(at: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of the deliveries due for a (re)try to active endpoints, oldest first."""
    at = at or now()
    with Session(db.engine) as session:
        return list(session.scalars(select(WebhookDelivery.id).where(_claimable(at))
                                    .order_by(WebhookDelivery.id).limit(limit)))


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the ``attempts``-th failure: base, 2 x base, 4 x base … at most the maximum."""
    cfg = current_app.config
    return timedelta(seconds=min(cfg["WEBHOOK_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0),
                                 cfg["WEBHOOK_RETRY_MAX_SECONDS"]))


@dataclass(frozen=True)
class Attempt:
    status_code: int | None  # None: no HTTP answer (timeout, refused address, connection error)
    ms: int
    excerpt: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# ---- connecting to the checked address only (DNS rebinding) ----------------------------------
# requests would resolve the host name again to connect; these connection classes connect to
# the address check_url approved instead (``_PINNED``), while the Host header, TLS SNI and the
# certificate check keep using the name.
_PINNED: ContextVar[str | None] = ContextVar("forum_webhook_address", default=None)


class _PinnedConnect:
    def _new_conn(self) -> socket.socket:
        conn = cast(HTTPConnection, self)
        address = _PINNED.get()
        if address is None:
            raise NewConnectionError(conn, "No checked address to connect to.")
        try:
            return create_connection((address, conn.port), conn.timeout, source_address=conn.source_address,
                                     socket_options=conn.socket_options)
        except TimeoutError as exc:
            raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out.") from exc
        except OSError as exc:
            raise NewConnectionError(conn, f"Failed to connect to {address}: {exc}") from exc


class _PinnedHTTPConnection(_PinnedConnect, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnect, HTTPSConnection):
    pass


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class _PinnedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PinnedHTTPPool, "https": _PinnedHTTPSPool}


def _post(url: str, address: str, body: bytes, headers: dict[str, str]) -> Attempt:
    timeout = float(current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    token = _PINNED.set(address)
    try:
        with requests.Session() as http:
            http.trust_env = False  # no proxy from the environment: the checked address is the one reached
            http.mount("http://", _PinnedAdapter())
            http.mount("https://", _PinnedAdapter())
            with http.post(url, data=body, headers=headers, timeout=(timeout, timeout), allow_redirects=False,
                           stream=True) as resp:
                raw = resp.raw.read(EXCERPT_MAX * 4, decode_content=True) or b""
                return Attempt(resp.status_code, took(), raw.decode("utf-8", "replace")[:EXCERPT_MAX])
    except requests.Timeout:
        return Attempt(None, took(), f"No answer within {timeout:g} s.")
    except (requests.RequestException, OSError) as exc:
        return Attempt(None, took(), f"{type(exc).__name__}: {exc}"[:EXCERPT_MAX])
    finally:
        _PINNED.reset(token)


def attempt(endpoint: WebhookEndpoint, row: WebhookDelivery, at: datetime) -> Attempt:
    """One POST of ``row`` to ``endpoint`` (the address checked again first). Never raises."""
    site_settings.refresh_if_due()  # the worker serves no request: load a changed setting here
    try:
        _, addresses = _checked(endpoint.url, None)
    except FieldError as exc:
        return Attempt(None, 0, f"Refused: {exc.message}"[:EXCERPT_MAX])
    body = row.payload.encode()
    timestamp = int(at.timestamp())
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Forum-Event": row.event,
               "X-Forum-Delivery": row.event_id, "X-Forum-Timestamp": str(timestamp),
               "X-Forum-Signature": sign(endpoint.secret, timestamp, body)}
    return _post(endpoint.url, str(addresses[0]), body, headers)


def deliver(delivery_id: int, at: datetime | None = None) -> timedelta | None:
    """Send one delivery if it is due; returns the delay before its next try after a failure.

    Claims the row with one UPDATE (due, waiting, its endpoint active; the claim moves
    ``next_attempt_at`` by WEBHOOK_CLAIM_SECONDS, so a worker that dies mid-send leaves it due
    again later), so concurrent workers and sweeps never send it twice. Works in a session of
    its own (it runs after a request's commit). Never raises for a send failure: the outcome
    is recorded on the row and on the endpoint (``failing_since``).
    """
    at = at or now()
    cfg = current_app.config
    with Session(db.engine) as session:
        claimed = cast(CursorResult[Any], session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, _claimable(at))
            .values(attempts=WebhookDelivery.attempts + 1,
                    next_attempt_at=at + timedelta(seconds=cfg["WEBHOOK_CLAIM_SECONDS"])),
            execution_options={"synchronize_session": False})).rowcount
        session.commit()
        if not claimed:
            return None
        row = session.get(WebhookDelivery, delivery_id)
        assert row is not None
        endpoint = row.endpoint
        result = attempt(endpoint, row, at)
        row.last_status_code, row.last_response_ms, row.last_response_excerpt = result.status_code, result.ms, result.excerpt
        if result.ok:
            row.status, row.delivered_at = "delivered", at + timedelta(milliseconds=result.ms)
            session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id).values(failing_since=None))
            session.commit()
            return None
        session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id,
                                                      WebhookEndpoint.failing_since.is_(None))
                        .values(failing_since=at))
        give_up_at = row.created_at + timedelta(hours=cfg["WEBHOOK_GIVE_UP_HOURS"])
        if at >= give_up_at:
            row.status = "gave_up"
            log.warning("webhook delivery %s (%s) to %s given up after %s attempts: %s", row.id, row.event,
                        endpoint.url, row.attempts, result.excerpt[:200])
            session.commit()
            return None
        delay = min(retry_delay(row.attempts), give_up_at - at)
        row.status, row.next_attempt_at = "failed", at + delay
        log.info("webhook delivery %s (%s) to %s failed (attempt %s, %s), retrying in %s", row.id, row.event,
                 endpoint.url, row.attempts, result.status_code or result.excerpt[:80], delay)
        session.commit()
        return delay


def disable_failing(at: datetime | None = None) -> list[WebhookEndpoint]:
    """Disable every active endpoint whose deliveries have failed, with no success, for
    WEBHOOK_DISABLE_AFTER_HOURS; give up its waiting deliveries and tell every admin (bell
    and e-mail, "webhook"). Runs in the caller's session; the caller commits. Each endpoint is
    claimed with a conditional UPDATE, so overlapping sweeps tell the admins once."""
    at = at or now()
    cutoff = at - timedelta(hours=current_app.config["WEBHOOK_DISABLE_AFTER_HOURS"])
    candidates = list(db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.active.is_(True), WebhookEndpoint.failing_since.is_not(None),
        WebhookEndpoint.failing_since <= cutoff).order_by(WebhookEndpoint.id)))
    disabled: list[WebhookEndpoint] = []
    for endpoint in candidates:
        claimed = cast(CursorResult[Any], db.session.execute(
            update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id, WebhookEndpoint.active.is_(True))
            .values(active=False, disabled_at=at), execution_options={"synchronize_session": False})).rowcount
        if not claimed:
            continue
        db.session.refresh(endpoint)
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                         WebhookDelivery.status.in_(("pending", "failed")))
                           .values(status="gave_up"), execution_options={"synchronize_session": False})
        log_action(None, "disable_webhook", "webhook", endpoint.id, reason="Failing for a day.",
                   after={"failing_since": endpoint.failing_since})
        admins = list(db.session.scalars(select(User).where(User.role == Role.ADMIN.value).order_by(User.id)))
        if admins:
            notifications.notify(
                admins, "webhook", actor=None, url=site_path("admin.webhook", endpoint_id=endpoint.id),
                subject=f"Webhook endpoint disabled: {endpoint.url}",
                text=f"Its deliveries have failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC. "
                     "Fix the receiver, then enable the endpoint again and redeliver what it missed.")
        disabled.append(endpoint)
    db.session.flush()
    return disabled
