"""Commands for the work done outside requests: ``flask jobs worker`` (the RQ worker),
``flask mail`` (the e-mail outbox) and ``flask notifications digest`` (the daily digest, from cron)."""
from __future__ import annotations

import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import jobs, mail
from .extensions import db
from .services import accounts, webhooks
from .services import digest as digest_svc
from .services.errors import FieldError, NotFound, PermissionDenied

jobs_cli = AppGroup("jobs", help="Run the background job worker (needs FORUM_REDIS_URL).")
mail_cli = AppGroup("mail", help="The e-mail outbox: retry due mails, show failures.")
notifications_cli = AppGroup("notifications", help="Daily digest.")
webhooks_cli = AppGroup("webhooks", help="Outbound webhooks: retry due deliveries, disable failing endpoints.")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit (tests, cron).")
@click.option("--sweep-every", default=60.0, show_default=True, help="Seconds between sweeps for due mails.")
def worker(burst: bool, sweep_every: float) -> None:
    """Run an RQ worker on the "forum" queue; it also re-queues due outbox mails periodically."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        w = jobs.make_worker(app)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Queued {jobs.sweep()} due mails.")
    stop = threading.Event()
    if not burst:
        jobs.start_sweeper(app, sweep_every, stop)
    try:
        w.work(burst=burst, with_scheduler=True)
    finally:
        stop.set()


@mail_cli.command("retry")
def mail_retry() -> None:
    """Send (inline) or queue (Redis) every mail whose retry is due. Run from cron every few minutes."""
    click.echo(f"Handed over {jobs.sweep()} due mails.")


@mail_cli.command("status")
@click.option("--requeue-failed", is_flag=True, help="Give failed mails a fresh set of attempts.")
def mail_status(requeue_failed: bool) -> None:
    """Mails per state and the latest failures (exit status 1 when any mail failed for good)."""
    if requeue_failed:
        n = mail.requeue_failed()
        db.session.commit()
        click.echo(f"Re-queued {n} failed mails; `flask mail retry` sends them.")
    report = mail.status()
    click.echo(", ".join(f"{state}: {n}" for state, n in report.counts.items()))
    for row in report.failed:
        click.echo(f"failed #{row.id} to {row.recipient} after {row.attempts} attempts: {row.subject} — {row.last_error}")
    db.session.rollback()
    if report.counts["failed"] and not requeue_failed:
        raise SystemExit(1)


@notifications_cli.command("digest")
def digest() -> None:
    """E-mail today's digest of new unanswered questions in followed tags (cron, once a day)."""
    run = digest_svc.send_digests()
    db.session.commit()
    click.echo(f"Digests sent: {run.sent}; already sent today: {run.skipped_already_sent}; "
               f"nothing new: {run.nothing_new}.")


@webhooks_cli.command("retry")
def webhooks_retry() -> None:
    """Send (inline) or queue (Redis) every webhook delivery whose retry is due, and disable
    endpoints failing for a day (their admins are told). Cron, every few minutes:
    */5 * * * * cd /srv/forum && .venv/bin/flask webhooks retry
    """
    handed, disabled = jobs.sweep_webhooks()
    click.echo(f"Handed over {handed} due webhook deliveries; disabled {disabled} failing endpoints.")


@webhooks_cli.command("add")
@click.option("--admin", "admin_name", required=True, help="The admin registering it (kept in the moderation log).")
@click.option("--url", required=True, help="Where deliveries are POSTed.")
@click.option("--events", required=True,
              help="Comma-separated: " + ", ".join(webhooks.EVENTS) + ".")
@click.option("--format", "fmt", default="json", show_default=True, type=click.Choice(["json", "slack"]))
@click.option("--secret-only", is_flag=True, help="Print only the secret (for scripts).")
def webhooks_add(admin_name: str, url: str, events: str, fmt: str, secret_only: bool) -> None:
    """Register a webhook endpoint, as Admin → Webhooks does, and print its secret (shown only
    this once). The same checks apply: a loopback or private address is refused unless
    WEBHOOKS_ALLOW_PRIVATE is on (FORUM_WEBHOOKS_ALLOW_PRIVATE=true, or the admin setting)."""
    chosen = [e.strip() for e in events.split(",") if e.strip()]
    unknown = [e for e in chosen if e not in webhooks.EVENTS]
    if unknown:
        raise click.BadParameter(f"unknown event {', '.join(unknown)}; choose from {', '.join(webhooks.EVENTS)}",
                                 param_hint="--events")
    try:
        endpoint, secret = webhooks.create_endpoint(accounts.find_user(admin_name),
                                                    webhooks.EndpointInput(url=url, events=chosen, format=fmt))
    except FieldError as exc:
        db.session.rollback()
        raise click.ClickException("; ".join(f"{e.field}: {e.message}" for e in exc.each())) from None
    except (NotFound, PermissionDenied) as exc:
        db.session.rollback()
        raise click.ClickException(exc.message or "Only an admin may register webhooks.") from None
    db.session.commit()
    if secret_only:
        click.echo(secret)
    else:
        click.echo(f"Endpoint {endpoint.id} → {endpoint.url} for {endpoint.events.replace(' ', ', ')}; "
                   f"secret (shown once): {secret}")


def init_app(app: Flask) -> None:
    for group in (jobs_cli, mail_cli, notifications_cli, webhooks_cli):
        app.cli.add_command(group)
