"""Link previews: Open Graph / Twitter tags and the QAPage JSON-LD on question and article pages."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient

from forum.extensions import db
from forum.services import articles, curation, visibility, votes
from tests.support import Auth


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.scripts: list[tuple[str, str]] = []  # (type, text)
        self._script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        elif tag == "script":
            self._script = a.get("type", "")
            self.scripts.append((self._script, ""))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            kind, text = self.scripts[-1]
            self.scripts[-1] = (kind, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def head(html: str) -> _Head:
    parser = _Head()
    parser.feed(html)
    return parser


def json_ld(html: str) -> list[Any]:
    return [json.loads(text) for kind, text in head(html).scripts if kind == "application/ld+json"]


def page(client: FlaskClient, path: str) -> str:
    r = client.get(path, follow_redirects=True)
    assert r.status_code == 200, path
    return r.get_data(as_text=True)


def test_question_page_has_open_graph_tags(client: FlaskClient, asked_and_answered: tuple[Any, Any]) -> None:
    q, _ = asked_and_answered
    html = page(client, f"/questions/{q.id}")
    meta = head(html).meta
    assert meta["og:title"] == "Hub blinks orange after update"
    assert meta["og:description"] == "After the firmware update the hub blinks orange and the app cannot find it."
    assert meta["og:url"] == f"http://localhost/questions/{q.id}/hub-blinks-orange-after-update"
    assert f'<link rel="canonical" href="{meta["og:url"]}">' in html
    assert meta["og:type"] == "article" and meta["og:site_name"] and meta["twitter:card"] == "summary"


def test_description_is_a_plain_text_excerpt(client: FlaskClient, make_question: Callable[..., Any]) -> None:
    body = "**Bold** start with `code` and a [link](https://example.com). " + "More words here. " * 40
    q = make_question(title="Long question about the hub pairing", body=body)
    description = head(page(client, f"/questions/{q.id}")).meta["og:description"]
    assert description.startswith("Bold start with code and a link.")
    assert len(description) <= 200 and description.endswith("…") and "<" not in description


def test_qapage_json_ld_lists_the_answers(client: FlaskClient, make_user: Callable[..., Any],
                                          make_question: Callable[..., Any], make_answer: Callable[..., Any]) -> None:
    asker = make_user("asker")
    q = make_question(author=asker, title="Hub blinks orange after update", body="It blinks *orange* every few seconds.")
    accepted = make_answer(q, author=make_user("helper"), body="Hold the **reset** button.")
    other = make_answer(q, author=make_user("second"), body="Try another cable.")
    curation.accept_answer(asker, accepted)
    votes.cast_vote(make_user("voter"), "answer", other.id, 1)
    db.session.commit()
    [data] = json_ld(page(client, f"/questions/{q.id}"))
    assert data["@context"] == "https://schema.org" and data["@type"] == "QAPage"
    main = data["mainEntity"]
    assert main["@type"] == "Question" and main["name"] == "Hub blinks orange after update"
    assert main["text"] == "It blinks orange every few seconds." and main["answerCount"] == 2
    assert main["dateCreated"].startswith(str(q.created_at.year)) and main["author"]["name"] == "asker"
    url = f"http://localhost/questions/{q.id}/hub-blinks-orange-after-update"
    assert main["acceptedAnswer"] == {
        "@type": "Answer", "text": "Hold the reset button.", "upvoteCount": 0, "url": f"{url}#answer-{accepted.id}",
        "dateCreated": main["acceptedAnswer"]["dateCreated"],
        "author": {"@type": "Person", "name": "helper", "url": f"http://localhost/users/{accepted.author_id}"},
    }
    [suggested] = main["suggestedAnswer"]
    assert suggested["text"] == "Try another cable." and suggested["upvoteCount"] == 1
    assert suggested["url"].endswith(f"#answer-{other.id}") and suggested["author"]["name"] == "second"


def test_json_ld_cannot_be_broken_out_of(client: FlaskClient, make_question: Callable[..., Any],
                                         make_answer: Callable[..., Any]) -> None:
    title = "</script><script>alert(1)</script> <!-- & ]]> \u2028"
    body = "Body </script><img src=x onerror=alert(2)> <!--<script> & more"
    q = make_question(title=title + " hostile title here", body=body)
    make_answer(q, body="Answer </SCRIPT ><script>alert(3)</script>")
    html = page(client, f"/questions/{q.id}")
    [(_, raw)] = [s for s in head(html).scripts if s[0] == "application/ld+json"]
    assert "<" not in raw and ">" not in raw and "&" not in raw and "\u2028" not in raw
    # One ld+json script, no other script element got in, and the data reads back exactly.
    assert html.lower().count("<script") == len(head(html).scripts)
    assert all(kind in ("", "application/ld+json") for kind, _ in head(html).scripts)
    [data] = json_ld(html)
    assert data["mainEntity"]["name"] == q.title
    assert "</script><img src=x onerror=alert(2)>" in data["mainEntity"]["text"]
    assert "</SCRIPT ><script>alert(3)</script>" in data["mainEntity"]["suggestedAnswer"][0]["text"]
    meta = head(html).meta
    assert meta["og:title"] == q.title  # attribute-escaped, read back intact
    assert not re.search(r"<script>alert", html)


def test_hidden_and_deleted_answers_stay_out(client: FlaskClient, auth: Auth, make_user: Callable[..., Any],
                                             make_question: Callable[..., Any], make_answer: Callable[..., Any]) -> None:
    q = make_question(title="Hub blinks orange after update")
    shown = make_answer(q, body="Visible advice about the hub.")
    hidden_author = make_user("hider")
    hidden = make_answer(q, author=hidden_author, body="SECRET hidden answer text.")
    deleted = make_answer(q, body="SECRET deleted answer text.")
    visibility.hide_post(hidden, "moderator")
    visibility.delete_post(deleted.author, deleted)
    db.session.commit()
    for viewer in (None, "moddy", "hider"):  # anonymous, staff and the hidden answer's author see notices
        if viewer:
            if viewer == "moddy":
                make_user("moddy", role="moderator")
            auth.logout()
            auth.login(viewer)
        html = page(client, f"/questions/{q.id}")
        [data] = json_ld(html)
        main = data["mainEntity"]
        assert main["answerCount"] == 1
        assert [a["url"].rsplit("-", 1)[1] for a in main["suggestedAnswer"]] == [str(shown.id)]
        assert "SECRET" not in json.dumps(data)


def test_a_hidden_question_gets_no_tags(client: FlaskClient, auth: Auth, make_user: Callable[..., Any],
                                        make_question: Callable[..., Any]) -> None:
    author = make_user("author")
    q = make_question(author=author, title="Question that moderators hid", body="SECRET body of the question here.")
    visibility.hide_post(q, "moderator")
    db.session.commit()
    auth.login("author")
    html = page(client, f"/questions/{q.id}")
    assert "Question that moderators hid" in html  # its author still sees it, with a notice
    assert json_ld(html) == [] and "og:title" not in head(html).meta


def test_article_pages_have_open_graph_tags_when_published(client: FlaskClient, auth: Auth,
                                                            make_user: Callable[..., Any]) -> None:
    writer = make_user("writer", role="agent")
    body = "Open the **battery** door and replace the CR2032 cell. " * 3
    pub = articles.create_article(writer, articles.ArticleInput("Replace the sensor battery", body, "devices"))
    articles.set_state(writer, pub, "published")
    draft = articles.create_article(writer, articles.ArticleInput("Unreleased Gen 3 setup guide", body, "setup"))
    db.session.commit()
    meta = head(page(client, f"/articles/{pub.id}")).meta
    assert meta["og:title"] == "Replace the sensor battery" and meta["og:type"] == "article"
    assert meta["og:url"].startswith(f"http://localhost/articles/{pub.id}/")
    assert meta["og:description"].startswith("Open the battery door and replace the CR2032 cell.")
    assert meta["twitter:card"] == "summary"
    auth.login("writer")
    html = page(client, f"/articles/{draft.id}")
    assert "Unreleased Gen 3 setup guide" in html and "og:title" not in head(html).meta
