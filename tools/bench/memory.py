"""Per-worker peak memory: every benchmark page loaded, beside a Flask hello-world.

    python -m tools.bench.memory --workdir DIR [--posts 200000] [--reuse] [--seconds 2]
                                 [--app-dir OTHER_CHECKOUT] [--encoder-service]

Serves the forum exactly as ``tools.bench.run`` does (gunicorn, 2 sync workers, production
configuration, no access log) and ``tools.bench.hello:app`` the same way, signs in the two
benchmark accounts through the login form (an Argon2 verification in whichever worker takes
it), loads each page of `tools.bench.run.pages` with wrk for ``--seconds`` (4 connections, so
both workers serve every page), posts answers for ``--seconds`` (each commit writes the search
index, and the next search in every worker opens a new searcher), then loads the pages once
more. It prints the peak resident set (``VmHWM`` of ``/proc/<pid>/status``) of each worker
after every step, so a step that raises the peak is visible, and finally each server's peaks.

``--app-dir`` serves the forum from another checkout (e.g. ``git archive <commit> | tar -x -C
/tmp/before``), so a before/after comparison runs on the same forum in the same run; the
hello-world and the load come from this checkout.

``--encoder-service`` runs the embedding model in the encoding service (``flask semantic serve``)
beside gunicorn and points the workers at it (FORUM_EMBEDDING_SERVICE); the service's own peaks
(its gunicorn master and the one worker holding the model) are printed apart.

Speeds are not measured here (``tools.bench.run`` does that); only memory.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

from tools.bench import wrk
from tools.bench.generate import Manifest, generate
from tools.bench.run import (
    CONNECTIONS,
    REPO,
    WORKERS,
    Browser,
    count_answers,
    forum_env,
    machine,
    pages,
    serve,
    serve_encoder,
)

__all__ = ["measure", "main"]


def _peaks(values: list[float]) -> str:
    return ", ".join(f"{mib:.0f}" for mib in values) + " MiB"


def measure(manifest: Manifest, workdir: Path, seconds: int, app_dir: Path = REPO,
            log: Callable[[str], None] = print, encoder_service: bool = False) -> dict[str, list[float]]:
    """Load hello-world and every forum page; return each server's per-worker VmHWM in MiB.

    With `encoder_service` the model runs in the encoding service beside gunicorn
    (`tools.bench.run.serve_encoder`); its peaks (master, worker) come as "encoder service".
    """
    peaks: dict[str, list[float]] = {}
    with serve("tools.bench.hello:app", {}, workdir, "hello") as hello:
        wrk.run(hello.base + "/", seconds=seconds, connections=CONNECTIONS)
        peaks["hello-world"] = hello.peak_rss_mib()
    log(f"hello-world: {_peaks(peaks['hello-world'])}")
    env = forum_env(manifest, workdir)
    with ExitStack() as stack:
        encoder = stack.enter_context(serve_encoder(env, workdir, app_dir)) if encoder_service else None
        if encoder is not None:
            env["FORUM_EMBEDDING_SERVICE"] = encoder.address
            log(f"encoding service started at {encoder.address}: {_peaks(encoder.peak_rss_mib())} (master, worker)")
        forum = stack.enter_context(serve("forum:create_app()", env, workdir, "forum", probe="/login",
                                          app_dir=app_dir))
        log(f"forum started, one request served: {_peaks(forum.peak_rss_mib())}")
        member, poster = Browser(forum.base), Browser(forum.base)
        member.login(manifest.member, manifest.password)
        poster.login(manifest.poster, manifest.password)
        log(f"two sign-ins: {_peaks(forum.peak_rss_mib())}")
        for round_ in ("", " again, after the answers"):
            for label, path, signed_in in pages(manifest):
                headers = member.headers() if signed_in else {}
                status, _ = (member if signed_in else Browser(forum.base)).get(path)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
                wrk.run(forum.base + path, seconds=seconds, connections=CONNECTIONS, headers=headers)
                log(f"{label}{round_}: {_peaks(forum.peak_rss_mib())}")
            if round_:
                break
            token = poster.token("/")  # first: fetching it may store the CSRF secret in a new session cookie
            script = wrk.post_script(workdir / "post_answer.lua", cookie=poster.cookie_header(),
                                     csrf_token=token, question_ids=manifest.answer_targets)
            before = count_answers(manifest.database_url)
            result = wrk.run(forum.base + "/", seconds=seconds, connections=CONNECTIONS, script=script)
            stored = count_answers(manifest.database_url) - before
            if result.errors or stored < result.requests:
                raise RuntimeError(f"posting answers: {result.requests} sent, {result.errors} errors, "
                                   f"{stored} stored")
            log(f"{stored} answers posted: {_peaks(forum.peak_rss_mib())}")
        peaks["forum"] = forum.peak_rss_mib()
        if encoder is not None:
            peaks["encoder service (master, worker)"] = encoder.peak_rss_mib()
    return peaks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000, help="questions + answers to generate (default 10,000)")
    parser.add_argument("--seconds", type=int, default=2, help="wrk duration per page (default 2)")
    parser.add_argument("--database", help="database URL to generate into (default: SQLite in the work directory)")
    parser.add_argument("--workdir", type=Path, help="keep the forum here (default: a temporary directory)")
    parser.add_argument("--reuse", action="store_true", help="load the forum already generated in --workdir")
    parser.add_argument("--app-dir", type=Path, default=REPO, help="serve the forum from this checkout")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--search-backend", choices=("whoosh", "postgres"), default="whoosh",
                        help="search index: Whoosh files (default) or PostgreSQL tables (needs --database postgresql://...)")
    parser.add_argument("--encoder-service", action="store_true",
                        help="run the embedding model in the encoding service (flask semantic serve) beside gunicorn "
                        "and point the workers at it; its peak RSS is printed apart")
    args = parser.parse_args(argv)
    if args.search_backend == "postgres" and not (args.database or "").startswith("postgres"):
        parser.error("--search-backend postgres needs --database postgresql://...")
    try:
        wrk.executable()
    except wrk.WrkMissing as exc:
        print(exc, file=sys.stderr)
        return 2
    temporary = None if args.workdir else tempfile.mkdtemp(prefix="forum-memory-")
    workdir: Path = args.workdir or Path(str(temporary))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if args.reuse:
            manifest = Manifest.load(workdir / "manifest.json")
        else:
            url = args.database or f"sqlite:///{workdir / 'forum.db'}"
            print(f"generating {args.posts:,} posts into {url} ...")
            manifest = generate(args.posts, url, workdir / "index", seed=args.seed, replace=True,
                                search_backend=args.search_backend)
            manifest.save(workdir / "manifest.json")
        peaks = measure(manifest, workdir, args.seconds, args.app_dir.resolve(), encoder_service=args.encoder_service)
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    print(f"\n{manifest.posts:,} posts ({manifest.questions:,} questions); search: {manifest.search_backend}; "
          f"forum served from {args.app_dir}")
    print(f"gunicorn {WORKERS} sync workers, wrk {CONNECTIONS} connections, {args.seconds:g} s per page; "
          f"embedding model {'in the encoding service' if args.encoder_service else 'in each worker'}; {machine()}")
    print("per-worker peak RSS (VmHWM): " + "; ".join(f"{name} {_peaks(v)}" for name, v in peaks.items()))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
