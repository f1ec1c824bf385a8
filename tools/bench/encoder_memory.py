"""Peak memory of a worker that searches with meaning: the model in the worker, or in the encoding service.

    python -m tools.bench.encoder_memory [--posts 2000] [--requests 200] [--workdir DIR] [--reuse]

Generates a forum (``tools.bench.generate``, SQLite, Whoosh), then runs the same worker-like
process twice, each a fresh interpreter with the production configuration (page cache off, so
that every request searches): it creates the app and serves sentence searches and
similar-as-you-type requests through ``app.test_client()`` (each one encodes its query):

1. with the embedding model in the process (no FORUM_EMBEDDING_SERVICE: today's default);
2. with FORUM_EMBEDDING_SERVICE pointing at an encoding service (``flask semantic serve``,
   started as ``tools.bench.run.serve_encoder`` does).

It prints each worker's peak resident set (``VmHWM`` of ``/proc/self/status``), its CPU and wall
time per request (the service's CPU is the service's), which of the model's libraries it
imported, and the service's own peaks (its gunicorn master, and the worker holding the model).
No load generator: this measures memory and per-request cost, not throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tools.bench.generate import Manifest, generate
from tools.bench.run import REPO, forum_env, machine, serve_encoder

__all__ = ["main"]

HEAVY = ("numpy", "tokenizers", "safetensors", "threadpoolctl", "search.embedding")


def _vm_hwm_mib() -> float:
    match = re.search(r"^VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def _queries(manifest: Manifest) -> list[tuple[str, dict[str, str]]]:
    """Sentence searches and similar-as-you-type requests, as a page sends them while one types."""
    words = manifest.similar_title.split()
    typed = [" ".join(words[:n]) for n in range(4, len(words) + 1)] or [manifest.similar_title]
    asked = [f"why does {manifest.similar_title.lower()}", f"how to fix {manifest.similar_title.lower()} again"]
    return ([("/search/similar", {"title": t}) for t in typed] +
            [("/search", {"q": q}) for q in asked])


def worker(manifest: Manifest, requests: int) -> dict[str, object]:
    """In this process: create the app and serve `requests` requests; what it cost."""
    from forum import create_app

    app = create_app()
    client = app.test_client()
    queries = _queries(manifest)
    statuses: set[int] = set()
    for path, args in queries:  # warm: the first search opens the index (and loads the model in-process)
        statuses.add(client.get(path, query_string=args).status_code)
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(requests):
        path, args = queries[n % len(queries)]
        statuses.add(client.get(path, query_string=args).status_code)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"vm_hwm_mib": round(_vm_hwm_mib(), 1), "cpu_ms": round(1000 * cpu / requests, 2),
            "wall_ms": round(1000 * wall / requests, 2), "statuses": sorted(statuses),
            "loaded": [m for m in HEAVY if m in sys.modules]}


def _run_worker(manifest_path: Path, env: dict[str, str], requests: int) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-m", "tools.bench.encoder_memory", "--worker", str(manifest_path),
                           "--requests", str(requests)], cwd=REPO,
                          env={**os.environ, **env, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the worker failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.encoder_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=2_000, help="questions + answers to generate (default 2,000)")
    parser.add_argument("--requests", type=int, default=200, help="requests each worker serves (default 200)")
    parser.add_argument("--workdir", type=Path, help="keep the forum here (default: a temporary directory)")
    parser.add_argument("--reuse", action="store_true", help="load the forum already generated in --workdir")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)  # the measured process
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(Manifest.load(args.worker), args.requests)))
        return 0
    temporary = None if args.workdir else tempfile.mkdtemp(prefix="forum-encoder-memory-")
    workdir: Path = args.workdir or Path(str(temporary))
    workdir.mkdir(parents=True, exist_ok=True)
    manifest_path = workdir / "manifest.json"
    try:
        if args.reuse:
            manifest = Manifest.load(manifest_path)
        else:
            manifest = generate(args.posts, f"sqlite:///{workdir / 'forum.db'}", workdir / "index", replace=True)
            manifest.save(manifest_path)
        env = forum_env(manifest, workdir, page_cache=False)
        results = {"model in the worker": _run_worker(manifest_path, env, args.requests)}
        with serve_encoder(env, workdir) as service:
            results["encoding service"] = _run_worker(manifest_path, {**env, "FORUM_EMBEDDING_SERVICE": service.address},
                                                      args.requests)
            service_peaks = service.peak_rss_mib()
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    print(f"\n{manifest.posts:,} posts; {args.requests} requests per worker (similar-as-you-type and sentence "
          f"searches, page cache off); {machine()}\n")
    print("| worker | peak RSS (VmHWM) | CPU ms / request | wall ms / request | statuses | model libraries loaded |")
    print("|---|---:|---:|---:|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['vm_hwm_mib']} MiB | {r['cpu_ms']} | {r['wall_ms']} | {r['statuses']} | "
              f"{', '.join(map(str, r['loaded'])) or 'none'} |")  # type: ignore[call-overload]
    print(f"\nencoding service peak RSS: {', '.join(f'{p:.0f}' for p in service_peaks)} MiB (master, worker)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
