"""Member profiles and the reputation leaderboards, read from the ledger.

Every function runs a fixed number of queries whatever the member's history. Only visible
posts (not deleted, not hidden, in a visible question) count on a profile, as everywhere.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import Answer, Question, ReputationEvent, Tag, User, question_tags
from ..models.base import utcnow
from .errors import NotFound
from .pagination import Page, paginate
from .questions import newer_first_after, questions_by
from .reach import Reach, reach_columns
from .reputation import day_start

PERIODS = ("week", "month", "all")
PROFILE_TABS = ("answers", "questions")
HISTORY_DAYS = 90
SEARCH_MAX = 30
LEADERBOARD_PER_PAGE = 36
_LIKE_ESCAPE = re.compile(r"([\\%_])")


@dataclass(frozen=True)
class Member:
    """One leaderboard row: ``gained`` is the reputation earned in the period (all time: the total)."""

    user: User
    gained: int


@dataclass(frozen=True)
class ProfileStats:
    answers: int
    accepted: int
    questions: int
    reach: Reach = Reach(0, 0)  # people reached, deflections this month (services/reach.py)


@dataclass(frozen=True)
class TagScore:
    name: str
    score: int
    answers: int


@dataclass(frozen=True)
class History:
    """Reputation at the end of each UTC day, oldest first (one point per day, gaps filled)."""

    days: list[date]
    totals: list[int]
    changes: list[int]

    @property
    def start(self) -> int:
        return self.totals[0] - self.changes[0]

    @property
    def best(self) -> tuple[date, int] | None:
        if not any(c > 0 for c in self.changes):
            return None
        i = max(range(len(self.changes)), key=lambda k: (self.changes[k], k))
        return self.days[i], self.changes[i]

    def moves(self) -> list[tuple[date, int, int]]:
        """(day, change, total) for the days whose reputation changed, newest first."""
        return [(d, c, t) for d, c, t in reversed(list(zip(self.days, self.changes, self.totals))) if c]

    def summary(self) -> str:
        first, last = self.days[0], self.days[-1]
        span = (f"on {last:%d %b %Y}" if first == last
                else f"between {first:%d %b} and {last:%d %b %Y}")
        delta = self.totals[-1] - self.start
        text = f"Reputation went from {self.start:,} to {self.totals[-1]:,} {span} ({delta:+,})."
        best = self.best
        if best:
            text += f" Best day: {best[0]:%d %b}, {best[1]:+,}."
        return text


def period_start(period: str, now: datetime | None = None) -> datetime | None:
    """Start of the calendar period in UTC: Monday 00:00 for "week", the 1st for "month"; None for "all"."""
    today = day_start(now or utcnow())
    if period == "week":
        return today - timedelta(days=today.weekday())
    if period == "month":
        return today.replace(day=1)
    return None


def _name_filter(stmt: Select[Any], query: str) -> Select[Any]:
    query = query.lower()
    if not query:
        return stmt
    pattern = "%" + _LIKE_ESCAPE.sub(r"\\\1", query) + "%"
    return stmt.where(or_(User.username_key.like(pattern, escape="\\"),
                          func.lower(User.display_name).like(pattern, escape="\\")))


@dataclass(frozen=True)
class Board:
    period: str
    since: datetime | None  # None: all time
    query: str
    page: Page[Member]


def leaderboard(period: str, page: int, query: str = "", now: datetime | None = None) -> Board:
    """Members by reputation gained in ``period`` ("week", "month") or by total ("all").

    A period lists only members who gained reputation in it (sum of their ledger rows since
    the period began, > 0). Ties go to the earlier member. ``query`` matches the username or
    display name. An unknown period means "week". Three queries (count, page, the page's gains).
    """
    period = period if period in PERIODS else "week"
    query = " ".join(query.split())[:SEARCH_MAX]
    start = period_start(period, now)
    return Board(period, start, query, _members(start, page, query))


def _members(start: datetime | None, page: int, query: str) -> Page[Member]:
    if start is None:
        stmt = _name_filter(select(User), query).order_by(User.reputation.desc(), User.id)
        users = paginate(stmt, page, per_page=LEADERBOARD_PER_PAGE)
        return Page([Member(u, u.reputation) for u in users.items], users.page, users.per_page, users.total)
    gained = (select(ReputationEvent.user_id, func.sum(ReputationEvent.amount).label("gained"))
              .where(ReputationEvent.created_at >= start).group_by(ReputationEvent.user_id)
              .having(func.sum(ReputationEvent.amount) > 0).subquery())
    stmt = (_name_filter(select(User).join(gained, gained.c.user_id == User.id), query)
            .order_by(gained.c.gained.desc(), User.id))
    users = paginate(stmt, page, per_page=LEADERBOARD_PER_PAGE)
    ids = [u.id for u in users.items]
    # The page's sums again, by user: a short index range per member (user_id, created_at).
    sums = dict(db.session.execute(
        select(ReputationEvent.user_id, func.sum(ReputationEvent.amount))
        .where(ReputationEvent.user_id.in_(ids), ReputationEvent.created_at >= start)
        .group_by(ReputationEvent.user_id)).all()) if ids else {}
    return Page([Member(u, int(sums.get(u.id, 0))) for u in users.items], users.page, users.per_page, users.total)


def visible_answers(user: User) -> Select[Answer]:
    """The member's answers anyone may see: the answer and its question both visible (the
    profile and the member's feed, services/feeds.py)."""
    return (select(Answer).join(Question, Question.id == Answer.question_id)
            .where(Answer.author_id == user.id, Answer.is_visible,
                   Question.is_visible))


def profile_stats(user: User, today: date | None = None) -> ProfileStats:
    """Visible answers, how many of them are accepted, visible questions, and the people the
    member's answers reached and this month's deflections (services/reach.py), in one query."""
    answers = visible_answers(user).with_only_columns(func.count(Answer.id)).scalar_subquery()
    accepted = (visible_answers(user).with_only_columns(func.count(Answer.id))
                .where(Question.accepted_answer_id == Answer.id).scalar_subquery())
    asked = (select(func.count(Question.id)).where(Question.author_id == user.id, Question.is_visible).scalar_subquery())
    people, deflected = reach_columns(user.id, today or utcnow().date())
    row = db.session.execute(select(answers, accepted, asked, people, deflected)).one()
    return ProfileStats(int(row[0]), int(row[1]), int(row[2]), Reach(int(row[3] or 0), int(row[4] or 0)))


def answers_by(user: User, page: int) -> Page[Answer]:
    """The member's visible answers, best first (score, then newest), with their questions."""
    stmt = (visible_answers(user).options(contains_eager(Answer.question))
            .order_by(Answer.score.desc(), Answer.created_at.desc(), Answer.id.desc()))
    return paginate(stmt, page)


def answers_by_after(user: User, after: tuple[datetime, int] | None, limit: int) -> list[Answer]:
    """Up to ``limit`` of the member's visible answers, newest first, after the one whose
    (created_at, id) is ``after`` (a keyset cursor: the API's list of a member's answers)."""
    stmt = visible_answers(user).options(contains_eager(Answer.question))
    if after is not None:
        stmt = stmt.where(newer_first_after(Answer.created_at, Answer.id, after))
    return list(db.session.scalars(stmt.order_by(Answer.created_at.desc(), Answer.id.desc()).limit(limit)))


def get_member(user_id: int) -> User:
    """A member whose profile anyone may see (deleted ones too: "Deleted member").

    Raises NotFound for an unknown id.
    """
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def top_tags(user: User, limit: int = 8) -> list[TagScore]:
    """Tags where the member's visible answers earned the most score, with the answer count."""
    score = func.sum(Answer.score).label("score")
    count = func.count(Answer.id).label("answers")
    stmt = (visible_answers(user).with_only_columns(Tag.name, score, count)
            .join(question_tags, question_tags.c.question_id == Question.id)
            .join(Tag, Tag.id == question_tags.c.tag_id)
            .group_by(Tag.id, Tag.name).order_by(score.desc(), count.desc(), Tag.name).limit(limit))
    return [TagScore(name, int(s or 0), int(n)) for name, s, n in db.session.execute(stmt)]


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def reputation_history(user: User, now: datetime | None = None, days: int = HISTORY_DAYS) -> History:
    """Daily reputation totals over the last ``days`` days or since the member joined (two queries).

    Totals come from the ledger (1 + the sum of rows up to that day), so they match
    ``User.reputation`` whenever ``flask reputation recompute`` finds no drift.
    """
    today = day_start(now or utcnow())
    first = max(today - timedelta(days=days - 1), day_start(user.created_at))
    ledger = ReputationEvent.user_id == user.id
    before = db.session.scalar(select(func.coalesce(func.sum(ReputationEvent.amount), 0))
                               .where(ledger, ReputationEvent.created_at < first)) or 0
    day = func.date(ReputationEvent.created_at)
    per_day = {_as_date(d): int(total) for d, total in db.session.execute(
        select(day, func.sum(ReputationEvent.amount)).where(ledger, ReputationEvent.created_at >= first)
        .group_by(day))}
    count = (today.date() - first.date()).days + 1
    dates = [first.date() + timedelta(days=i) for i in range(count)]
    changes = [per_day.get(d, 0) for d in dates]
    totals, running = [], 1 + int(before)
    for change in changes:
        running += change
        totals.append(running)
    return History(dates, totals, changes)


@dataclass(frozen=True)
class Profile:
    user: User
    stats: ProfileStats
    top_tags: list[TagScore]
    history: History
    tab: str  # "answers" or "questions"
    page: Page[Answer] | Page[Question]


def get_profile(user_id: int, tab: str, page: int, now: datetime | None = None) -> Profile:
    """Everything the profile page shows, in a fixed number of queries.

    Raises NotFound for an unknown member. An unknown ``tab`` means "answers".
    """
    user = get_member(user_id)
    tab = tab if tab in PROFILE_TABS else "answers"
    items = answers_by(user, page) if tab == "answers" else questions_by(user, page)
    return Profile(user, profile_stats(user, (now or utcnow()).date()), top_tags(user), reputation_history(user, now),
                   tab, items)
