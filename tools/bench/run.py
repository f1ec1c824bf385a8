"""The page benchmark: the forum's pages beside a Flask hello-world, served and loaded the same way.

    python -m tools.bench.run [--posts 10000] [--seconds 5] [--database URL] [--reuse DIR]
                              [--search-backend whoosh|postgres] [--encoder-service]

1. Generates a forum of ``--posts`` questions and answers (``tools.bench.generate``) into a
   SQLite file in a work directory (or ``--database``, e.g. a PostgreSQL URL), and indexes it.
2. Serves it with gunicorn, 2 sync workers, the production configuration (FORUM_ENV=production,
   a random FORUM_SECRET_KEY; secure cookies off because the benchmark speaks plain HTTP to
   127.0.0.1), no access log; and ``tools.bench.hello:app`` with the very same gunicorn flags.
3. Loads each URL with wrk (4 connections, 2 threads, ``--seconds`` each after a short warm-up)
   and prints req/s, p50, p99 and the ratio to hello-world; posting an answer is a wrk Lua
   script sending the form with a session cookie and its CSRF token. Finally the peak RSS
   (VmHWM) of each gunicorn worker.

With ``--encoder-service`` the embedding model runs in the encoding service (``flask semantic
serve``, docs/search.md) beside gunicorn instead of in each worker; its own peak RSS (master and
the worker holding the model) is printed apart.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import platform
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tools.bench import wrk
from tools.bench.generate import Manifest, forum_in
from tools.serving import free_port, stop, wait_for_http, wait_until_answering

__all__ = ["Row", "main", "format_table"]

REPO = Path(__file__).resolve().parents[2]
WORKERS = 2
CONNECTIONS = 4


@dataclass(frozen=True)
class Row:
    page: str
    path: str
    result: wrk.WrkResult
    #: The X-Cache header of one request made right after the load (HIT, MISS, or "-": not cacheable).
    cache: str = "-"


def cache_state(url: str, headers: dict[str, str]) -> str:
    """What the anonymous page cache did for one more request to ``url`` (forum/pagecache/)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=60) as response:
            return str(response.headers.get("X-Cache", "-"))
    except urllib.error.HTTPError as err:
        err.close()
        return "-"


def gunicorn_command(app: str, port: int, error_log: Path) -> list[str]:
    """The one gunicorn command line both servers run (only the app differs)."""
    return [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", "sync",
            "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "5",
            "--error-logfile", str(error_log), "--log-level", "warning", app]


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a gunicorn master's workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            pids.append(int(entry.name))
    return sorted(pids)


def peak_rss_mib(pids: Sequence[int]) -> list[float]:
    """VmHWM (peak resident set) of each process still running, in MiB."""
    peaks = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        if match:
            peaks.append(int(match.group(1)) / 1024)
    return peaks


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the master's children."""
        return children(self.process.pid)

    def peak_rss_mib(self) -> list[float]:
        """VmHWM (peak resident set) of each worker, in MiB."""
        return peak_rss_mib(self.worker_pids())


@dataclass
class EncoderService:
    """The encoding service beside the forum (``flask semantic serve``; search/encoding_service.py)."""

    address: str
    process: subprocess.Popen[bytes]

    def peak_rss_mib(self) -> list[float]:
        """VmHWM of its gunicorn master, then of its one worker (which holds the model), in MiB."""
        return peak_rss_mib([self.process.pid, *children(self.process.pid)])


@contextmanager
def serve_encoder(env: dict[str, str], workdir: Path, app_dir: Path = REPO) -> Iterator[EncoderService]:
    """Run ``flask semantic serve`` on a free port of 127.0.0.1 with the forum's environment `env`
    (its FORUM_SECRET_KEY gives the key) until the block ends; serve the forum with
    ``FORUM_EMBEDDING_SERVICE`` set to the yielded service's address.
    """
    from search.encoding_service import EncoderUnavailable, RemoteEncoder, service_key

    address = f"127.0.0.1:{free_port()}"
    log = workdir / "encoder-service.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "forum:create_app", "semantic", "serve",
                                    "--bind", address], cwd=app_dir,
                                   env={**os.environ, **env, "FORUM_EMBEDDING_SERVICE": address,
                                        "PYTHONPATH": str(app_dir)},
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        client = RemoteEncoder(address, service_key(env["FORUM_SECRET_KEY"]), retry_after=0)
        wait_until_answering(process, lambda: client.manifest, what="the encoding service", log=log, timeout=120,
                             interval=0.3, not_yet=(EncoderUnavailable,))
        yield EncoderService(address, process)
    finally:
        stop(process, timeout=20)


@contextmanager
def serve(app: str, env: dict[str, str], workdir: Path, name: str, probe: str = "/",
          app_dir: Path = REPO) -> Iterator[Server]:
    """Run gunicorn on a free port of 127.0.0.1 until the block ends; yields the server.

    `app_dir` is the checkout the app is imported from (another one for before/after runs).
    """
    port = free_port()
    log = workdir / f"{name}-gunicorn.log"
    process = subprocess.Popen(gunicorn_command(app, port, log), cwd=app_dir,
                               env={**os.environ, **env, "PYTHONPATH": str(app_dir)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(process, base + probe, what=f"gunicorn ({name})", log=log, timeout=60)
        yield Server(base, process)
    finally:
        stop(process, timeout=20)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """Signs in through the real login form and keeps the session cookie."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)
        self.opener.addheaders = [("User-Agent", wrk.USER_AGENT)]

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return int(response.status), response.read().decode(errors="replace")
        except urllib.error.HTTPError as err:
            text = err.read().decode(errors="replace")
            err.close()
            return int(err.code), text

    def token(self, path: str) -> str:
        status, page = self.get(path)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        if status != 200 or not match:
            raise RuntimeError(f"no CSRF token on {path} (status {status})")
        return match.group(1)

    def login(self, username: str, password: str) -> None:
        status, page = self.post("/login", {"login": username, "password": password,
                                            "csrf_token": self.token("/login")})
        if status != 302:
            raise RuntimeError(f"signing in as {username} failed with {status}: {page[-500:]}")
        # A browser follows the redirect; that first page gives the new session its CSRF secret,
        # which every later request of the browser carries in its cookie.
        self.get("/")

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def headers(self) -> dict[str, str]:
        """What a load generator sends to be this browser: its cookies and its User-Agent."""
        return {"Cookie": self.cookie_header(), "User-Agent": wrk.USER_AGENT}


def format_table(rows: Sequence[Row], ceiling: float) -> str:
    """The results as a Markdown table; the ratio is each page's req/s over hello-world's."""
    lines = ["| page | req/s | p50 ms | p99 ms | vs hello-world | errors | X-Cache |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        r = row.result
        ratio = f"{100 * r.rps / ceiling:.1f}%" if ceiling else "-"
        lines.append(f"| {row.page} | {r.rps:,.1f} | {r.p50:.1f} | {r.p99:.1f} | {ratio} | {r.errors} | {row.cache} |")
    return "\n".join(lines)


def pages(manifest: Manifest) -> list[tuple[str, str, bool]]:
    """(label, path, signed in) for every GET the benchmark loads."""
    similar = urllib.parse.urlencode({"title": manifest.similar_title})
    return [
        ("question page, anonymous", manifest.question_path, False),
        ("question page, signed in", manifest.question_path, True),
        ("home", "/", False),
        ("list (/questions?tab=active)", "/questions?tab=active", False),
        (f"tag page ({manifest.tag})", f"/tags/{urllib.parse.quote(manifest.tag)}", False),
        (f"search, rare word ({manifest.rare_word})", f"/search?q={manifest.rare_word}", False),
        (f"search, frequent word ({manifest.frequent_word})", f"/search?q={manifest.frequent_word}", False),
        ("similar-as-you-type", f"/search/similar?{similar}", False),  # one title again and again
    ]


def count_answers(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT count(*) FROM answers")) or 0)
    finally:
        engine.dispose()


def forum_env(manifest: Manifest, workdir: Path, page_cache: bool = True) -> dict[str, str]:
    """The environment the forum is served with: production, this forum's database and index.
    (`serve_encoder` adds FORUM_EMBEDDING_SERVICE for a run with the encoding service.)"""
    return {
        "FORUM_PAGE_CACHE_ENABLED": "true" if page_cache else "false",
        "FORUM_ENV": "production", "FORUM_SECRET_KEY": secrets.token_hex(32),
        "FORUM_DATABASE_URL": manifest.database_url, "FORUM_INDEX_DIR": manifest.index_dir,
        "FORUM_SEARCH_BACKEND": manifest.search_backend,
        "FORUM_INSTANCE_PATH": str(workdir / "instance"),
        # Plain HTTP on 127.0.0.1: a Secure cookie would never be sent back.
        "FORUM_SESSION_COOKIE_SECURE": "false", "FORUM_REMEMBER_COOKIE_SECURE": "false",
        # wrk is one client at one address: the per-IP rate limits (forum/ratelimit.py) would answer
        # most of its searches with 429s. What is measured is the page, not the limiter.
        "FORUM_RATE_LIMITS_ENABLED": "false",
    }


def bench(manifest: Manifest, workdir: Path, seconds: int, warmup: int,
          log: Callable[[str], None] = print, page_cache: bool = True,
          app_dir: Path = REPO, encoder_service: bool = False) -> tuple[list[Row], float, dict[str, list[float]]]:
    """Serve hello-world and the forum, load every page; returns rows, the ceiling and peak RSS.

    `app_dir` is the checkout the forum is served from (another one for a before/after run).
    With `encoder_service` the embedding model runs in an encoding service beside gunicorn
    (`serve_encoder`), whose peaks (master, worker) are returned as "encoder service".
    """
    rss: dict[str, list[float]] = {}
    with serve("tools.bench.hello:app", {}, workdir, "hello") as hello:
        if warmup:
            wrk.run(hello.base + "/", seconds=warmup, connections=CONNECTIONS)
        ceiling = wrk.run(hello.base + "/", seconds=seconds, connections=CONNECTIONS)
        rss["hello-world"] = hello.peak_rss_mib()
    log(f"hello-world: {ceiling.rps:,.0f} req/s")
    rows = [Row("hello-world", "/", ceiling)]
    env = forum_env(manifest, workdir, page_cache)
    with ExitStack() as stack:
        encoder = stack.enter_context(serve_encoder(env, workdir, app_dir)) if encoder_service else None
        if encoder is not None:
            env["FORUM_EMBEDDING_SERVICE"] = encoder.address
        forum = stack.enter_context(serve("forum:create_app()", env, workdir, "forum", probe="/login",
                                          app_dir=app_dir))
        member, poster = Browser(forum.base), Browser(forum.base)
        member.login(manifest.member, manifest.password)
        poster.login(manifest.poster, manifest.password)
        for label, path, signed_in in pages(manifest):
            headers = member.headers() if signed_in else {}
            # Concurrent requests, so that every worker has served the page once (its cold start
            # and, for anonymous pages, its entry in the page cache) before the measurement.
            with ThreadPoolExecutor(CONNECTIONS) as pool:
                browsers = [member if signed_in else Browser(forum.base) for _ in range(3 * WORKERS)]
                answers = list(pool.map(Browser.get, browsers, [path] * len(browsers)))
            status, page = answers[-1]
            if status != 200:
                raise RuntimeError(f"{path} answered {status}: {page[-500:]}")
            if signed_in and manifest.member not in page:
                raise RuntimeError(f"{path} does not show {manifest.member} as signed in")
            if warmup:
                wrk.run(forum.base + path, seconds=warmup, connections=CONNECTIONS, headers=headers)
            result = wrk.run(forum.base + path, seconds=seconds, connections=CONNECTIONS, headers=headers)
            state = cache_state(forum.base + path, headers)
            log(f"{label}: {result.rps:,.1f} req/s (X-Cache {state})")
            rows.append(Row(label, path, result, state))
        # Similar-as-you-type remembers the vectors of titles typed before (the row above asks
        # one title again and again): with a new title each request the model runs every time.
        similar = next(path for label, path, _ in pages(manifest) if label == "similar-as-you-type")
        typing = wrk.typing_script(workdir / "typing.lua", url_path=similar)
        if warmup:
            wrk.run(forum.base + "/", seconds=warmup, connections=CONNECTIONS, script=typing)
        result = wrk.run(forum.base + "/", seconds=seconds, connections=CONNECTIONS, script=typing)
        log(f"similar-as-you-type, a new title each request: {result.rps:,.1f} req/s")
        rows.append(Row("similar-as-you-type, a new title each request", similar, result, "-"))
        token = poster.token("/")
        script = wrk.post_script(workdir / "post_answer.lua", cookie=poster.cookie_header(), csrf_token=token,
                                 question_ids=manifest.answer_targets)
        before = count_answers(manifest.database_url)
        result = wrk.run(forum.base + "/", seconds=seconds, connections=CONNECTIONS, script=script)
        stored = count_answers(manifest.database_url) - before
        if stored < result.requests - result.errors:
            raise RuntimeError(f"wrk counted {result.requests} answers posted, the database holds {stored} more")
        log(f"post an answer: {result.rps:,.1f} req/s ({stored} answers stored)")
        rows.append(Row("post an answer (wrk Lua POST, form + CSRF)", "/questions/<id>/answers", result))
        rss["forum"] = forum.peak_rss_mib()
        if encoder is not None:
            rss["encoder service (master, worker)"] = encoder.peak_rss_mib()
    return rows, ceiling.rps, rss


def machine() -> str:
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, {platform.processor() or platform.machine()}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000, help="questions + answers to generate (default 10,000)")
    parser.add_argument("--seconds", type=int, default=5.0, help="wrk duration per URL (default 5)")
    parser.add_argument("--warmup", type=int, default=1.0, help="wrk warm-up per URL, not counted (default 1)")
    parser.add_argument("--database", help="database URL to generate into (default: SQLite in the work directory); "
                        "a PostgreSQL database is emptied first")
    parser.add_argument("--workdir", type=Path, help="keep the forum here (default: a temporary directory)")
    parser.add_argument("--reuse", action="store_true", help="load the forum already generated in --workdir")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--search-backend", choices=("whoosh", "postgres"), default="whoosh",
                        help="search index: Whoosh files (default) or PostgreSQL tables (needs --database postgresql://...)")
    parser.add_argument("--no-page-cache", action="store_true", help="serve the forum with the anonymous page "
                        "cache off (FORUM_PAGE_CACHE_ENABLED=false), to compare")
    parser.add_argument("--app-dir", type=Path, default=REPO,
                        help="serve the forum from this checkout (e.g. an older commit, for before/after)")
    parser.add_argument("--encoder-service", action="store_true",
                        help="run the embedding model in the encoding service (flask semantic serve) beside gunicorn "
                        "and point the workers at it (FORUM_EMBEDDING_SERVICE); its peak RSS is printed apart")
    args = parser.parse_args(argv)
    if args.search_backend == "postgres" and not (args.database or "").startswith("postgres"):
        parser.error("--search-backend postgres needs --database postgresql://...")
    try:
        wrk.executable()
    except wrk.WrkMissing as exc:
        print(exc, file=sys.stderr)
        return 2
    with forum_in(args.workdir, reuse=args.reuse, posts=args.posts, database=args.database,
                  search_backend=args.search_backend, seed=args.seed, upgrade_reused=True) as (manifest, workdir):
        rows, ceiling, rss = bench(manifest, workdir, args.seconds, args.warmup, page_cache=not args.no_page_cache,
                                   app_dir=args.app_dir.resolve(), encoder_service=args.encoder_service)
    backend = manifest.database_url.split(":", 1)[0]
    print(f"\n{manifest.posts:,} posts ({manifest.questions:,} questions, {manifest.answers:,} answers), "
          f"{manifest.comments:,} comments, {manifest.votes:,} votes, {manifest.users:,} members; {backend}; "
          f"search: {manifest.search_backend}")
    print(f"gunicorn {WORKERS} sync workers, wrk {CONNECTIONS} connections, {args.seconds:g} s per URL; "
          f"page cache {'off' if args.no_page_cache else 'on'}; "
          f"embedding model {'in the encoding service' if args.encoder_service else 'in each worker'}; {machine()}\n")
    print(format_table(rows, ceiling))
    print("\nper-worker peak RSS (VmHWM): " + "; ".join(
        f"{name} " + ", ".join(f"{mib:.0f} MiB" for mib in peaks) for name, peaks in rss.items()))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
