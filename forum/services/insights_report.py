"""The weekly insights report: last ISO week's figures against the week before, e-mailed on
Mondays to the staff who opted in (notification settings, pseudo-event ``weekly_report``).

Sent once per member and week: an ``insight_mails_sent`` row (member, "weekly_report", the
reported week's Monday) is claimed with INSERT … ON CONFLICT DO NOTHING in the same transaction
as the outbox mail, so overlapping runs (the job worker and cron) never send twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..mail import absolute_url, compose, site_path
from ..models import STAFF_ROLES, InsightMailSent, NotificationPreference, User
from ..models.base import table_of, utcnow
from . import insights
from .notifications import WEEKLY_REPORT

KIND = "weekly_report"  # insight_mails_sent.kind


@dataclass(frozen=True)
class ReportRow:
    label: str
    last: str
    before: str
    change: str  # "+3", "−12.5 points", "–" when either side has no figure


@dataclass(frozen=True)
class ReportRun:
    week: date  # the Monday of the reported week
    sent: int
    already_sent: int


def reported_week(now: datetime) -> date:
    """The Monday of the last complete ISO week before ``now`` (UTC)."""
    today = now.date()
    return today - timedelta(days=today.weekday() + 7)


def _change(last: float | None, before: float | None, fmt: str = "{:+,.0f}", scale: float = 1.0,
            unit: str = "") -> str:
    if last is None or before is None:
        return "–"
    return (fmt.format((last - before) * scale) + unit).replace("-", "−")


def report_rows(last: insights.InsightsPage, before: insights.InsightsPage) -> list[ReportRow]:
    """The figures of the mail: last week, the week before, and the change."""
    def hours(v: float | None) -> float | None:
        return None if v is None else v / 3600

    return [
        ReportRow("Questions asked", f"{last.asked:,}", f"{before.asked:,}", _change(last.asked, before.asked)),
        ReportRow("First response, median", insights.hours(last.first_response_median),
                  insights.hours(before.first_response_median),
                  _change(hours(last.first_response_median), hours(before.first_response_median), "{:+,.1f}",
                          unit=" h")),
        ReportRow("First response, 90th percentile", insights.hours(last.first_response_p90),
                  insights.hours(before.first_response_p90),
                  _change(hours(last.first_response_p90), hours(before.first_response_p90), "{:+,.1f}", unit=" h")),
        ReportRow("Solved", insights.percent(last.solved_share), insights.percent(before.solved_share),
                  _change(last.solved_share, before.solved_share, "{:+,.1f}", 100, " points")),
        ReportRow("Deflected", f"{last.deflected:,}", f"{before.deflected:,}",
                  _change(last.deflected, before.deflected)),
        ReportRow("Deflection rate", insights.percent(last.deflection_rate), insights.percent(before.deflection_rate),
                  _change(last.deflection_rate, before.deflection_rate, "{:+,.1f}", 100,
                          " points")),
        ReportRow("Estimated savings", insights.dollars(last.savings_cents), insights.dollars(before.savings_cents),
                  ("+" if last.savings_cents >= before.savings_cents else "−")
                  + insights.dollars(abs(last.savings_cents - before.savings_cents))),
    ]


def _recipients(week: date) -> list[User]:
    """Staff who turned the report on and have not had this week's, in id order (one query)."""
    return list(db.session.scalars(
        select(User).join(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(NotificationPreference.event == WEEKLY_REPORT, NotificationPreference.email.is_(True),
               User.role.in_([str(r) for r in STAFF_ROLES]),
               ~exists().where(InsightMailSent.user_id == User.id, InsightMailSent.kind == KIND,
                               InsightMailSent.period_start == week)).order_by(User.id)))


def _claim(user_id: int, week: date, now: datetime) -> bool:
    """Mark this member's report of ``week`` as sent; False when a row was already there."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = table_of(InsightMailSent)
    return db.session.execute(
        insert(table).values(user_id=user_id, kind=KIND, period_start=week, created_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "kind", "period_start"]).returning(table.c.user_id)
    ).first() is not None


def send_weekly_reports(now: datetime | None = None) -> ReportRun:
    """Queue last week's report for every opted-in staff member who has not had it yet.

    Members who are suspended or whose address is unconfirmed are skipped (and may get it on a
    later run the same week). The figures are computed once for everyone (two ``insights_page``
    calls). The caller commits; the mails then leave through the job layer. Raises nothing of its own.
    """
    now = now or utcnow()
    week = reported_week(now)
    people = [u for u in _recipients(week) if not u.is_suspended(now) and u.email_verified]
    if not people:  # everyone had it (the usual case on a Monday's later ticks): nothing computed
        return ReportRun(week, 0, 0)
    last = insights.insights_page(insights.InsightsFilter(week, week + timedelta(days=6)))
    before = insights.insights_page(insights.InsightsFilter(week - timedelta(days=7), week - timedelta(days=1)))
    rows = report_rows(last, before)
    page_path = site_path("insights.index", start=week.isoformat(), end=(week + timedelta(days=6)).isoformat())
    context = {"rows": rows, "week": week, "week_end": week + timedelta(days=6), "before": week - timedelta(days=7),
               "insights_url": absolute_url(page_path), "formula": insights.savings_formula(last)}
    subject = f"Insights for the week of {week:%d %b %Y}: {last.asked:,} questions, {last.deflected:,} deflected"
    sent = skipped = 0
    for user in people:
        if not _claim(user.id, week, now):
            skipped += 1
            continue
        compose(user, WEEKLY_REPORT, subject, context)
        sent += 1
    db.session.flush()
    return ReportRun(week, sent, skipped)
