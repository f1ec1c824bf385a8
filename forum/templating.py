"""Everything a template may call that its view did not pass: pure helpers, the brand, the layout's queries.

A page's data is built by one service function (``services/threads.py``, ``services/pages.py``)
and passed by its view; templates only render it. What is registered here is either pure
(URLs, labels, time formatting, permission checks over objects already loaded) or one of the
few queries the layout (``templates/base.html``) needs on every page, listed in
``LAYOUT_QUERIES``. tests/web/test_page_data.py fails when a page queries while it renders
anywhere else, so a new query-running global cannot slip in unnoticed.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Flask, current_app, g, session, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_, select

from .extensions import db
from .markup import excerpt
from .models import Announcement, AnnouncementDismissal, Article, Question
from .models.base import utcnow
from .pagecache import page_cache_shared
from .pagecache.keys import BANNERS, BUMPS
from .pagecache.store import current_cache
from .services import notifications, sso
from .services.articles import article_slug
from .services.curation import CLOSE_REASONS
from .services.flags import REASON_LABELS, Post, PostRef
from .services.moderation import format_until, hidden_label, posting_block
from .services.permissions import can, privilege_note
from .services.questions import slugify
from .services.reach import about
from .services.support import SEVERITY_LABELS, TYPE_LABELS
from .sharing import article_share, question_share
from .theme import current_theme

# ---------------------------------------------------------------- URLs

#: Built into a URL in place of an integer argument (one more per further integer argument), so
#: that the URL can be reused for other ids: below the largest id a path takes (web.ID_MAX).
_URL_SENTINEL = 1_987_654_300
_NO_PATTERN = ""


def _url_pattern(endpoint: str, ints: tuple[str, ...], values: dict[str, Any]) -> str:
    """``url_for(endpoint, **values)`` with each integer argument in ``ints`` as a ``{n}`` field,
    or "" when the endpoint cannot be built that way (a rule with defaults chooses its URL by
    the values themselves; a sentinel that does not appear exactly once)."""
    try:
        rules = list(current_app.url_map.iter_rules(endpoint))
    except KeyError:  # no such endpoint: url_for raises its own BuildError
        return _NO_PATTERN
    if any(rule.defaults for rule in rules):
        return _NO_PATTERN
    sentinels = [str(_URL_SENTINEL + i) for i in range(len(ints))]
    built = url_for(endpoint, **{**values, **{k: _URL_SENTINEL + i for i, k in enumerate(ints)}})
    if any(built.count(s) != 1 for s in sentinels):
        return _NO_PATTERN
    pattern = built.replace("{", "{{").replace("}", "}}")
    for i, sentinel in enumerate(sentinels):
        pattern = pattern.replace(sentinel, f"{{{i}}}")
    return pattern


def id_url(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)``, for a link repeated with other ids on one page (each
    post's vote, flag and edit URLs, each author's profile).

    Routing builds each URL through the whole rule map (about 10 µs); a page of 8 answers and
    their comments built 130 of them. Here the URL is built once per request for each endpoint
    and set of non-integer arguments, with sentinel ids, and later calls format their ids into
    it: the same string url_for returns (an integer converter writes ``str(id)``).
    """
    ints = tuple(sorted(k for k, v in values.items() if type(v) is int))
    try:
        key = (endpoint, ints, tuple(sorted((k, v) for k, v in values.items() if k not in ints)))
        patterns: dict[tuple[Any, ...], str] = g.setdefault("_id_url_patterns", {})
        pattern = patterns.get(key)
    except TypeError:  # an unhashable argument: no pattern
        return url_for(endpoint, **values)
    if pattern is None:
        pattern = patterns[key] = _url_pattern(endpoint, ints, values)
    if not pattern:
        return url_for(endpoint, **values)
    return pattern.format(*(values[k] for k in ints))


def question_url(question: Question, **kwargs: Any) -> str:
    return id_url("questions.show", question_id=question.id, slug=slugify(question.title), **kwargs)


def article_url(article: Article, **kwargs: Any) -> str:
    return url_for("articles.show", article_id=article.id, slug=article_slug(article.title), **kwargs)


def post_url(ref: PostRef | None) -> str | None:
    """Where a post lives: its question's page, anchored at the answer or comment."""
    if ref is None or ref.question is None:
        return None
    anchor = ref.anchor
    return question_url(ref.question, _anchor=anchor) if anchor else question_url(ref.question)


# ---------------------------------------------------------------- labels and text


def post_excerpt(post: Post, length: int = 300) -> str:
    return excerpt(post.body_html, length)


def log_changes(entry: Any) -> list[tuple[str, Any, Any]]:
    """(key, before, after) for the keys a log entry changed (all keys when one side is empty)."""
    try:
        before, after = json.loads(entry.before or "{}"), json.loads(entry.after or "{}")
    except ValueError:
        return []
    keys = sorted(set(before) | set(after))
    return [(k, _shown(before.get(k)), _shown(after.get(k))) for k in keys if before.get(k) != after.get(k)]


def _shown(value: Any) -> Any:
    """Log values as people read them: stored datetimes become "26 Nov 2026 at 05:27 UTC"."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in " T":
        try:
            return format_until(datetime.fromisoformat(value))
        except ValueError:
            return value
    return value


# ---------------------------------------------------------------- time


def duration(delta: timedelta) -> str:
    """ "35 min", "5 h" or "3 days"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} days"


def due_label(due: datetime) -> str:
    """ "breached 2 h ago" or "due in 35 min", for the queue and the question page."""
    now = utcnow()
    return f"breached {duration(now - due)} ago" if due <= now else f"due in {duration(due - now)}"


def timeago(value: datetime | None) -> str:
    if value is None:
        return ""
    seconds = int((datetime.now(timezone.utc) - value).total_seconds())
    for unit, size in (("year", 31536000), ("month", 2592000), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def time_tag(value: datetime | None) -> Markup:
    if value is None:
        return Markup("")
    iso = value.astimezone(timezone.utc).isoformat(timespec="seconds")
    full = value.strftime("%d %b %Y at %H:%M UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(iso, full, timeago(value))


# ---------------------------------------------------------------- the layout's queries


def unread_notifications() -> int:
    """The bell's count: one query per request, only for signed-in members.

    Cached on ``g`` because the notification list shows it again under the bell.
    """
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = notifications.unread_count(current_user)
    return int(g.unread_notifications)


@dataclass(frozen=True)
class Banner:
    """What a page shows of a running announcement: plain values, kept between requests (an ORM
    row would belong to the session of the request that loaded it)."""

    id: int
    message: str
    severity: str
    incident_question_id: int | None

    @classmethod
    def of(cls, item: Announcement) -> Banner:
        return cls(item.id, item.message, item.severity, item.incident_question_id)


_SEVERITY_RANK = {"outage": 0, "warning": 1, "info": 2}  # as services/announcements.active orders them
_RUNNING = "forum.running_banners"  # app.extensions key: (generation, valid until, banners)


def _running_and_next_change(now: datetime, connection: Any) -> tuple[tuple[Banner, ...], datetime | None]:
    """The announcements running at ``now``, most severe first, and the next moment one starts
    or ends (None: no such moment is scheduled). One query, on ``connection`` (a Connection or
    the Session)."""
    rows = connection.execute(select(
        Announcement.id, Announcement.message, Announcement.severity, Announcement.incident_question_id,
        Announcement.starts_at, Announcement.ends_at,
    ).where(or_(Announcement.ends_at.is_(None), Announcement.ends_at > now))).all()
    running = sorted((r for r in rows if r.starts_at <= now), key=lambda r: (_SEVERITY_RANK[r.severity], -r.id))
    moments = [r.starts_at for r in rows if r.starts_at > now] + [r.ends_at for r in rows if r.ends_at is not None]
    banners = tuple(Banner(r.id, r.message, r.severity, r.incident_question_id) for r in running)
    return banners, min(moments, default=None)


def running_banners() -> tuple[Banner, ...]:
    """The announcements running now, most severe first, for every page's layout.

    Kept in the process between requests while the page cache's ``banners`` generation
    (forum/pagecache: bumped by every write to ``announcements``, in the database or Redis that
    all processes share) is unchanged and no announcement has started or ended since. The
    generation is read before the rows, and the rows on a connection of their own (the request's
    session may hold an older snapshot), so a change committed in between makes the next request
    read them again. Read through the session, and not kept, without the page cache (no
    generations) and in a request that wrote anything (its own uncommitted change shows).
    Raises the database's and Redis' errors.
    """
    cache = current_cache()
    now = utcnow()
    if cache is None or db.session.info.get(BUMPS):
        return _running_and_next_change(now, db.session)[0]
    generation = cache.generations.read([BANNERS])[BANNERS]
    kept = current_app.extensions.get(_RUNNING)
    if kept is not None and kept[0] == generation and (kept[1] is None or now < kept[1]):
        return kept[2]
    with db.engine.connect() as connection:
        banners, until = _running_and_next_change(now, connection)
    current_app.extensions[_RUNNING] = (generation, until, banners)
    return banners


def announcement_banners() -> list[Banner]:
    """The crisis banners this visitor has not dismissed (signed-in: stored; anonymous: in the
    session); what services/announcements.visible_to gives, from the banners kept between
    requests (running_banners). A signed-in member's dismissals are read only when a banner runs."""
    try:
        try:
            running = running_banners()
        except Exception:  # the generations' store (Redis) is down: the banners still show
            current_app.logger.warning("kept banners unavailable", exc_info=True)
            running = _running_and_next_change(utcnow(), db.session)[0]
        if not running:
            return []
        dismissed = set(session.get("dismissed", []))
        if current_user.is_authenticated:
            dismissed |= set(db.session.scalars(select(AnnouncementDismissal.announcement_id).where(
                AnnouncementDismissal.user_id == current_user.id,
                AnnouncementDismissal.announcement_id.in_([b.id for b in running]))))
        return [b for b in running if b.id not in dismissed]
    except Exception:
        current_app.logger.warning("announcement banners unavailable", exc_info=True)
        return []


# Every page extends base.html, so these run for every page rather than being passed by
# each of some eighty views: the bell's unread count and the crisis banners. Nothing else
# registered here may touch the database.
LAYOUT_QUERIES: dict[str, Callable[..., Any]] = {
    "unread_notifications": unread_notifications,
    "announcement_banners": announcement_banners,
}

# Pure: they read their arguments (objects the view already loaded), the request and the clock.
# ``can`` and ``privilege_note`` decide over attributes (role, reputation, suspension dates);
# ``posting_block`` reads the suspension and silence dates.
DRAFTS_POSTED = "drafts_posted"  # session key: composers whose post was just stored (views/drafts.posted)


def drafts_posted() -> str:
    """The composers whose post was just stored, space-separated, read once: drafts.js forgets
    its browser copies of them (docs/drafts.md)."""
    if not current_user.is_authenticated or DRAFTS_POSTED not in session:
        return ""
    return " ".join(session.pop(DRAFTS_POSTED, []))


HELPERS: dict[str, Callable[..., Any]] = {
    "can": can,
    "privilege_note": privilege_note,
    "posting_block": posting_block,
    "hidden_label": hidden_label,
    "question_url": question_url,
    # url_for for links repeated with other ids on a page (built once per request and endpoint).
    "id_url": id_url,
    "article_url": article_url,
    "moderation_post_url": post_url,
    "post_excerpt": post_excerpt,
    "log_changes": log_changes,
    "due_label": due_label,
    "duration": duration,
    "now_utc": utcnow,
    # True while a page is rendered for the shared anonymous cache: leave out the CSRF token.
    "page_cache_shared": page_cache_shared,
    # light | dark | system, from the visitor's cookie (forum/theme.py, docs/theming.md).
    "current_theme": current_theme,
    # Open Graph / Twitter tags and QAPage JSON-LD from rows the page already loaded (forum/sharing.py).
    "question_share": question_share,
    "article_share": article_share,
    # Single sign-on, from configuration: the button's text ("" when off) and "SSO only" mode.
    "sso_label": sso.button_label,
    "sso_only": sso.sso_only,
    # Drafts: the composers whose post was just stored (reads and clears a session key).
    "drafts_posted": drafts_posted,
}

LABELS: dict[str, dict[str, str]] = {
    "close_reasons": CLOSE_REASONS,
    "flag_reasons": REASON_LABELS,
    "type_labels": TYPE_LABELS,
    "severity_labels": SEVERITY_LABELS,
}

FILTERS: dict[str, Callable[..., Any]] = {"timeago": timeago, "time_tag": time_tag, "about": about}


def brand(app: Flask) -> dict[str, str]:
    """The names the pages say, from configuration: the site, the company, its product line."""
    return {"site_name": app.config["SITE_NAME"], "company_name": app.config["COMPANY_NAME"],
            "product_name": app.config["PRODUCT_NAME"]}


def init_app(app: Flask) -> None:
    """Register the helpers, labels, brand names, layout queries and filters on the Jinja environment."""
    app.jinja_env.globals.update(HELPERS)
    app.jinja_env.globals.update(LABELS)
    app.jinja_env.globals.update(LAYOUT_QUERIES)
    app.jinja_env.globals.update(brand(app))
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
