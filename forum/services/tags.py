"""Tags: suggestions while typing, and the description (wiki) staff write for each tag.

Which tags a question may carry, and who may create a new one, is decided where questions
are written (``questions.parse_tags``, ``questions.check_new_tags``); see docs/tags.md.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, select

from ..events import TagEdited, publish
from ..extensions import db
from ..markup import render_markdown
from ..markup.text import excerpt
from ..models import Tag, User
from ..models.base import utcnow
from .audit import log_action
from .errors import FieldError, InvalidState
from .permissions import require
from .posts import without_nul
from .questions import TAG_DROP_RE

EXCERPT_LENGTH = 200  # characters of the wiki shown in lists and suggestions


@dataclass(frozen=True)
class TagSuggestion:
    name: str
    excerpt: str  # plain text, the start of the tag's description
    count: int  # visible questions carrying the tag


def normalise_prefix(raw: str) -> str:
    """What was typed, as the start of a tag name: lowercase, only the characters tags may hold."""
    return TAG_DROP_RE.sub("", without_nul(raw).lower())[: int(current_app.config["TAG_MAX_LENGTH"])]


def suggest_tags(raw: str, limit: int | None = None) -> list[TagSuggestion]:
    """Existing tags starting with ``raw`` (normalised), the exact name first, then by usage.

    One range scan of ``ix_tags_name_prefix`` (text_pattern_ops on PostgreSQL) and a top-N sort
    of the matches; an empty prefix suggests nothing.
    """
    prefix = normalise_prefix(raw)
    if not prefix:
        return []
    rows = db.session.execute(suggestion_query(prefix, limit or int(current_app.config["TAG_SUGGESTIONS_MAX"]))).all()
    return [TagSuggestion(name, description, count) for name, description, count in rows]


def suggestion_query(prefix: str, limit: int) -> Select[str, str, int]:
    """The lookup behind suggest_tags for a normalised ``prefix`` (tests EXPLAIN it)."""
    return (select(Tag.name, Tag.description, Tag.question_count)
            .where(Tag.name.startswith(prefix, autoescape=True))
            .order_by((Tag.name == prefix).desc(), Tag.question_count.desc(), Tag.name)
            .limit(limit))


def edit_tag_wiki(actor: User, tag: Tag, wiki: str) -> Tag:
    """Replace a tag's description: the Markdown, its HTML (forum/markup) and the plain-text
    excerpt lists and suggestions show; logged in the moderation log and announced as
    TagEdited (the cached tag page and lists are bumped).

    Raises PermissionDenied unless ``actor`` is staff, FieldError("wiki") when it is longer
    than TAG_WIKI_MAX_LENGTH, InvalidState when nothing changed.
    """
    require(actor, "edit_tag", tag)
    wiki = without_nul(wiki).replace("\r\n", "\n").strip()
    limit = int(current_app.config["TAG_WIKI_MAX_LENGTH"])
    if len(wiki) > limit:
        raise FieldError("wiki", f"Keep the description under {limit:,} characters (this is {len(wiki):,}).")
    if wiki == tag.wiki:
        raise InvalidState("Nothing changed.")
    before = tag.wiki
    tag.wiki = wiki
    tag.wiki_html = render_markdown(wiki)
    tag.description = excerpt(tag.wiki_html, EXCERPT_LENGTH) if tag.wiki_html else ""
    tag.wiki_edited_at = utcnow()
    log_action(actor, "edit_tag", "tag", tag.id, before={"name": tag.name, "wiki": before},
               after={"name": tag.name, "wiki": wiki})
    db.session.flush()
    publish(TagEdited(tag_id=tag.id, actor_id=actor.id))
    return tag
