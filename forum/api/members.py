"""Members: a public profile (what the profile page shows anyone) and the member's visible
questions and answers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma
from flask import url_for
from marshmallow import fields

from ..models import Answer, User
from ..services import profiles
from ..services.pages import ProfilePage, profile_page
from ..services.questions import questions_by_after
from ..templating import question_url
from .core import api_blueprint, decode_cursor, page_limit, page_of, reads, viewer
from .schemas import Cursor, Error, QuestionPage, Utc

bp = api_blueprint("members", "Members' public profiles and activity.")


# --------------------------------------------------------------------------- schemas

class Stats(ma.Schema):
    answers = fields.Integer(required=True, metadata={"description": "Visible answers."})
    accepted = fields.Integer(required=True, metadata={"description": "Of them, accepted."})
    questions = fields.Integer(required=True, metadata={"description": "Visible questions."})
    people_reached = fields.Integer(required=True, metadata={
        "description": "About how many people read threads after the member's answer was accepted."})
    deflections_this_month = fields.Integer(required=True)
    helped = fields.Integer(required=True, metadata={
        "description": "Members who said \"This solved my problem too\" on threads the member solved."})


class TopTag(ma.Schema):
    name = fields.String(required=True)
    score = fields.Integer(required=True)
    answers = fields.Integer(required=True)


class Badges(ma.Schema):
    total = fields.Integer(required=True)
    by_tier = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                          metadata={"description": "Badges held per tier (gold, silver, bronze)."})


class ProfileOut(ma.Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True, allow_none=True, metadata={"description": "null for a deleted account."})
    display_name = fields.String(required=True, metadata={"description": "\"Deleted member\" for a deleted account."})
    deleted = fields.Boolean(required=True)
    is_staff = fields.Boolean(required=True)
    role = fields.String(required=True, allow_none=True,
                         metadata={"description": "agent, moderator or admin for staff; null for members."})
    reputation = fields.Integer(required=True)
    member_since = Utc(required=True, allow_none=True, metadata={"description": "null for a deleted account."})
    bio_html = fields.String(required=True, metadata={"description": "About the member, rendered and sanitised."})
    stats = fields.Nested(Stats, required=True)
    top_tags = fields.List(fields.Nested(TopTag), required=True,
                           metadata={"description": "Tags where the member's answers earned the most score."})
    badges = fields.Nested(Badges, required=True)
    url = fields.String(required=True)
    questions_url = fields.String(required=True)
    answers_url = fields.String(required=True)


class AnswerRef(ma.Schema):
    id = fields.Integer(required=True)
    question_id = fields.Integer(required=True)
    question_title = fields.Method("_title", required=True)
    url = fields.Method("_url", required=True)
    score = fields.Integer(required=True)
    accepted = fields.Method("_accepted", required=True)
    created_at = Utc(required=True)

    def _title(self, answer: Answer) -> str:
        return answer.question.title

    def _url(self, answer: Answer) -> str:
        return question_url(answer.question, _anchor=f"answer-{answer.id}", _external=True)

    def _accepted(self, answer: Answer) -> bool:
        return bool(answer.question.accepted_answer_id == answer.id)


class AnswerRefPage(ma.Schema):
    items = fields.List(fields.Nested(AnswerRef), required=True)
    next_cursor = fields.String(required=True, allow_none=True,
                                metadata={"description": "Pass as ?cursor= for the next page; null on the last."})


# --------------------------------------------------------------------------- views

def _profile(data: ProfilePage) -> dict[str, Any]:
    info, user = data.profile, data.profile.user
    gone = user.deleted_at is not None  # the page shows no username and no "member since" either
    return {
        "id": user.id, "username": None if gone else user.username, "display_name": user.name, "deleted": gone,
        "is_staff": user.is_staff, "role": user.role if user.is_staff else None, "reputation": user.reputation,
        "member_since": None if gone else user.created_at, "bio_html": user.bio_html or "",
        "stats": {"answers": info.stats.answers, "accepted": info.stats.accepted, "questions": info.stats.questions,
                  "people_reached": info.stats.reach.people, "deflections_this_month": info.stats.reach.deflections,
                  "helped": user.helped_count},
        "top_tags": info.top_tags,
        "badges": {"total": data.badges.total, "by_tier": dict(data.badges.counts)},
        "url": url_for("users.profile", user_id=user.id, _external=True),
        "questions_url": url_for("api_members.member_questions", user_id=user.id, _external=True),
        "answers_url": url_for("api_members.member_answers", user_id=user.id, _external=True),
    }


def _after(cursor: str | None) -> tuple[datetime, int] | None:
    after = decode_cursor(cursor, (datetime, int))
    return (after[0], after[1]) if after else None


@bp.route("/users/<int:user_id>", methods=["GET"])
@reads()
@bp.response(200, ProfileOut)
@bp.alt_response(404, schema=Error, description="No member has this id.")
def get_user(user_id: int) -> dict[str, Any]:
    """A member's public profile, as the profile page shows it to anyone (never private data such
    as the e-mail address, nor moderators' notes)."""
    return _profile(profile_page(user_id, "answers", 1, viewer()))


@bp.route("/users/<int:user_id>/questions", methods=["GET"])
@reads()
@bp.arguments(Cursor, location="query", as_kwargs=True)
@bp.response(200, QuestionPage)
@bp.alt_response(404, schema=Error, description="No member has this id.")
def member_questions(user_id: int, cursor: str | None, limit: int | None) -> dict[str, Any]:
    """The member's visible questions, newest first."""
    user: User = profiles.get_member(user_id)
    size = page_limit(limit)
    rows = questions_by_after(user, _after(cursor), size + 1)
    return page_of(rows, size, lambda q: (q.created_at, q.id))


@bp.route("/users/<int:user_id>/answers", methods=["GET"])
@reads()
@bp.arguments(Cursor, location="query", as_kwargs=True)
@bp.response(200, AnswerRefPage)
@bp.alt_response(404, schema=Error, description="No member has this id.")
def member_answers(user_id: int, cursor: str | None, limit: int | None) -> dict[str, Any]:
    """The member's visible answers (in visible questions), newest first."""
    user = profiles.get_member(user_id)
    size = page_limit(limit)
    rows = profiles.answers_by_after(user, _after(cursor), size + 1)
    return page_of(rows, size, lambda a: (a.created_at, a.id))
