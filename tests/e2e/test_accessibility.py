"""Accessibility: axe-core finds no serious or critical violation on any page of the forum.

The walk: every GET page (``walk()`` below, built from the demo community plus a closed, a
locked, a held and a deleted question, a pending flag and a banner) as an anonymous visitor,
a member and an admin, at 360 and 1440 px, each checked with axe-core (tests/e2e/axe, from
npm). One browser, one context per role, one test per role and width; a failure lists every
finding as "role width path: [impact] rule (help) at target".

``test_the_walk_visits_every_get_route`` keeps the walk complete: every GET rule of the app
must be walked or listed in ``NOT_PAGES`` with the reason it is not a page. A new route fails
it until it is added to one or the other. See docs/accessibility.md.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.a11y import Finding, run_axe
from tests.support import IN_CI

try:
    from playwright.sync_api import Browser, BrowserContext, expect
except ImportError:
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

ROLES = ("anonymous", "member", "admin")
# FORUM_A11Y_SCREENSHOTS=<dir>: the walk also saves a full-page screenshot of every page at
# every width there (not asserted; for looking at every page as a user would).
SHOTS = Path(os.environ["FORUM_A11Y_SCREENSHOTS"]) if os.environ.get("FORUM_A11Y_SCREENSHOTS") else None
WIDTHS = (360, 1440)
HEIGHT = 900
# Who signs in for each role (demo accounts, forum/demo/data/users.toml). The member is the
# asker of the demo's private case, so their /cases pages are walked too.
ADMIN = "admin_chris"

# GET rules that are not pages a person reads, with the reason. Add a new one here only if a
# browser never shows it as a page; otherwise add it to walk().
NOT_PAGES: dict[str, str] = {
    "/static/<path:filename>": "static files",
    "/api/docs": "Swagger UI's page (flask-swagger-ui), not the site's markup: axe finds its operation rows' "
                 "nested buttons (nested-interactive), which only Swagger UI can change (tests/e2e/test_api_docs_flow.py)",
    "/api/docs/assets/<name>": "Swagger UI's script and stylesheet",
    "/settings/data/export.json": "JSON download (the member's data)",
    "/insights/<name>.csv": "CSV download of a table of /insights",
    "/links/search": "JSON for the composer's link picker",
    "/users/suggest": "JSON for the composer's @mention picker",
    "/search/similar": "JSON for the ask form's similar questions",
    "/support/fill": "JSON: a canned reply filled in for the composer",
    "/settings": "redirects to /settings/profile",
    "/questions/<int:question_id>": "301 to the URL with the slug (walked)",
    "/articles/<int:article_id>": "301 to the URL with the slug (walked)",
    "/users/<int:user_id>": "301 to the URL with the slug (walked)",
    "/answers/<int:answer_id>": "redirects to the answer on its question page",
    "/sso/login": "redirects to the identity provider (or 404 without SSO); tests/oidc",
    "/sso/callback": "the provider's redirect back; verifies and redirects; tests/oidc",
    "/sso/continue": "needs a verified provider account in the session; tests/oidc walks it",
    "/settings/linked-accounts/link": "redirects to the identity provider; tests/oidc",
    "/tag-suggestions": "JSON for the tags field's suggestions",
    "/uploads/<string:upload_id>.<any(png, jpg, gif, webp):ext>": "an uploaded image file",
    "/feeds/questions.atom": "Atom feed for feed readers (tests/web/test_feeds.py)",
    "/feeds/unanswered.atom": "Atom feed for feed readers (tests/web/test_feeds.py)",
    "/feeds/tags/<name>.atom": "Atom feed for feed readers (tests/web/test_feeds.py)",
    "/feeds/articles.atom": "Atom feed for feed readers (tests/web/test_feeds.py)",
    "/questions/<int:question_id>/feed.atom": "Atom feed for feed readers (tests/web/test_feeds.py)",
    "/users/<int:user_id>/feed.atom": "Atom feed for feed readers (tests/web/test_feeds.py)",
}
# Every rule under this prefix is the REST API: JSON for programs, checked against its own
# OpenAPI document by tests/web/test_api_*.py and schemathesis, not a page for people.
API_PREFIX = "/api/v1/"


@dataclass(frozen=True)
class Stop:
    """One page of the walk: the path, who sees it, and the status it answers with."""
    path: str
    roles: tuple[str, ...] = ROLES
    status: int = 200


SIGNED_IN = ("member", "admin")
STAFF = ("admin",)


@dataclass(frozen=True)
class Site:
    url: str
    app: Any
    stops: tuple[Stop, ...]
    logins: dict[str, str]


# --------------------------------------------------------------------------- the data

def _build(app: Any) -> tuple[tuple[Stop, ...], dict[str, str]]:
    """Seed the demo community and the extra states; returns the walk and the logins."""
    from flask import url_for
    from sqlalchemy import select

    from forum.demo import seeding
    from forum.extensions import db
    from forum.mail import unsubscribe_token
    from forum.models import Answer, Article, Comment, Question, SupportCase, Tag, User, WebhookDelivery
    from forum.models.badge import UserBadge
    from forum.services import announcements, canned, curation, flags, visibility, webhooks
    from forum.services.account_mail import reset_token, verify_token
    from forum.templating import article_url, question_url

    with app.test_request_context():
        seeding.seed()
        admin = db.session.scalars(select(User).where(User.username == ADMIN)).one()
        case = db.session.scalars(select(SupportCase)).first()
        assert case is not None, "the demo has a private case"
        member = case.question.author
        qs = list(db.session.scalars(select(Question).where(Question.id != case.question_id).order_by(Question.id)))
        closed, locked, held, deleted, duplicate = qs[1], qs[2], qs[3], qs[4], qs[5]
        curation.close_question(admin, closed, "needs_details", note="Which hub model?")
        curation.close_question(admin, duplicate, "duplicate", duplicate_of=qs[0])
        curation.set_locked(admin, locked, True, "Heated thread; the official answer stands.")
        curation.set_pinned(admin, qs[0], True)
        visibility.hide_post(held, "review")
        visibility.delete_post(admin, deleted)
        flagged = db.session.scalars(select(Answer).where(Answer.author_id != member.id).order_by(Answer.id)).first()
        assert flagged is not None
        flags.flag_post(member, "answer", flagged.id, "needs_staff", "This advice bricked my hub.")
        announcements.create_announcement(admin, "Scheduled maintenance tonight at 22:00 UTC.", "warning")
        reply = canned.all_replies(admin)[0]
        article = db.session.scalars(select(Article).order_by(Article.id)).first()
        assert article is not None
        badge_key = db.session.scalars(select(UserBadge.badge).order_by(UserBadge.id)).first()
        assert badge_key is not None
        member.pending_email = "new.address@example.com"  # so a confirmation link has work to do
        answer = db.session.scalars(select(Answer).where(Answer.author_id == member.id)).first() or flagged
        comment_id = db.session.scalars(select(Comment.id).order_by(Comment.id)).first()
        tag = db.session.scalars(select(Tag.name).order_by(Tag.question_count.desc())).first()
        hook, _ = webhooks.create_endpoint(admin, webhooks.EndpointInput("https://93.184.215.14/hooks",
                                                                         ["question.created", "case.opened"], "json"))
        # Given up, so committing it sends nothing (no network in tests).
        db.session.add(WebhookDelivery(endpoint_id=hook.id, event="question.created", event_id="0" * 36, payload="{}",
                                       status="gave_up", attempts=2, last_status_code=500, last_response_ms=120,
                                       last_response_excerpt="Internal Server Error"))
        db.session.flush()
        db.session.commit()

        def u(endpoint: str, **values: Any) -> str:
            return url_for(endpoint, **values)

        stops: list[Stop] = [
            Stop("/"),
            Stop(u("questions.index")),
            Stop(u("questions.index", tab="unanswered")),
            Stop(u("questions.index", tab="solved")),
            *(Stop(question_url(q)) for q in (qs[0], closed, duplicate, locked)),
            Stop(question_url(held), STAFF),  # held for review: only its author and staff see it
            Stop(question_url(deleted), STAFF),
            Stop(question_url(case.question)),
            Stop(u("questions.history", question_id=qs[0].id)),
            Stop(u("answers.history", answer_id=answer.id)),
            Stop(u("questions.tags")),
            Stop(u("questions.tag", name=tag)),
            Stop(u("search.index")),
            Stop(u("search.index", q="hub offline")),
            Stop(u("search.index", q="zzqqxx nothing matches this")),
            Stop(u("questions.ask"), SIGNED_IN),
            Stop(u("questions.edit", question_id=case.question_id), SIGNED_IN),
            Stop(u("answers.edit", answer_id=answer.id), SIGNED_IN),
            Stop(u("users.index")),
            Stop(u("users.profile", user_id=member.id, slug=member.username)),
            Stop(u("users.profile", user_id=admin.id, slug=admin.username, tab="questions")),
            Stop(u("badges.index")),
            Stop(u("help.privileges")),
            Stop(u("articles.index")),
            Stop(article_url(article)),
            Stop(u("articles.history", article_id=article.id), STAFF),
            Stop(u("articles.new"), STAFF),
            Stop(u("articles.edit", article_id=article.id), STAFF),
            Stop(u("cases.index"), SIGNED_IN),
            Stop(u("cases.show", case_id=case.id), SIGNED_IN),
            Stop(u("support.queue"), STAFF),
            Stop(u("support.playbooks"), STAFF),
            Stop(u("support.edit_playbook", type_="outage", severity="critical"), STAFF),
            Stop(u("support.replies"), STAFF),
            Stop(u("insights.index"), STAFF),
            Stop(u("insights.index", start="2026-02-30"), STAFF, 400),
            Stop(u("support.edit_reply"), STAFF),
            Stop(u("curation.close", question_id=qs[0].id), STAFF),
            Stop(u("curation.announcements"), STAFF),
            Stop(u("moderation.queue"), STAFF),
            Stop(u("moderation.log"), STAFF),
            Stop(u("moderation.words"), STAFF),
            Stop(u("moderation.flag", post_type="answer", post_id=flagged.id), SIGNED_IN),
            Stop(u("moderation.my_flags"), SIGNED_IN),
            Stop(u("suggestions.queue"), STAFF),  # members need the privilege
            Stop(u("suggestions.mine"), SIGNED_IN),
            Stop(u("notifications.index"), SIGNED_IN),
            Stop(u("notifications.outbox"), STAFF),
            Stop(u("notifications.settings"), SIGNED_IN),
            Stop(u("notifications.unsubscribe_page", token=unsubscribe_token(member.id, "answer"))),
            Stop(u("users.edit_profile"), SIGNED_IN),
            Stop(u("users.change_password"), SIGNED_IN),
            Stop(u("users.change_email"), SIGNED_IN),
            Stop(u("account.sessions"), SIGNED_IN),
            Stop(u("account.tokens"), SIGNED_IN),
            Stop(u("account.data"), SIGNED_IN),
            Stop(u("account.delete"), SIGNED_IN),
            Stop(u("sso.linked_accounts"), SIGNED_IN),
            Stop(u("auth.login"), ("anonymous",)),
            Stop(u("auth.register"), ("anonymous",)),
            Stop(u("account.forgot_password"), ("anonymous",)),
            Stop(u("account.reset_password", token=reset_token(member)), ("anonymous",)),
            Stop(u("account.reset_password", token="not-a-token"), ("anonymous",), 400),
            Stop(u("account.verify_email", token=verify_token(member, "new.address@example.com"))),
            # Error pages in the site layout.
            Stop("/no/such/page", status=404),
            Stop(u("moderation.queue"), ("member",), 403),
            Stop(u("comments.edit", comment_id=comment_id), STAFF),
            Stop(u("support.edit_reply", reply_id=reply.id), STAFF),
            Stop(u("badges.show", key=badge_key)),
            # The admin area, tag descriptions and the upload page without JavaScript.
            Stop(u("admin.members"), STAFF),
            Stop(u("admin.member", user_id=member.id), STAFF),
            Stop(u("admin.settings"), STAFF),
            Stop(u("admin.webhooks_page"), STAFF),
            Stop(u("admin.webhook", endpoint_id=hook.id), STAFF),
            Stop(u("admin.webhook_edit", endpoint_id=hook.id), STAFF),
            Stop(u("admin.members"), ("member",), 403),
            Stop(u("questions.edit_tag", name=tag), STAFF),
            Stop(u("uploads.new"), SIGNED_IN),
        ]
        logins = {"member": member.username, "admin": admin.username}
        db.session.remove()
    return tuple(stops), logins


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Its own server on its own database, seeded with the demo community (the shared e2e
    server's data is left alone)."""
    from forum import create_app
    from forum.extensions import db
    from tests.e2e.conftest import serving

    tmp = tmp_path_factory.mktemp("a11y")
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/a11y.db",
                                 "SEARCH_INDEX_DIR": str(tmp / "index")})
    with app.app_context():
        db.create_all()
    stops, logins = _build(app)
    with serving(app) as url:
        yield Site(url, app, stops, logins)


# --------------------------------------------------------------------------- browser

@pytest.fixture(scope="module")
def contexts(browser: Browser, site: Site) -> Iterator[dict[str, BrowserContext]]:
    """One context per role, signed in through the real form. CSP is bypassed so that axe can
    be injected (the site allows no inline script)."""
    from forum.demo.content import DEMO_PASSWORD

    made: dict[str, BrowserContext] = {}
    try:
        for role in ROLES:
            context = browser.new_context(base_url=site.url, bypass_csp=True,
                                          viewport={"width": WIDTHS[-1], "height": HEIGHT})
            context.set_default_timeout(10_000)
            made[role] = context
            if role in site.logins:
                page = context.new_page()
                page.goto("/login")
                page.get_by_label("Username or e-mail").fill(site.logins[role])
                page.get_by_label("Password").fill(DEMO_PASSWORD)
                page.locator("main").get_by_role("button", name="Log in").click()
                page.wait_for_url(lambda url: "/login" not in url)
                page.close()
        yield made
    finally:
        for context in made.values():
            context.close()


@pytest.mark.parametrize("role", ROLES)
def test_no_serious_or_critical_violation(role: str, site: Site, contexts: dict[str, BrowserContext],
                                          axe_script: str) -> None:
    """Each page is loaded once and checked at every width (narrowest first: the viewport is
    resized in place, so layout and the scripts' resize handlers follow, as on a real phone
    turned sideways)."""
    page = contexts[role].new_page()
    findings: list[Finding] = []
    wrong_status: list[str] = []
    walked = 0
    for stop in site.stops:
        if role not in stop.roles:
            continue
        page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
        response = page.goto(stop.path)
        status = response.status if response is not None else 0
        if status != stop.status:
            wrong_status.append(f"{role} {stop.path}: answered {status}, expected {stop.status}")
            continue
        for width in WIDTHS:
            if width != WIDTHS[0]:
                page.set_viewport_size({"width": width, "height": HEIGHT})
            findings += run_axe(page, axe_script, f"{role} {width}px {stop.path}")
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > width:  # issue 13 item 5: no page scrolls sideways, at 360 px either
                wrong_status.append(f"{role} {stop.path}: {wide} px wide at {width} px")
            if SHOTS:  # for people to look at every page (docs/accessibility.md)
                name = re.sub(r"[^A-Za-z0-9]+", "_", stop.path).strip("_") or "home"
                page.screenshot(path=str(SHOTS / f"{role}-{walked:03d}-{name[:80]}-{width}.png"), full_page=True)
        walked += 1
    page.close()
    problems = [*wrong_status, *map(str, findings)]
    assert walked >= 20, f"only {walked} pages walked as {role}"
    assert not problems, (f"{len(findings)} serious or critical accessibility violations, "
                          f"{len(wrong_status)} pages with the wrong status:\n" + "\n".join(problems))


# Forms shown again with errors (aria-invalid, aria-describedby to the error): the role, the
# page, what to type (label -> text; fields not named are left empty) and the submit button.
FORMS_WITH_ERRORS: tuple[tuple[str, str, dict[str, str], str], ...] = (
    ("anonymous", "/register", {"Username": "x", "E-mail": "not-an-address"}, "Create account"),
    ("anonymous", "/login", {"Username or e-mail": "nobody_here", "Password": "wrong-password"}, "Log in"),
    ("member", "/questions/ask", {"Title": "Help", "Details": "short"}, "Post your question"),
    ("member", "/settings/password", {"Current password": "wrong-password"}, "Save"),
)


@pytest.mark.parametrize("role,path,typed,button", FORMS_WITH_ERRORS, ids=[f[1] for f in FORMS_WITH_ERRORS])
def test_forms_with_errors_have_no_serious_violation(role: str, path: str, typed: dict[str, str], button: str,
                                                     site: Site, contexts: dict[str, BrowserContext],
                                                     axe_script: str) -> None:
    page = contexts[role].new_page()
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
    page.goto(path)
    main = page.locator("main")
    for label, text in typed.items():
        main.get_by_label(label, exact=True).first.fill(text)
    main.evaluate("m => m.querySelectorAll('form').forEach(f => f.noValidate = true)")  # the server decides
    main.get_by_role("button", name=button, exact=True).click()
    page.locator(".field-error, .form-errors").first.wait_for()
    findings: list[Finding] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        findings += run_axe(page, axe_script, f"{role} {width}px {path} (with errors)")
    page.close()
    assert not findings, "\n".join(map(str, findings))


def test_comment_shown_again_with_an_error_has_no_serious_violation(site: Site, contexts: dict[str, BrowserContext],
                                                                     axe_script: str) -> None:
    """A comment refused by the server comes back in its post's form, under the answer form:
    its label, hint and error must be its own (they pointed at the answer's field)."""
    page = contexts["member"].new_page()
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
    page.goto(next(s.path for s in site.stops if s.path.startswith("/questions/") and s.path.count("/") == 3))
    page.locator("details.comment-form-wrap > summary").first.click()
    form = page.locator("form.comment-form").first
    form.evaluate("f => { f.noValidate = true; f.querySelector('textarea').removeAttribute('maxlength'); }")
    form.locator("textarea").fill("x" * 700)  # over COMMENT_MAX_LENGTH: refused by the server
    form.get_by_role("button", name="Add comment").click()
    expect(page.locator("form.comment-form .field-error")).to_contain_text("under 600 characters")
    expect(page.get_by_label("Comment", exact=True).first).to_have_value("x" * 700)
    findings: list[Finding] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        findings += run_axe(page, axe_script, f"member {width}px comment with an error")
    page.close()
    assert not findings, "\n".join(map(str, findings))


def test_the_walk_visits_every_get_route(site: Site) -> None:
    """Every GET rule is walked or excluded with a reason; a new page fails here until then."""
    adapter = site.app.url_map.bind("localhost")
    walked = set()
    for stop in site.stops:
        path = stop.path.split("?")[0]
        rule, _ = adapter.match(path, method="GET", return_rule=True) if stop.status != 404 else (None, None)
        if rule is not None:
            walked.add(rule.rule)
    get_rules = {rule.rule for rule in site.app.url_map.iter_rules() if "GET" in (rule.methods or ())}
    missing = sorted(rule for rule in get_rules - walked - set(NOT_PAGES) if not rule.startswith(API_PREFIX))
    assert not missing, ("GET routes neither walked by the accessibility test nor listed in NOT_PAGES "
                         "(tests/e2e/test_accessibility.py):\n" + "\n".join(missing))
    stale = sorted(set(NOT_PAGES) - get_rules)
    assert not stale, f"NOT_PAGES lists rules the app no longer has: {stale}"
    both = sorted(walked & set(NOT_PAGES))
    assert not both, f"walked and also excluded as not a page: {both}"

