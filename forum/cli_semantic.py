"""``flask semantic serve``: the encoding service, the one process per host that holds the
embedding model for every web worker and job worker (search/encoding_service.py,
docs/search.md "The encoding service"). forum/cli.py registers the group.
"""
from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from search import encoding_service

from . import search_index

semantic_cli = AppGroup("semantic", help="The encoding service that holds the embedding model for every worker.")


@semantic_cli.command("serve")
@click.option("--bind", "address", default=None,
              help="unix:/path/to.sock or 127.0.0.1:PORT (default: FORUM_EMBEDDING_SERVICE).")
@click.option("--threads", type=click.IntRange(min=1), default=4, show_default=True,
              help="Requests encoded at once (each with FORUM_EMBEDDING_THREADS BLAS threads).")
def semantic_serve(address: str | None, threads: int) -> None:
    """Serve the embedding model at FORUM_EMBEDDING_SERVICE until stopped (gunicorn, one worker).

    Replaces this process with gunicorn (``exec``), so a systemd unit or a supervisor sees the
    server itself; the key (from FORUM_EMBEDDING_SERVICE_KEY or FORUM_SECRET_KEY) reaches it
    through the environment, never the command line. The web workers, the job worker and
    ``flask search`` then encode through it; its address must be the same setting there.
    """
    config = current_app.config
    address = address or config.get("EMBEDDING_SERVICE") or ""
    if not address:
        raise click.UsageError("no address: set FORUM_EMBEDDING_SERVICE (e.g. unix:/run/forum/encoder.sock) "
                               "or pass --bind")
    try:
        command = encoding_service.gunicorn_command(address, threads=threads)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--bind / FORUM_EMBEDDING_SERVICE") from None
    env = dict(os.environ)
    env[encoding_service.ENV_KEY] = search_index.service_key(current_app)
    if config.get("EMBEDDING_MODEL"):
        env[encoding_service.ENV_MODEL] = str(config["EMBEDDING_MODEL"])
    env[encoding_service.ENV_THREADS] = str(int(config.get("EMBEDDING_THREADS") or 1))
    # gunicorn imports search.encoding_service from the checkout this command runs from.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    click.echo(f"Serving the embedding model at {address} ({threads} requests at a time).", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command[0], command, env)
