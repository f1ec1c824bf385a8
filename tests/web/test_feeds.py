"""Atom feeds (docs/feeds.md): the feeds parsed by feedparser, what they never hold, their
404s, the pages' <link rel="alternate">, the page cache, the query budget and conditional GET."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import feedparser
import pytest
from flask.testing import FlaskClient

from forum.extensions import db
from forum.models import Answer, Question, User
from forum.services import account_data, answers, articles, cases, moderation, questions, visibility

# The page cache on, in this process or in Redis (a parametrised fixture).
from tests.web.test_page_cache import cached  # noqa: F401

ATOM = "application/atom+xml; charset=utf-8"
LIST_FEEDS = ("/feeds/questions.atom", "/feeds/unanswered.atom", "/feeds/tags/setup.atom", "/feeds/articles.atom")


def _feed(client: FlaskClient, path: str) -> Any:
    """Fetch ``path`` and parse it as a feed reader would; it must be a well-formed Atom feed."""
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    assert r.headers["Content-Type"] == ATOM
    parsed = feedparser.parse(r.data)
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    assert parsed.version == "atom10"
    return parsed


def _texts(parsed: Any) -> str:
    """Everything a reader shows of the entries: titles, authors and bodies."""
    return "\n".join(f"{e.title}\n{e.get('author', '')}\n{e.content[0].value}" for e in parsed.entries)


def _all_feeds(world: dict[str, Any]) -> list[str]:
    return [*LIST_FEEDS, f"/questions/{world['answered'].id}/feed.atom", f"/users/{world['asker'].id}/feed.atom",
            f"/users/{world['helper'].id}/feed.atom"]


@pytest.fixture
def world(make_user: Callable[..., Any], make_question: Callable[..., Any],
          make_answer: Callable[..., Any]) -> dict[str, Any]:
    """Two members, an answered and an unanswered question tagged "setup", a published article."""
    asker, helper, staff = make_user("asker"), make_user("helper"), make_user("agenty", role="agent")
    answered = make_question(author=asker, title="Hub blinks orange after the update", tags="setup firmware",
                             body="The hub **keeps** blinking orange.")
    answer = make_answer(answered, author=helper, body="Hold the *reset* button for ten seconds.")
    unanswered = make_question(author=asker, title="Sensor drops off the network at night", tags="setup")
    article = articles.create_article(staff, articles.ArticleInput(
        "Resetting the hub", "Hold the button for ten seconds until the light turns green.", "setup"))
    articles.set_state(staff, article, "published")
    db.session.commit()
    return {"asker": asker, "helper": helper, "staff": staff, "answered": answered, "answer": answer,
            "unanswered": unanswered, "article": article}


def test_every_feed_parses_with_absolute_links_newest_first(client: FlaskClient, world: dict[str, Any]) -> None:
    for path in _all_feeds(world):
        parsed = _feed(client, path)
        assert parsed.entries, path
        assert parsed.feed.title.endswith("Lumen Community") or "·" in parsed.feed.title
        assert any(link.rel == "self" and link.href == f"http://localhost{path}" for link in parsed.feed.links), path
        assert parsed.feed.link.startswith("http://localhost/")
        for entry in parsed.entries:
            assert entry.id.startswith("http://localhost/") and entry.link.startswith("http://localhost/"), path
            assert entry.title and entry.author and entry.published_parsed and entry.updated_parsed
            assert entry.content[0].type == "text/html"
        published = [e.published_parsed for e in parsed.entries]
        updated = [e.updated_parsed for e in parsed.entries]
        assert published == sorted(published, reverse=True) and updated == sorted(updated, reverse=True), path


def test_feeds_hold_what_their_pages_show(client: FlaskClient, world: dict[str, Any]) -> None:
    newest = _feed(client, "/feeds/questions.atom")
    assert [e.title for e in newest.entries] == [world["unanswered"].title, world["answered"].title]
    first = newest.entries[1]
    # The body is the rendered, sanitised HTML, never the Markdown source.
    assert "<strong>keeps</strong>" in first.content[0].value and "**keeps**" not in first.content[0].value
    assert {t.term for t in first.tags} == {"setup", "firmware"}
    assert first.author == "asker"
    assert first.link == "http://localhost/questions/%d/hub-blinks-orange-after-the-update" % world["answered"].id

    unanswered = _feed(client, "/feeds/unanswered.atom")
    assert [e.title for e in unanswered.entries] == [world["unanswered"].title]
    assert len(_feed(client, "/feeds/tags/firmware.atom").entries) == 1

    thread = _feed(client, f"/questions/{world['answered'].id}/feed.atom")
    assert thread.feed.title.startswith(world["answered"].title)
    assert [e.title for e in thread.entries] == ["Answer by helper", world["answered"].title]
    assert thread.entries[0].link.endswith(f"#answer-{world['answer'].id}")
    assert "<em>reset</em>" in thread.entries[0].content[0].value

    docs = _feed(client, "/feeds/articles.atom")
    assert [e.title for e in docs.entries] == ["Resetting the hub"]
    assert docs.entries[0].link.startswith(f"http://localhost/articles/{world['article'].id}/")

    helper = _feed(client, f"/users/{world['helper'].id}/feed.atom")
    assert [e.title for e in helper.entries] == [f"Answer to: {world['answered'].title}"]
    asker = _feed(client, f"/users/{world['asker'].id}/feed.atom")
    assert [e.title for e in asker.entries] == [world["unanswered"].title, world["answered"].title]


def test_hidden_and_deleted_posts_are_in_no_feed(client: FlaskClient, world: dict[str, Any],
                                                 make_question: Callable[..., Any],
                                                 make_answer: Callable[..., Any]) -> None:
    asker, helper = world["asker"], world["helper"]
    hidden_answer = make_answer(world["answered"], author=helper, body="HIDDEN-ANSWER-TEXT from the helper.")
    deleted_answer = make_answer(world["answered"], author=helper, body="DELETED-ANSWER-TEXT from the helper.")
    hidden_q = make_question(author=asker, title="HIDDENQ question about the hub", tags="setup")
    deleted_q = make_question(author=asker, title="DELETEDQ question about the hub", tags="setup")
    on_hidden = make_answer(hidden_q, author=helper, body="ANSWER-ON-HIDDEN question text.")
    visibility.hide_post(hidden_answer, "moderator")
    visibility.hide_post(hidden_q, "flags")
    visibility.delete_post(helper, deleted_answer)
    questions.delete_question(asker, deleted_q)
    db.session.commit()
    for path in _all_feeds(world):
        text = _texts(_feed(client, path))
        for secret in ("HIDDEN-ANSWER-TEXT", "DELETED-ANSWER-TEXT", "HIDDENQ", "DELETEDQ", "ANSWER-ON-HIDDEN"):
            assert secret not in text, (path, secret)
    assert on_hidden.id  # the answer itself is visible: only its question hides it
    for q in (hidden_q, deleted_q):
        assert client.get(f"/questions/{q.id}/feed.atom").status_code == 404


def test_private_case_content_is_in_no_feed(client: FlaskClient, world: dict[str, Any]) -> None:
    case = cases.open_case(world["staff"], world["answered"])
    cases.add_message(world["staff"], case, "PRIVATE-CASE-MESSAGE: your serial number is 1234.")
    cases.add_message(world["asker"], case, "PRIVATE-CUSTOMER-REPLY with my address.")
    db.session.commit()
    for path in _all_feeds(world) + [f"/users/{world['staff'].id}/feed.atom"]:
        text = _texts(_feed(client, path))
        assert "PRIVATE-" not in text, path


def test_unpublished_articles_are_in_no_feed(client: FlaskClient, world: dict[str, Any]) -> None:
    staff = world["staff"]
    articles.create_article(staff, articles.ArticleInput("Draft about the DRAFTWORD", "Not ready yet at all.", "setup"))
    archived = articles.create_article(staff, articles.ArticleInput(
        "Old guide about the ARCHIVEDWORD", "Superseded by a newer guide.", "setup"))
    articles.set_state(staff, archived, "published")
    articles.set_state(staff, archived, "archived")
    db.session.commit()
    text = _texts(_feed(client, "/feeds/articles.atom"))
    assert "DRAFTWORD" not in text and "ARCHIVEDWORD" not in text and "Resetting the hub" in text


def test_suspended_and_deleted_members_like_their_profiles(client: FlaskClient, world: dict[str, Any],
                                                           make_user: Callable[..., Any]) -> None:
    helper, asker = world["helper"], world["asker"]
    moderation.suspend_user(make_user(role="moderator"), helper, 3, "Spam run")
    account_data.delete_account(asker, "correct-horse-battery")
    db.session.commit()
    # The profile pages answer 200, and so do the feeds, with the public posts only.
    assert client.get(f"/users/{helper.id}", follow_redirects=True).status_code == 200
    assert client.get(f"/users/{asker.id}", follow_redirects=True).status_code == 200
    assert len(_feed(client, f"/users/{helper.id}/feed.atom").entries) == 1
    gone = _feed(client, f"/users/{asker.id}/feed.atom")
    assert len(gone.entries) == 2
    assert gone.feed.title.startswith("Activity of Deleted member")
    assert {e.author for e in gone.entries} == {"Deleted member"}
    assert "asker" not in gone.feed.title and all("asker" not in e.author for e in gone.entries)


def test_unknown_or_hidden_things_are_404(client: FlaskClient, world: dict[str, Any]) -> None:
    for path in ("/feeds/tags/no-such-tag.atom", "/questions/999999/feed.atom", "/users/999999/feed.atom"):
        assert client.get(path).status_code == 404, path
    visibility.hide_post(world["answered"], "moderator")
    db.session.commit()
    assert client.get(f"/questions/{world['answered'].id}/feed.atom").status_code == 404


def test_pages_link_their_feeds(client: FlaskClient, world: dict[str, Any]) -> None:
    q, user = world["answered"], world["asker"]
    pages = {
        "/": "/feeds/questions.atom",
        "/questions": "/feeds/questions.atom",
        "/questions?tab=unanswered": "/feeds/unanswered.atom",
        "/tags/setup": "/feeds/tags/setup.atom",
        f"/questions/{q.id}": f"/questions/{q.id}/feed.atom",
        "/articles": "/feeds/articles.atom",
        f"/users/{user.id}": f"/users/{user.id}/feed.atom",
    }
    for page, feed in pages.items():
        r = client.get(page, follow_redirects=True)
        assert r.status_code == 200, page
        html = r.get_data(as_text=True)
        head = html[:html.index("</head>")]
        assert re.search(r'<link rel="alternate" type="application/atom\+xml" title="[^"<>]+ · Lumen Community" '
                         f'href="{re.escape(feed)}">', head), page
        assert _feed(client, feed).entries, feed


def test_tag_names_with_dots_and_hashes(client: FlaskClient, make_question: Callable[..., Any]) -> None:
    make_question(title="Calling the hub API from node and C sharp", tags="node.js c#")
    html = client.get("/tags/c%23").get_data(as_text=True)
    assert 'href="/feeds/tags/c%23.atom"' in html
    for path in ("/feeds/tags/c%23.atom", "/feeds/tags/node.js.atom"):
        assert [e.title for e in _feed(client, path).entries] == ["Calling the hub API from node and C sharp"]


def test_title_with_markup_is_escaped_and_parses(client: FlaskClient, make_user: Callable[..., Any]) -> None:
    title = "Why does <script>alert(1)</script> & <b>bold</b> break pairing?"
    q = questions.ask_question(make_user("marker"), questions.QuestionInput(
        title, "The app shows <script>alert(2)</script> & then crashes.", "setup"))
    db.session.commit()
    r = client.get("/feeds/questions.atom")
    assert b"<script>" not in r.data
    parsed = _feed(client, "/feeds/questions.atom")
    assert parsed.entries[0].title == q.title  # the exact text, as text
    assert "<script" not in parsed.entries[0].content[0].value  # the sanitised HTML: no script survives
    page = client.get(f"/questions/{q.id}", follow_redirects=True).get_data(as_text=True)
    assert "<script>alert(1)" not in page  # the <link title> is escaped too


def test_conditional_get(client: FlaskClient, world: dict[str, Any]) -> None:
    r = client.get("/feeds/questions.atom")
    etag = r.headers["ETag"]
    again = client.get("/feeds/questions.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    assert client.get("/feeds/articles.atom", headers={"If-None-Match": etag}).status_code == 200


def test_query_budget_does_not_grow_with_the_feed(client: FlaskClient, make_user: Callable[..., Any],
                                                  make_question: Callable[..., Any], make_answer: Callable[..., Any],
                                                  count_queries: Callable[[], Any]) -> None:
    """A fixed number of queries per feed, whatever the number of entries, authors and tags."""
    member, staff = make_user("busy"), make_user("writer", role="agent")
    first = make_question(author=member)
    first_id = first.id

    def grow(n: int) -> None:
        for i in range(n):
            q = make_question(author=member if i % 2 else None, tags=f"setup tag{i}")
            make_answer(db.session.get(Question, first_id), author=make_user())
            make_answer(q, author=member)
            make_question(tags=f"setup tag{i}")  # unanswered
            article = articles.create_article(staff, articles.ArticleInput(
                f"Guide number {i} to the hub", "Hold the button for ten seconds.", f"setup tag{i}"))
            articles.set_state(staff, article, "published")
        db.session.commit()

    # Each feed's own queries: one per list, plus the tags of its questions (the stored site
    # settings, which a process reads now and then for any request, are not the feed's).
    budget = {"/feeds/questions.atom": 2, "/feeds/unanswered.atom": 2, "/feeds/tags/setup.atom": 3,
              f"/questions/{first.id}/feed.atom": 3, "/feeds/articles.atom": 3, f"/users/{member.id}/feed.atom": 6}

    def counts() -> dict[str, int]:
        found = {}
        for path in budget:
            with count_queries() as qc:
                assert _feed(client, path).entries
            found[path] = len([sql for sql in qc.statements if "FROM site_settings" not in sql])
        return found

    grow(2)
    few = counts()
    grow(6)
    many = counts()
    assert few == many
    for path, most in budget.items():
        assert many[path] <= most, (path, many[path])


# ---------------------------------------------------------------- the page cache


def _primed(client: FlaskClient, path: str) -> Any:
    """Fetch ``path`` twice; the second answer must be a cache hit, still a valid feed."""
    client.get(path)
    r = client.get(path)
    assert r.headers.get("X-Cache") == "HIT" and r.headers["Content-Type"] == ATOM, path
    assert "ETag" in r.headers
    return feedparser.parse(r.data)


def _fresh(client: FlaskClient, path: str) -> Any:
    r = client.get(path)
    assert r.headers.get("X-Cache") == "MISS", path
    return _feed(client, path)


@pytest.mark.usefixtures("cached")
def test_writes_show_on_the_next_anonymous_fetch(client: FlaskClient, world: dict[str, Any],
                                                 make_user: Callable[..., Any]) -> None:
    q, helper = world["answered"], world["helper"]
    thread, member, newest = f"/questions/{q.id}/feed.atom", f"/users/{helper.id}/feed.atom", "/feeds/questions.atom"
    for path in (thread, member, newest):
        _primed(client, path)

    new = answers.post_answer(helper, db.session.get(Question, q.id), "Unplug the hub and wait for the GREEN light.")
    db.session.commit()
    assert "GREEN light" in _texts(_fresh(client, thread))
    assert "GREEN light" in _texts(_fresh(client, member))

    _primed(client, thread)
    answers.edit_answer(helper, db.session.get(Answer, new.id), "Unplug it and wait for the BLUE light.")
    db.session.commit()
    text = _texts(_fresh(client, thread))
    assert "BLUE light" in text and "GREEN light" not in text

    _primed(client, thread)
    _primed(client, member)
    visibility.hide_post(db.session.get(Answer, new.id), "moderator")
    db.session.commit()
    assert "BLUE light" not in _texts(_fresh(client, thread))
    assert "BLUE light" not in _texts(_fresh(client, member))

    _primed(client, newest)
    questions.ask_question(make_user("late"), questions.QuestionInput(
        "A brand new question about pairing", "The app never finds the hub.", "setup"))
    db.session.commit()
    assert _fresh(client, newest).entries[0].title == "A brand new question about pairing"

    _primed(client, "/feeds/articles.atom")
    staff = db.session.get(User, world["staff"].id)
    article = articles.create_article(staff, articles.ArticleInput(
        "Moving the hub to a new router", "Pair it again from the app after the move.", "setup"))
    db.session.commit()
    assert "Moving the hub" not in _texts(_fresh(client, "/feeds/articles.atom"))  # a draft
    articles.set_state(staff, article, "published")
    db.session.commit()
    assert _fresh(client, "/feeds/articles.atom").entries[0].title == "Moving the hub to a new router"

    _primed(client, member)
    user = db.session.get(User, helper.id)
    user.display_name = "Helpful Helen"
    db.session.commit()
    assert {e.author for e in _fresh(client, member).entries} == {"Helpful Helen"}
