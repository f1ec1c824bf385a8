"""Linked threads: links between posts, recorded at write time, read back as cards and backlinks.

Writing: every service that stores a body renders it with :func:`render_body` (Markdown plus
site links, ``#123`` and ``@mentions``, forum.markup.links) and, once the post has an id,
announces it with an event carrying what the body points at (``events.Body``). The
subscriber :func:`record_body_links` then replaces the post's rows in ``post_links``, and
forum.services.mentions records (and notifies) new mentions (forum/subscribers.py).

Reading: the cards under a post and the "Linked from" lists are built from ``post_links``
with fresh rows (titles and scores change after the link was written), in a fixed number of
queries whatever the number of links. Visibility is checked at read time: a deleted or
hidden source shows no backlink until it is restored, and a target the viewer may not see
shows no card and no title.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, bindparam, delete, exists, false, literal, or_, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..events import AnswerPosted, BodyEvent, CommentAdded, QuestionAsked
from ..extensions import db
from ..markup import Rendered, Resolved, render_post
from ..markup.links import site_target
from ..models import Answer, Article, Comment, PostLink, Question, User
from .permissions import can
from .search import search_posts

Post = Question | Answer | Comment | Article
BACKLINKS_MAX = 20
PICKER_LIMIT = 8
_NUMBER_RE = re.compile(r"^#?(\d{1,9})$")


# ----------------------------------------------------------------------------- writing


class _Resolver:
    """forum.markup.LinkResolver backed by the database: at most one query per kind."""

    def __init__(self) -> None:
        cfg = current_app.config
        hosts = {urlsplit(cfg["SITE_URL"]).netloc.lower()}
        hosts.update(h.strip().lower() for h in cfg["LINK_HOSTS"].split(",") if h.strip())
        self.hosts = frozenset(h for h in hosts if h)
        self.mentions_max = int(cfg["MENTIONS_MAX"])

    def resolve(self, questions: set[int], articles: set[int], usernames: set[str]) -> Resolved:
        q = set(db.session.scalars(select(Question.id).where(Question.id.in_(questions)))) if questions else set()
        a = set(db.session.scalars(select(Article.id).where(Article.id.in_(articles)))) if articles else set()
        users: dict[str, tuple[int, str]] = {}
        if usernames:
            rows = db.session.execute(select(User.username_key, User.id, User.username)
                                      .where(User.username_key.in_(usernames)))
            users = {key: (uid, name) for key, uid, name in rows}
        return Resolved(frozenset(q), frozenset(a), users)


def link_hosts() -> frozenset[str]:
    return _Resolver().hosts


def remote_images() -> bool:
    """Whether bodies show images from other hosts (setting REMOTE_IMAGES; docs/uploads.md)."""
    return bool(current_app.config["REMOTE_IMAGES"])


def render_body(body: str, *, inline: bool = False) -> Rendered:
    """Render a post body (``inline``: a comment) with its site links and mentions resolved."""
    return render_post(body, _Resolver(), inline=inline, remote_images=remote_images())


def source_of(post: Post) -> tuple[str, int, int | None]:
    """(source type, id, thread question id) of a post; the thread is None for articles."""
    if isinstance(post, Question):
        return "question", post.id, post.id
    if isinstance(post, Answer):
        return "answer", post.id, post.question_id
    if isinstance(post, Comment):
        return "comment", post.id, post.question_id
    return "article", post.id, None


def record_links(source_type: str, source_id: int, thread_id: int | None,
                 targets: Iterable[tuple[str, int]], *, new: bool = False) -> None:
    """Replace the outgoing links of one post (``thread_id``: its question; None for articles).

    Links inside one thread (an answer pointing at its own question) are not linked threads
    and are skipped, as is anything past LINKS_MAX. The insert skips rows that exist, so two
    edits of the same post at once cannot fail on the unique constraint. ``new``: the post was
    just created and has no links to replace (one DELETE fewer per new post).
    """
    if not new:
        db.session.execute(delete(PostLink).where(PostLink.source_type == source_type,
                                                  PostLink.source_id == source_id),
                           execution_options={"synchronize_session": False})
    kept = [t for t in targets if t != ("question", thread_id) and t != (source_type, source_id)]
    kept = kept[: current_app.config["LINKS_MAX"]]
    if not kept:
        return
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(PostLink).values([
        {"source_type": source_type, "source_id": source_id, "thread_id": thread_id, "target_type": t_kind,
         "target_id": t_id, "position": n} for n, (t_kind, t_id) in enumerate(kept)
    ]).on_conflict_do_nothing(index_elements=["source_type", "source_id", "target_type", "target_id"]))


def record_body_links(event: BodyEvent) -> None:
    """Subscriber: a post or article was written; its links are those of the stored body."""
    body = event.body
    thread = None if body.source_type == "article" else event.question_id
    record_links(body.source_type, body.source_id, thread, body.links,
                 new=isinstance(event, (QuestionAsked, AnswerPosted, CommentAdded)))


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Card:
    """A linked question or article as the viewer may see it; ``state`` is set only for staff views."""

    kind: str
    row: Question | Article
    state: str = ""  # "deleted", "hidden", "draft", "archived" (only shown to who may see them)


@dataclass
class Backlinks:
    threads: list[Question] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    duplicates: list[Question] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.threads or self.articles or self.duplicates)


@dataclass
class PageLinks:
    """Cards keyed by source ("question", id) / ("answer", id) / ("article", id), and backlinks."""

    cards: dict[tuple[str, int], list[Card]]
    backlinks: Backlinks


def _state(row: Question | Article) -> str:
    if isinstance(row, Article):
        return "" if row.is_published else row.state
    return "deleted" if row.is_deleted else "hidden" if row.is_hidden else ""


def _visible_source() -> Any:
    """SQL: the link's source post is visible (its thread's own visibility is checked by the caller)."""
    answer_ok = exists().where(Answer.id == PostLink.source_id, Answer.is_visible)
    parent_ok = or_(Comment.answer_id.is_(None), exists().where(
        Answer.id == Comment.answer_id, Answer.is_visible))
    comment_ok = exists().where(Comment.id == PostLink.source_id, Comment.is_visible, parent_ok)
    return or_(PostLink.source_type == "question",
               and_(PostLink.source_type == "answer", answer_ok),
               and_(PostLink.source_type == "comment", comment_ok))


def _part(label: str, stmt: Any) -> Any:
    """One arm of the page's UNION ALL, wrapped so it may keep its own ORDER BY and LIMIT (SQLite)."""
    sub = stmt.subquery()
    return select(literal(label).label("part"), *sub.c)


def _edge_rows(sources: list[tuple[str, int]], target: Question | Article) -> list[Any]:
    """One query: the page's outgoing links, and the ids of its backlinks and duplicates.

    Rows are (part, source_type, source_id, target_type, target_id, position); ``part`` is
    "card", "thread", "article" or "duplicate". Backlink arms keep only sources everyone
    may see and at most BACKLINKS_MAX rows each.
    """
    by_type: dict[str, list[int]] = {}
    for kind, ident in sources:
        by_type.setdefault(kind, []).append(ident)
    is_article = isinstance(target, Article)
    stmt = _edge_statement(tuple(sorted(by_type)), is_article)
    params: dict[str, Any] = {f"ids_{kind}": ids for kind, ids in by_type.items()}
    params["target_id"] = target.id
    return list(db.session.execute(stmt, params))


_EDGE_STATEMENTS: dict[tuple[tuple[str, ...], bool], Any] = {}


def _edge_statement(kinds: tuple[str, ...], is_article: bool) -> Any:
    """The UNION of ``_edge_rows`` for pages whose sources are of ``kinds``, with bound
    parameters (``ids_<kind>`` expanding, ``target_id``). Built once per shape and process:
    building this statement (four arms, correlated EXISTS) cost more than running it, on
    every question page (docs/performance.md, "Signed-in question page")."""
    key = (kinds, is_article)
    stmt = _EDGE_STATEMENTS.get(key)
    if stmt is not None:
        return stmt
    target_id: Any = bindparam("target_id")
    to_target = and_(PostLink.target_type == ("article" if is_article else "question"),
                     PostLink.target_id == target_id)
    zero, empty = literal(0), literal("")
    cards = select(PostLink.source_type, PostLink.source_id, PostLink.target_type, PostLink.target_id,
                   PostLink.position).where(or_(false(), *(
                       and_(PostLink.source_type == k, PostLink.source_id.in_(bindparam(f"ids_{k}", expanding=True)))
                       for k in kinds)))
    threads = (select(empty.label("st"), zero.label("si"), literal("question").label("tt"), Question.id, zero.label("p"))
               .where(Question.id.in_(select(PostLink.thread_id).where(to_target, _visible_source())),
                      Question.is_visible,
                      Question.id != (-1 if is_article else target_id))
               .order_by(Question.score.desc(), Question.id.desc()).limit(BACKLINKS_MAX))
    articles = (select(empty.label("st"), zero.label("si"), literal("article").label("tt"), Article.id, zero.label("p"))
                .where(Article.id.in_(select(PostLink.source_id).where(to_target, PostLink.source_type == "article")),
                       Article.state == "published", Article.id != (target_id if is_article else -1))
                .order_by(Article.published_at.desc(), Article.id.desc()).limit(BACKLINKS_MAX))
    parts = [_part("card", cards), _part("thread", threads), _part("article", articles)]
    if not is_article:
        parts.append(_part("duplicate", select(
            empty.label("st"), zero.label("si"), literal("question").label("tt"), Question.id, zero.label("p"))
            .where(Question.duplicate_of_id == target_id, Question.is_visible)
            .order_by(Question.closed_at.desc(), Question.id.desc()).limit(BACKLINKS_MAX)))
    stmt = union_all(*parts)
    _EDGE_STATEMENTS[key] = stmt
    return stmt


def page_links(sources: list[tuple[str, int]], target: Question | Article, viewer: Any) -> PageLinks:
    """Cards for the posts ``sources`` of a page, and the backlinks of the page's ``target``.

    One query when nothing links anywhere, three at most otherwise (the UNION, then the
    questions and the articles named), whatever the number of posts and links.
    """
    rows = sorted(_edge_rows(sources, target), key=lambda r: (r.part, r[5], r[4]))
    want: dict[str, set[int]] = {"question": set(), "article": set()}
    for r in rows:
        want[r[3]].add(r[4])
    loaded: dict[tuple[str, int], Question | Article] = {}
    if want["question"]:
        loaded.update((("question", q.id), q) for q in db.session.scalars(
            select(Question).where(Question.id.in_(want["question"]))))
    if want["article"]:
        loaded.update((("article", a.id), a) for a in db.session.scalars(
            select(Article).where(Article.id.in_(want["article"]))))
    cards: dict[tuple[str, int], list[Card]] = {}
    back = Backlinks()
    for r in rows:
        row = loaded.get((r[3], r[4]))
        if row is None:
            continue
        if r.part == "card":
            if can(viewer, "view", row):
                cards.setdefault((r[1], r[2]), []).append(Card(r[3], row, _state(row)))
        elif r.part == "article":
            back.articles.append(row)  # type: ignore[arg-type]
        elif r.part == "duplicate":
            back.duplicates.append(row)  # type: ignore[arg-type]
        else:
            back.threads.append(row)  # type: ignore[arg-type]
    dupes = {q.id for q in back.duplicates}
    back.threads = sorted((q for q in back.threads if q.id not in dupes), key=lambda q: (-q.score, -q.id))
    back.duplicates.sort(key=lambda q: q.closed_at or q.created_at, reverse=True)
    back.articles.sort(key=lambda a: a.published_at or a.created_at, reverse=True)
    return PageLinks(cards, back)


def thread_links(question: Question, answers: Iterable[Answer], viewer: Any) -> PageLinks:
    """Cards for the question and its answers, and the question's backlinks and duplicates."""
    return page_links([("question", question.id), *(("answer", a.id) for a in answers)], question, viewer)


def article_links(article: Article, viewer: Any) -> PageLinks:
    """Cards for the article's own links, and the threads and articles linking to it."""
    return page_links([("article", article.id)], article, viewer)


def backlinks_to(target: Question | Article) -> Backlinks:
    """The "Linked from" lists of ``target`` as anyone sees them (no cards)."""
    return page_links([], target, None).backlinks


# ----------------------------------------------------------------------------- the composer


def find_link_targets(viewer: Any, query: str, limit: int = PICKER_LIMIT) -> list[Question | Article]:
    """Questions and published articles for the composer's "Insert link" picker.

    "#12", "12" or a link to this site find that question (or article) directly; anything
    else goes through the search index. Only rows the viewer may see; never raises for a
    malformed query (an unavailable index gives an empty list, logged).
    """
    query = query.strip()[:200]
    if not query:
        return []
    direct: tuple[str, int] | None = None
    number = _NUMBER_RE.match(query)
    if number:
        direct = ("question", int(number.group(1)))
    else:
        target = site_target(query, link_hosts())
        direct = (target[0], target[1]) if target else None
    if direct is not None:  # only live targets: nobody links a deleted thread on purpose
        row: Question | Article | None = (db.session.get(Question, direct[1]) if direct[0] == "question"
                                          else db.session.get(Article, direct[1]))
        return [row] if row is not None and can(viewer, "view", row) and not _state(row) else []
    try:
        page = search_posts(viewer, query)
    except Exception:
        current_app.logger.warning("link picker search unavailable", exc_info=True)
        return []
    return [post for r in page.results if (post := r.article or r.question) is not None][:limit]
