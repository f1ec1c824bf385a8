"""``flask insights weekly-report``: e-mail last week's insights to the staff who opted in.

The group is named ``insights`` so that it merges with the other insights commands
(forum/cli_insights.py).
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from .extensions import db
from .services import insights_report

insights_cli = AppGroup("insights", help="Insights: the weekly report to staff.")


@insights_cli.command("weekly-report")
def weekly_report() -> None:
    """Queue last ISO week's report for opted-in staff (cron on Mondays; once per member and week)."""
    run = insights_report.send_weekly_reports()
    db.session.commit()
    click.echo(f"Weekly report for the week of {run.week.isoformat()}: sent {run.sent}; "
               f"already sent {run.already_sent}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(insights_cli)
