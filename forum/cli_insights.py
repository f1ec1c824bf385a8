"""``flask insights``: the deflection sweep (cron), the export of the daily counts, and the
monthly e-mail to members whose answers helped people (services/reach.py), and the weekly
report to staff (services/insights_report.py).

The group is defined here so that other insight commands can be added to it
(``@insights_cli.command(...)`` in this module); forum/cli.py registers it.
"""
from __future__ import annotations

import sys
from datetime import date, datetime
from typing import IO, cast

import click
from flask.cli import AppGroup

from .extensions import db
from .services import deflection, insights_report, reach

insights_cli = AppGroup("insights", help="Insights: deflection, response times, the people helpers reached.")


@insights_cli.command("sweep")
def insights_sweep() -> None:
    """Count the deflections whose window closed and delete raw events past the retention.

    Idempotent and safe beside the job worker, which runs the same sweep periodically.
    Cron line (only when no job worker runs): */5 * * * * forum-flask insights sweep
    """
    report = deflection.sweep()
    db.session.commit()
    click.echo(f"Counted {report.deflected} deflections; deleted {report.purged} raw events past the retention.")


@insights_cli.command("export")
@click.option("--since", "since", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="First day to export (YYYY-MM-DD, UTC).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--table", type=click.Choice(["daily", "search-misses"]), default="daily", show_default=True,
              help="daily: counts per day, kind and target; search-misses: searches that found nothing, per query.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="File to write (default: standard output).")
def insights_export(since: datetime, fmt: str, table: str, output: str | None) -> None:
    """Write the daily aggregates from --since on, as CSV (with a header) or JSON lines."""
    day: date = since.date()
    if output is None:
        deflection.export_daily(day, cast(deflection.ExportFormat, fmt), sys.stdout,
                                cast(deflection.ExportTable, table))
    else:
        with open(output, "w", encoding="utf-8", newline="") as out:
            n = deflection.export_daily(day, cast(deflection.ExportFormat, fmt), cast(IO[str], out),
                                        cast(deflection.ExportTable, table))
        click.echo(f"Wrote {n} rows to {output}.", err=True)
    db.session.rollback()


@insights_cli.command("monthly-helpers")
@click.option("--now", "now_text", default=None, metavar="YYYY-MM-DD[THH:MM]",
              help="Run as if it were this UTC time (default: now); the month before it is reported.")
def monthly_helpers(now_text: str | None) -> None:
    """E-mail last month's figures to the members who turned the monthly helped mail on (from the 1st to the 7th)."""
    try:
        now = datetime.fromisoformat(now_text) if now_text else None
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD or YYYY-MM-DDTHH:MM", param_hint="--now") from None
    run = reach.send_monthly_helper_mail(now.replace(tzinfo=None) if now else None)
    db.session.commit()
    click.echo(f"Monthly helped mail: {run.sent} sent, {run.already_sent} already sent this month, "
               f"{run.helped_nobody} opted in but helped nobody last month.")


@insights_cli.command("top-helpers")
def top_helpers_refresh() -> None:
    """Rank every tag's top helpers again (the tag pages' stored rankings).

    Acceptances change a tag's ranking at once; this lets the ones older than the window age
    out. Cron line (nightly): 45 3 * * * forum-flask insights top-helpers
    """
    done = reach.refresh_top_helpers()
    click.echo(f"Ranked the top helpers of {done:,} tags.")


@insights_cli.command("weekly-report")
def weekly_report() -> None:
    """Queue last ISO week's report for opted-in staff (cron on Mondays; once per member and week)."""
    run = insights_report.send_weekly_reports()
    db.session.commit()
    click.echo(f"Weekly report for the week of {run.week.isoformat()}: sent {run.sent}; "
               f"already sent {run.already_sent}.")
