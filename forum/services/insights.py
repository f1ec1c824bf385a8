"""The /insights page for staff: response times, outcomes, deflection and savings (docs/insights.md).

Everything here is computed in SQL over indexed columns, in a fixed number of statements
whatever the date range (``insights_page``: about a dozen), and knows nothing of Flask
requests. Percentiles follow PostgreSQL's ``percentile_cont`` (linear interpolation between
the two nearest ranks, position ``p * (n - 1)`` counted from 0); on SQLite the same rule is
written out with window functions (``_percentiles``), so both backends give the same figure.

``tables(page)`` turns a page into named tables of plain cells: the HTML page and the CSV
downloads are both drawn from it, so a CSV always equals the table on the page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from flask import current_app
from sqlalchemy import (
    Date,
    Float,
    Integer,
    Select,
    SQLColumnExpression,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from ..charts import BarChart, bar_chart
from ..extensions import db
from ..mail import site_path
from ..models import (
    STAFF_ROLES,
    Answer,
    Article,
    Comment,
    Flag,
    InsightDaily,
    Question,
    QuestionTriage,
    SearchMissDaily,
    SupportCase,
    Tag,
    User,
    article_tags,
    question_tags,
)
from ..models.base import utcnow
from .articles import article_slug
from .deflection import DEFLECTION_KINDS, KIND_LABELS, SEARCHES
from .errors import FieldError, check_fields
from .questions import slugify
from .support import all_playbooks, target_hours_sql

DEFAULT_DAYS = 28
MAX_DAYS = 366
MAX_TAGS = 5
TOP_TARGETS = 10
TOP_MISSES = 20
SLOW_TAGS = 10
MIN_TAG_SAMPLE = 3  # a tag needs this many first responses in range to be ranked


# --------------------------------------------------------------------------- the filter


@dataclass(frozen=True)
class InsightsFilter:
    """UTC days ``start``..``end`` (both included) and the chosen tags (any of them)."""

    start: date
    end: date
    tags: tuple[str, ...] = ()
    tag_ids: tuple[int, ...] = ()

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), timezone.utc)

    @property
    def until(self) -> datetime:
        """The first moment after the range."""
        return datetime.combine(self.end + timedelta(days=1), time(), timezone.utc)

    def params(self) -> dict[str, str]:
        """The GET parameters that give this filter back (links, CSV downloads)."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "tags": " ".join(self.tags)}


def default_filter(today: date | None = None) -> InsightsFilter:
    """The last ``DEFAULT_DAYS`` days, today included, no tags."""
    today = today or utcnow().date()
    return InsightsFilter(today - timedelta(days=DEFAULT_DAYS - 1), today)


def _parse_day(name: str, raw: str, fallback: date) -> date:
    raw = raw.strip()
    if not raw:
        return fallback
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FieldError(name, f"Enter a date as YYYY-MM-DD (not “{raw[:20]}”).") from None


def parse_filter(start: str = "", end: str = "", tags: str = "", today: date | None = None) -> InsightsFilter:
    """Check the page's inputs and return the filter; empty inputs take the defaults.

    Raises FieldError (FieldErrors for several at once) on ``start`` or ``end`` for a date that
    is not YYYY-MM-DD, on ``end`` for an end before the start or a range over ``MAX_DAYS``
    days, and on ``tags`` for more than ``MAX_TAGS`` tags or a tag that does not exist.
    """
    fallback = default_filter(today)
    day_from, day_to, (names, ids) = check_fields(lambda: _parse_day("start", start, fallback.start),
                                                  lambda: _parse_day("end", end, fallback.end),
                                                  lambda: _check_tags(tags))
    if day_to < day_from:
        raise FieldError("end", "The end comes before the start.")
    if (day_to - day_from).days + 1 > MAX_DAYS:
        raise FieldError("end", f"Choose at most {MAX_DAYS} days (this is {(day_to - day_from).days + 1}).")
    return InsightsFilter(day_from, day_to, names, ids)


def _check_tags(raw: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    names = tuple(dict.fromkeys(n.lower() for n in raw.replace(",", " ").split() if n))
    if len(names) > MAX_TAGS:
        raise FieldError("tags", f"Choose at most {MAX_TAGS} tags.")
    if not names:
        return (), ()
    found = dict(db.session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names))).all())
    unknown = [n for n in names if n not in found]
    if unknown:
        raise FieldError("tags", "No tag named " + ", ".join(f"“{n[:35]}”" for n in unknown[:3]) + ".")
    return names, tuple(found[n] for n in names)


# --------------------------------------------------------------------------- SQL pieces


class _Seconds(FunctionElement[float]):
    """``later - earlier`` in seconds, on both backends."""

    type = Float()
    inherit_cache = True


@compiles(_Seconds, "sqlite")
def _seconds_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    # julianday is a double of days: about 50 µs of precision today, so round to milliseconds.
    return (f"ROUND((julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)}))"
            " * 86400.0, 3)")


@compiles(_Seconds, "postgresql")
def _seconds_pg(element: Any, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)}))"


class _WeekStart(FunctionElement[date]):
    """The Monday of the ISO week of a date or timestamp."""

    type = Date()
    inherit_cache = True


@compiles(_WeekStart, "sqlite")
def _week_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    (value,) = list(element.clauses)
    # 'weekday 0' moves forward to the next Sunday (or stays on one); six days back is Monday.
    return f"date({compiler.process(value, **kw)}, 'weekday 0', '-6 days')"


@compiles(_WeekStart, "postgresql")
def _week_pg(element: Any, compiler: Any, **kw: Any) -> str:
    (value,) = list(element.clauses)
    return f"CAST(date_trunc('week', {compiler.process(value, **kw)}) AS DATE)"


def _percentiles(rows: Any, ps: tuple[float, ...]) -> Select[Any]:
    """Per group of ``rows`` (a subquery with columns ``grp`` and ``secs``): ``grp``, ``n`` and
    one column ``p0``, ``p1``, … per fraction in ``ps``, by percentile_cont's rule.

    PostgreSQL runs ``percentile_cont``; elsewhere the rows are ranked in each group (from 0)
    and the value is ``v[k] + (v[k+1] - v[k]) * (pos - k)`` with ``pos = p * (n - 1)`` and
    ``k = floor(pos)``: the same definition, still one statement for every group.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return select(rows.c.grp, func.count().label("n"), *[
            func.percentile_cont(p).within_group(rows.c.secs).label(f"p{i}") for i, p in enumerate(ps)]
        ).group_by(rows.c.grp)
    ranked = select(
        rows.c.grp, rows.c.secs,
        (func.row_number().over(partition_by=rows.c.grp, order_by=rows.c.secs) - 1).label("i"),
        func.count().over(partition_by=rows.c.grp).label("n"),
    ).subquery()
    columns = []
    for i, p in enumerate(ps):
        pos = literal(p, Float()) * (ranked.c.n - 1)
        k = cast(pos, Integer)
        low = func.max(case((ranked.c.i == k, ranked.c.secs)))
        high = func.max(case((ranked.c.i == k + 1, ranked.c.secs)))
        columns.append((low + (func.coalesce(high, low) - low) * func.max(pos - k)).label(f"p{i}"))
    return select(ranked.c.grp, func.max(ranked.c.n).label("n"), *columns).group_by(ranked.c.grp)


def _question_tagged(ids: tuple[int, ...], question_id: Any = None) -> ColumnElement[bool]:
    # An alias of its own, so that a statement that also joins question_tags does not correlate it.
    qt = question_tags.alias("chosen_tags")
    return exists().where(qt.c.question_id == (Question.id if question_id is None else question_id),
                          qt.c.tag_id.in_(ids))


def _in_range(f: InsightsFilter) -> list[SQLColumnExpression[bool]]:
    """Questions in range: created in it, visible, and (with tags) carrying one of them."""
    where: list[SQLColumnExpression[bool]] = [Question.created_at >= f.since, Question.created_at < f.until, Question.is_visible]
    if f.tag_ids:
        where.append(_question_tagged(f.tag_ids))
    return where


def _daily(f: InsightsFilter, kinds: tuple[str, ...]) -> list[SQLColumnExpression[bool]]:
    """insight_daily rows of ``kinds`` in range; with tags, only threads and articles carrying one."""
    where: list[SQLColumnExpression[bool]] = [InsightDaily.kind.in_(kinds), InsightDaily.day >= f.start, InsightDaily.day <= f.end]
    if f.tag_ids:
        where.append(or_(
            and_(InsightDaily.target_type == "question", _question_tagged(f.tag_ids, InsightDaily.target_id)),
            and_(InsightDaily.target_type == "article", exists().where(
                article_tags.c.article_id == InsightDaily.target_id, article_tags.c.tag_id.in_(f.tag_ids)))))
    return where


# --------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Costs:
    """What one contact costs, in cents: the run-time settings INSIGHTS_COST_*."""

    assisted_cents: int
    self_service_cents: int

    @classmethod
    def from_config(cls) -> Costs:
        cfg = current_app.config
        return cls(int(cfg["INSIGHTS_COST_ASSISTED_CENTS"]), int(cfg["INSIGHTS_COST_SELF_SERVICE_CENTS"]))


@dataclass(frozen=True)
class FlagRow:
    status: str
    outcome: str
    count: int


@dataclass(frozen=True)
class TargetRow:
    """A thread or article that deflected: its title, path (None once it is gone) and count."""

    target_type: str
    target_id: int
    title: str
    path: str | None
    count: int


@dataclass(frozen=True)
class TagRow:
    tag: str
    median_seconds: float
    responded: int


@dataclass(frozen=True)
class WeekRow:
    week: date  # the Monday
    asked: int
    solved: int
    deflected: int
    median_first_response: float | None  # seconds

    @property
    def solved_share(self) -> float | None:
        return self.solved / self.asked if self.asked else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class InsightsPage:
    """Every figure of /insights for one filter. Durations are seconds, shares 0..1 (None: no data)."""

    filter: InsightsFilter
    costs: Costs
    asked: int
    responded: int
    first_response_median: float | None
    first_response_p90: float | None
    accepted: int
    accepted_median: float | None
    within_target: int
    unanswered: int
    solved: int
    community_accepted: int
    escalations: int
    escalations_resolved: int
    resolution_median: float | None
    flags: list[FlagRow]
    deflections: dict[str, int]  # every kind, 0 when none
    searches: int | None  # None with a tag filter (searches have no target)
    top_targets: list[TargetRow]
    zero_results: list[tuple[str, int]]
    slow_tags: list[TagRow]
    weeks: list[WeekRow] = field(default_factory=list)

    @property
    def within_target_share(self) -> float | None:
        return _share(self.within_target, self.asked)

    @property
    def unanswered_share(self) -> float | None:
        return _share(self.unanswered, self.asked)

    @property
    def solved_share(self) -> float | None:
        return _share(self.solved, self.asked)

    @property
    def community_share(self) -> float | None:
        return _share(self.community_accepted, self.solved)

    @property
    def deflected(self) -> int:
        return sum(self.deflections.values())

    @property
    def deflection_rate(self) -> float | None:
        return _share(self.deflected, self.deflected + self.asked)

    @property
    def saving_per_deflection_cents(self) -> int:
        return self.costs.assisted_cents - self.costs.self_service_cents

    @property
    def savings_cents(self) -> int:
        return self.deflected * self.saving_per_deflection_cents

    @property
    def flags_total(self) -> int:
        return sum(r.count for r in self.flags)


def insights_page(f: InsightsFilter, costs: Costs | None = None) -> InsightsPage:
    """Compute every figure of the page for ``f``: a fixed number of SQL statements (two for the
    playbooks, then one per block below), however long the range. Raises nothing of its own."""
    costs = costs or Costs.from_config()
    books = all_playbooks()
    in_range = _in_range(f)
    first_secs = _Seconds(Question.first_response_at, Question.created_at)
    accepted_secs = _Seconds(Question.accepted_at, Question.created_at)

    # 1. Questions in range: counts, playbook targets, community acceptances.
    summary = db.session.execute(
        select(
            func.count(),
            func.count(Question.first_response_at),
            func.count(Question.accepted_at),
            func.coalesce(func.sum(case((Question.answer_count == 0, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Question.accepted_answer_id.is_not(None), 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(Question.first_response_at.is_not(None),
                                              first_secs <= target_hours_sql(books) * 3600), 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(Question.accepted_answer_id.is_not(None),
                                              User.role.not_in([str(r) for r in STAFF_ROLES])), 1), else_=0)), 0),
        ).select_from(Question)
        .outerjoin(QuestionTriage, QuestionTriage.question_id == Question.id)
        .outerjoin(Answer, Answer.id == Question.accepted_answer_id)
        .outerjoin(User, User.id == Answer.author_id)
        .where(*in_range)).one()
    asked, responded, accepted, unanswered, solved, within, community = (int(v or 0) for v in summary)

    # 2. Escalations: private cases opened in range on visible questions (with the tags).
    case_where = [SupportCase.opened_at >= f.since, SupportCase.opened_at < f.until,
                  exists().where(Question.id == SupportCase.question_id, Question.is_visible,
                                 *([_question_tagged(f.tag_ids)] if f.tag_ids else []))]
    escalations, resolved = db.session.execute(
        select(func.count(), func.count(SupportCase.resolved_at)).where(*case_where)).one()

    # 3. Medians and p90s: first response, accepted answer, case resolution (one statement).
    durations = union_all(
        select(literal("first").label("grp"), first_secs.label("secs"))
        .where(*in_range, Question.first_response_at.is_not(None)),
        select(literal("accepted").label("grp"), accepted_secs.label("secs"))
        .where(*in_range, Question.accepted_at.is_not(None)),
        select(literal("case").label("grp"), _Seconds(SupportCase.resolved_at, SupportCase.opened_at).label("secs"))
        .where(*case_where, SupportCase.resolved_at.is_not(None)),
    ).subquery()
    pct = {r.grp: (r.p0, r.p1) for r in db.session.execute(_percentiles(durations, (0.5, 0.9)))}

    # 4. Flags raised in range, by status and outcome.
    flag_where = [Flag.created_at >= f.since, Flag.created_at < f.until]
    if f.tag_ids:
        flagged_question = case(
            (Flag.post_type == "question", Flag.post_id),
            (Flag.post_type == "answer", select(Answer.question_id).where(Answer.id == Flag.post_id)
             .scalar_subquery()),
            else_=select(Comment.question_id).where(Comment.id == Flag.post_id).scalar_subquery())
        flag_where.append(_question_tagged(f.tag_ids, flagged_question))
    flags = [FlagRow(s, o, int(n)) for s, o, n in db.session.execute(
        select(Flag.status, Flag.outcome, func.count()).where(*flag_where)
        .group_by(Flag.status, Flag.outcome).order_by(Flag.status, Flag.outcome))]

    # 5. Deflections by kind, and every search (untargeted: only without tags).
    by_kind = dict(db.session.execute(
        select(InsightDaily.kind, func.sum(InsightDaily.count))
        .where(*_daily(f, (*DEFLECTION_KINDS, SEARCHES))).group_by(InsightDaily.kind)).all())
    deflections = {k: int(by_kind.get(k) or 0) for k in DEFLECTION_KINDS}
    searches = None if f.tag_ids else int(by_kind.get(SEARCHES) or 0)

    # 6. The threads and articles that deflect most, with their titles.
    ranked = (select(InsightDaily.target_type, InsightDaily.target_id, func.sum(InsightDaily.count).label("n"))
              .where(*_daily(f, DEFLECTION_KINDS), InsightDaily.target_type.in_(("question", "article")))
              .group_by(InsightDaily.target_type, InsightDaily.target_id)
              .order_by(func.sum(InsightDaily.count).desc(), InsightDaily.target_type, InsightDaily.target_id)
              .limit(TOP_TARGETS).subquery())
    top = db.session.execute(
        select(ranked.c.target_type, ranked.c.target_id, ranked.c.n, Question.title, Question.is_visible,
               Article.title.label("article_title"), Article.state)
        .outerjoin(Question, and_(ranked.c.target_type == "question", Question.id == ranked.c.target_id))
        .outerjoin(Article, and_(ranked.c.target_type == "article", Article.id == ranked.c.target_id))
        .order_by(ranked.c.n.desc(), ranked.c.target_type, ranked.c.target_id)).all()
    top_targets = [_target_row(r) for r in top]

    # 7. Searches that found nothing: content to write next.
    total = func.sum(SearchMissDaily.count)
    zero_results = [(q, int(n)) for q, n in db.session.execute(
        select(SearchMissDaily.query, total).where(SearchMissDaily.day >= f.start, SearchMissDaily.day <= f.end)
        .group_by(SearchMissDaily.query).order_by(total.desc(), SearchMissDaily.query).limit(TOP_MISSES))]

    # 8. Tags with the slowest median first response (at least MIN_TAG_SAMPLE responses).
    tag_rows = (select(Tag.name.label("grp"), first_secs.label("secs"))
                .join(question_tags, question_tags.c.question_id == Question.id)
                .join(Tag, Tag.id == question_tags.c.tag_id)
                .where(*in_range, Question.first_response_at.is_not(None),
                       *([Tag.id.in_(f.tag_ids)] if f.tag_ids else []))).subquery()
    per_tag = _percentiles(tag_rows, (0.5,)).subquery()
    slow_tags = [TagRow(name, float(median), int(n)) for name, n, median in db.session.execute(
        select(per_tag.c.grp, per_tag.c.n, per_tag.c.p0).where(per_tag.c.n >= MIN_TAG_SAMPLE)
        .order_by(per_tag.c.p0.desc(), per_tag.c.grp).limit(SLOW_TAGS))]

    return InsightsPage(
        filter=f, costs=costs, asked=asked, responded=responded,
        first_response_median=_num(pct.get("first", (None, None))[0]),
        first_response_p90=_num(pct.get("first", (None, None))[1]),
        accepted=accepted, accepted_median=_num(pct.get("accepted", (None, None))[0]),
        within_target=within, unanswered=unanswered, solved=solved, community_accepted=community,
        escalations=int(escalations), escalations_resolved=int(resolved),
        resolution_median=_num(pct.get("case", (None, None))[0]),
        flags=flags, deflections=deflections, searches=searches, top_targets=top_targets,
        zero_results=zero_results, slow_tags=slow_tags, weeks=_weeks(f, in_range, first_secs))


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _target_row(r: Any) -> TargetRow:
    if r.target_type == "question":
        shown = r.title is not None and bool(r.is_visible)
        path = site_path("questions.show", question_id=r.target_id, slug=slugify(r.title)) if shown else None
        return TargetRow("question", r.target_id, r.title if shown else "(no longer shown)", path, int(r.n))
    shown = r.article_title is not None and r.state == "published"
    path = site_path("articles.show", article_id=r.target_id, slug=article_slug(r.article_title)) if shown else None
    return TargetRow("article", r.target_id, r.article_title if shown else "(no longer published)", path, int(r.n))


def _weeks(f: InsightsFilter, in_range: list[SQLColumnExpression[bool]], first_secs: _Seconds) -> list[WeekRow]:
    """Per ISO week touching the range: asked, solved, deflected, median first response (three
    statements); weeks with nothing are listed with zeros."""
    week = _WeekStart(Question.created_at)
    asked = {w: (int(n), int(s or 0)) for w, n, s in db.session.execute(
        select(week, func.count(), func.sum(case((Question.accepted_answer_id.is_not(None), 1), else_=0)))
        .where(*in_range).group_by(week))}
    rows = select(_WeekStart(Question.created_at).label("grp"), first_secs.label("secs")).where(
        *in_range, Question.first_response_at.is_not(None)).subquery()
    medians = {r.grp: _num(r.p0) for r in db.session.execute(_percentiles(rows, (0.5,)))}
    day_week = _WeekStart(InsightDaily.day)
    deflected = {w: int(n) for w, n in db.session.execute(
        select(day_week, func.sum(InsightDaily.count)).where(*_daily(f, DEFLECTION_KINDS)).group_by(day_week))}
    out = []
    monday = f.start - timedelta(days=f.start.weekday())
    while monday <= f.end:
        n, s = asked.get(monday, (0, 0))
        out.append(WeekRow(monday, n, s, deflected.get(monday, 0), medians.get(monday)))
        monday += timedelta(days=7)
    return out


# --------------------------------------------------------------------------- presentation


def hours(seconds: float | None) -> str:
    """A duration for people: "45 min", "3.0 h" or "2.5 days"; "–" for none."""
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.1f}%"


def dollars(cents: int) -> str:
    sign = "−" if cents < 0 else ""
    return f"{sign}${abs(cents) / 100:,.2f}"


def savings_formula(page: InsightsPage) -> str:
    """The savings spelled out: "10 × ($3.50 − $0.35) = $31.50"."""
    return (f"{page.deflected:,} × ({dollars(page.costs.assisted_cents)} − {dollars(page.costs.self_service_cents)})"
            f" = {dollars(page.savings_cents)}")


def glance(page: InsightsPage) -> list[tuple[str, str]]:
    """The key figures above the tables."""
    return [("Questions asked", f"{page.asked:,}"), ("Median first response", hours(page.first_response_median)),
            ("Solved", percent(page.solved_share)), ("Deflection rate", percent(page.deflection_rate)),
            ("Estimated savings", dollars(page.savings_cents))]


@dataclass(frozen=True)
class Link:
    """A cell that links on the page; the CSV holds its text."""

    text: str
    href: str

    def __str__(self) -> str:
        return self.text


Cell = str | Link


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    wrap: tuple[int, ...] = ()  # columns of words that may wrap on a phone (the others stay on one line)


TABLE_NAMES = ("summary", "deflection", "top-content", "zero-results", "slow-tags", "flags", "weekly")


def tables(page: InsightsPage) -> dict[str, Table]:
    """Every table of the page, in page order, as the page shows it; the CSV of one is its rows."""
    p = page
    summary: list[tuple[Cell, ...]] = [
        ("Questions asked", f"{p.asked:,}"),
        ("Time to first response, median", hours(p.first_response_median)),
        ("Time to first response, 90th percentile", hours(p.first_response_p90)),
        ("Time to accepted answer, median", hours(p.accepted_median)),
        ("First response within the playbook target", percent(p.within_target_share)),
        ("Unanswered", percent(p.unanswered_share)),
        ("Solved (accepted answer)", percent(p.solved_share)),
        ("Accepted answers written by the community", percent(p.community_share)),
        ("Escalated to a private case", f"{p.escalations:,}"),
        ("Private cases resolved", f"{p.escalations_resolved:,}"),
        ("Time to resolve a private case, median", hours(p.resolution_median)),
        ("Flags raised", f"{p.flags_total:,}"),
    ]
    deflection: list[tuple[Cell, ...]] = [(KIND_LABELS[k], f"{n:,}") for k, n in p.deflections.items()]
    deflection += [("Deflected in all", f"{p.deflected:,}"), ("Questions asked", f"{p.asked:,}"),
                   ("Deflection rate", percent(p.deflection_rate)),
                   ("Estimated savings", dollars(p.savings_cents)),
                   ("Savings, worked out", savings_formula(p))]
    if p.searches is not None:
        deflection.insert(len(p.deflections), ("Searches", f"{p.searches:,}"))
    top: list[tuple[Cell, ...]] = [
        ("Thread" if t.target_type == "question" else "Article", str(t.target_id),
         Link(t.title, t.path) if t.path else t.title, f"{t.count:,}") for t in p.top_targets]
    flag_rows: list[tuple[Cell, ...]] = [(r.status.capitalize(), r.outcome or "–", f"{r.count:,}") for r in p.flags]
    return {
        "summary": Table("Response times and outcomes", ("Figure", "Value"), summary),
        "deflection": Table("Deflection", ("Figure", "Value"), deflection, wrap=(1,)),
        "top-content": Table("Threads and articles that deflect most", ("Kind", "ID", "Title", "Deflections"), top,
                             wrap=(2,)),
        "zero-results": Table("Searches that found nothing", ("Search", "Times"),
                              [(q, f"{n:,}") for q, n in p.zero_results], wrap=(0,)),
        "slow-tags": Table(f"Tags with the slowest first response (median, at least {MIN_TAG_SAMPLE} responses)",
                           ("Tag", "Median first response", "Questions responded to"),
                           [(t.tag, hours(t.median_seconds), f"{t.responded:,}") for t in p.slow_tags]),
        "flags": Table("Flags raised, by outcome", ("Status", "Outcome", "Flags"), flag_rows, wrap=(1,)),
        "weekly": Table("Week by week", ("Week (Monday)", "Questions asked", "Deflections", "Solved",
                                         "Median first response"),
                        [(w.week.isoformat(), f"{w.asked:,}", f"{w.deflected:,}", percent(w.solved_share),
                          hours(w.median_first_response)) for w in p.weeks]),
    }


def csv_rows(table: Table) -> list[list[str]]:
    """The CSV of a table: its headers, then its rows as the page shows them."""
    return [list(table.headers), *[[str(c) for c in row] for row in table.rows]]


# --------------------------------------------------------------------------- charts


def charts(page: InsightsPage) -> list[WeeklyChart]:
    """The weekly trends as bar charts (the "weekly" table is their text alternative)."""
    w = page.weeks
    labels = [f"{x.week:%d %b}" for x in w]
    solved = [None if x.solved_share is None else x.solved_share * 100 for x in w]
    first = [None if x.median_first_response is None else x.median_first_response / 3600 for x in w]
    specs: list[tuple[str, str, list[float | None], list[str]]] = [
        ("asked", "Questions asked", [float(x.asked) for x in w], [f"{x.asked:,}" for x in w]),
        ("deflected", "Deflections", [float(x.deflected) for x in w], [f"{x.deflected:,}" for x in w]),
        ("solved", "Solved share (%)", solved, [percent(x.solved_share) for x in w]),
        ("first-response", "Median first response (hours)", first, [hours(x.median_first_response) for x in w]),
    ]
    out = []
    for key, title, values, texts in specs:
        told = "; ".join(f"week of {label}: {text}" for label, text in zip(labels, texts, strict=True))
        out.append(WeeklyChart(key, title, f"{title}, per ISO week from Monday {w[0].week:%d %b %Y}. {told}."
                               if w else title, bar_chart(labels, values)))
    return out


@dataclass(frozen=True)
class WeeklyChart:
    key: str  # for element ids
    title: str
    desc: str  # the text alternative, read by screen readers (<desc>)
    chart: BarChart
