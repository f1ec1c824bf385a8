"""Tags through the web: suggestions as JSON, refusing a new tag with the form kept, and the
descriptions staff write (page, log, cached pages)."""
from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import ModerationLog, Question
from forum.services import questions, tags
from tests.support import HUB_BODY, production_privileges, set_reputation
from tests.web.test_page_cache import cached  # noqa: F401 - the page cache fixture


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def staff(make_user: Any) -> Any:
    return make_user("agent_tagger", role="agent")


@pytest.fixture
def tagged(app: Any, staff: Any) -> None:
    for tag_text in ("wifi", "wifi", "wifi-mesh", "firmware"):
        questions.ask_question(staff, questions.QuestionInput("Hub drops offline every night at two", HUB_BODY, tag_text))
    tags.edit_tag_wiki(staff, questions.get_tag("wifi"), "Connecting the hub to **Wi-Fi** routers.")
    db.session.commit()


# ---------------------------------------------------------------- suggestions


def test_suggestions_are_json_ranked_by_use_with_the_description(client, tagged) -> None:
    r = client.get("/tag-suggestions?q=Wi")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.get_json() == {"query": "wi", "tags": [
        {"name": "wifi", "count": 2, "excerpt": "Connecting the hub to Wi-Fi routers.", "url": "/tags/wifi"},
        {"name": "wifi-mesh", "count": 1, "excerpt": "", "url": "/tags/wifi-mesh"},
    ]}
    assert r.headers["Cache-Control"] == "public, max-age=60"


def test_no_suggestions_for_nothing_or_an_unknown_prefix(client, tagged) -> None:
    assert client.get("/tag-suggestions").get_json() == {"query": "", "tags": []}
    assert client.get("/tag-suggestions?q=zz").get_json() == {"query": "zz", "tags": []}


def test_the_ask_page_wires_the_tag_box(client, auth, make_user) -> None:
    make_user("asker")
    auth.login("asker")
    html = client.get("/questions/ask").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="tags"[^>]*>', html).group(0)  # type: ignore[union-attr]
    assert 'data-tag-suggest="/tag-suggestions"' in field and 'data-tag-create="yes"' in field
    assert "js/tags.js" in html
    assert "separated by spaces; join the words of one tag with hyphens" in html


# ---------------------------------------------------------------- the privilege


@pytest.fixture
def real_threshold(app: Any) -> Any:
    production_privileges(app, create_tag=True)
    return app


def test_a_new_tag_without_the_privilege_is_refused_with_the_text_kept(client, auth, make_user, real_threshold,
                                                                        tagged) -> None:
    set_reputation(make_user("newbie"), 40)
    auth.login("newbie")
    html = client.get("/questions/ask").get_data(as_text=True)
    assert 'data-tag-create="no"' in html and "Creating new tags needs 300 reputation; you have 40." in html
    r = auth.post("/questions/ask", {"title": "Hub", "body": "My hub goes offline every night.", "tags": "Hub Offline wifi"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    text = _text(page)
    assert ("'hub', 'offline' are not tags yet; you need 300 reputation to create tags (you have 40) "
            "— pick an existing tag.") in text.replace("&#39;", "'")
    assert "Titles need at least" in text  # every field's error at once
    assert 'value="Hub Offline wifi"' in page and "My hub goes offline every night." in page
    assert db.session.scalar(select(Question).where(Question.title == "Hub")) is None


def test_a_member_with_the_privilege_or_existing_tags_posts(client, auth, make_user, real_threshold, tagged) -> None:
    auth.login(make_user("plain").username)
    r = auth.post("/questions/ask", {"title": "Hub drops off the mesh nightly", "body": HUB_BODY, "tags": "wifi-mesh WIFI"})
    assert r.status_code == 302
    set_reputation(make_user("trusted"), 300)
    auth.logout()
    auth.login("trusted")
    r = auth.post("/questions/ask", {"title": "Hub goes offline after midnight", "body": HUB_BODY, "tags": "hub-offline"})
    assert r.status_code == 302
    assert client.get("/tags/hub-offline").status_code == 200


def test_the_privileges_page_lists_creating_tags(client, real_threshold) -> None:
    text = _text(client.get("/help/privileges").get_data(as_text=True))
    assert "Create tags" in text and "300" in text


# ---------------------------------------------------------------- descriptions


def test_staff_edit_a_description_shown_on_the_tag_page_and_index(client, auth, staff, tagged) -> None:
    auth.login(staff.username)
    page = client.get("/tags/firmware").get_data(as_text=True)
    assert 'href="/tags/firmware/edit"' in page and "Describe this tag" in page
    form = client.get("/tags/firmware/edit")
    assert form.status_code == 200 and 'name="wiki"' in form.get_data(as_text=True)
    r = auth.post("/tags/firmware/edit", {"wiki": "Updates for the hub.\n\nSee *release notes* first."})
    assert r.status_code == 302 and r.headers["Location"].endswith("/tags/firmware")
    page = client.get("/tags/firmware").get_data(as_text=True)
    assert "<p>See <em>release notes</em> first.</p>" in page and "Edit the description" in page
    assert "Updates for the hub. See release notes first." in client.get("/tags").get_data(as_text=True)
    firmware = questions.get_tag("firmware")
    entry = db.session.scalars(select(ModerationLog).where(ModerationLog.action == "edit_tag",
                                                           ModerationLog.target_id == firmware.id)).one()
    assert entry.target_type == "tag" and entry.actor_id == staff.id
    log = _text(client.get("/moderation/log?target_type=tag").get_data(as_text=True))
    assert "edit_tag" in log and "See *release notes* first." in log


def test_a_too_long_description_keeps_the_text(client, auth, app, staff, tagged) -> None:
    app.config["TAG_WIKI_MAX_LENGTH"] = 10
    auth.login(staff.username)
    r = auth.post("/tags/firmware/edit", {"wiki": "Hub firmware, all of it"})
    assert r.status_code == 400
    assert "under 10 characters" in r.get_data(as_text=True) and "Hub firmware, all of it" in r.get_data(as_text=True)


def test_members_may_not_edit_descriptions(client, auth, make_user, tagged) -> None:
    set_reputation(make_user("veteran"), 9000)
    auth.login("veteran")
    assert "/tags/wifi/edit" not in client.get("/tags/wifi").get_data(as_text=True)
    assert client.get("/tags/wifi/edit").status_code == 403
    assert auth.post("/tags/wifi/edit", {"wiki": "Mine now"}).status_code == 403
    assert "Mine now" not in client.get("/tags/wifi").get_data(as_text=True)
    assert client.get("/tags/nope/edit").status_code in (403, 404)



@pytest.mark.usefixtures("cached")
def test_an_edited_description_shows_on_cached_pages_at_once(app, staff, tagged) -> None:
    visitor = app.test_client()
    for path in ("/tags/wifi", "/tags"):
        visitor.get(path)
        assert visitor.get(path).headers.get("X-Cache") == "HIT", path
    tags.edit_tag_wiki(staff, questions.get_tag("wifi"), "Routers, mesh systems and **dropouts**.")
    db.session.commit()
    tag_page = visitor.get("/tags/wifi")
    assert "<strong>dropouts</strong>" in tag_page.get_data(as_text=True)
    assert "Routers, mesh systems and dropouts." in visitor.get("/tags").get_data(as_text=True)
