"""The API's JSON shapes (marshmallow): what views accept and what they return.

flask-smorest turns them into the OpenAPI document (``/api/v1/openapi.json``), so the schema
published is the code that validates and dumps. Output schemas read model attributes; URLs are
absolute links to the pages.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

from ..models import Article, Question


class Utc(fields.DateTime):
    """A time in UTC, written with its offset (``2026-12-06T16:00:00Z``); stored times are naive UTC."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class With:
    """A row with extra attributes for dumping (an answer with its visible comments), since the
    relationships would include hidden ones."""

    def __init__(self, row: Any, **extra: Any) -> None:
        self._row = row
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


class ErrorBody(ma.Schema):
    code = fields.String(required=True, metadata={"description": "A stable word: not_found, forbidden, invalid, "
                                                  "unauthorized, insufficient_scope, rate_limited, conflict, …"})
    status = fields.Integer(required=True, metadata={"description": "The HTTP status, repeated."})
    message = fields.String(required=True, metadata={"description": "What went wrong, for a person."})
    field = fields.String(required=True, allow_none=True,
                          metadata={"description": "The input the error is about (JSON key, query parameter or "
                                                   "header), or null."})
    help_url = fields.String(metadata={"description": "A page that explains the refusal."})


class Error(ma.Schema):
    """Every error the API answers: ``{"error": {"code", "status", "message", "field"}}``."""

    error = fields.Nested(ErrorBody, required=True)


# --------------------------------------------------------------------------- output

class Author(ma.Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    reputation = fields.Integer(required=True)
    is_staff = fields.Boolean(required=True)
    url = fields.Method("_url", required=True)

    def _url(self, user: Any) -> str:
        return url_for("users.profile", user_id=user.id, _external=True)


class CommentOut(ma.Schema):
    id = fields.Integer(required=True)
    body = fields.String(required=True, metadata={"description": "Markdown as written."})
    body_html = fields.String(required=True, metadata={"description": "Rendered and sanitised HTML."})
    author = fields.Nested(Author, required=True)
    created_at = Utc(required=True)
    edited_at = Utc(required=True, allow_none=True)


class AnswerOut(ma.Schema):
    id = fields.Integer(required=True)
    question_id = fields.Integer(required=True)
    body = fields.String(required=True)
    body_html = fields.String(required=True)
    score = fields.Integer(required=True)
    accepted = fields.Method("_accepted", required=True)
    official = fields.Method("_official", required=True)
    author = fields.Nested(Author, required=True)
    created_at = Utc(required=True)
    edited_at = Utc(required=True, allow_none=True)
    comments = fields.List(fields.Nested(CommentOut), required=True,
                           metadata={"description": "Its visible comments, oldest first."})

    def _accepted(self, answer: Any) -> bool:
        return bool(answer.question.accepted_answer_id == answer.id)

    def _official(self, answer: Any) -> bool:
        return answer.official_at is not None


class QuestionSummary(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    url = fields.Method("_url", required=True)
    tags = fields.Method("_tags", required=True)
    score = fields.Integer(required=True)
    answer_count = fields.Integer(required=True)
    solved = fields.Method("_solved", required=True)
    accepted_answer_id = fields.Integer(required=True, allow_none=True)
    closed = fields.Method("_closed", required=True)
    locked = fields.Method("_locked", required=True)
    pinned = fields.Method("_pinned", required=True)
    author = fields.Nested(Author, required=True)
    created_at = Utc(required=True)
    last_activity_at = Utc(required=True)

    def _url(self, q: Question) -> str:
        return url_for("questions.show", question_id=q.id, _external=True)

    def _tags(self, q: Question) -> list[str]:
        return [t.name for t in q.tags]

    def _solved(self, q: Question) -> bool:
        return q.accepted_answer_id is not None

    def _closed(self, q: Question) -> bool:
        return q.closed_at is not None

    def _locked(self, q: Question) -> bool:
        return q.locked_at is not None

    def _pinned(self, q: Question) -> bool:
        return q.pinned_at is not None


class QuestionOut(QuestionSummary):
    body = fields.String(required=True)
    body_html = fields.String(required=True)
    edited_at = Utc(required=True, allow_none=True)
    close_reason = fields.String(required=True, allow_none=True)
    duplicate_of_id = fields.Integer(required=True, allow_none=True)
    comments = fields.List(fields.Nested(CommentOut), required=True)
    answers = fields.List(fields.Nested(AnswerOut), required=True)


class QuestionPage(ma.Schema):
    items = fields.List(fields.Nested(QuestionSummary), required=True)
    next_cursor = fields.String(required=True, allow_none=True,
                                metadata={"description": "Pass as ?cursor= for the next page; null on the last."})


# --------------------------------------------------------------------------- input

class Cursor(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    cursor = fields.String(load_default=None, validate=validate.Length(max=500),
                           metadata={"description": "From the previous page's next_cursor."})
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1, max=100),
                           metadata={"description": "Items per page (default 20, at most 100)."})


class QuestionFilters(Cursor):
    tag = fields.String(load_default=None, validate=validate.Length(min=1, max=35))
    solved = fields.Boolean(load_default=None, metadata={"description": "Only solved (true) or unsolved (false)."})
    unanswered = fields.Boolean(load_default=None, metadata={"description": "Only questions without an answer."})
    since = fields.AwareDateTime(load_default=None, default_timezone=None,
                                 metadata={"description": "Only questions with activity at or after this time "
                                                          "(ISO 8601 with a time zone)."})


class AskIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    title = fields.String(required=True, validate=validate.Length(max=150))
    body = fields.String(required=True, validate=validate.Length(max=30_000))
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=35)), load_default=list,
                       validate=validate.Length(max=5))


__all__ = ["Utc", "With", "AnswerOut", "Article", "AskIn", "Author", "CommentOut", "Cursor", "Error", "QuestionFilters",
           "QuestionOut", "QuestionPage", "QuestionSummary"]
