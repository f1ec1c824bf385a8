"""Asking, editing, deleting and listing questions; tags."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import ColumnElement, Select, case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import InstrumentedAttribute, defer, selectinload

from ..events import Body, PostEdited, QuestionAsked, publish
from ..extensions import db
from ..models import Answer, Comment, Question, Tag, User, question_tags
from ..models.base import utcnow
from .errors import FieldError, InvalidState, NotFound, check_fields
from .pagination import Page, paginate, paginate_bounded
from .permissions import can, require
from .posts import add_revision, check_body, move_tag_counts, set_body, touch_question, without_nul
from .privileges import threshold
from .safety import check_edited_post, check_new_post
from .visibility import delete_post, hide_post, undelete_post

TAG_SPLIT_RE = re.compile(r"[\s,]+")
TAG_DROP_RE = re.compile(r"[^a-z0-9+#.\-]")
TABS = ("newest", "active", "unanswered", "solved", "unsolved")


@dataclass(frozen=True)
class QuestionInput:
    title: str
    body: str
    tags: str  # space- or comma-separated, as typed


def slugify(text: str, max_length: int = 80) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "question"


def _tag_words(raw: str) -> Iterator[tuple[str, str]]:
    """Each typed word of ``raw`` and its normalised name: lowercase, only ``[a-z0-9+#.-]``,
    no leading or trailing dot or hyphen (empty when nothing usable is left)."""
    for part in TAG_SPLIT_RE.split(without_nul(raw).lower()):
        yield part, TAG_DROP_RE.sub("", part).strip(".-")


def parse_tags(raw: str) -> list[str]:
    """Normalise typed tags: lowercase, only ``[a-z0-9+#.-]``, de-duplicated, in order.

    Raises FieldError("tags") for none, more than TAGS_MAX, or one longer than TAG_MAX_LENGTH.
    """
    cfg = current_app.config
    names: list[str] = []
    for part, name in _tag_words(raw):
        if not part:
            continue
        if not name:
            raise FieldError("tags", f"{part[:40]!r} has no usable characters; use a-z, 0-9, + # . -")
        if len(name) > cfg["TAG_MAX_LENGTH"]:
            raise FieldError("tags", f"Tags are at most {cfg['TAG_MAX_LENGTH']} characters: {name[:40]}…")
        if name not in names:
            names.append(name)
    if not names:
        raise FieldError("tags", "Add at least one tag.")
    if len(names) > cfg["TAGS_MAX"]:
        raise FieldError("tags", f"Use at most {cfg['TAGS_MAX']} tags.")
    return names


def unknown_tags(names: list[str]) -> list[str]:
    """The names among ``names`` that no tag has yet, in their order (one indexed query)."""
    if not names:
        return []
    known = set(db.session.scalars(select(Tag.name).where(Tag.name.in_(names))))
    return [n for n in names if n not in known]


def typed_new_tags(raw: str | None) -> list[str]:
    """The tags typed in ``raw`` that do not exist yet, for the tag box's preview ("New tag: …").
    Lenient where ``parse_tags`` is strict (the preview never raises: the post's check says what
    is wrong), and bounded: at most twice ``TAGS_MAX`` names are looked up."""
    names: list[str] = []
    for _part, name in _tag_words(raw or ""):
        if name and name not in names and len(name) <= current_app.config["TAG_MAX_LENGTH"]:
            names.append(name)
    return unknown_tags(names[:2 * current_app.config["TAGS_MAX"]])


def check_new_tags(creator: User | None, names: list[str]) -> list[str]:
    """``names`` unchanged when ``creator`` may use them all: existing tags, or new ones with the
    ``create_tag`` privilege (staff always). ``None`` skips the check (the caller has none to judge).

    Raises FieldError("tags") naming every unknown tag and the reputation needed, so the member
    picks an existing tag instead of silently splitting the topic into new ones.
    """
    if creator is None or can(creator, "create_tag"):
        return names
    unknown = unknown_tags(names)
    if not unknown:
        return names
    quoted = ", ".join(repr(n) for n in unknown)
    what = f"{quoted} is not a tag yet" if len(unknown) == 1 else f"{quoted} are not tags yet"
    message = (f"{what}; you need {threshold('create_tag'):,} reputation to create tags "
               f"(you have {int(creator.reputation):,}) — pick an existing tag.")
    if len(unknown) > 1:
        message += f" Tags are separated by spaces: for one tag of several words use hyphens ({'-'.join(unknown[:2])})."
    raise FieldError("tags", message)


def _check_title(title: str) -> str:
    title = " ".join(without_nul(title).split())
    cfg = current_app.config
    if len(title) < cfg["TITLE_MIN_LENGTH"]:
        raise FieldError("title", f"Titles need at least {cfg['TITLE_MIN_LENGTH']} characters; say what went wrong.")
    if len(title) > cfg["TITLE_MAX_LENGTH"]:
        raise FieldError("title", f"Keep the title under {cfg['TITLE_MAX_LENGTH']} characters.")
    return title


def tags_for(names: list[str]) -> list[Tag]:
    """Tag rows for ``names`` in that order, creating the new ones.

    Two people may introduce the same new tag at the same moment: the insert skips names
    that already exist (ON CONFLICT DO NOTHING) instead of failing on the unique name.
    """
    existing = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    missing = [n for n in names if n not in existing]
    if missing:
        dialect = db.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        now = utcnow()
        db.session.execute(
            insert(Tag).values([{"name": n, "description": "", "question_count": 0, "created_at": now} for n in missing])
            .on_conflict_do_nothing(index_elements=["name"])
        )
        existing.update({t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(missing)))})
    return [existing[n] for n in names]


def sync_tag_dates(question: Question) -> None:
    """Give the question's ``question_tags`` rows its ``created_at`` (after they were flushed),
    which tag pages sort by (ix_question_tags_tag_created): a tag added by a later edit still
    lists the question by the date it was asked."""
    db.session.execute(update(question_tags).where(question_tags.c.question_id == question.id)
                       .values(created_at=question.created_at))


def ask_question(author: User, data: QuestionInput) -> Question:
    """Create a question with its first revision (held for review when the safety checks say
    so) and announce it (QuestionAsked: links, mentions and the asker following it follow).

    Raises PermissionDenied (a member who may not post), FieldError for bad input,
    RateLimited when the author posts too fast.
    """
    require(author, "ask")
    title, body, names = check_question_input(data, creator=author)
    verdict = check_new_post(author, f"{title}\n{body}", kind="question")
    tags = tags_for(names)
    now = utcnow()
    question = Question(author=author, title=title, tags=tags, created_at=now, last_activity_at=now, score=0, answer_count=0)
    rendered = set_body(question, body)
    if verdict == "review":
        question.hidden_at, question.hidden_reason = now, "review"
    db.session.add(question)
    db.session.flush()
    if verdict == "publish":
        move_tag_counts([t.id for t in tags], +1)
    sync_tag_dates(question)
    add_revision(question, author, first=True)
    db.session.flush()
    publish(QuestionAsked(question_id=question.id, author_id=author.id, published=verdict == "publish",
                          body=Body.of("question", question.id, author.id, rendered)))
    return question


def check_question_input(data: QuestionInput, creator: User | None = None) -> tuple[str, str, list[str]]:
    """(title, body, tag names) cleaned and checked; raises FieldError (FieldErrors when several
    fields are wrong: all of them are reported at once). With ``creator``, tags that do not
    exist yet need their ``create_tag`` privilege (check_new_tags)."""
    title, body, names = check_fields(
        lambda: _check_title(data.title),
        lambda: check_body(data.body, limit_key="BODY_MAX_LENGTH", minimum=20),
        lambda: check_new_tags(creator, parse_tags(data.tags)),
    )
    return title, body, names


def edit_question(editor: User, question: Question, data: QuestionInput, summary: str = "") -> Question:
    """Apply an edit and record it as a revision.

    Raises PermissionDenied when the editor may not edit, FieldError for bad input, and
    InvalidState when nothing changed (so no empty revision is stored).
    """
    require(editor, "edit", question)
    return apply_question_edit(editor, question, data, summary)


def apply_question_edit(author: User, question: Question, data: QuestionInput, summary: str = "", *,
                        checked_by: User | None = None) -> Question:
    """Change the question and record a revision credited to ``author``, with every content
    rule of an edit (watched words, new members' links, rendering, tag counts, search), judged
    for ``checked_by`` when given (the reviewer who approved a suggested edit vouches for it).

    The caller checked who may do it: edit_question, or the approval of a suggested edit.
    Raises FieldError for bad input and InvalidState when nothing changed.
    """
    title, body, names = check_question_input(data, creator=checked_by or author)
    old_names = [t.name for t in question.tags]
    if title == question.title and body == question.body and names == old_names:
        raise InvalidState("Nothing changed.")
    verdict = check_edited_post(checked_by or author, f"{title}\n{body}")
    if names != old_names:
        old_ids = {t.id for t in question.tags}
        question.tags = tags_for(names)
        new_ids = {t.id for t in question.tags}
        if question.is_visible:
            move_tag_counts(sorted(old_ids - new_ids), -1)
            move_tag_counts(sorted(new_ids - old_ids), +1)
        db.session.flush()
        sync_tag_dates(question)
    question.title = title
    rendered = set_body(question, body)
    question.edited_at = utcnow()
    db.session.flush()
    add_revision(question, author, summary)
    touch_question(question.id, question.edited_at)
    if verdict == "review":
        hide_post(question, "review")
    db.session.flush()
    publish(PostEdited(question_id=question.id, post_type="question", post_id=question.id, editor_id=author.id,
                       body=Body.of("question", question.id, author.id, rendered)))
    return question


def delete_question(actor: User, question: Question) -> None:
    """Soft-delete: hidden from others, kept for its author and staff, restorable.
    Raises PermissionDenied."""
    require(actor, "delete", question)
    delete_post(actor, question)


def restore_question(actor: User, question: Question) -> None:
    """Undo a soft deletion. Raises PermissionDenied."""
    require(actor, "restore", question)
    undelete_post(question)


def get_question(question_id: int, viewer: User | None) -> Question:
    """Return a question the viewer may see. Raises NotFound otherwise (no existence leak)."""
    question = db.session.get(Question, question_id, options=[selectinload(Question.tags)])
    if question is None or not can(viewer, "view", question):
        raise NotFound("That question does not exist or was deleted.")
    return question


def load_thread(question: Question, viewer: User | None) -> tuple[list[Answer], dict[int | None, list[Comment]]]:
    """Answers the viewer may see (score, then age) and comments keyed by answer id (None = on the question).

    A fixed number of queries whatever the size of the thread.
    """
    stmt = select(Answer).where(Answer.question_id == question.id)
    visible = Answer.is_visible
    if not can(viewer, "see_deleted"):
        if viewer is not None and getattr(viewer, "is_authenticated", False):
            stmt = stmt.where(visible | (Answer.author_id == viewer.id))
        else:
            stmt = stmt.where(visible)
    # The accepted answer comes first, then score, then age.
    accepted_first = case((Answer.id == question.accepted_answer_id, 0), else_=1)
    # The page shows the rendered HTML: the Markdown source and the plain text for search are
    # not loaded (a template that touched them would query, which tests/web/test_page_data.py fails).
    stmt = stmt.options(defer(Answer.body), defer(Answer.body_text))
    answers = list(db.session.scalars(stmt.order_by(accepted_first, Answer.score.desc(), Answer.created_at, Answer.id)))
    answer_ids = {a.id for a in answers}
    comments: dict[int | None, list[Comment]] = {None: []}
    for a in answers:
        comments[a.id] = []
    cstmt = select(Comment).where(Comment.question_id == question.id, Comment.deleted_at.is_(None))
    staff = can(viewer, "see_deleted")
    viewer_id = getattr(viewer, "id", None) if viewer is not None and getattr(viewer, "is_authenticated", False) else None
    for c in db.session.scalars(cstmt.options(defer(Comment.body)).order_by(Comment.created_at, Comment.id)):
        if c.hidden_at is not None and not (staff or c.author_id == viewer_id):
            continue
        if c.answer_id is None or c.answer_id in answer_ids:
            comments[c.answer_id].append(c)
    return answers, comments


def _visible_questions() -> Select[Question]:
    return (select(Question).where(Question.is_visible)
            .options(selectinload(Question.tags)))


def list_questions(tab: str, page: int, tag: Tag | None = None, *, per_page: int | None = None,
                   count: bool = True, count_cap: int | None = None) -> Page[Question]:
    """One page of visible questions in a stable order (ties broken by id).

    Bounded work whatever the size of the forum: the count stops at ``count_cap`` (at most
    LIST_COUNT_CAP, the default; not run at all with ``count=False`` or when the page shows the
    end of the list), and each order has an index (migration d1d1e2f3a4b5, checked by tests/services/test_list_indexes.py).
    """
    stmt = _visible_questions()
    if tag is not None and tab == "newest":
        # One index walk in date order (ix_question_tags_tag_created), joined to each question
        # by its key; the total is the tag's own counter of visible questions (exact, no count).
        stmt = (stmt.join(question_tags, question_tags.c.question_id == Question.id)
                .where(question_tags.c.tag_id == tag.id)
                .order_by(question_tags.c.created_at.desc(), question_tags.c.question_id.desc()))
        return paginate_bounded(stmt, page, per_page, total=tag.question_count)
    if tag is not None:
        stmt = stmt.where(Question.tags.any(Tag.id == tag.id))
    if tab == "active":
        stmt = stmt.order_by(Question.last_activity_at.desc(), Question.id.desc())
    elif tab == "unanswered":
        # "Needs help" lists leave closed questions out (a closed duplicate is answered
        # elsewhere); the partial index ix_questions_unanswered still serves the order.
        stmt = (stmt.where(Question.answer_count == 0, Question.closed_at.is_(None))
                .order_by(Question.created_at.desc(), Question.id.desc()))
    elif tab == "solved":
        stmt = stmt.where(Question.accepted_answer_id.is_not(None)).order_by(Question.created_at.desc(), Question.id.desc())
    elif tab == "unsolved":
        stmt = (stmt.where(Question.accepted_answer_id.is_(None), Question.closed_at.is_(None))
                .order_by(Question.created_at.desc(), Question.id.desc()))
    else:
        stmt = stmt.order_by(Question.created_at.desc(), Question.id.desc())
    return paginate_bounded(stmt, page, per_page, count=count, cap=count_cap)


@dataclass(frozen=True)
class QuestionFilter:
    """What the API's question list asks for; every filter is optional."""

    tag: str | None = None
    solved: bool | None = None
    unanswered: bool | None = None
    since: datetime | None = None  # activity at or after (naive UTC)


def questions_after(filters: QuestionFilter, before_id: int | None, limit: int) -> list[Question]:
    """Up to ``limit`` visible questions matching ``filters``, newest first, with ids below
    ``before_id`` (a keyset cursor: the walk down the primary key costs the same on page 1 and
    page 1,000). An unknown tag matches nothing. Raises nothing."""
    stmt = _visible_questions()
    if filters.tag is not None:
        tag_id = db.session.scalar(select(Tag.id).where(Tag.name == filters.tag.lower()))
        if tag_id is None:
            return []
        stmt = stmt.where(Question.id.in_(select(question_tags.c.question_id).where(question_tags.c.tag_id == tag_id)))
    if filters.solved is not None:
        stmt = stmt.where(Question.accepted_answer_id.is_not(None) if filters.solved
                          else Question.accepted_answer_id.is_(None))
    if filters.unanswered is not None:
        stmt = stmt.where(Question.answer_count == 0 if filters.unanswered else Question.answer_count > 0)
    if filters.since is not None:
        stmt = stmt.where(Question.last_activity_at >= filters.since)
    if before_id is not None:
        stmt = stmt.where(Question.id < before_id)
    return list(db.session.scalars(stmt.order_by(Question.id.desc()).limit(limit)))


def get_tag(name: str) -> Tag:
    """The tag named ``name`` (any case). Raises NotFound for an unknown name, also one no tag
    could have (a NUL, which PostgreSQL would refuse to compare: a 500 instead of a 404)."""
    tag = db.session.scalar(select(Tag).where(Tag.name == name.lower())) if "\x00" not in name else None
    if tag is None:
        raise NotFound(f"No tag named {name!r}.")
    return tag


TAG_SORTS = ("popular", "name")


def _listed_tags(sort: str) -> Select[Tag]:
    """Tags with visible questions, the most used first (ties by name) or by name."""
    stmt = select(Tag).where(Tag.question_count > 0)
    if sort == "name":
        return stmt.order_by(Tag.name)
    return stmt.order_by(Tag.question_count.desc(), Tag.name)


def list_tags(page: int, sort: str = "popular") -> Page[Tag]:
    return paginate(_listed_tags(sort), page, per_page=60)


def tags_after(sort: str, after: tuple[int, str] | None, limit: int) -> list[Tag]:
    """Up to ``limit`` tags of the tags page's list in its order (``sort``: "popular" or "name"),
    after the tag whose (question_count, name) is ``after`` (a keyset cursor). Raises nothing."""
    stmt = _listed_tags(sort)
    if after is not None:
        count, name = after
        if sort == "name":
            stmt = stmt.where(Tag.name > name)
        else:
            stmt = stmt.where((Tag.question_count < count) | ((Tag.question_count == count) & (Tag.name > name)))
    return list(db.session.scalars(stmt.limit(limit)))


def questions_by(user: User, page: int, per_page: int | None = None) -> Page[Question]:
    """The member's visible questions, newest first (the profile's tab and the member's feed)."""
    stmt = _visible_questions().where(Question.author_id == user.id)
    return paginate(stmt.order_by(Question.created_at.desc(), Question.id.desc()), page, per_page)


def questions_by_after(user: User, after: tuple[datetime, int] | None, limit: int) -> list[Question]:
    """Up to ``limit`` of the member's visible questions, newest first, after the one whose
    (created_at, id) is ``after`` (a keyset cursor: the API's list of a member's questions)."""
    stmt = _visible_questions().where(Question.author_id == user.id)
    if after is not None:
        stmt = stmt.where(newer_first_after(Question.created_at, Question.id, after))
    return list(db.session.scalars(stmt.order_by(Question.created_at.desc(), Question.id.desc()).limit(limit)))


def newer_first_after(created: InstrumentedAttribute[datetime], ident: InstrumentedAttribute[int],
                      after: tuple[datetime, int]) -> ColumnElement[bool]:
    """The rows after ``after`` = (created_at, id) in the order created_at desc, id desc."""
    return (created < after[0]) | ((created == after[0]) & (ident < after[1]))
