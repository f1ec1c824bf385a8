"""``flask insights``: the deflection sweep (cron) and the export of the daily counts.

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
from .services import deflection

insights_cli = AppGroup("insights", help="Deflection and the other insights: sweep, export.")


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
