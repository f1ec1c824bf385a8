"""The badge catalogue: what each badge rewards, its tier, the events that can award it, and
its condition as one query over the real data.

A rule is ``rule(user_ids, tag_names) -> Select`` giving one row per qualifying member:
``(user_id, ref)`` or, for tag badges, ``(user_id, tag_name, ref)``, where ``ref`` is the
post that earned it (the first one) or NULL. ``user_ids=None`` means everyone (the backfill
command); an event passes the few members it concerns, so each rule is one bounded query.

Figures (documented on /badges and in docs/badges.md): a score badge needs one visible post at
or above the score; accepted answers count only answers accepted on someone else's question;
a helpful flag is one a moderator acted on (status "actioned", services/moderation/flags.py); a tag
badge counts visible answers with a positive score on visible questions carrying the tag.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, null, select

from ...models import Answer, Article, ArticleFeedback, Flag, Question, Tag, Vote, question_tags

TIERS = ("gold", "silver", "bronze")  # display order, rarest first
TIER_LABELS = {"gold": "Gold", "silver": "Silver", "bronze": "Bronze"}
EVENTS = ("answer", "accept", "vote", "flag", "rate")

# A badge rule selects (user_id, ref) rows, or (user_id, tag, ref) for a per-tag badge.
Rows = Select[*tuple[Any, ...]]
Rule = Callable[[Sequence[int] | None, Sequence[str] | None], Rows]


@dataclass(frozen=True)
class Badge:
    key: str
    name: str
    tier: str
    description: str
    events: tuple[str, ...]
    rule: Rule
    threshold: int = 1
    post_type: str | None = None  # what ``ref`` points at, when the rule gives one
    per_tag: bool = False

    @property
    def tier_label(self) -> str:
        return TIER_LABELS[self.tier]


def _count_rule(user_col: Any, id_col: Any | None, *conds: Any, joins: Sequence[tuple[Any, Any]] = (),
                threshold: int = 1) -> Rule:
    """Members with at least ``threshold`` rows matching ``conds``; ref = their first row's id
    (only for threshold 1: "the first answer" names a post, "ten accepted answers" does not)."""

    def rule(users: Sequence[int] | None, tags: Sequence[str] | None = None) -> Rows:
        ref = func.min(id_col) if id_col is not None and threshold == 1 else null()
        stmt = select(user_col, ref)
        for target, on in joins:
            stmt = stmt.join(target, on)
        stmt = stmt.where(*conds)
        if users is not None:
            stmt = stmt.where(user_col.in_(users))
        return stmt.group_by(user_col).having(func.count() >= threshold)

    return rule


def _accepted(threshold: int) -> Rule:
    return _count_rule(Answer.author_id, Answer.id, Answer.is_visible, Question.is_visible,
                       Question.author_id != Answer.author_id,
                       joins=[(Question, Question.accepted_answer_id == Answer.id)], threshold=threshold)


def _answer_score(score: int) -> Rule:
    return _count_rule(Answer.author_id, Answer.id, Answer.is_visible, Answer.score >= score)


def _helpful_flags(threshold: int) -> Rule:
    return _count_rule(Flag.flagger_id, None, Flag.status == "actioned", threshold=threshold)


def _tag_rule(threshold: int) -> Rule:
    def rule(users: Sequence[int] | None, tags: Sequence[str] | None) -> Rows:
        stmt = (select(Answer.author_id, Tag.name, null())
                .join(Question, Answer.question_id == Question.id)
                .join(question_tags, question_tags.c.question_id == Question.id)
                .join(Tag, Tag.id == question_tags.c.tag_id)
                .where(Answer.score > 0, Answer.is_visible, Question.is_visible))
        if users is not None:
            stmt = stmt.where(Answer.author_id.in_(users))
        if tags is not None:
            stmt = stmt.where(Tag.name.in_(tags))
        return stmt.group_by(Answer.author_id, Tag.name).having(func.count(Answer.id) >= threshold)

    return rule


ANSWER_SCORES = (("nice_answer", "Nice Answer", "bronze", 10), ("good_answer", "Good Answer", "silver", 25),
                 ("great_answer", "Great Answer", "gold", 100))
ACCEPTED = (("solver", "Solver", "bronze", 1), ("problem_solver", "Problem Solver", "silver", 10),
            ("guru", "Guru", "gold", 50))
TAG_TIERS = (("tag_helper", "Tag Helper", "bronze", 5), ("tag_specialist", "Tag Specialist", "silver", 20),
             ("tag_expert", "Tag Expert", "gold", 50))
QUESTION_SCORE = 10

BADGES: tuple[Badge, ...] = (
    Badge("helper", "Helper", "bronze", "Posted a first answer to someone's question.", ("answer",),
          _count_rule(Answer.author_id, Answer.id, Answer.is_visible), post_type="answer"),
    *(Badge(key, name, tier,
            "Had a first answer accepted on someone else's question." if n == 1 else
            f"Had {n} answers accepted on other members' questions.", ("accept",), _accepted(n), threshold=n,
            post_type="answer" if n == 1 else None)
      for key, name, tier, n in ACCEPTED),
    Badge("scholar", "Scholar", "bronze", "Asked a question and accepted another member's answer.", ("accept",),
          _count_rule(Question.author_id, Question.id, Question.is_visible, Answer.author_id != Question.author_id,
                      joins=[(Answer, Question.accepted_answer_id == Answer.id)]), post_type="question"),
    Badge("supporter", "Supporter", "bronze", "Cast a first upvote: thanked someone for a useful post.", ("vote",),
          _count_rule(Vote.user_id, None, Vote.value == 1)),
    *(Badge(key, name, tier, f"Wrote an answer that reached a score of {n}.", ("vote",), _answer_score(n),
            threshold=n, post_type="answer")
      for key, name, tier, n in ANSWER_SCORES),
    Badge("nice_question", "Nice Question", "bronze",
          f"Asked a question that reached a score of {QUESTION_SCORE}: a clear question helps everyone after you.",
          ("vote",), _count_rule(Question.author_id, Question.id, Question.is_visible, Question.score >= QUESTION_SCORE),
          threshold=QUESTION_SCORE, post_type="question"),
    Badge("citizen_patrol", "Citizen Patrol", "bronze", "Raised a first flag that moderators acted on.", ("flag",),
          _helpful_flags(1)),
    Badge("deputy", "Deputy", "silver", "Raised 10 flags that moderators acted on.", ("flag",), _helpful_flags(10),
          threshold=10),
    Badge("well_read", "Well Read", "bronze", "Told us an official help article was helpful.", ("rate",),
          _count_rule(ArticleFeedback.user_id, ArticleFeedback.article_id, ArticleFeedback.helpful.is_(True),
                      Article.state == "published", joins=[(Article, Article.id == ArticleFeedback.article_id)]),
          post_type="article"),
    *(Badge(key, name, tier, f"Wrote {n} answers with a positive score in one tag (earned once per tag).",
            ("vote",), _tag_rule(n), threshold=n, per_tag=True)
      for key, name, tier, n in TAG_TIERS),
)
BY_KEY: dict[str, Badge] = {b.key: b for b in BADGES}
assert len(BY_KEY) == len(BADGES) and all(e in EVENTS for b in BADGES for e in b.events)
