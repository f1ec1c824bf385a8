"""``flask insights monthly-helpers``: the monthly e-mail to members whose answers helped people
(services/reach.py). Cron runs it daily in the first days of a month; the job worker's
periodic tick runs it too, and a member gets each month's mail once either way."""
from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from .extensions import db
from .services import reach

insights_cli = AppGroup("insights", help="Insights: deflection, response times, the people helpers reached.")


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
