"""Latency and throughput benchmark of the search index on synthetic forum posts.

    python -m tools.search.bench [--docs 100000] [--queries 200] [--path DIR] [--seed 1]
                                 [--existing] [--cache-mib 32]

1. Generates `--docs` posts (`tools.search.synthetic`, seeded, so runs are comparable) and
   rebuilds an on-disk index from them: throughput in docs/s (generation excluded).
2. Opens the index afresh, as a new web worker would, and runs the query set once:
   the *cold* figures (every posting list decoded for the first time).
3. Warms up with a different query set of the same size and shape (a server that
   has been answering traffic), then runs the measured set: the *steady-state*
   figures, which the targets apply to.

Each phase reports median and 95th percentile of wall-clock latency, and of CPU time
too: on a shared machine the wall clock includes time spent waiting for a core.
Queries mix 1-4 words, phrases, tag: filters, is: filters, exclusions, OR and typos;
similar lookups use fresh titles in the forum's style.  Targets (2-core machine):
search p95 <= 30 ms, similar p95 <= 20 ms, rebuild >= 1,000 docs/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from search.index import SearchIndex
from search.postings import DEFAULT_BUDGET
from tools.search.synthetic import SyntheticForum

__all__ = ["Latency", "measure", "run", "main"]


@dataclass(frozen=True)
class Latency:
    """Median and 95th percentile, in milliseconds, of wall-clock and CPU time."""

    median: float
    p95: float
    cpu_median: float
    cpu_p95: float

    def __str__(self) -> str:
        return (f"median {self.median:6.1f} ms  p95 {self.p95:6.1f} ms"
                f"   (CPU: median {self.cpu_median:5.1f}  p95 {self.cpu_p95:5.1f})")


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(call: Callable[[str], object], inputs: Sequence[str]) -> Latency:
    """Time `call` on each input; return the latency summary.

    Raises:
        ValueError: `inputs` is empty.
    """
    if not inputs:
        raise ValueError("nothing to measure")
    wall, cpu = [], []
    for text in inputs:
        w0, c0 = time.perf_counter(), time.process_time()
        call(text)
        wall.append(1000 * (time.perf_counter() - w0))
        cpu.append(1000 * (time.process_time() - c0))
    return Latency(statistics.median(wall), _percentile(wall, 0.95),
                   statistics.median(cpu), _percentile(cpu, 0.95))


@dataclass(frozen=True)
class Report:
    """Everything one benchmark run measured."""

    docs: int
    rebuild_seconds: float
    rebuild_cpu_seconds: float
    cold_search: Latency
    cold_similar: Latency
    search: Latency
    similar: Latency

    @property
    def docs_per_second(self) -> float:
        """Rebuild throughput by the wall clock."""
        return self.docs / self.rebuild_seconds if self.rebuild_seconds else float("inf")

    @property
    def docs_per_cpu_second(self) -> float:
        """Rebuild throughput per second of CPU time (what an idle core would give)."""
        return self.docs / self.rebuild_cpu_seconds if self.rebuild_cpu_seconds else float("inf")


def run(docs: int, queries: int, path: Path, seed: int = 1,
        log: Callable[[str], None] = print, *, existing: bool = False,
        cache_budget: int = DEFAULT_BUDGET) -> Report:
    """Build an index of `docs` posts at `path` and measure it (see module docstring).

    `existing=True` measures the index already at `path` (e.g. a generated forum's) without
    rebuilding it; `cache_budget` is each opened index's posting cache, in bytes.
    """
    if existing:
        index = SearchIndex.open(path)
        count, elapsed, cpu = len(index), 0.0, 0.0
        index.close()
    else:
        forum = SyntheticForum(seed)
        log(f"generating {docs:,} posts ...")
        posts = list(forum.documents(docs))
        index = SearchIndex.open(path)
        log("rebuilding the index ...")
        start, cpu_start = time.perf_counter(), time.process_time()
        count = index.rebuild(posts)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        index.close()
        del posts
        log(f"rebuild: {count:,} docs in {elapsed:.1f} s = {count / elapsed:,.0f} docs/s")

    measured, warmup = SyntheticForum(seed + 1), SyntheticForum(seed + 2)
    measured_queries, measured_titles = measured.queries(queries), [measured.title() for _ in range(queries)]
    warm_queries, warm_titles = warmup.queries(queries), [warmup.title() for _ in range(queries)]

    index = SearchIndex.open(path, cache_budget=cache_budget)
    try:
        cold_search = measure(index.search, measured_queries)
        cold_similar = measure(index.similar, measured_titles)
        fresh = SearchIndex.open(path, cache_budget=cache_budget)  # steady state: a warmed-up process, unseen queries
        index.close()
        index = fresh
        measure(index.search, warm_queries)
        measure(index.similar, warm_titles)
        search = measure(index.search, measured_queries)
        similar = measure(index.similar, measured_titles)
    finally:
        index.close()
    return Report(count, elapsed, cpu, cold_search, cold_similar, search, similar)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.search.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--path", type=Path, help="index directory (default: a temporary one)")
    parser.add_argument("--existing", action="store_true",
                        help="measure the index already at --path (e.g. a generated forum's), no rebuild")
    parser.add_argument("--cache-mib", type=int, default=DEFAULT_BUDGET // 2**20,
                        help="posting cache per opened index, MiB (default: the product's default)")
    args = parser.parse_args(argv)
    if args.existing and not args.path:
        parser.error("--existing needs --path")
    with tempfile.TemporaryDirectory(prefix="search-bench-") as tmp:
        report = run(args.docs, args.queries, args.path or Path(tmp), args.seed,
                     existing=args.existing, cache_budget=args.cache_mib * 2**20)
    print(f"\n{report.docs:,} documents, {args.queries} queries and {args.queries} titles, "
          f"{args.cache_mib} MiB posting cache")
    if not args.existing:
        print(f"rebuild            {report.docs_per_second:8,.0f} docs/s   "
              f"(CPU: {report.docs_per_cpu_second:,.0f} docs/s)   (target >= 1,000)")
    print(f"search  (cold)     {report.cold_search}")
    print(f"similar (cold)     {report.cold_similar}")
    print(f"search  (steady)   {report.search}   (target p95 <= 30 ms)")
    print(f"similar (steady)   {report.similar}   (target p95 <= 20 ms)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
