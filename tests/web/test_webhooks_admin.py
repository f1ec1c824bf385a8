"""/admin/webhooks (admins only) and the case page's external reference."""
from __future__ import annotations

import html as htmllib
import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import SupportCase, WebhookDelivery, WebhookEndpoint
from forum.services import cases, webhooks
from tests.webhook_receiver import receiver, signature_ok


def _endpoint(admin, url: str = "https://93.184.215.14/forum", events=("question.created",)) -> WebhookEndpoint:
    hook, _ = webhooks.create_endpoint(admin, webhooks.EndpointInput(url, list(events), "json"))
    db.session.commit()
    return hook


@pytest.mark.parametrize("role", ["member", "agent", "moderator"])
def test_only_admins_get_in(app, client, auth, make_user, role) -> None:
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    hook = _endpoint(make_user("root", role="admin"), "http://127.0.0.1:9/x")
    db.session.add(WebhookDelivery(endpoint_id=hook.id, event="ping", event_id="e", payload="{}"))
    db.session.commit()
    delivery_id = db.session.scalars(select(WebhookDelivery.id)).one()
    make_user(f"who_{role}", role=role)
    auth.login(f"who_{role}")
    for page in ("/admin/webhooks", f"/admin/webhooks/{hook.id}"):
        assert client.get(page).status_code == 403, page
    for path, data in (("/admin/webhooks", {"url": "http://127.0.0.1:9/y", "events": "question.created"}),
                       (f"/admin/webhooks/{hook.id}/active", {"active": "0"}),
                       (f"/admin/webhooks/{hook.id}/ping", {}),
                       (f"/admin/webhooks/{hook.id}/delete", {}),
                       (f"/admin/webhooks/deliveries/{delivery_id}/redeliver", {})):
        assert auth.post(path, data).status_code == 403, path
    db.session.expire_all()
    assert [e.active for e in db.session.scalars(select(WebhookEndpoint))] == [True]
    assert len(db.session.scalars(select(WebhookDelivery)).all()) == 1


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    response = client.get("/admin/webhooks")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_refused_form_keeps_the_input_with_each_message_beside_its_field(client, auth, make_user) -> None:
    make_user("root", role="admin")
    auth.login("root")
    assert 'href="/admin/webhooks"' in client.get("/admin").get_data(as_text=True)  # the area's tabs
    response = auth.post("/admin/webhooks", {"url": "http://10.0.0.7/internal", "format": "json"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="http://10.0.0.7/internal"' in page
    assert re.search(r'id="url-error">[^<]*10\.0\.0\.7 is 10\.0\.0\.7, a loopback, private', page)
    assert re.search(r'id="events-error">Choose at least one event\.', page)
    assert db.session.scalars(select(WebhookEndpoint)).all() == []

    response = auth.post("/admin/webhooks", {"url": "ftp://nope", "events": ["case.opened", "flag.created"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'value="ftp://nope"' in page
    assert re.search(r'value="case.opened"[^>]*checked|checked[^>]*value="case.opened"', page)
    assert not re.search(r'value="answer.created"[^>]*checked', page)


def test_the_secret_is_shown_once_then_masked(client, auth, make_user) -> None:
    make_user("root", role="admin")
    auth.login("root")
    response = auth.post("/admin/webhooks", {"url": "https://93.184.215.14/in", "format": "slack",
                                             "events": ["question.created", "sla.breached"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "shown only this once" in page
    hook = db.session.scalars(select(WebhookEndpoint)).one()
    assert hook.secret.startswith("whsec_") and hook.secret in page
    assert (hook.format, hook.event_list) == ("slack", ["question.created", "sla.breached"])
    again = client.get("/admin/webhooks").get_data(as_text=True)
    detail = client.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert hook.secret not in again and hook.secret not in detail
    assert htmllib.escape(hook.masked_secret) in detail or hook.masked_secret in detail


def test_disable_enable_and_delete(client, auth, make_user) -> None:
    hook_id = _endpoint(make_user("root", role="admin")).id
    auth.login("root")
    assert auth.post(f"/admin/webhooks/{hook_id}/active", {"active": "0"}).status_code == 302
    db.session.expire_all()
    assert not db.session.get(WebhookEndpoint, hook_id).active
    assert "Enable" in client.get(f"/admin/webhooks/{hook_id}").get_data(as_text=True)
    assert auth.post(f"/admin/webhooks/{hook_id}/active", {"active": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, hook_id).active
    assert auth.post(f"/admin/webhooks/{hook_id}/delete").status_code == 302
    db.session.expunge_all()
    assert db.session.get(WebhookEndpoint, hook_id) is None


def test_the_log_shows_attempts_and_the_redeliver_button_sends_again(app, client, auth, make_user,
                                                                      make_question) -> None:
    app.config.update(WEBHOOKS_ALLOW_PRIVATE=True, WEBHOOK_TIMEOUT_SECONDS=1.0)
    admin = make_user("root", role="admin")
    with receiver([500, 200]) as rec:
        hook, secret = webhooks.create_endpoint(admin, webhooks.EndpointInput(rec.url, ["question.created"], "json"))
        db.session.commit()
        make_question(title="Webhook log question")
        auth.login("root")
        page = client.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
        delivery = db.session.scalars(select(WebhookDelivery)).one()
        row = page[page.index(f'id="delivery-{delivery.id}"'):]
        row = row[:row.index("</tr>")]
        assert "question.created" in row and "failed" in row and ">500<" in row and "receiver says no" in row
        assert " ms<" in row
        action = f"/admin/webhooks/deliveries/{delivery.id}/redeliver"
        assert f'action="{action}"' in row

        response = auth.post(action, follow_redirects=True)
        assert response.status_code == 200 and "Redelivery queued" in response.get_data(as_text=True)
        assert len(rec.requests) == 2 and signature_ok(secret, rec.requests[1].headers, rec.requests[1].body)
        assert rec.requests[1].body == rec.requests[0].body
        statuses = [d.status for d in db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))]
        assert statuses == ["failed", "delivered"]

        response = auth.post(f"/admin/webhooks/{hook.id}/ping", follow_redirects=True)
        assert response.status_code == 200 and rec.requests[2].headers["X-Forum-Event"] == "ping"


def test_staff_set_the_external_reference_on_the_case_page(app, client, auth, make_user, make_question) -> None:
    agent = make_user("agent_ann", role="agent")
    asker = make_user("cust")
    q = make_question(author=asker)
    case = cases.open_case(agent, q)
    db.session.commit()
    auth.login("cust")
    assert auth.post(f"/cases/{case.id}/external-ref", {"external_ref": "MINE-1"}).status_code == 403
    assert "Save reference" not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    auth.logout()

    auth.login("agent_ann")
    response = auth.post(f"/cases/{case.id}/external-ref", {"external_ref": "bad\treference"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'value="bad\treference"' in page
    assert 'id="external_ref-error">Use printable characters only' in page

    assert auth.post(f"/cases/{case.id}/external-ref", {"external_ref": "CRM-77"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(SupportCase, case.id).external_ref == "CRM-77"
    assert '<span class="case-external-ref">CRM-77</span>' in client.get(f"/cases/{case.id}").get_data(as_text=True)
    app.config["CRM_CASE_URL"] = "https://crm.example.com/tickets/{ref}"
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'href="https://crm.example.com/tickets/CRM-77"' in page

    response = auth.post(f"/cases/{case.id}/external-ref", {"external_ref": "CRM-78"},
                         headers={"Accept": "application/json"})
    assert response.get_json() == {"case_id": case.id, "external_ref": "CRM-78"}
