"""Pages are rendered from the data their view passes: templates run no query of their own.

The only queries allowed while a template renders are the layout's, listed in
forum/templating.py LAYOUT_QUERIES (the bell's count and the banners). A global that queries,
or a template reaching for a relationship its page data did not load, fails here.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask, before_render_template, template_rendered
from sqlalchemy import event

from config import Config, settings_from_env
from forum import create_app, templating
from forum.extensions import db
from forum.services import announcements, articles, canned, cases, curation, following, suggestions, support, votes
from forum.services.questions import get_tag, slugify

# What Flask, Jinja, Flask-WTF and Flask-Login register themselves.
BUILTIN_GLOBALS = {"range", "dict", "lipsum", "cycler", "joiner", "namespace", "url_for", "get_flashed_messages",
                   "config", "request", "session", "g", "csrf_token", "csrf_meta_tag"}
BUILTIN_PROCESSORS = {"flask.templating", "flask_wtf.csrf", "flask_login.utils"}


def test_template_globals_are_exactly_the_ones_listed_in_templating(app: Flask) -> None:
    listed = {*templating.HELPERS, *templating.LABELS, *templating.LAYOUT_QUERIES, *templating.brand(app)}
    assert set(app.jinja_env.globals) == BUILTIN_GLOBALS | listed
    assert set(app.jinja_env.filters) >= set(templating.FILTERS)
    # No blueprint slips values in through a context processor either.
    processors = {f.__module__ for fs in app.template_context_processors.values() for f in fs}
    assert processors == BUILTIN_PROCESSORS


class RenderQueries:
    """SQL run while a template renders, outside the listed layout queries."""

    def __init__(self, app: Flask) -> None:
        self.rendering = 0
        self.in_layout = 0
        self.statements: list[str] = []
        self.template = ""
        for name, func in templating.LAYOUT_QUERIES.items():
            app.jinja_env.globals[name] = self._layout(func)

    def _layout(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.in_layout += 1
            try:
                return func(*args, **kwargs)
            finally:
                self.in_layout -= 1
        return wrapped

    def before(self, sender: Any, template: Any, context: Any, **extra: Any) -> None:
        self.rendering += 1
        self.template = template.name

    def after(self, sender: Any, template: Any, context: Any, **extra: Any) -> None:
        self.rendering -= 1

    def sql(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.rendering and not self.in_layout:
            self.statements.append(f"{self.template}: {statement}")


@contextmanager
def render_queries(app: Flask) -> Iterator[RenderQueries]:
    watch = RenderQueries(app)
    event.listen(db.engine, "before_cursor_execute", watch.sql)
    before_render_template.connect(watch.before, app)
    template_rendered.connect(watch.after, app)
    try:
        yield watch
    finally:
        event.remove(db.engine, "before_cursor_execute", watch.sql)
        before_render_template.disconnect(watch.before, app)
        template_rendered.disconnect(watch.after, app)


@pytest.fixture
def world(make_user, make_question, make_answer) -> dict[str, Any]:
    """A thread with everything its page can show: votes, follows, a case, triage, an article, a pending edit."""
    asker = make_user("asker")
    member = make_user("reader")
    agent = make_user("desk_agent", role="agent")
    moderator = make_user("mod_mia", role="moderator")
    q = make_question(author=asker, title="The hub drops off the network every night", tags="setup wifi")
    answer = make_answer(q, author=agent, body="Give the hub a fixed address in the router's DHCP table.")
    make_answer(q, author=member, body="Mine stopped doing this after the last firmware update.")
    curation.accept_answer(asker, answer)
    votes.cast_vote(member, "question", q.id, 1)
    votes.cast_vote(member, "answer", answer.id, 1)
    following.follow_question(member, q)
    following.follow_tag(member, get_tag("wifi"))
    suggestions.suggest_answer_edit(member, answer, "Give the hub a reserved address in the router's DHCP table.")
    support.triage_question(agent, q, "problem", "high")
    case = cases.open_case(agent, q)
    articles.promote_question(agent, q)
    canned.create_reply(agent, canned.ReplyInput("Power cycle", "Hi {asker}, unplug it for a minute."))
    announcements.create_announcement(agent, "Pairing is slow while we update the cloud service.", "warning")
    db.session.commit()
    return {"q": q, "answer": answer, "case": case, "member": member, "asker": asker, "moderator": moderator,
            "url": f"/questions/{q.id}/{slugify(q.title)}"}


def test_pages_run_no_query_while_their_template_renders(app: Flask, client, auth, world) -> None:
    q, answer = world["q"], world["answer"]
    pages = {
        None: ["/", "/questions", world["url"], "/tags/wifi", "/tags", f"/users/{world['asker'].id}", "/badges",
               "/badges/helper", "/articles", "/users", "/help/privileges", "/search?q=hub+network",
               f"/questions/{q.id}/history", f"/answers/{answer.id}/history"],
        "reader": [world["url"], "/tags/wifi", "/notifications", "/questions/ask", f"/questions/{q.id}/edit",
                   f"/answers/{answer.id}/edit", "/settings/notifications", "/review/edits/mine", "/flags/mine",
                   f"/flag/answer/{answer.id}"],
        "desk_agent": [world["url"], f"/cases/{world['case'].id}", "/cases", "/support/queue", "/support/playbooks",
                       "/support/replies", "/announcements", "/articles?state=draft", "/moderation/log",
                       f"/questions/{q.id}/close", "/insights"],
        "mod_mia": [world["url"], f"/users/{world['member'].id}", "/moderation", "/review/edits", "/moderation/words"],
    }
    for who, paths in pages.items():
        if who:
            auth.login(who)
        for path in paths:
            client.get(path)  # compile the templates first
            with render_queries(app) as watch:
                response = client.get(path)
            assert response.status_code == 200, (who, path)
            assert watch.statements == [], (who, path, watch.statements)
        if who:
            auth.logout()


def test_thread_page_holds_what_the_viewer_may_see(app: Flask, world) -> None:
    from forum.services.threads import thread_page

    member, q = world["member"], world["q"]
    as_member = thread_page(q.id, member)
    assert as_member.following and as_member.my_votes == {f"q{q.id}": 1, f"a{world['answer'].id}": 1}
    assert as_member.staff_panel is None and as_member.canned_replies == []
    assert as_member.case is not None and as_member.article is None  # the article is still a draft
    agent = world["answer"].author
    as_staff = thread_page(q.id, agent)
    assert as_staff.staff_panel is not None and as_staff.staff_panel.triage is not None
    assert [r.title for r in as_staff.canned_replies] == ["Power cycle"]
    assert as_staff.article is not None and as_staff.article.state == "draft"


def test_brand_names_come_from_configuration(database_url: str) -> None:
    branded = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "SEARCH_INDEX_DIR": ":memory:",
                                     "SITE_NAME": "Northwind Help", "COMPANY_NAME": "Northwind",
                                     "PRODUCT_NAME": "Breeze"})
    with branded.app_context():
        home = branded.test_client().get("/").get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()
    assert "community of Breeze owners and the Northwind support team" in home
    assert "<title>Northwind Help</title>" in home
    assert "Brightway" not in home and "Lumen" not in home
    settings = settings_from_env(Config, {"FORUM_COMPANY_NAME": "Contoso", "FORUM_PRODUCT_NAME": "Gale"})
    assert (settings["COMPANY_NAME"], settings["PRODUCT_NAME"]) == ("Contoso", "Gale")
