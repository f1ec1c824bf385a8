"""Smoke test of the benchmark on a few hundred posts (timings are not asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.search.bench import main, measure, run
from tools.search.synthetic import SyntheticForum


def test_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    report = run(docs=500, queries=20, path=tmp_path, log=lambda _: None)
    assert report.docs == 500 and report.docs_per_second > 0
    for latency in (report.search, report.similar, report.cold_search, report.cold_similar):
        assert 0 <= latency.median <= latency.p95


def test_benchmark_command_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--docs", "300", "--queries", "10"]) == 0
    out = capsys.readouterr().out
    assert "docs/s" in out and "search  (steady)" in out and "similar (steady)" in out


def test_measure_needs_inputs() -> None:
    with pytest.raises(ValueError):
        measure(len, [])


def test_synthetic_forum_is_deterministic() -> None:
    first, second = SyntheticForum(3), SyntheticForum(3)
    assert list(first.documents(5)) == list(second.documents(5))
    assert first.queries(10) == second.queries(10)
