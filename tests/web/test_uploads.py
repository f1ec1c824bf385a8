"""POST /uploads and GET /uploads/<id>.<ext> over HTTP: who may, what comes back, which headers."""
from __future__ import annotations

import io
import os
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from forum import pagecache
from tests.support import Auth

PNG_SIZE = (40, 20)


def png(size: tuple[int, int] = PNG_SIZE, noise: bool = False) -> bytes:
    out = io.BytesIO()
    if noise:  # incompressible: a large file from few pixels
        Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, "PNG")
    else:
        Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def member(make_user: Any, auth: Auth) -> str:
    """A signed-in member; returns the CSRF token of their session."""
    user = make_user()
    auth.login(user.username)
    return auth.csrf_token("/questions/ask")


def post_file(client: FlaskClient, data: bytes, token: str | None, name: str = "shot.png",
              ip: str = "203.0.113.9") -> Any:
    headers = {"Accept": "application/json"}
    if token:
        headers["X-CSRFToken"] = token
    return client.post("/uploads", data={"file": (io.BytesIO(data), name)}, headers=headers,
                       content_type="multipart/form-data", environ_base={"REMOTE_ADDR": ip})


def test_a_member_uploads_an_image_and_gets_its_markdown(client: FlaskClient, member: str) -> None:
    response = post_file(client, png(), member, name="My screen.png")
    assert response.status_code == 201
    body = response.get_json()
    assert re.fullmatch(r"/uploads/[A-Za-z0-9_-]{22}\.png", body["url"])
    assert body["markdown"] == f"![My screen]({body['url']})"
    assert (body["width"], body["height"]) == PNG_SIZE


def test_the_image_is_served_with_safe_cacheable_headers(client: FlaskClient, member: str) -> None:
    url = post_file(client, png(), member, name="../../Screen Shot; ü.png").get_json()["url"]
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Disposition"] == 'inline; filename="Screen-Shot.png"'
    assert Image.open(io.BytesIO(response.data)).size == PNG_SIZE
    etag = response.headers["ETag"]
    assert etag
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_anyone_may_view_an_image_but_unknown_ones_are_404(client: FlaskClient, member: str) -> None:
    url = post_file(client, png(), member).get_json()["url"]
    client.post("/logout", data={"csrf_token": member})
    assert client.get(url).status_code == 200
    assert client.get(url.replace(".png", ".jpg")).status_code == 404
    assert client.get("/uploads/" + "A" * 22 + ".png").status_code == 404
    assert client.get("/uploads/" + "A" * 22 + ".svg").status_code == 404


def test_signed_out_visitors_cannot_upload(client: FlaskClient, auth: Auth) -> None:
    token = auth.csrf_token("/login")
    response = post_file(client, png(), token)
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "Sign in to add images."


def test_an_upload_without_the_csrf_token_is_refused(client: FlaskClient, member: str) -> None:
    response = post_file(client, png(), None)
    assert response.status_code == 400
    assert "expired" in response.get_json()["error"]["message"]


def test_a_file_that_is_not_an_image_is_415_whatever_its_name(client: FlaskClient, member: str) -> None:
    response = post_file(client, b"<html><script>alert(1)</script></html>", member, name="cat.png")
    assert response.status_code == 415
    assert "PNG, JPEG, GIF or WebP" in response.get_json()["error"]["message"]


def test_no_file_is_400(client: FlaskClient, member: str) -> None:
    response = client.post("/uploads", data={"other": "x"}, headers={"Accept": "application/json",
                                                                    "X-CSRFToken": member})
    assert response.status_code == 400
    assert "Choose an image" in response.get_json()["error"]["message"]


def test_images_larger_than_a_form_but_within_the_limit_are_accepted(client: FlaskClient, member: str) -> None:
    data = png((400, 400), noise=True)
    assert len(data) > 256 * 1024  # MAX_CONTENT_LENGTH, the limit of every other form
    assert post_file(client, data, member).status_code == 201


def test_an_image_over_the_limit_is_413_with_the_limit_said(app: Flask, client: FlaskClient, member: str) -> None:
    data = png((200, 200), noise=True)
    app.config["UPLOAD_MAX_BYTES"] = len(data) - 10
    response = post_file(client, data, member)
    assert response.status_code == 413
    assert "are accepted" in response.get_json()["error"]["message"]
    app.config["UPLOAD_MAX_BYTES"] = 1024  # far over: werkzeug stops reading, still a JSON 413
    response = post_file(client, png((400, 400), noise=True), member)
    assert response.status_code == 413
    assert response.get_json()["error"]["message"] == "The image is larger than 1 KB, the most we accept."


def test_uploads_are_rate_limited_per_account(app: Flask, client: FlaskClient, member: str) -> None:
    app.config.update(RATE_LIMITS_ENABLED=True, LOGIN_THROTTLE_ENABLED=False,
                      RATE_LIMIT_UPLOAD_PER_ACCOUNT="2 per minute", RATE_LIMIT_UPLOAD_PER_IP="")
    assert [post_file(client, png(), member, ip=f"198.51.100.{n}").status_code for n in range(2)] == [201, 201]
    refused = post_file(client, png(), member, ip="198.51.100.77")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "adding images faster" in refused.get_json()["error"]["message"]


def test_pages_allow_images_from_this_site_only(app: Flask, client: FlaskClient) -> None:
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "img-src 'self';" in csp and "https:" not in csp
    app.config["REMOTE_IMAGES"] = True
    assert "img-src 'self' https:;" in client.get("/").headers["Content-Security-Policy"]


def test_the_ask_page_offers_to_add_images(client: FlaskClient, member: str) -> None:
    html = client.get("/questions/ask").get_data(as_text=True)
    assert 'data-upload-url="/uploads"' in html and "data-upload-button" in html
    assert "/static/js/uploads.js" in html


def test_a_question_shows_its_uploaded_image_and_links_remote_ones(client: FlaskClient, member: str,
                                                                  make_question: Any) -> None:
    url = post_file(client, png(), member).get_json()["url"]
    q = make_question(body=f"Mine: ![hub light]({url})\n\nTheirs: ![tracker](https://tracker.example/p.png)")
    html = client.get(f"/questions/{q.id}", follow_redirects=True).get_data(as_text=True)
    assert f'<img alt="hub light" src="{url}" loading="lazy">' in html
    assert "tracker.example" in html and '<img alt="tracker"' not in html
    assert re.search(r'<a href="https://tracker.example/p.png"[^>]*>tracker</a>', html)


def test_an_upload_does_not_empty_the_page_cache(app: Flask, make_user: Any, make_question: Any) -> None:
    # Uploads are no page's data: storing one must not invalidate every cached page ("global").
    app.config["PAGE_CACHE_ENABLED"] = True
    pagecache.init_app(app)  # as tests/web/test_page_cache.py does (in-process pages)
    q = make_question()
    visitor, writer = app.test_client(), app.test_client()
    path = visitor.get(f"/questions/{q.id}", follow_redirects=True).request.path
    assert visitor.get(path).headers["X-Cache"] in ("MISS", "HIT")
    assert visitor.get(path).headers["X-Cache"] == "HIT"
    app.extensions["pagecache"].close()
    user = make_user()
    Auth(writer).login(user.username)
    assert post_file(writer, png(), Auth(writer).csrf_token("/questions/ask")).status_code == 201
    assert visitor.get(path).headers["X-Cache"] == "HIT"
    app.extensions["pagecache"].close()


def test_with_remote_images_allowed_other_hosts_images_show(app: Flask, client: FlaskClient,
                                                           make_question: Any) -> None:
    app.config["REMOTE_IMAGES"] = True
    q = make_question(body="Theirs: ![chart](https://status.example/chart.png)")
    html = client.get(f"/questions/{q.id}", follow_redirects=True).get_data(as_text=True)
    assert '<img alt="chart" src="https://status.example/chart.png" loading="lazy">' in html


def test_without_javascript_the_upload_page_gives_the_markdown_to_paste(client: FlaskClient, member: str) -> None:
    page = client.get("/uploads/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="file"' in page
    response = client.post("/uploads", data={"file": (io.BytesIO(png()), "router.png"), "csrf_token": member},
                           content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200 and response.request.path == "/uploads/new"
    html = response.get_data(as_text=True)
    markdown = re.search(r'value="(!\[router\]\((/uploads/[A-Za-z0-9_-]{22}\.png)\))"', html)
    assert markdown, html
    assert client.get(markdown.group(2)).status_code == 200

    refused = client.post("/uploads", data={"file": (io.BytesIO(b"plain text"), "notes.png"), "csrf_token": member},
                          content_type="multipart/form-data")
    assert refused.status_code == 415
    assert "not an image we accept" in refused.get_data(as_text=True)


def test_the_composer_links_to_the_upload_page_for_browsers_without_javascript(client: FlaskClient,
                                                                                member: str) -> None:
    html = client.get("/questions/ask").get_data(as_text=True)
    assert re.search(r'<noscript>.*href="/uploads/new"', html, re.S)


def test_signed_out_visitors_are_sent_to_sign_in_from_the_upload_page(client: FlaskClient) -> None:
    response = client.get("/uploads/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_post_composer_offers_images(client: FlaskClient, auth: Auth, make_user: Any,
                                           make_question: Any) -> None:
    from forum.extensions import db
    from forum.services import cases

    agent, asker = make_user(role="agent"), make_user()
    q = make_question(author=asker)
    case = cases.open_case(agent, q)
    db.session.commit()
    auth.login(agent.username)
    pages = {"answer": f"/questions/{q.id}", "question edit": f"/questions/{q.id}/edit",
             "case message": f"/cases/{case.id}", "article": "/articles/new"}
    for name, path in pages.items():
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        assert 'data-upload-url="/uploads"' in html, name
    profile = client.get("/settings/profile")
    assert profile.status_code == 200 and "data-upload-url" not in profile.get_data(as_text=True)  # a bio: none


@pytest.mark.parametrize(("setting", "value"), [("UPLOAD_STORE", "s3"), ("UPLOAD_MAX_BYTES", 0)])
def test_a_mistyped_upload_setting_stops_the_start(setting: str, value: object) -> None:
    from forum import create_app

    with pytest.raises(ValueError, match=setting):
        create_app("testing", {setting: value})
