"""Official knowledge-base articles: writing, publishing, feedback, promotion from a solved question.

Staff write and curate articles; everyone reads the published ones. Every staff action
(create, publish, unpublish, archive, promote) is logged with audit.log_action in the same
transaction. Tags follow the question rules (questions.parse_tags) but never move
Tag.question_count, which counts questions only. Every change is announced (ArticleChanged, or
ArticleWritten / ArticleRated): link and mention bookkeeping, badges and search follow.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from ..events import ArticleChanged, ArticlePublished, ArticleRated, ArticleWritten, Body, publish
from ..extensions import db
from ..markup import RENDER_VERSION, Rendered
from ..models import ARTICLE_STATES, Answer, Article, ArticleFeedback, Question, Revision, Tag, User
from ..models.base import table_of, utcnow
from .audit import log_action
from .errors import FieldError, InvalidState, NotFound, check_fields
from .links import render_body
from .pagination import Page, paginate
from .permissions import can, require
from .posts import check_body, without_nul
from .questions import parse_tags, slugify, tags_for

BODY_LIMIT_KEY = "BODY_MAX_LENGTH"
# Fixed path segments after /articles/<id>/: a slug equal to one would hide the article.
RESERVED_SLUGS = frozenset({"edit", "history", "state", "feedback"})
STATE_FILTERS = ("all", "published", "draft", "archived")
STATE_ACTIONS = {"published": "publish_article", "draft": "unpublish_article", "archived": "archive_article"}


@dataclass(frozen=True)
class ArticleInput:
    title: str
    body: str
    tags: str  # space- or comma-separated, as typed


@dataclass(frozen=True)
class ArticlePage:
    """What the article page shows beside the article itself."""

    source_question: Question | None  # None when there is none or the viewer may not see it
    my_vote: bool | None  # the viewer's "Was this helpful?" answer, None if none


def article_slug(title: str) -> str:
    slug = slugify(title)
    if slug == "question":  # slugify's fallback for titles without letters or digits
        slug = "article"
    return f"{slug}-article" if slug in RESERVED_SLUGS else slug


# ---------------------------------------------------------------- validation


def _check_title(title: str) -> str:
    title = " ".join(without_nul(title).split())
    cfg = current_app.config
    if len(title) < cfg["TITLE_MIN_LENGTH"]:
        raise FieldError("title", f"Titles need at least {cfg['TITLE_MIN_LENGTH']} characters.")
    if len(title) > cfg["TITLE_MAX_LENGTH"]:
        raise FieldError("title", f"Keep the title under {cfg['TITLE_MAX_LENGTH']} characters.")
    return title


def check_article_input(data: ArticleInput) -> tuple[str, str, list[str]]:
    """Normalised (title, body, tag names). Raises FieldError naming the bad field (FieldErrors
    naming every bad field)."""
    title, body, names = check_fields(
        lambda: _check_title(data.title),
        lambda: check_body(data.body, limit_key=BODY_LIMIT_KEY, minimum=20),
        lambda: parse_tags(data.tags),
    )
    return title, body, names


def _set_body(article: Article, body: str) -> Rendered:
    rendered = render_body(body)
    article.body = body
    article.body_html = rendered.html
    article.render_version = RENDER_VERSION
    return rendered


def _add_revision(article: Article, author: User, summary: str = "") -> Revision:
    last = db.session.scalar(select(func.max(Revision.number)).where(Revision.article_id == article.id)) or 0
    rev = Revision(article_id=article.id, number=last + 1, author_id=author.id, title=article.title,
                   body=article.body, tags=" ".join(sorted(t.name for t in article.tags)), summary=summary[:200])
    db.session.add(rev)
    return rev


def _snapshot(article: Article) -> dict[str, object]:
    return {"title": article.title, "state": article.state}


# ---------------------------------------------------------------- writing


def create_article(author: User, data: ArticleInput, summary: str = "") -> Article:
    """Create a draft with its first revision. Raises PermissionDenied (not staff) or FieldError."""
    require(author, "write_article")
    title, body, names = check_article_input(data)
    now = utcnow()
    article = Article(author=author, title=title, tags=tags_for(names), state="draft", created_at=now,
                      updated_at=now, helpful_yes=0, helpful_no=0)
    rendered = _set_body(article, body)
    db.session.add(article)
    db.session.flush()
    _add_revision(article, author, summary)
    log_action(author, "create_article", "article", article.id, after=_snapshot(article))
    db.session.flush()
    publish(ArticleWritten(article_id=article.id, actor_id=author.id, created=True,
                           body=Body.of("article", article.id, author.id, rendered)))
    return article


def edit_article(editor: User, article: Article, data: ArticleInput, summary: str = "") -> Article:
    """Apply an edit as a new revision (in any state).

    Raises PermissionDenied, FieldError, or InvalidState when nothing changed.
    """
    require(editor, "edit_article", article)
    title, body, names = check_article_input(data)
    same_tags = sorted(names) == sorted(t.name for t in article.tags)  # shown sorted by name
    if title == article.title and body == article.body and same_tags:
        raise InvalidState("Nothing changed.")
    if not same_tags:
        article.tags = tags_for(names)
    article.title = title
    rendered = _set_body(article, body)
    article.updated_at = utcnow()
    db.session.flush()
    _add_revision(article, editor, summary)
    db.session.flush()
    publish(ArticleWritten(article_id=article.id, actor_id=editor.id, created=False,
                           body=Body.of("article", article.id, editor.id, rendered)))
    return article


def set_state(actor: User, article: Article, state: str) -> Article:
    """Publish, unpublish (back to draft) or archive.

    Publishing re-checks the title, body and tags (a promoted draft may still be too long).
    Raises PermissionDenied, FieldError for an unknown state, InvalidState when the article
    is already in that state or cannot be published as it stands.
    """
    require(actor, "edit_article", article)
    if state not in ARTICLE_STATES:
        raise FieldError("state", "Choose draft, published or archived.")
    if state == article.state:
        raise InvalidState(f"The article is already {state}.")
    if state == "published":
        try:
            check_article_input(ArticleInput(article.title, article.body, " ".join(t.name for t in article.tags)))
        except FieldError as exc:
            raise InvalidState(f"Edit the article before publishing it: {exc.message}") from exc
    before = _snapshot(article)
    now = utcnow()
    article.state = state
    article.updated_at = now
    if state == "published" and article.published_at is None:
        article.published_at = now  # the first publication; re-publishing keeps it
    db.session.flush()
    log_action(actor, STATE_ACTIONS[state], "article", article.id, before=before, after=_snapshot(article))
    publish(ArticlePublished(article_id=article.id, actor_id=actor.id) if state == "published"
            else ArticleChanged(article_id=article.id))
    return article


def _promoted_body(question: Question, answer: Answer) -> str:
    return (f"# The problem\n\n{question.body.strip()}\n\n"
            f"# The solution\n\n{answer.body.strip()}\n")


def promote_question(actor: User, question: Question) -> tuple[Article, bool]:
    """Draft an article from a solved question: its problem, then its accepted answer.

    Returns ``(article, created)``; a question that already has an article returns that
    one (``created`` False) instead of a duplicate. Raises PermissionDenied unless staff and
    the question is visible and solved, InvalidState when the accepted answer is gone.
    """
    require(actor, "promote_to_article", question, "Only staff can promote a solved question.")
    # A no-op UPDATE locks the question row (PostgreSQL) or takes the write lock (SQLite),
    # so two staff promoting at once see each other's article instead of both creating one.
    db.session.execute(update(Question).where(Question.id == question.id)
                       .values(render_version=Question.render_version),
                       execution_options={"synchronize_session": False})
    existing = db.session.scalar(select(Article).where(Article.source_question_id == question.id)
                                 .order_by(Article.id).limit(1))
    if existing is not None:
        return existing, False
    answer = db.session.get(Answer, question.accepted_answer_id)
    if answer is None or not answer.is_visible:
        raise InvalidState("The accepted answer is no longer available.")
    now = utcnow()
    article = Article(author=actor, title=question.title, tags=list(question.tags), state="draft",
                      source_question_id=question.id, created_at=now, updated_at=now, helpful_yes=0, helpful_no=0)
    rendered = _set_body(article, _promoted_body(question, answer))
    db.session.add(article)
    db.session.flush()
    _add_revision(article, actor, f"Promoted from question #{question.id}")
    log_action(actor, "promote_article", "article", article.id,
               before={"question_id": question.id, "accepted_answer_id": answer.id},
               after={**_snapshot(article), "source_question_id": question.id})
    db.session.flush()
    # A draft: its mentions tell nobody until it is edited once published (mentions.record_mentions).
    publish(ArticleWritten(article_id=article.id, actor_id=actor.id, created=True,
                           body=Body.of("article", article.id, actor.id, rendered)))
    return article, True


# ---------------------------------------------------------------- "Was this helpful?"


def rate_article(user: User, article: Article, helpful: bool) -> None:
    """Record the user's answer; a second answer replaces the first.

    The unique (article, user) row decides who counted: an INSERT that loses the race does
    nothing, and the change from one answer to the other happens only if the stored answer
    differs, so helpful_yes/helpful_no move by atomic SQL and always equal the rows.
    Raises PermissionDenied for anonymous users and unpublished articles.
    """
    require(user, "rate_article", article)
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # RETURNING, not rowcount: it says reliably on both backends whether this statement wrote the row.
    inserted = db.session.execute(
        insert(table_of(ArticleFeedback))
        .values(article_id=article.id, user_id=user.id, helpful=helpful, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["article_id", "user_id"])
        .returning(table_of(ArticleFeedback).c.id)
    ).scalar()
    if inserted is not None:
        yes, no = (1, 0) if helpful else (0, 1)
    else:
        feedback = table_of(ArticleFeedback)
        changed = db.session.execute(
            update(feedback)
            .where(feedback.c.article_id == article.id, feedback.c.user_id == user.id, feedback.c.helpful != helpful)
            .values(helpful=helpful, created_at=utcnow())
            .returning(feedback.c.id)
        ).scalar()
        if changed is None:
            return
        yes, no = (1, -1) if helpful else (-1, 1)
    db.session.execute(
        update(Article).where(Article.id == article.id)
        .values(helpful_yes=Article.helpful_yes + yes, helpful_no=Article.helpful_no + no),
        execution_options={"synchronize_session": False},
    )
    db.session.expire(article, ["helpful_yes", "helpful_no"])
    publish(ArticleRated(article_id=article.id, user_id=user.id, helpful=helpful))


def recount_feedback(article: Article) -> tuple[int, int]:
    """Recompute the counters from the feedback rows (the ledger); returns (yes, no)."""
    yes = db.session.scalar(select(func.count()).where(ArticleFeedback.article_id == article.id,
                                                       ArticleFeedback.helpful.is_(True))) or 0
    no = db.session.scalar(select(func.count()).where(ArticleFeedback.article_id == article.id,
                                                      ArticleFeedback.helpful.is_(False))) or 0
    db.session.execute(update(Article).where(Article.id == article.id).values(helpful_yes=yes, helpful_no=no),
                       execution_options={"synchronize_session": False})
    db.session.expire(article, ["helpful_yes", "helpful_no"])
    return yes, no


# ---------------------------------------------------------------- reading


def get_article(article_id: int, viewer: User | None) -> Article:
    """An article the viewer may see. Raises NotFound otherwise (drafts do not leak)."""
    article = db.session.get(Article, article_id, options=[selectinload(Article.tags)])
    if article is None or not can(viewer, "view", article):
        raise NotFound("That article does not exist or is not published.")
    return article


def article_page(article: Article, viewer: User | None) -> ArticlePage:
    """The source question (if the viewer may see it) and the viewer's vote: two queries at most."""
    source = None
    if article.source_question_id is not None:
        source = db.session.get(Question, article.source_question_id)
        if source is not None and not can(viewer, "view", source):
            source = None
    vote = None
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        vote = db.session.scalar(select(ArticleFeedback.helpful).where(
            ArticleFeedback.article_id == article.id, ArticleFeedback.user_id == viewer.id))
    return ArticlePage(source_question=source, my_vote=vote)


def visible_state(viewer: User | None, state: str) -> str:
    """The state filter the viewer may use: any of STATE_FILTERS for staff, else "published"."""
    return state if state in STATE_FILTERS and can(viewer, "write_article") else "published"


def list_articles(viewer: User | None, page: int, state: str = "published", tag: str | None = None, *,
                  per_page: int | None = None) -> Page[Article]:
    """One page of articles (``per_page``, PER_PAGE by default), newest first with id as tie-breaker.

    Only staff see drafts and archived articles; everyone else gets the published ones
    whatever ``state`` says. An unknown tag gives an empty page.
    """
    stmt, when = _articles_of(viewer, state, tag)
    return paginate(stmt.order_by(when.desc(), Article.id.desc()), page, per_page)


def _articles_of(viewer: User | None, state: str, tag: str | None) -> tuple[Select[Article], Any]:
    """The articles ``list_articles`` shows, and the time column they are sorted by (newest
    first, then by id): the publication for the published ones, else the last change."""
    state = visible_state(viewer, state)
    stmt = select(Article).options(selectinload(Article.tags))
    if state != "all":
        stmt = stmt.where(Article.state == state)
    if tag:
        stmt = stmt.where(Article.tags.any(Tag.name == tag.lower()))
    return stmt, Article.published_at if state == "published" else Article.updated_at


def articles_after(viewer: User | None, state: str, tag: str | None, before: tuple[datetime, int] | None,
                   limit: int) -> tuple[list[Article], str]:
    """Up to ``limit`` articles as ``list_articles`` filters and orders them, after the keyset
    position ``before`` (sort time, id), with the name of the sort time's attribute
    ("published_at" or "updated_at") for the next position. Raises nothing."""
    stmt, when = _articles_of(viewer, state, tag)
    if before is not None:
        at, article_id = before
        stmt = stmt.where(or_(when < at, and_(when == at, Article.id < article_id)))
    rows = list(db.session.scalars(stmt.order_by(when.desc(), Article.id.desc()).limit(limit)))
    return rows, when.key


def revisions_of(article: Article) -> list[Revision]:
    return list(db.session.scalars(select(Revision).where(Revision.article_id == article.id)
                                   .order_by(Revision.number)))


def article_for_question(question_id: int, viewer: User | None) -> Article | None:
    """The article promoted from a question: the published one for everyone, any state for staff."""
    stmt = select(Article).where(Article.source_question_id == question_id)
    if not can(viewer, "write_article"):
        stmt = stmt.where(Article.state == "published")
    published_first = case((Article.state == "published", 0), else_=1)
    return db.session.scalar(stmt.order_by(published_first, Article.id).limit(1))
