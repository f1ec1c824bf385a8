"""Atom feeds: which entries each feed holds (docs/feeds.md).

The rules live here, the XML in forum/atom.py. Each feed is built from the same read functions
as the page it mirrors, so it shows exactly what that page shows an anonymous visitor:

- newest and unanswered questions, a tag: ``questions.list_questions`` (visible questions; the
  unanswered list leaves closed ones out, as its tab does);
- a question and its answers: ``questions.get_question`` with no viewer (a deleted or hidden
  question is NotFound) and its visible answers (``Answer.is_visible``, as ``load_thread``);
- articles: ``articles.list_articles`` with no viewer (published ones only, never drafts or
  archived articles);
- a member: the profile's rules (``questions.questions_by``, ``profiles.visible_answers``: the
  answer and its question both visible). Any existing member has a feed, as any has a profile;
  a deleted account's posts stay, under "Deleted member".

Private support cases never appear: their messages are rows of their own that no feed reads.
Each feed holds the latest FEED_SIZE entries in a fixed number of queries (one per list, plus
the tags of the questions it shows), whatever the size of the forum.

URLs are built by the caller's ``UrlFor`` (``url_for`` with ``_external=True`` in the views),
so this module needs no request.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, defer

from ..extensions import db
from ..models import Answer, Question, Tag, User
from .articles import article_slug, list_articles
from .errors import NotFound
from .profiles import visible_answers
from .questions import get_question, get_tag, list_questions, questions_by, slugify

FEED_SIZE = 30
# A feed needs an <updated> even with no entries: a fixed instant keeps an empty feed's bytes
# (and so its ETag) the same from one fetch to the next.
EMPTY_UPDATED = datetime(2000, 1, 1, tzinfo=timezone.utc)


class UrlFor(Protocol):
    """Builds an absolute URL for an endpoint (``url_for(endpoint, _external=True, **values)``)."""

    def __call__(self, endpoint: str, /, **values: Any) -> str: ...


@dataclass(frozen=True)
class Entry:
    id: str  # a permanent absolute URL without the slug (a retitled post keeps its id)
    title: str
    link: str  # the page, with its current slug (and the answer's anchor)
    published: datetime
    updated: datetime
    author: str
    html: str  # the body as rendered and sanitised at write time (forum/markup), never Markdown
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Feed:
    id: str  # the feed's own absolute URL
    title: str  # without the site name (forum/atom.py adds it)
    link: str  # the HTML page this feed follows
    updated: datetime
    entries: list[Entry]


def _feed(url: UrlFor, endpoint: str, values: dict[str, Any], title: str, link: str,
          entries: list[Entry], empty: datetime = EMPTY_UPDATED) -> Feed:
    updated = max((e.updated for e in entries), default=empty)
    return Feed(id=url(endpoint, **values), title=title, link=link, updated=updated, entries=entries)


def _question_entry(url: UrlFor, question: Question) -> Entry:
    return Entry(
        id=url("questions.show", question_id=question.id),
        title=question.title,
        link=url("questions.show", question_id=question.id, slug=slugify(question.title)),
        published=question.created_at,
        updated=question.edited_at or question.created_at,
        author=question.author.name,
        html=question.body_html,
        categories=tuple(t.name for t in question.tags),
    )


def _answer_entry(url: UrlFor, answer: Answer, question: Question, title: str) -> Entry:
    anchor = f"answer-{answer.id}"
    return Entry(
        id=url("questions.show", question_id=question.id, _anchor=anchor),
        title=title,
        link=url("questions.show", question_id=question.id, slug=slugify(question.title), _anchor=anchor),
        published=answer.created_at,
        updated=answer.edited_at or answer.created_at,
        author=answer.author.name,
        html=answer.body_html,
        categories=tuple(t.name for t in question.tags),
    )


def _newest_first(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (e.published, e.id), reverse=True)[:FEED_SIZE]


def newest_questions(url: UrlFor) -> Feed:
    """The newest visible questions (the home page and the questions list's "Newest" tab)."""
    page = list_questions("newest", 1, per_page=FEED_SIZE, count=False)
    return _feed(url, "feeds.questions", {}, "Newest questions", url("questions.index"),
                 [_question_entry(url, q) for q in page.items])


def unanswered_questions(url: UrlFor) -> Feed:
    """Visible questions with no visible answer that are not closed, newest first (the "Unanswered" tab)."""
    page = list_questions("unanswered", 1, per_page=FEED_SIZE, count=False)
    return _feed(url, "feeds.unanswered", {}, "Unanswered questions", url("questions.index", tab="unanswered"),
                 [_question_entry(url, q) for q in page.items])


def tag_questions(url: UrlFor, name: str) -> Feed:
    """The newest visible questions carrying the tag ``name``.

    Raises NotFound for an unknown tag (as the tag page does).
    """
    tag: Tag = get_tag(name)
    page = list_questions("newest", 1, tag=tag, per_page=FEED_SIZE, count=False)
    return _feed(url, "feeds.tag", {"name": tag.name}, f"Questions tagged {tag.name}",
                 url("questions.tag", name=tag.name), [_question_entry(url, q) for q in page.items],
                 empty=tag.created_at)


def question_thread(url: UrlFor, question_id: int) -> Feed:
    """A question and its newest visible answers (FEED_SIZE entries in all), newest first.

    Raises NotFound for an unknown question or one anyone but its author and staff cannot see
    (deleted or hidden), exactly as its page does for an anonymous visitor.
    """
    question = get_question(question_id, None)
    answers = db.session.scalars(
        select(Answer).where(Answer.question_id == question.id, Answer.is_visible)
        .options(defer(Answer.body), defer(Answer.body_text))
        .order_by(Answer.created_at.desc(), Answer.id.desc()).limit(FEED_SIZE - 1))
    entries = [_answer_entry(url, a, question, f"Answer by {a.author.name}") for a in answers]
    entries.append(_question_entry(url, question))
    link = url("questions.show", question_id=question.id, slug=slugify(question.title))
    return _feed(url, "feeds.question", {"question_id": question.id}, question.title, link, _newest_first(entries))


def published_articles(url: UrlFor) -> Feed:
    """The newest published articles (never drafts nor archived ones), by publication date."""
    page = list_articles(None, 1, per_page=FEED_SIZE)
    entries = []
    for article in page.items:
        published = article.published_at or article.created_at
        entries.append(Entry(
            id=url("articles.show", article_id=article.id),
            title=article.title,
            link=url("articles.show", article_id=article.id, slug=article_slug(article.title)),
            published=published,
            updated=max(published, article.updated_at),
            author=article.author.name,
            html=article.body_html,
            categories=tuple(t.name for t in article.tags),
        ))
    return _feed(url, "feeds.articles", {}, "Help articles", url("articles.index"), entries)


def member_activity(url: UrlFor, user_id: int) -> Feed:
    """A member's public activity: their newest visible questions and answers (an answer only
    while its question is visible too), newest first.

    Raises NotFound for an unknown member. Suspended and deleted members have a feed as they
    have a profile page (a deleted one under "Deleted member"), holding only what is public.
    """
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    asked = questions_by(user, 1, per_page=FEED_SIZE).items
    answered = db.session.scalars(
        visible_answers(user)
        .options(contains_eager(Answer.question).selectinload(Question.tags),
                 defer(Answer.body), defer(Answer.body_text))
        .order_by(Answer.created_at.desc(), Answer.id.desc()).limit(FEED_SIZE)).unique()
    entries = [_question_entry(url, q) for q in asked]
    entries += [_answer_entry(url, a, a.question, f"Answer to: {a.question.title}") for a in answered]
    link = url("users.profile", user_id=user.id)
    return _feed(url, "feeds.member", {"user_id": user.id}, f"Activity of {user.name}", link,
                 _newest_first(entries), empty=user.created_at)

