"""Demo community for `flask forum seed-demo`: the Lumen self-help forum, read from ``data/*.toml``.

Lumen is a fictional smart home hub plus mobile app (iOS/Android) made by the fictional
company Brightway. The content lives in TOML files beside this module (users, tags, questions
with their answers and comments, articles, curation, the support desk), written to look like
a real customer community a few weeks after launch; this module only reads them and names
their shapes. The conventions the seeder relies on are written at the top of each file and
enforced by tests/unit/test_demo_content.py.
"""
from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any, TypedDict, cast


class UserSpec(TypedDict):
    username: str
    display_name: str
    email: str
    role: str  # "member", "agent", "moderator" or "admin"
    bio: str


class TagSpec(TypedDict):
    name: str
    description: str


class CommentSpec(TypedDict):
    author: str
    body: str
    minutes_after: float


class _AnswerRequired(TypedDict):
    author: str
    body: str
    minutes_after: float
    comments: list[CommentSpec]


class AnswerSpec(_AnswerRequired, total=False):
    accepted: bool
    score_hint: int


class _QuestionRequired(TypedDict):
    author: str
    title: str
    body: str
    tags: list[str]
    days_ago: float
    comments: list[CommentSpec]
    answers: list[AnswerSpec]


class QuestionSpec(_QuestionRequired, total=False):
    score_hint: int


class ArticleSpec(TypedDict):
    author: str
    title: str
    body: str
    tags: list[str]
    days_ago: float


class SuggestedEditSpec(TypedDict):
    author: str
    question: int  # index in QUESTIONS
    answer_by: str  # "" for the question itself, else the author of the answer edited
    append: str  # a paragraph added at the end of the body
    summary: str
    reviewer: str  # "" leaves it pending in the review queue
    decision: str  # "approve", "reject" or "" (pending)
    reason: str


class LinkSpec(TypedDict):
    """A staff comment on the thread titled ``on`` that links the thread (or article) titled
    ``to``: ``{target}`` becomes ``#<id>`` (or ``/articles/<id>``), ``{asker}`` the asker's name."""

    on: str
    to: str
    author: str
    body: str
    hours_after: float


class CannedReplySpec(TypedDict):
    title: str
    body: str


class TriageSpec(TypedDict):
    title_starts: str
    type: str
    severity: str


class CaseMessageSpec(TypedDict):
    by: str  # "agent" or "asker"
    body: str


class CaseSpec(TypedDict):
    title_starts: str
    status: str
    messages: list[CaseMessageSpec]


class FlagSpec(TypedDict):
    """A flag raised on the question titled ``on`` (or on the first comment there by
    ``comment_by``), left pending (``moderator`` "") or resolved with ``action``."""

    flagger: str
    on: str
    comment_by: str
    reason: str
    note: str
    moderator: str
    action: str
    days_ago: float
    hours_later: float


class SupportDeskSpec(TypedDict):
    """The support desk: who does what, canned replies, triage and one private case."""

    agent: str
    triager: str
    admin: str
    canned_replies: list[CannedReplySpec]
    triage: list[TriageSpec]
    case: CaseSpec


def _load(name: str) -> dict[str, Any]:
    """Parse ``data/<name>``; raises tomllib.TOMLDecodeError if a hand edit broke the file."""
    return tomllib.loads(resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8"))


_users = _load("users.toml")
_curation = _load("curation.toml")

DEMO_PASSWORD: str = _users["password"]
USERS = cast(list[UserSpec], _users["users"])
# Reputation earned before the recorded history starts (one ledger row each).
STARTING_REPUTATION = cast(dict[str, int], _users["starting_reputation"])
# Tags demo members follow (daily digest; "Following" on the settings page).
TAG_FOLLOWS = cast(dict[str, list[str]], _users["tag_follows"])
TAGS = cast(list[TagSpec], _load("tags.toml")["tags"])
QUESTIONS = cast(list[QuestionSpec], _load("questions.toml")["questions"])
# Official knowledge-base articles, published by the support team.
ARTICLES = cast(list[ArticleSpec], _load("articles.toml")["articles"])
SUGGESTED_EDITS = cast(list[SuggestedEditSpec], _curation["suggested_edits"])
# Linked threads and @mentions (seeded after the questions and articles, so ids are known).
THREAD_LINKS = cast(list[LinkSpec], _curation["thread_links"])
# Flags in the moderators' queue and in /insights: one dismissed, one waiting.
FLAGS = cast(list[FlagSpec], _curation["flags"])
SUPPORT_DESK = cast(SupportDeskSpec, _load("support.toml"))
