"""Editing a webhook endpoint (/admin/webhooks/<id>/edit) and rotating its secret (admins only)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import ModerationLog, WebhookEndpoint
from forum.services import webhooks
from tests.webhook_receiver import receiver, signature_ok


def _endpoint(admin, url: str = "https://93.184.215.14/forum") -> WebhookEndpoint:
    hook, _ = webhooks.create_endpoint(admin, webhooks.EndpointInput(url, ["question.created"], "json"))
    db.session.commit()
    return hook


def _stored(hook_id: int) -> WebhookEndpoint:
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, hook_id)
    assert endpoint is not None
    return endpoint


def test_an_admin_changes_the_url_events_and_format(client, auth, make_user) -> None:
    hook = _endpoint(make_user("root", role="admin"))
    secret = hook.secret
    auth.login("root")
    form = client.get(f"/admin/webhooks/{hook.id}/edit").get_data(as_text=True)
    assert 'value="https://93.184.215.14/forum"' in form
    assert re.search(r'<input[^>]*checked[^>]*value="question.created"|value="question.created"[^>]*checked', form)
    r = auth.post(f"/admin/webhooks/{hook.id}/edit", {"url": "https://93.184.215.14/slack",
                                                       "events": ["answer.created", "flag.created"], "format": "slack"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/admin/webhooks/{hook.id}")
    assert "Endpoint updated." in client.get(r.headers["Location"]).get_data(as_text=True)
    endpoint = _stored(hook.id)
    assert (endpoint.url, endpoint.event_list, endpoint.format) == ("https://93.184.215.14/slack",
                                                                    ["answer.created", "flag.created"], "slack")
    assert endpoint.secret == secret  # editing keeps the secret
    entry = db.session.scalars(select(ModerationLog).where(ModerationLog.action == "edit_webhook")).one()
    assert entry.target_id == hook.id and "/forum" in entry.before and "/slack" in entry.after
    again = auth.post(f"/admin/webhooks/{hook.id}/edit", {"url": "https://93.184.215.14/slack",
                                                           "events": ["answer.created", "flag.created"], "format": "slack"})
    assert "Nothing changed." in client.get(again.headers["Location"]).get_data(as_text=True)


def test_an_edit_gets_the_registration_checks_private_addresses_included(client, auth, make_user) -> None:
    hook = _endpoint(make_user("root", role="admin"))
    auth.login("root")
    r = auth.post(f"/admin/webhooks/{hook.id}/edit", {"url": "http://10.0.0.7/internal", "format": "rtf"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'value="http://10.0.0.7/internal"' in page
    assert re.search(r'id="url-error">[^<]*10\.0\.0\.7', page)
    assert re.search(r'id="events-error">Choose at least one event\.', page)
    endpoint = _stored(hook.id)
    assert (endpoint.url, endpoint.event_list, endpoint.format) == ("https://93.184.215.14/forum",
                                                                    ["question.created"], "json")


def test_rotating_the_secret_shows_the_new_one_once_and_signs_with_it(app, client, auth, make_user) -> None:
    app.config.update(WEBHOOKS_ALLOW_PRIVATE=True, WEBHOOK_TIMEOUT_SECONDS=1.0)
    with receiver([200]) as rec:
        hook = _endpoint(make_user("root", role="admin"), rec.url)
        old = hook.secret
        auth.login("root")
        r = auth.post(f"/admin/webhooks/{hook.id}/secret")
        assert r.status_code == 200
        new = _stored(hook.id).secret
        assert new != old and new.startswith("whsec_")
        assert new in r.get_data(as_text=True)
        assert new not in client.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
        assert auth.post(f"/admin/webhooks/{hook.id}/ping").status_code == 302
        assert len(rec.requests) == 1
        assert signature_ok(new, rec.requests[0].headers, rec.requests[0].body)
        assert not signature_ok(old, rec.requests[0].headers, rec.requests[0].body)
    assert db.session.scalars(select(ModerationLog).where(ModerationLog.action == "rotate_webhook_secret")).one()


@pytest.mark.parametrize("role", ["member", "moderator"])
def test_only_admins_edit_or_rotate(client, auth, make_user, role) -> None:
    hook = _endpoint(make_user("root", role="admin"))
    secret = hook.secret
    make_user("someone", role=role)
    auth.login("someone")
    assert client.get(f"/admin/webhooks/{hook.id}/edit").status_code == 403
    assert auth.post(f"/admin/webhooks/{hook.id}/edit", {"url": "https://93.184.215.14/x", "events": "flag.created",
                                                          "format": "json"}).status_code == 403
    assert auth.post(f"/admin/webhooks/{hook.id}/secret").status_code == 403
    endpoint = _stored(hook.id)
    assert endpoint.url == "https://93.184.215.14/forum" and endpoint.secret == secret


def test_an_unknown_endpoint_is_404(client, auth, make_user) -> None:
    make_user("root", role="admin")
    auth.login("root")
    assert client.get("/admin/webhooks/999/edit").status_code == 404
    assert auth.post("/admin/webhooks/999/secret").status_code == 404
