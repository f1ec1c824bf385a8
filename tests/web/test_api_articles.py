"""The API's knowledge-base articles: list and read (drafts for staff only), write, edit, publish."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Article, Revision, WebhookDelivery
from forum.services import webhooks
from tests.web.test_api_core import _bearer, _token
from tests.web.test_api_staff import demoted, staff_token

DRAFT = {"title": "Reset the hub to factory settings", "tags": ["setup"],
         "body": "Hold the reset button for ten seconds until the light blinks white."}


def draft(client: FlaskClient, secret: str, **changes: Any) -> dict[str, Any]:
    r = client.post("/api/v1/articles", json={**DRAFT, **changes}, headers=_bearer(secret))
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def test_staff_write_a_draft_nobody_else_sees_then_publish_it(app: Flask, client: FlaskClient,
                                                              make_user: Callable[..., Any]) -> None:
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    webhooks.create_endpoint(make_user("root", role="admin"),
                             webhooks.EndpointInput("http://127.0.0.1:9/hook", ["article.published"], "json"))
    db.session.commit()
    secret = staff_token(app, make_user)
    _, member_secret = _token(app, make_user("maria"), ["read", "write"])
    assert client.post("/api/v1/articles", json=DRAFT).status_code == 401
    r = client.post("/api/v1/articles", json=DRAFT, headers=_bearer(member_secret))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "insufficient_scope"
    r = client.post("/api/v1/articles", json=DRAFT, headers=_bearer(demoted(app, make_user)))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    r = client.post("/api/v1/articles", json={**DRAFT, "title": "Hub"}, headers=_bearer(secret))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "title"
    key = {"Idempotency-Key": "article-1"}
    first = client.post("/api/v1/articles", json=DRAFT, headers=_bearer(secret, **key))
    assert first.status_code == 201 and first.get_json()["state"] == "draft"
    again = client.post("/api/v1/articles", json=DRAFT, headers=_bearer(secret, **key))
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json()["id"] == first.get_json()["id"]
    article_id = first.get_json()["id"]
    assert first.headers["Location"].endswith(f"/api/v1/articles/{article_id}")
    assert db.session.scalar(select(func.count()).select_from(Article)) == 1
    # A draft: 404 to everyone but staff, and in no public list.
    for headers in ({}, _bearer(member_secret)):
        assert client.get(f"/api/v1/articles/{article_id}", headers=headers).status_code == 404
        assert client.get("/api/v1/articles?state=draft", headers=headers).get_json()["items"] == []
    assert client.get(f"/api/v1/articles/{article_id}", headers=_bearer(secret)).status_code == 200
    staff_drafts = client.get("/api/v1/articles?state=draft", headers=_bearer(secret)).get_json()["items"]
    assert [a["id"] for a in staff_drafts] == [article_id]
    assert client.get(f"/articles/{article_id}").status_code == 404  # as the page
    r = client.post(f"/api/v1/articles/{article_id}/state", json={"state": "published"}, headers=_bearer(member_secret))
    assert r.status_code == 403
    r = client.post(f"/api/v1/articles/{article_id}/state", json={"state": "live"}, headers=_bearer(secret))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "state"
    r = client.post(f"/api/v1/articles/{article_id}/state", json={"state": "published"}, headers=_bearer(secret))
    assert r.status_code == 200 and r.get_json()["state"] == "published" and r.get_json()["published_at"]
    r = client.post(f"/api/v1/articles/{article_id}/state", json={"state": "published"}, headers=_bearer(secret))
    assert r.status_code == 409
    public = client.get(f"/api/v1/articles/{article_id}")
    assert public.status_code == 200 and public.get_json()["body"] == DRAFT["body"]
    assert [a["id"] for a in client.get("/api/v1/articles").get_json()["items"]] == [article_id]
    assert client.get(f"/articles/{article_id}", follow_redirects=True).status_code == 200
    db.session.expire_all()
    assert list(db.session.scalars(select(WebhookDelivery.event))) == ["article.published"]
    assert client.post("/api/v1/articles/999999/state", json={"state": "published"},
                       headers=_bearer(secret)).status_code == 404


def test_an_edit_changes_what_it_names_as_a_new_revision(app: Flask, client: FlaskClient,
                                                         make_user: Callable[..., Any]) -> None:
    secret = staff_token(app, make_user)
    made = draft(client, secret)
    url = f"/api/v1/articles/{made['id']}"
    assert client.patch(url, json={"title": "Reset the hub, step by step"}).status_code == 401
    r = client.patch(url, json={"title": "Reset the hub, step by step"}, headers=_bearer(demoted(app, make_user)))
    assert r.status_code == 403
    r = client.patch(url, json={"tags": ["setup", "reset"], "summary": "Tagged"}, headers=_bearer(secret))
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["tags"] == ["reset", "setup"] and out["title"] == DRAFT["title"] and out["body"] == DRAFT["body"]
    assert client.patch(url, json={"title": DRAFT["title"]}, headers=_bearer(secret)).status_code == 409
    r = client.patch(url, json={"body": "Too short"}, headers=_bearer(secret))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "body"
    assert client.patch("/api/v1/articles/999999", json={"title": "Anything at all"},
                        headers=_bearer(secret)).status_code == 404
    db.session.expire_all()
    summaries = db.session.scalars(select(Revision.summary).where(Revision.article_id == made["id"])
                                   .order_by(Revision.number))
    assert list(summaries) == ["", "Tagged"]


def test_the_published_list_pages_by_cursor(app: Flask, client: FlaskClient, make_user: Callable[..., Any]) -> None:
    secret = staff_token(app, make_user)
    ids = []
    for n in range(3):
        made = draft(client, secret, title=f"Article number {n} about the hub")
        client.post(f"/api/v1/articles/{made['id']}/state", json={"state": "published"}, headers=_bearer(secret))
        ids.append(made["id"])
    seen: list[int] = []
    url = "/api/v1/articles?limit=2"
    while url:
        page = client.get(url).get_json()
        seen += [a["id"] for a in page["items"]]
        url = f"/api/v1/articles?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert sorted(seen) == sorted(ids) and len(seen) == 3
    assert client.get("/api/v1/articles?tag=setup").get_json()["items"]
    assert client.get("/api/v1/articles?tag=nothing").get_json()["items"] == []
    r = client.get("/api/v1/articles?cursor=garbage")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "cursor"
