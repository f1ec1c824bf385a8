"""Outbound webhooks against a real HTTP receiver on 127.0.0.1 (tests/webhook_receiver.py),
which checks every signature with the algorithm docs/webhooks.md gives receivers."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from forum import jobs
from forum.extensions import db
from forum.models import Notification, WebhookDelivery, WebhookEndpoint
from forum.services import answers, cases, curation, sla, webhooks
from forum.services.errors import FieldError
from tests.services.test_jobs_redis import redis_app  # noqa: F401 - the Redis app fixture
from tests.webhook_receiver import receiver, signature_ok

SECRET_CASE = "TOPSECRET-4242 the customer's serial number"


@pytest.fixture
def hooks(app: Flask) -> Flask:
    """Private addresses allowed (the receiver is on 127.0.0.1), short timeouts."""
    app.config.update(WEBHOOKS_ALLOW_PRIVATE=True, WEBHOOK_TIMEOUT_SECONDS=1.0)
    return app


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    """webhooks.clock, moved by the test: ``clock["now"] += timedelta(hours=1)``."""
    state = {"now": datetime.now(timezone.utc)}
    monkeypatch.setattr(webhooks, "clock", lambda: state["now"])
    return state


def endpoint(admin: Any, url: str, events: list[str], fmt: str = "json") -> tuple[WebhookEndpoint, str]:
    made = webhooks.create_endpoint(admin, webhooks.EndpointInput(url, events, fmt))
    db.session.commit()
    return made


def rows() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_an_answer_is_delivered_once_signed_with_its_payload(hooks, make_user, make_question) -> None:
    admin = make_user("root", role="admin")
    q = make_question(author=make_user("asker"), title="Hub blinks orange after the update", tags="setup hub")
    with receiver() as rec:
        _, secret = endpoint(admin, rec.url, ["answer.created"])
        answer = answers.post_answer(make_user("helper"), q, "Hold the reset button for ten seconds.")
        db.session.commit()  # the delivery is sent after the commit (inline: no Redis)

        assert len(rec.requests) == 1
        got = rec.requests[0]
        assert signature_ok(secret, got.headers, got.body)
        assert not signature_ok("whsec_wrong", got.headers, got.body)
        assert not signature_ok(secret, got.headers, got.body, now=time.time() + 301)  # the replay window
        body = got.json
        assert got.headers["X-Forum-Event"] == "answer.created" == body["event"]
        assert got.headers["X-Forum-Delivery"] == body["id"]
        assert got.headers["Content-Type"] == "application/json"
        site = hooks.config["SITE_URL"]
        assert body["data"] == {
            "answer": {"id": answer.id, "url": f"{site}/answers/{answer.id}", "author": "helper"},
            "question": {"id": q.id, "title": "Hub blinks orange after the update",
                         "url": f"{site}/questions/{q.id}/hub-blinks-orange-after-the-update", "author": "asker",
                         "tags": ["hub", "setup"]},
        }
        [row] = rows()
        assert (row.status, row.attempts, row.last_status_code, row.event_id) == ("delivered", 1, 200, body["id"])
        assert row.last_response_excerpt == '{"ok": true}' and row.last_response_ms is not None


def test_a_receiver_failing_twice_then_answering_gets_three_attempts(hooks, make_user, make_question, clock) -> None:
    admin = make_user("root", role="admin")
    with receiver([500, 500, 200]) as rec:
        _, secret = endpoint(admin, rec.url, ["question.created"])
        make_question(title="Pairing fails on the second floor")
        [row] = rows()
        assert (row.status, row.attempts, row.last_status_code) == ("failed", 1, 500)
        assert row.last_response_excerpt == "receiver says no"
        assert row.next_attempt_at == clock["now"] + timedelta(seconds=60)

        assert jobs.sweep_webhooks() == (0, 0)  # not due yet
        clock["now"] += timedelta(seconds=61)
        assert jobs.sweep_webhooks() == (1, 0)
        [row] = rows()
        assert (row.status, row.attempts) == ("failed", 2)
        assert row.next_attempt_at == clock["now"] + timedelta(seconds=120)  # backing off

        clock["now"] += timedelta(seconds=121)
        jobs.sweep_webhooks()
        [row] = rows()
        assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)
        assert len(rec.requests) == 3
        assert len({r.headers["X-Forum-Delivery"] for r in rec.requests}) == 1  # one event, three tries
        assert all(signature_ok(secret, r.headers, r.body) for r in rec.requests)
        assert db.session.get(WebhookEndpoint, row.endpoint_id).failing_since is None  # a success clears it


def test_a_receiver_that_never_answers_times_out_gives_up_after_a_day_and_is_disabled(
        hooks, make_user, make_question, clock) -> None:
    admin = make_user("root", role="admin")
    with receiver(["sleep"], sleep_seconds=4) as rec:
        hook, _ = endpoint(admin, rec.url, ["question.created"])
        started = time.monotonic()
        make_question(title="Nobody answers the webhook")
        assert time.monotonic() - started < 3  # the 1 s timeout, not the receiver's 4 s
        [row] = rows()
        assert (row.status, row.attempts, row.last_status_code) == ("failed", 1, None)
        assert row.last_response_excerpt == "No answer within 1 s."
        first_failure = clock["now"]

        clock["now"] += timedelta(minutes=2)
        jobs.sweep_webhooks()
        assert rows()[0].attempts == 2 and len(rec.requests) == 2  # retried later

        clock["now"] = first_failure + timedelta(hours=23)
        assert jobs.sweep_webhooks() == (1, 0)  # still trying, not disabled yet
        assert rows()[0].status == "failed"
        assert rows()[0].next_attempt_at <= rows()[0].created_at + timedelta(hours=24)  # never past the day

        clock["now"] = first_failure + timedelta(hours=24, minutes=1)
        assert jobs.sweep_webhooks() == (1, 1)
        [row] = rows()
        assert row.status == "gave_up"
        db.session.refresh(hook)
        assert not hook.active and hook.disabled_at == clock["now"]
        told = list(db.session.scalars(select(Notification).where(Notification.event == "webhook")))
        assert [n.user_id for n in told] == [admin.id] and rec.url in told[0].subject

        sent = len(rec.requests)
        make_question(title="After the endpoint was disabled")
        clock["now"] += timedelta(days=1)
        assert jobs.sweep_webhooks() == (0, 0)  # nothing for a disabled endpoint, no second notice
        assert len(rec.requests) == sent


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest",
                                 "http://[::1]:8080/hook", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
                                 "http://192.168.1.10/", "http://224.0.0.1/"])
def test_loopback_private_and_link_local_targets_are_refused_unless_allowed(app, make_user, url) -> None:
    admin = make_user("root", role="admin")
    with pytest.raises(FieldError) as refused:
        webhooks.create_endpoint(admin, webhooks.EndpointInput(url, ["question.created"], "json"))
    assert refused.value.field == "url" and "private" in refused.value.message
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    hook, _ = webhooks.create_endpoint(admin, webhooks.EndpointInput(url, ["question.created"], "json"))
    assert hook.url == url


def test_bad_urls_are_refused_with_one_message_per_field(app, make_user) -> None:
    admin = make_user("root", role="admin")
    for url in ("ftp://example.com/", "http:///nohost", "https://user:pw@example.com/", "http://host.invalid/"):
        with pytest.raises(FieldError) as refused:
            webhooks.create_endpoint(admin, webhooks.EndpointInput(url, ["question.created"], "json"))
        assert refused.value.field == "url", url
    with pytest.raises(FieldError) as refused:
        webhooks.create_endpoint(admin, webhooks.EndpointInput("ftp://x/", [], "xml"))
    assert [e.field for e in refused.value.each()] == ["url", "events", "format"]


def test_the_address_is_checked_again_before_each_attempt(hooks, make_user, make_question) -> None:
    admin = make_user("root", role="admin")
    with receiver() as rec:
        endpoint(admin, rec.url, ["question.created"])
        hooks.config["WEBHOOKS_ALLOW_PRIVATE"] = False  # e.g. the name now resolves to a private address
        make_question()
        assert rec.requests == []
        [row] = rows()
        assert row.status == "failed" and row.last_response_excerpt.startswith("Refused: 127.0.0.1 is 127.0.0.1")


def test_nothing_is_sent_when_the_transaction_rolls_back(hooks, make_user, make_question) -> None:
    admin = make_user("root", role="admin")
    q = make_question()
    with receiver() as rec:
        endpoint(admin, rec.url, ["answer.created"])
        answers.post_answer(make_user(), q, "An answer that will never be saved.")
        assert len(rows()) == 1  # flushed inside the transaction, not sent
        db.session.rollback()
        assert rows() == [] and rec.requests == []
        db.session.commit()
        assert rec.requests == []


def _opened_case(make_user: Any, make_question: Any) -> tuple[Any, Any, Any]:
    agent = make_user("agent_ann", role="agent")
    asker = make_user("cust")
    q = make_question(author=asker, title="Hub refuses the new firmware")
    case = cases.open_case(agent, q)
    db.session.commit()
    cases.add_message(asker, case, SECRET_CASE)
    db.session.commit()
    return agent, q, case


def test_case_content_never_reaches_question_payloads_and_case_events_only_subscribers(
        hooks, make_user, make_question) -> None:
    admin = make_user("root", role="admin")
    public = [e for e in webhooks.EVENTS if e not in webhooks.CASE_EVENTS]
    with receiver() as everything, receiver() as public_only:
        endpoint(admin, everything.url, list(webhooks.EVENTS))
        endpoint(admin, public_only.url, public)
        agent, q, case = _opened_case(make_user, make_question)
        answer = answers.post_answer(make_user("helper"), q, "Try the recovery image from the download page.")
        db.session.commit()
        curation.accept_answer(q.author, answer)
        db.session.commit()
        cases.resolve_case(agent, case, "Fixed with the recovery image: the hub is on 4.2 now.", confirm=True)
        db.session.commit()

        public_events = [b["event"] for b in public_only.bodies()]
        assert public_events == ["question.created", "answer.created", "answer.accepted", "question.solved", "answer.created",
                                 "answer.accepted"]
        assert [b["event"] for b in everything.bodies()] == [
            "question.created", "case.opened", "case.message", "answer.created", "answer.accepted", "question.solved",
            "answer.created", "answer.accepted", "case.resolved"]
        for body in everything.bodies() + public_only.bodies():
            assert "TOPSECRET" not in json.dumps(body)
            if not body["event"].startswith("case."):
                assert "case" not in body["data"]


def test_case_webhooks_carry_the_external_reference(hooks, make_user, make_question) -> None:
    admin = make_user("root", role="admin")
    with receiver() as rec:
        endpoint(admin, rec.url, ["case.message", "case.resolved"])
        agent, q, case = _opened_case(make_user, make_question)
        assert rec.bodies()[0]["data"]["case"]["external_ref"] is None
        cases.set_external_ref(agent, case, "  CRM-00417 ")
        db.session.commit()
        cases.add_message(agent, case, "We are looking into it.")
        db.session.commit()
        data = rec.bodies()[-1]["data"]
        assert data["case"]["external_ref"] == "CRM-00417"
        assert data["case"]["status"] == "open" and data["actor"] == "agent_ann"
        assert data["case"]["url"] == f"{hooks.config['SITE_URL']}/cases/{case.id}"
        assert "text" not in data["message"] and "TOPSECRET" not in json.dumps(rec.bodies())


def test_external_reference_rules(app, make_user, make_question) -> None:
    agent, q, case = _opened_case(make_user, make_question)
    for bad in ("x" * 101, "CRM\n1", "tab\there"):
        with pytest.raises(FieldError):
            cases.set_external_ref(agent, case, bad)
    assert cases.crm_url(case) is None
    cases.set_external_ref(agent, case, "T 7/8")
    app.config["CRM_CASE_URL"] = "https://crm.example.com/tickets/{ref}"
    assert cases.crm_url(case) == "https://crm.example.com/tickets/T%207%2F8"
    with pytest.raises(Exception, match="support team"):
        cases.set_external_ref(case.asker, case, "mine")


def test_slack_format_is_a_readable_line_with_a_link(hooks, make_user, make_question) -> None:
    admin = make_user("root", role="admin")
    with receiver() as rec:
        endpoint(admin, rec.url, ["question.created"], fmt="slack")
        q = make_question(author=make_user("asker"), title="Lights <blink> & fade")
        assert rec.bodies() == [{"text": f"New question by asker: <{hooks.config['SITE_URL']}/questions/{q.id}/"
                                         f"lights-blink-fade|Lights &lt;blink&gt; &amp; fade>"}]


def test_sla_breach_is_a_webhook_event(hooks, make_user, make_question) -> None:
    admin = make_user("root", role="admin")
    with receiver() as rec:
        endpoint(admin, rec.url, ["sla.breached"])
        q = make_question(title="Waiting for somebody")
        sla.sweep(now=datetime.now(timezone.utc) + timedelta(hours=25))
        db.session.commit()
        [body] = rec.bodies()
        assert body["event"] == "sla.breached" and body["data"]["question"]["id"] == q.id
        assert body["data"]["target_hours"] == 24


def test_redeliver_and_ping_queue_new_deliveries(hooks, make_user, make_question) -> None:
    admin = make_user("root", role="admin")
    with receiver() as rec:
        hook, secret = endpoint(admin, rec.url, ["question.created"])
        make_question()
        [first] = rows()
        again = webhooks.redeliver(admin, first.id)
        db.session.commit()
        assert again.id != first.id and len(rec.requests) == 2
        assert rec.requests[0].body == rec.requests[1].body
        assert rec.requests[1].headers["X-Forum-Delivery"] == first.event_id
        webhooks.send_ping(admin, hook)
        db.session.commit()
        assert rec.requests[2].headers["X-Forum-Event"] == "ping"
        assert all(signature_ok(secret, r.headers, r.body) for r in rec.requests)


@pytest.mark.usefixtures("redis_app")
def test_with_redis_the_request_queues_and_a_worker_delivers_and_retries(app, make_user, make_question, clock) -> None:
    # redis_app: REDIS_URL and a queue of its own (tests/services/test_jobs_redis.py)
    app.config.update(WEBHOOKS_ALLOW_PRIVATE=True, WEBHOOK_TIMEOUT_SECONDS=1.0)
    admin = make_user("root", role="admin")
    queue = jobs.get_jobs(app).queue
    with receiver([500, 200]) as rec:
        _, secret = endpoint(admin, rec.url, ["question.created"])
        make_question()
        assert queue.count == 1 and rec.requests == []  # the request only queued it
        assert rows()[0].status == "pending"

        jobs.make_worker(app).work(burst=True)
        [row] = rows()
        assert (row.status, row.attempts, len(rec.requests)) == ("failed", 1, 1)
        assert len(queue.scheduled_job_registry.get_job_ids()) == 1  # the job scheduled its own retry

        clock["now"] += timedelta(minutes=2)
        assert jobs.sweep_webhooks() == (1, 0)  # the sweep queues the due row too
        jobs.make_worker(app).work(burst=True)
        [row] = rows()
        assert (row.status, row.attempts, len(rec.requests)) == ("delivered", 2, 2)
        assert all(signature_ok(secret, r.headers, r.body) for r in rec.requests)


def test_the_delivery_connects_to_the_address_that_was_checked(hooks, make_user, make_question,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The name is resolved once, checked, and that address is the one connected to: requests
    never resolves it again (here it could not: the name exists only for the check)."""
    import ipaddress

    resolved: list[str] = []

    def fake_resolve(host: str, port: int) -> list[Any]:
        resolved.append(host)
        return [ipaddress.ip_address("127.0.0.1")] if host == "hooks.internal.test" else []

    monkeypatch.setattr(webhooks, "_resolve", fake_resolve)
    admin = make_user("root", role="admin")
    with receiver() as rec:
        url = rec.url.replace("127.0.0.1", "hooks.internal.test")
        _, secret = endpoint(admin, url, ["question.created"])
        make_question()
        [got] = rec.requests
        assert got.headers["Host"] == url.split("/")[2]  # the name in the Host header, the checked address dialled
        assert signature_ok(secret, got.headers, got.body) and rows()[0].status == "delivered"
        assert resolved == ["hooks.internal.test", "hooks.internal.test"]  # on saving, and before the attempt
