"""``flask`` commands: users, demo data, re-rendering, search, reputation."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from search.encoding_service import EncoderUnavailable

from . import search_index, search_sync, semantic_sync
from .cli_insights import insights_cli
from .cli_semantic import semantic_cli
from .demo import seeding as demo
from .extensions import db
from .markup.highlight import stylesheet
from .models import Role
from .services import (
    accounts,
    admin,
    api_tokens,
    badges,
    case_export,
    drafts,
    fraud,
    maintenance,
    related,
    reputation,
    sla,
    uploads,
    verification,
)
from .services import solved_too as thanks
from .services.errors import FieldError, InvalidState, NotFound, PermissionDenied

users_cli = AppGroup("users", help="Create accounts, set roles, confirm e-mail addresses.")
forum_cli = AppGroup("forum", help="Demo data and maintenance.")
api_token_cli = AppGroup("api-token", help="Personal access tokens for the REST API (/api/v1), for scripts.")


@users_cli.command("create")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", default="member", show_default=True, type=click.Choice(["member", "agent", "moderator", "admin"]))
def create_user(username: str, email: str, password: str, role: str) -> None:
    """Create an account with a role (the only way to make the first admin)."""
    try:
        # An operator vouches for the address of an account they create.
        user = accounts.register(accounts.Registration(username, email, password), role=Role(role),
                                 allow_reserved=True, verified=True)
    except FieldError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.field}: {exc.message}") from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.username} (id {user.id}).")


@users_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(["member", "agent", "moderator", "admin"]))
@click.option("--reason", default="", help="Kept in the moderation log (the site's admin area asks for one).")
def set_role(username: str, role: str, reason: str) -> None:
    """Change a user's role (logged; the last admin can't be demoted)."""
    try:
        user = accounts.find_user(username)
        admin.change_role(None, user, role, reason or "Changed from the command line.")
    except (NotFound, FieldError, InvalidState) as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{user.username} is now {user.role}.")


@users_cli.command("verify-email")
@click.argument("username")
def verify_email(username: str) -> None:
    """Mark a user's e-mail address confirmed (as if they had followed the link)."""
    try:
        user = accounts.find_user(username)
        verification.mark_verified(None, user)
    except (NotFound, InvalidState) as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{user.username}'s address {user.email} is confirmed.")


@api_token_cli.command("create")
@click.option("--user", "username", required=True, help="The member the token acts as (username or e-mail).")
@click.option("--name", required=True, help="What uses it, such as the script's name (shown in Settings → API tokens).")
@click.option("--scopes", default="read", show_default=True, help="Comma-separated: read, write, staff (staff only).")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=0),
              help="Days until it expires (at most API_TOKEN_MAX_DAYS; 0: never).")
@click.option("--secret-only", is_flag=True, help="Print only the secret (for scripts: TOKEN=$(flask api-token ...)).")
def api_token_create(username: str, name: str, scopes: str, days: int, secret_only: bool) -> None:
    """Create a personal access token for a member, with the settings page's checks, and print
    its secret (shown only this once; only its hash is kept)."""
    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    try:
        token, secret = api_tokens.create_token(accounts.find_user(username), name, wanted, days)
    except FieldError as exc:
        db.session.rollback()
        raise click.ClickException("; ".join(f"{e.field}: {e.message}" for e in exc.each())) from None
    except NotFound as exc:
        db.session.rollback()
        raise click.ClickException(exc.message or f"No user {username}.") from None
    db.session.commit()
    if secret_only:
        click.echo(secret)
        return
    expires = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "never expires"
    click.echo(f"Token {token.id} \"{token.name}\" for {token.user.username} ({token.scopes.replace(' ', ', ')}; "
               f"{expires}). Secret, shown once: {secret}")
    click.echo(f"Use it as: curl -H 'Authorization: Bearer {secret}' ...")


@forum_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def seed_demo(if_empty: bool) -> None:
    """Load the demo support community (users, tags, questions, answers, comments)."""
    if accounts.count_users() and if_empty:
        click.echo("Database already has users; demo data not loaded.")
        return
    try:
        counts = demo.seed()
    except FieldError as exc:
        db.session.rollback()
        raise click.ClickException(f"demo data rejected: {exc.field}: {exc.message}") from None
    db.session.commit()
    # The questions were asked in one transaction, before any of them was indexed (the index is
    # written after the commit), so their related lists were computed against an empty index.
    related.refresh_all()
    click.echo("Loaded demo data: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@forum_cli.command("rerender")
@click.option("--all", "everything", is_flag=True, help="Re-render every post, not only stale ones.")
def rerender(everything: bool) -> None:
    """Re-render stored Markdown after the allowlist or extensions change."""
    counts = maintenance.rerender(everything)
    db.session.commit()
    click.echo("Re-rendered: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@forum_cli.command("code-css")
@click.option("--write", is_flag=True, help="Write static/css/code.css instead of printing it.")
def code_css(write: bool) -> None:
    """The stylesheet of highlighted code, light and dark palettes (static/css/code.css, committed)."""
    css = stylesheet()
    if write:
        path = Path(current_app.static_folder or "static") / "css" / "code.css"
        path.write_text(css, encoding="utf-8")
        click.echo(f"Wrote {path}")
    else:
        click.echo(css, nl=False)


@forum_cli.command("related")
@click.option("--all", "everything", is_flag=True, help="Recompute every question's list, not only missing ones.")
def related_refresh(everything: bool) -> None:
    """Store the "Related questions" of each question (the page reads them; run nightly with --all)."""
    ids = None if everything else related.missing_ids()
    done = related.refresh_all(ids, progress=lambda n: click.echo(f"  {n:,} questions"))
    click.echo(f"Related questions stored for {done:,} questions.")


@forum_cli.command("recount-helped")
def recount_helped() -> None:
    """Set every "solved too" count and member's "helped" count from the marks (docs/solved-too.md)."""
    wrong = thanks.recount_helped()
    db.session.commit()
    click.echo(f"Helped counts recounted; {wrong:,} members' counts were wrong.")


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(api_token_cli)
    app.cli.add_command(forum_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(reputation_cli)
    app.cli.add_command(support_cli)
    app.cli.add_command(cases_cli)
    app.cli.add_command(badges_cli)
    app.cli.add_command(uploads_cli)
    app.cli.add_command(drafts_cli)
    app.cli.add_command(insights_cli)
    app.cli.add_command(semantic_cli)


search_cli = AppGroup("search", help="Rebuild and check the search index.")


@search_cli.command("rebuild")
def search_rebuild() -> None:
    """Rebuild the index from the database (the source of truth)."""
    with Session(db.engine) as session:
        total = search_sync.count_documents(session)
    started = time.monotonic()
    state = {"done": 0}

    def rate(_: object) -> str:
        elapsed = max(time.monotonic() - started, 1e-6)
        return f"{state['done'] / elapsed:,.0f} docs/s"

    with click.progressbar(length=total, label="Indexing", show_eta=True, show_percent=True,
                           item_show_func=rate) as bar:
        def progress(n: int) -> None:
            bar.update(n - state["done"], current_item=n)
            state["done"] = n

        count = search_sync.rebuild(progress=progress)
    elapsed = time.monotonic() - started
    click.echo(f"Indexed {count:,} documents in {elapsed:.1f} s ({count / max(elapsed, 1e-6):,.0f} docs/s).")
    _rebuild_vectors()


def _rebuild_vectors() -> None:
    """Vectors and fused related lists, when meaning is on (docs/search.md, "Meaning")."""
    if not search_index.get_handle().semantic:
        return
    started = time.monotonic()

    def progress(n: int) -> None:
        click.echo(f"Vectors: {n:,} questions ({n / max(time.monotonic() - started, 1e-6):,.1f}/s)")

    try:
        count = semantic_sync.rebuild(progress=progress)
    except EncoderUnavailable as error:  # before any vector was deleted (semantic_sync.rebuild)
        raise click.ClickException(f"vectors not rebuilt: {error}; start it (flask semantic serve) and run "
                                   "flask search rebuild again") from None
    elapsed = time.monotonic() - started
    click.echo(f"Encoded {count:,} questions and refreshed related lists in {elapsed:.1f} s "
               f"({count / max(elapsed, 1e-6):,.1f} questions/s).")


@search_cli.command("ensure")
def search_ensure() -> None:
    """Rebuild only when needed: after a schema change, or an empty index over a full database."""
    if search_sync.needs_rebuild():
        click.echo("Search index is outdated or empty; rebuilding.")
        count = search_sync.rebuild()
        click.echo(f"Indexed {count:,} documents.")
    else:
        click.echo("Search index is current.")


@search_cli.command("check")
@click.option("--repair/--no-repair", default=True, show_default=True, help="Fix what is found.")
def search_check(repair: bool) -> None:
    """Report (and repair) documents missing from, stale in, or extra in the index."""
    report = search_sync.check(repair=repair)
    for kind in ("missing", "stale", "extra"):
        keys = report[kind]
        shown = ", ".join(keys[:10]) + (" …" if len(keys) > 10 else "")
        click.echo(f"{kind}: {len(keys)}" + (f" ({shown})" if keys else ""))
    try:
        vectors = semantic_sync.check(repair=repair)
    except EncoderUnavailable as error:
        raise click.ClickException(f"vectors not checked: {error}") from None
    if search_index.get_handle().semantic:
        click.echo(f"vectors missing or stale: {len(vectors['missing'])}, extra: {len(vectors['extra'])}")
    problems = sum(len(v) for v in report.values()) + sum(len(v) for v in vectors.values())
    if problems and repair:
        click.echo(f"Repaired {problems} documents.")
    elif not problems:
        click.echo("Index matches the database.")
    elif not repair:
        raise SystemExit(1)


reputation_cli = AppGroup("reputation", help="Check reputation against its ledger.")


@reputation_cli.command("recompute")
@click.option("--dry-run", is_flag=True, help="Report drift without repairing it.")
def reputation_recompute(dry_run: bool) -> None:
    """Rebuild every user's reputation as 1 + the sum of their ledger rows; report any drift."""
    checked, drift = reputation.recompute(fix=not dry_run)
    for d in drift[:50]:
        click.echo(f"user {d.user_id}: stored {d.stored}, ledger says {d.expected}")
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "found" if dry_run else "repaired"
    click.echo(f"Checked {checked} users; drift {verb} on {len(drift)}.")


support_cli = AppGroup("support", help="The support desk's first-response targets.")
cases_cli = AppGroup("cases", help="Private support cases: export for a CRM or ticket system.")


@cases_cli.command("export")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), default=None,
              help="Only cases opened on or after this date (UTC).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True,
              help="JSON lines (one case a line, timeline inside) or CSV (one row per timeline event).")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default="-",
              help="File to write (default: standard output).")
def cases_export(since: datetime | None, fmt: str, output: str) -> None:
    """Write every case with its timeline (opened, messages, status changes, resolution)."""
    since_utc = since.replace(tzinfo=timezone.utc) if since is not None else None
    with click.open_file(output, "w", encoding="utf-8") as out:
        n = case_export.write(out, fmt, since_utc)
    db.session.rollback()
    if output != "-":
        click.echo(f"Exported {n} cases to {output}.")


@support_cli.command("sweep")
def support_sweep() -> None:
    """Invite top answerers to waiting questions and alert staff of breaches (run from cron).

    Idempotent: each question gets one invitation round and one breach alert at most.
    Cron line: */5 * * * * cd /srv/forum && .venv/bin/flask support sweep
    """
    report = sla.sweep()
    db.session.commit()
    click.echo(f"Checked {report.checked} waiting questions; invitations sent for {report.invited}, "
               f"breach alerts for {report.breached}.")


@reputation_cli.command("reverse-serial")
@click.option("--min-votes", type=int, default=None, help="Votes from one member on another's posts that count as serial "
              "(default: SERIAL_VOTE_MIN_VOTES, 5).")
@click.option("--hours", type=float, default=None, help="Window in hours (default: SERIAL_VOTE_WINDOW_HOURS, 24).")
@click.option("--dry-run", is_flag=True, help="Report what would be reversed; change nothing.")
@click.option("--actor", default=None, help="Moderator or admin to record in the moderation log (default: System).")
def reputation_reverse_serial(min_votes: int | None, hours: float | None, dry_run: bool, actor: str | None) -> None:
    """Find serial voting and reverse those votes exactly (scores, ledger, moderation log)."""
    cfg = current_app.config
    min_votes = cfg["SERIAL_VOTE_MIN_VOTES"] if min_votes is None else min_votes
    hours = cfg["SERIAL_VOTE_WINDOW_HOURS"] if hours is None else hours
    try:
        who = accounts.find_user(actor) if actor else None
        reversals = fraud.reverse_serial(who, min_votes, hours, dry_run=dry_run)
    except (NotFound, FieldError, PermissionDenied) as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    for r in reversals:
        p = r.pair
        change = "" if dry_run else f"; {r.author.username}'s reputation {r.reputation_before} -> {r.reputation_after}"
        click.echo(f"{r.voter.username} -> {r.author.username}: {len(p.vote_ids)} votes ({p.ups} up, {p.downs} down)"
                   + change)
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run: {len(reversals)} serial voting pairs found (>= {min_votes} votes within {hours:g} h); "
                   "nothing changed.")
    else:
        db.session.commit()
        total = sum(len(r.pair.vote_ids) for r in reversals)
        click.echo(f"Reversed {total} votes in {len(reversals)} serial voting pairs "
                   f"(>= {min_votes} votes within {hours:g} h).")


badges_cli = AppGroup("badges", help="Award badges from the data.")


@badges_cli.command("award")
@click.option("--notify", is_flag=True, help="Also notify members of the badges awarded now.")
def badges_award(notify: bool) -> None:
    """Evaluate every badge for every member and award the missing ones (idempotent: for a
    backfill after a deploy or a new badge). Badges already held are never taken away."""
    awarded = badges.award_all(notify=notify)
    db.session.commit()
    click.echo(f"Awarded {awarded} badges.")


# --- uploads (docs/uploads.md) ---
uploads_cli = AppGroup("uploads", help="Images uploaded for posts.")


@uploads_cli.command("cleanup")
def uploads_cleanup() -> None:
    """Delete uploads no post references that are older than UPLOAD_ORPHAN_HOURS (run hourly)."""
    deleted = uploads.cleanup()
    db.session.commit()
    uploads.forget_bytes()
    click.echo(f"Deleted {deleted} unused upload{'s' if deleted != 1 else ''}.")


# --- drafts (docs/drafts.md) ---
drafts_cli = AppGroup("drafts", help="Members' unsent drafts.")


@drafts_cli.command("purge")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Remove drafts not saved for this many days (default: DRAFT_MAX_AGE_DAYS).")
def drafts_purge(days: int | None) -> None:
    """Remove drafts nobody came back to (run daily from cron).

    Cron line: 17 3 * * * cd /srv/forum && .venv/bin/flask drafts purge
    """
    removed = drafts.purge(days)
    db.session.commit()
    age = current_app.config["DRAFT_MAX_AGE_DAYS"] if days is None else days
    click.echo(f"Removed {removed} drafts not saved for {age} days.")
