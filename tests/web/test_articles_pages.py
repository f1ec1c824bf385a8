"""Article pages: who reaches what, writing and publishing, feedback, promotion, search."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Article, ArticleFeedback
from forum.services import articles

ROLES = ["anonymous", "member", "agent", "moderator", "admin"]
STAFF = ("agent", "moderator", "admin")
BODY = "Unscrew the back plate, swap the CR2032 battery and press the pairing button once."


def _slug(article_id: int) -> str:
    return articles.article_slug(db.session.get(Article, article_id).title)


@pytest.fixture
def kb(make_user, make_question, make_answer):
    writer = make_user("writer", role="agent")
    pub = articles.create_article(writer, articles.ArticleInput("Replace the sensor battery", BODY, "devices battery"))
    articles.set_state(writer, pub, "published")
    draft = articles.create_article(writer, articles.ArticleInput("Unreleased Gen 3 setup guide", BODY, "setup"))
    q = make_question(title="Hub blinks orange after update", body="The ring blinks orange since firmware 4.2.")
    a = make_answer(q, body="Unplug it for 30 seconds and pair it again.")
    q.accepted_answer_id = a.id
    db.session.commit()
    return {"pub": pub.id, "draft": draft.id, "q": q.id}


def _as(role: str, make_user, auth) -> None:
    if role != "anonymous":
        make_user(f"a_{role}", role=role)
        auth.login(f"a_{role}")


def _url(path: str, kb: dict[str, int]) -> str:
    return path.format(pub=kb["pub"], draft=kb["draft"], q=kb["q"], pub_slug=_slug(kb["pub"]),
                       draft_slug=_slug(kb["draft"]))


def _staff_only(anonymous: int) -> dict[str, int]:
    return {"anonymous": anonymous, "member": 403, **{r: 200 for r in STAFF}}


GUARDED = {
    "/articles": {r: 200 for r in ROLES},
    "/articles?state=draft": {r: 200 for r in ROLES},
    "/articles/{pub}/{pub_slug}": {r: 200 for r in ROLES},
    "/articles/{pub}/history": {r: 200 for r in ROLES},
    "/articles/{draft}/{draft_slug}": {"anonymous": 404, "member": 404, **{r: 200 for r in STAFF}},
    "/articles/{draft}/history": {"anonymous": 404, "member": 404, **{r: 200 for r in STAFF}},
    "/articles/new": _staff_only(302),
    "/articles/{pub}/edit": _staff_only(302),
    "/articles/{draft}/edit": _staff_only(302),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", list(GUARDED))
def test_article_pages_by_role(client, auth, make_user, kb, role: str, path: str) -> None:
    _as(role, make_user, auth)
    r = client.get(_url(path, kb))
    assert r.status_code == GUARDED[path][role]
    if r.status_code == 302:
        assert r.headers["Location"].startswith("/login?next=")


def test_members_see_only_published_articles_in_the_list(client, auth, make_user, kb) -> None:
    _as("member", make_user, auth)
    html = client.get("/articles?state=draft").get_data(as_text=True)
    assert "Replace the sensor battery" in html and "Unreleased Gen 3" not in html
    auth.logout()
    _as("moderator", make_user, auth)
    html = client.get("/articles?state=draft").get_data(as_text=True)
    assert "Unreleased Gen 3" in html and "Replace the sensor battery" not in html


# (path, form, expected status per signed-in role); a refused POST must change nothing.
ACTIONS = {
    "publish": ("/articles/{draft}/state", {"state": "published"}),
    "archive": ("/articles/{pub}/state", {"state": "archived"}),
    "edit": ("/articles/{pub}/edit", {"title": "Forged title on the article", "body": BODY, "tags": "setup"}),
    "new": ("/articles/new", {"title": "A forged article by someone", "body": BODY, "tags": "setup"}),
    "promote": ("/questions/{q}/promote", {}),
}


def _snapshot() -> list[tuple[int, str, str]]:
    db.session.expire_all()
    return [(a.id, a.state, a.title) for a in db.session.scalars(select(Article).order_by(Article.id))]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_staff_actions_by_role(client, auth, make_user, kb, role: str, action: str) -> None:
    _as(role, make_user, auth)
    path, form = ACTIONS[action]
    before = _snapshot()
    r = auth.post(_url(path, kb), form)
    if role in STAFF:
        assert r.status_code == 302 and "/login" not in r.headers["Location"]
        assert _snapshot() != before
    else:
        assert r.status_code == (302 if role == "anonymous" else 403)
        if role == "anonymous":
            assert "/login" in r.headers["Location"]
        assert _snapshot() == before


def test_wrong_or_missing_slug_redirects_permanently(client, kb) -> None:
    canonical = f"/articles/{kb['pub']}/replace-the-sensor-battery"
    for path in (f"/articles/{kb['pub']}", f"/articles/{kb['pub']}/old-title"):
        r = client.get(path + "?ref=mail")
        assert r.status_code == 301 and r.headers["Location"] == canonical + "?ref=mail"
    assert client.get("/articles/99999/x").status_code == 404


def test_staff_write_then_publish_an_article(client, auth, make_user) -> None:
    _as("agent", make_user, auth)
    r = auth.post("/articles/new", {"title": "Short", "body": "My draft text that must survive the error.", "tags": "setup"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "My draft text that must survive the error." in html and "at least 10" in html
    r = auth.post("/articles/new", {"title": "Pair a Zigbee door sensor", "body": BODY, "tags": "zigbee devices"})
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Only staff can see it" in page and ">Publish<" in page
    article = db.session.scalars(select(Article)).one()
    r = auth.post(f"/articles/{article.id}/state", {"state": "published"})
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "The article is published." in page and "Only staff can see it" not in page
    r = auth.post(f"/articles/{article.id}/state", {"state": "published"})
    assert "already published" in client.get(r.headers["Location"]).get_data(as_text=True)
    r = auth.post(f"/articles/{article.id}/state", {"state": "gone"})
    assert r.status_code == 400


def test_edit_keeps_history_with_diffs(client, auth, make_user, kb) -> None:
    _as("admin", make_user, auth)
    r = auth.post(f"/articles/{kb['pub']}/edit", {"title": "Replace the sensor battery safely",
                                                  "body": BODY + "\n\nRecycle the old cell.", "tags": "devices battery",
                                                  "summary": "recycling"})
    assert r.status_code == 302
    html = client.get(f"/articles/{kb['pub']}/history").get_data(as_text=True)
    assert "Revision 2" in html and "recycling" in html and "+ Recycle the old cell." in html
    r = auth.post(f"/articles/{kb['pub']}/edit", {"title": "Replace the sensor battery safely",
                                                  "body": BODY + "\n\nRecycle the old cell.", "tags": "battery devices"})
    assert r.status_code == 400 and "Nothing changed." in r.get_data(as_text=True)


def test_was_this_helpful_without_javascript(client, auth, make_user, kb) -> None:
    url = f"/articles/{kb['pub']}/{_slug(kb['pub'])}"
    html = client.get(url).get_data(as_text=True)
    assert "Was this helpful?" in html and f"/login?next={url}" in html and 'name="helpful"' not in html
    assert auth.post(f"/articles/{kb['pub']}/feedback", {"helpful": "yes"}).headers["Location"].startswith("/login")
    _as("member", make_user, auth)
    r = auth.post(f"/articles/{kb['pub']}/feedback", {"helpful": "yes"})
    assert r.status_code == 302 and r.headers["Location"] == url + "#feedback"
    html = client.get(url).get_data(as_text=True)
    assert "You answered “Yes”" in html and "found this helpful" not in html
    auth.post(f"/articles/{kb['pub']}/feedback", {"helpful": "no"})
    assert auth.post(f"/articles/{kb['pub']}/feedback", {"helpful": "maybe"}).status_code == 400
    assert db.session.scalar(select(func.count(ArticleFeedback.id))) == 1
    auth.logout()
    _as("agent", make_user, auth)
    auth.post(f"/articles/{kb['pub']}/feedback", {"helpful": "yes"})
    assert "1 of 2 found this helpful" in client.get(url).get_data(as_text=True)
    assert auth.post(f"/articles/{kb['draft']}/feedback", {"helpful": "yes"}).status_code == 403


def test_promote_flow_from_question_to_published_article(client, auth, make_user, kb) -> None:
    question_url = f"/questions/{kb['q']}/hub-blinks-orange-after-update"
    _as("agent", make_user, auth)
    assert "Promote to article" in client.get(question_url).get_data(as_text=True)
    r = auth.post(f"/questions/{kb['q']}/promote")
    article = db.session.scalars(select(Article).where(Article.source_question_id == kb["q"])).one()
    assert r.status_code == 302 and r.headers["Location"] == f"/articles/{article.id}/edit"
    edit = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "The problem" in edit and "Unplug it for 30 seconds" in edit
    html = client.get(question_url).get_data(as_text=True)
    assert "Promote to article" not in html and "is a draft" in html and f"/articles/{article.id}/" in html
    assert auth.post(f"/questions/{kb['q']}/promote").headers["Location"] == f"/articles/{article.id}/edit"
    auth.post(f"/articles/{article.id}/state", {"state": "published"})
    auth.logout()
    html = client.get(question_url).get_data(as_text=True)
    assert "This solution is now an official article" in html and "Promote to article" not in html
    page = client.get(f"/articles/{article.id}/{_slug(article.id)}").get_data(as_text=True)
    assert "Based on a community question" in page and question_url in page


def test_draft_promotion_is_invisible_to_members(client, auth, make_user, kb) -> None:
    agent = make_user(role="agent")
    from forum.models import Question
    articles.promote_question(agent, db.session.get(Question, kb["q"]))
    db.session.commit()
    _as("member", make_user, auth)
    html = client.get(f"/questions/{kb['q']}/hub-blinks-orange-after-update").get_data(as_text=True)
    assert "official article" not in html and "is a draft" not in html and "Promote to article" not in html


def test_search_labels_published_articles_official_and_drops_archived(client, auth, make_user, kb) -> None:
    html = client.get("/search?q=battery+is:article").get_data(as_text=True)
    assert "Official" in html and f"/articles/{kb['pub']}/replace-the-sensor-battery" in html
    assert "Unreleased" not in client.get("/search?q=gen+setup+guide").get_data(as_text=True)
    html = client.get("/search?q=battery&kind=article").get_data(as_text=True)
    assert "1 result" in html and "official-mark" in html
    assert "0 results" in client.get("/search?q=battery&kind=question").get_data(as_text=True)
    _as("agent", make_user, auth)
    auth.post(f"/articles/{kb['pub']}/state", {"state": "archived"})
    assert "replace-the-sensor-battery" not in client.get("/search?q=battery").get_data(as_text=True)


def test_similar_titles_include_published_articles_as_official(client, kb) -> None:
    results = client.get("/search/similar?title=replace+sensor+battery").get_json()["results"]
    article = [r for r in results if r["kind"] == "article"]
    assert article == [{"id": kb["pub"], "title": "Replace the sensor battery", "kind": "article", "solved": False,
                        "url": f"/articles/{kb['pub']}/replace-the-sensor-battery", "score": 0, "answers": 0}]
    results = client.get("/search/similar?title=unreleased+gen+setup+guide").get_json()["results"]
    assert all(r["kind"] != "article" for r in results)


def test_article_page_query_count_does_not_grow(client, auth, make_user, count_queries) -> None:
    writer = make_user(role="agent")
    small = articles.create_article(writer, articles.ArticleInput("A guide with one tag only", BODY, "setup"))
    big = articles.create_article(writer, articles.ArticleInput("A guide with five tags here", BODY, "a1 b2 c3 d4 e5"))
    for a in (small, big):
        articles.set_state(writer, a, "published")
    db.session.commit()
    for _ in range(6):
        articles.rate_article(make_user(), big, True)
    db.session.commit()
    _as("member", make_user, auth)
    small_url, big_url = (f"/articles/{a.id}/{_slug(a.id)}" for a in (small, big))
    client.get(small_url)  # warm up
    with count_queries() as few:
        assert client.get(small_url).status_code == 200
    with count_queries() as many:
        assert client.get(big_url).status_code == 200
    assert few.count == many.count, "\n".join(many.statements)


def test_header_links_to_articles(client) -> None:
    assert 'href="/articles"' in client.get("/").get_data(as_text=True)


def test_every_error_of_the_article_form_shows_after_one_submit(client, auth, make_user) -> None:
    """Issue 13, item 6, for staff writing an article: title, body and tags reported together."""
    import re

    make_user("writer_errs", role="agent")
    auth.login("writer_errs")
    r = auth.post("/articles/new", {"title": "Hub", "body": "Too short.", "tags": "%%%"})
    assert r.status_code == 400
    errors = dict(re.findall(r'<p class="field-error" id="([a-z_]+)-error">([^<]+)</p>', r.get_data(as_text=True)))
    assert set(errors) == {"title", "body", "tags"}, errors
    r = auth.post("/articles/new", {"title": "", "body": "Too short.", "tags": "hub"})
    errors = dict(re.findall(r'<p class="field-error" id="([a-z_]+)-error">([^<]+)</p>', r.get_data(as_text=True)))
    assert set(errors) == {"title", "body"}, errors
    assert db.session.scalar(select(func.count(Article.id))) == 0
