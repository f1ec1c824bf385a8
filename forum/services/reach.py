"""People reached: what a member's accepted answers did for others (docs/insights.md, "People reached").

- **People reached**: for every visible question whose accepted answer is a visible answer by
  the member, the views since that answer was accepted (``view_count - views_at_accept``).
  ``views_at_accept`` is set by the subscribers below, inside the acceptance's transaction, with
  one atomic UPDATE (``views_at_accept = view_count``), and cleared when the acceptance goes.
  When the acceptance moves to another answer the count starts again for its author.
- **Deflections**: the ``insight_daily`` counts of the deflection kinds whose target is a
  question whose accepted answer is by the member (filled by services/deflection.py).
- **Top helpers of a tag**: members with most accepted answers in the tag over the last
  ``TOP_HELPERS_DAYS`` days (by the acceptance time; answers to one's own question not counted),
  ties by reputation. Counting them reads every acceptance of the period across the forum (7,183
  at a million posts), so the ranking is stored per tag (``tag_top_helpers``): recomputed by the
  subscribers below when an acceptance in the tag changes, and nightly by ``flask insights
  top-helpers`` as acceptances age out; the tag page reads ten stored rows.
- **The monthly mail** (``send_monthly_helper_mail``): on the first days of a month, to each
  member who turned it on (notification settings, pseudo-event ``helped_monthly``, off by
  default) and helped someone: their figures for the month before, once per member and month
  (``insight_mails_sent``).

Every read is one query over indexed columns (answers.author_id, the questions' primary key,
ix_insight_daily_target, tag_top_helpers' primary key).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..events import AnswerAccepted, AnswerUnaccepted, PostEdited, PostHidden, PostRestored
from ..extensions import db
from ..mail import absolute_url, compose, site_path
from ..models import (
    Answer,
    InsightDaily,
    InsightMailSent,
    NotificationPreference,
    Question,
    Tag,
    TagTopHelper,
    User,
    question_tags,
)
from ..models.base import table_of, utcnow
from .deflection import DEFLECTION_KINDS
from .notifications import HELPED_MONTHLY

TOP_HELPERS_DAYS = 90
TOP_HELPERS_LIMIT = 5
#: How many are stored: twice what the tag page shows, so that some can be suspended or deleted
#: and the list still fills up without a recomputation.
STORED_HELPERS = TOP_HELPERS_LIMIT * 2
MARKER_RANK = -1  # the row that says a tag's ranking was computed
# The monthly mail goes out on these first days of a month (a worker down on the 1st catches up).
MONTHLY_MAIL_DAYS = 7
MAIL_KIND = "helped_monthly"  # insight_mails_sent.kind


# ---------------------------------------------------------------- subscribers


def _set_views_at_accept(question_id: int, value: Any) -> None:
    db.session.execute(update(Question).where(Question.id == question_id)
                       .values(views_at_accept=value).execution_options(synchronize_session=False))
    question = db.session.identity_map.get(db.session.identity_key(Question, question_id))
    if question is not None:
        db.session.expire(question, ["views_at_accept"])


def answer_accepted(event: AnswerAccepted) -> None:
    """Subscriber (in the transaction): the newly accepted answer reaches the views from now on."""
    assert event.question_id is not None
    _set_views_at_accept(event.question_id, Question.view_count)


def answer_unaccepted(event: AnswerUnaccepted) -> None:
    """Subscriber (in the transaction): no accepted answer, nobody is reached through this question."""
    assert event.question_id is not None
    _set_views_at_accept(event.question_id, None)


# ---------------------------------------------------------------- reads


def _accepted_by(*conditions: ColumnElement[bool]) -> Select[Any]:
    """Visible questions whose accepted answer is visible, joined to that answer (through the
    questions' primary key, so the answers.author_id index drives it)."""
    return (select(Answer.author_id)
            .join(Question, and_(Question.id == Answer.question_id, Question.accepted_answer_id == Answer.id))
            .where(Answer.is_visible, Question.is_visible, *conditions))


def _reached_sum() -> ColumnElement[int]:
    return func.coalesce(func.sum(Question.view_count - Question.views_at_accept), 0)


def _reached_filter() -> ColumnElement[bool]:
    return and_(Question.views_at_accept.is_not(None), Question.view_count > Question.views_at_accept)


def people_reached(user_id: int) -> int:
    """Views of threads since the member's answer in them was accepted (one query)."""
    stmt = _accepted_by(Answer.author_id == user_id, _reached_filter()).with_only_columns(_reached_sum())
    return int(db.session.scalar(stmt) or 0)


def month_start(day: date) -> date:
    return day.replace(day=1)


def previous_month(day: date) -> tuple[date, date]:
    """[first day, first day of the next month) of the month before ``day``'s."""
    end = month_start(day)
    return month_start(end - timedelta(days=1)), end


def _deflections(start: date, end: date, *conditions: ColumnElement[bool]) -> Select[Any]:
    """insight_daily deflections in [start, end) on questions accepted with a member's answer."""
    return (_accepted_by(*conditions)
            .join(InsightDaily, and_(InsightDaily.target_type == "question", InsightDaily.target_id == Question.id))
            .where(InsightDaily.kind.in_(DEFLECTION_KINDS), InsightDaily.day >= start, InsightDaily.day < end))


def deflections_this_month(user_id: int, today: date) -> int:
    """Deflections since the 1st of ``today``'s month (up to ``today``) on threads the member's
    accepted answer solved (one query)."""
    stmt = _deflections(month_start(today), today + timedelta(days=1), Answer.author_id == user_id)
    return int(db.session.scalar(stmt.with_only_columns(func.coalesce(func.sum(InsightDaily.count), 0))) or 0)


@dataclass(frozen=True)
class Reach:
    people: int  # people reached, all time
    deflections: int  # deflections this calendar month


def reach_columns(user_id: int, today: date) -> tuple[Any, Any]:
    """People reached and this month's deflections as two scalar subqueries, for a caller to put
    in a query of its own (the profile's stats query, services/profiles.py)."""
    people = (_accepted_by(Answer.author_id == user_id, _reached_filter())
              .with_only_columns(_reached_sum()).scalar_subquery())
    deflected = (_deflections(month_start(today), today + timedelta(days=1), Answer.author_id == user_id)
                 .with_only_columns(func.coalesce(func.sum(InsightDaily.count), 0)).scalar_subquery())
    return people, deflected


def reach_of(user_id: int, today: date) -> Reach:
    """``people_reached`` and ``deflections_this_month`` in one query."""
    row = db.session.execute(select(*reach_columns(user_id, today))).one()
    return Reach(int(row[0] or 0), int(row[1] or 0))


def about(n: int) -> str:
    """A count to read at a glance: exact under 1,000, then 1.2k, 12k, 120k, 1.2M."""
    if n < 1000:
        return str(n)
    value, suffix = n / 1000, "k"
    if value >= 999.5:
        value, suffix = n / 1_000_000, "M"
    text = f"{value:.1f}" if value < 9.95 else f"{value:.0f}"
    return text.removesuffix(".0") + suffix


@dataclass(frozen=True)
class Helper:
    user: User
    accepted: int  # accepted answers in the tag in the last TOP_HELPERS_DAYS days


def rank_helpers(tag_id: int, now: datetime | None = None, limit: int = STORED_HELPERS,
                 days: int = TOP_HELPERS_DAYS) -> list[tuple[int, int]]:
    """(member id, accepted answers) of the members with most answers accepted in the tag in the
    last ``days`` days, most first, ties by reputation (then the earlier member). Answers to
    one's own question and hidden or deleted posts are left out; the members' state (deleted,
    suspended) is checked when the ranking is read (``top_helpers``). One query: the accepted
    questions of the period (ix_questions_accepted_at) checked against the tag (question_tags'
    primary key) and their answers (primary key). Its cost grows with the acceptances of the
    period across the forum, so pages read the stored ranking instead."""
    now = now or utcnow()
    accepted = func.count(Question.id)
    stmt = (select(User.id, accepted)
            .select_from(Question)
            .join(question_tags, and_(question_tags.c.question_id == Question.id, question_tags.c.tag_id == tag_id))
            .join(Answer, Answer.id == Question.accepted_answer_id)
            .join(User, User.id == Answer.author_id)
            .where(Question.accepted_at >= now - timedelta(days=days), Question.is_visible, Answer.is_visible,
                   Answer.author_id != Question.author_id)
            .group_by(User.id)
            .order_by(accepted.desc(), User.reputation.desc(), User.id)
            .limit(limit))
    return [(int(user_id), int(n)) for user_id, n in db.session.execute(stmt)]


def store_top_helpers(tag_ids: Iterable[int], now: datetime | None = None) -> None:
    """Recompute and replace the stored rankings of ``tag_ids`` (executes, does not commit): a
    marker row (rank -1, no member: "computed") and the members from rank 0."""
    ids = sorted(set(tag_ids))
    if not ids:
        return
    rows: list[dict[str, Any]] = []
    for tag_id in ids:
        rows.append({"tag_id": tag_id, "rank": MARKER_RANK, "user_id": None, "accepted": 0})
        rows.extend({"tag_id": tag_id, "rank": rank, "user_id": user_id, "accepted": n}
                    for rank, (user_id, n) in enumerate(rank_helpers(tag_id, now)))
    db.session.execute(delete(TagTopHelper).where(TagTopHelper.tag_id.in_(ids)))
    db.session.execute(insert(TagTopHelper), rows)


def refresh_top_helpers(tag_ids: Iterable[int] | None = None, *, batch: int = 200,
                        now: datetime | None = None) -> int:
    """Recompute the stored rankings of every tag (or of ``tag_ids``), committing every
    ``batch`` tags so a long run holds no long transaction; returns how many tags were done.
    For ``flask insights top-helpers`` (nightly: acceptances age out of the window) and the
    benchmark's generator."""
    ids = list(tag_ids) if tag_ids is not None else list(db.session.scalars(select(Tag.id).order_by(Tag.id)))
    for start in range(0, len(ids), batch):
        store_top_helpers(ids[start:start + batch], now)
        db.session.commit()
    return len(ids)


def _tags_of(question_id: int) -> list[int]:
    return list(db.session.scalars(select(question_tags.c.tag_id).where(question_tags.c.question_id == question_id)))


def acceptance_changed(event: AnswerAccepted | AnswerUnaccepted) -> None:
    """Subscriber (in the transaction): the question's tags rank their helpers again, so the
    tag page follows an acceptance at once."""
    assert event.question_id is not None
    db.session.flush()  # the acceptance itself, for the ranking's query
    store_top_helpers(_tags_of(event.question_id))


def visibility_changed(event: PostHidden | PostRestored | PostEdited) -> None:
    """Subscriber (in the transaction): a solved question or its accepted answer was hidden,
    deleted or restored, or a solved question edited (its tags may have changed), so its tags
    rank their helpers again. Other posts change no ranking and cost one primary-key read. (A
    tag taken off a solved question keeps the acceptance until the nightly refresh.)"""
    if event.question_id is None or event.post_type not in ("question", "answer"):
        return
    accepted = db.session.scalar(select(Question.accepted_answer_id).where(Question.id == event.question_id))
    if accepted is None or (event.post_type == "answer" and event.post_id != accepted):
        return
    db.session.flush()
    store_top_helpers(_tags_of(event.question_id))


def top_helpers(tag_id: int, now: datetime | None = None, limit: int = TOP_HELPERS_LIMIT) -> list[Helper]:
    """The tag's top helpers (``rank_helpers``) that are neither deleted nor suspended now, most
    first, at most ``limit``. One query over the stored ranking (its primary key) and the
    members' primary key, whatever the size of the forum; a tag whose ranking was never stored
    (before the first ``flask insights top-helpers``) is ranked live, and not stored (no write
    on a GET)."""
    now = now or utcnow()
    stored = db.session.execute(
        select(TagTopHelper.rank, TagTopHelper.accepted, User)
        .outerjoin(User, User.id == TagTopHelper.user_id)
        .where(TagTopHelper.tag_id == tag_id)
        .order_by(TagTopHelper.rank)).all()
    if stored:
        ranked = [(user, int(n)) for rank, n, user in stored if rank != MARKER_RANK and user is not None]
    else:
        live = rank_helpers(tag_id, now)
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([i for i, _ in live])))}
        ranked = [(users[i], n) for i, n in live if i in users]
    return [Helper(user, n) for user, n in ranked
            if user.deleted_at is None and not user.is_suspended(now)][:limit]


# ---------------------------------------------------------------- the monthly mail


@dataclass(frozen=True)
class MonthlyFigures:
    people: int  # people reached, all time (views are not kept per month)
    accepted: int  # answers accepted in the month
    deflections: int  # deflections in the month

    @property
    def helped(self) -> bool:
        return bool(self.people or self.accepted or self.deflections)


def _per_author(stmt: Select[Any]) -> dict[int, int]:
    return {int(author): int(n or 0) for author, n in db.session.execute(stmt.group_by(Answer.author_id))}


def monthly_figures(user_ids: Iterable[int], start: date, end: date) -> dict[int, MonthlyFigures]:
    """Each member's figures for [start, end) (three grouped queries, whatever the number of members)."""
    ids = list(user_ids)
    if not ids:
        return {}
    mine = Answer.author_id.in_(ids)
    begin = datetime(start.year, start.month, start.day)
    until = datetime(end.year, end.month, end.day)
    people = _per_author(_accepted_by(mine, _reached_filter()).add_columns(_reached_sum()))
    accepted = _per_author(_accepted_by(mine, Question.accepted_at >= begin, Question.accepted_at < until)
                           .add_columns(func.count(Question.id)))
    deflections = _per_author(_deflections(start, end, mine).add_columns(func.sum(InsightDaily.count)))
    return {i: MonthlyFigures(int(people.get(i) or 0), int(accepted.get(i) or 0), int(deflections.get(i) or 0))
            for i in ids}


@dataclass(frozen=True)
class MonthlyRun:
    sent: int
    already_sent: int
    helped_nobody: int


def _claim(user_id: int, period_start: date, now: datetime) -> bool:
    """Record the mail for the member and month; False when a run already did (primary key)."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = db.session.execute(
        insert(table_of(InsightMailSent)).values(user_id=user_id, kind=MAIL_KIND, period_start=period_start,
                                                 created_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "kind", "period_start"])
        .returning(table_of(InsightMailSent).c.user_id))
    return result.first() is not None


def send_monthly_helper_mail(now: datetime | None = None) -> MonthlyRun:
    """E-mail last month's figures to every member who turned the monthly mail on and helped
    someone (people reached, accepted answers or deflections), on the first MONTHLY_MAIL_DAYS
    days of a month; any other day it does nothing.

    Idempotent: an ``insight_mails_sent`` row (member, "helped_monthly", first day of the
    reported month) is claimed with INSERT … ON CONFLICT DO NOTHING in the transaction that
    queues the mail, so a second or concurrent run sends nothing again. Suspended members,
    deleted accounts and unconfirmed addresses get nothing. Flushed; the caller commits, then
    the mails leave through the outbox. Raises nothing of its own (database errors propagate).
    """
    now = now or utcnow()
    if now.day > MONTHLY_MAIL_DAYS:
        return MonthlyRun(0, 0, 0)
    start, end = previous_month(now.date())
    wanted = list(db.session.scalars(
        select(NotificationPreference.user_id).where(NotificationPreference.event == HELPED_MONTHLY,
                                                     NotificationPreference.email.is_(True))
        .order_by(NotificationPreference.user_id)))
    if not wanted:
        return MonthlyRun(0, 0, 0)
    done = set(db.session.scalars(select(InsightMailSent.user_id).where(
        InsightMailSent.user_id.in_(wanted), InsightMailSent.kind == MAIL_KIND, InsightMailSent.period_start == start)))
    todo = [i for i in wanted if i not in done]
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(todo)))} if todo else {}
    figures = monthly_figures(todo, start, end)
    sent = nobody = 0
    month = start.strftime("%B %Y")
    for user_id in todo:
        user, numbers = users.get(user_id), figures[user_id]
        if user is None or user.deleted_at is not None or user.is_suspended(now) or not user.email_verified:
            continue
        if not numbers.helped:
            nobody += 1
            continue
        if not _claim(user_id, start, now):
            continue  # a concurrent run got there first
        compose(user, HELPED_MONTHLY, f"What your answers did in {month}",
                {"month": month, "people": about(numbers.people), "people_n": numbers.people,
                 "accepted": numbers.accepted, "deflections": numbers.deflections,
                 "profile_url": absolute_url(site_path("users.profile", user_id=user.id))})
        sent += 1
    db.session.flush()
    return MonthlyRun(sent, len(done), nobody)
