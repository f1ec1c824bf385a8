"""`make bench` end to end on a tiny forum: generator, gunicorn (forum and hello-world), wrk, the table.

The figures of a 300-post run on a loaded CI machine mean nothing; what this proves is that
the benchmark an operator runs on a clean clone works and prints every row with its ratio to
the hello-world ceiling and the workers' peak memory (issue 11, item 1).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import IN_CI

REPO = Path(__file__).resolve().parents[2]
ROWS = (
    "hello-world", "question page, anonymous", "question page, signed in", "home", "list (", "tag page (",
    "search, rare word", "search, frequent word", "similar-as-you-type", "similar-as-you-type, a new title",
    "post an answer",
)

pytestmark = pytest.mark.slow


def test_bench_prints_every_page_beside_hello_world(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        if IN_CI:
            pytest.fail("wrk must be installed in CI (.ci/run installs it)")
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    run = subprocess.run(
        [sys.executable, "-m", "tools.bench.run", "--posts", "300", "--seconds", "1", "--warmup", "0",
         "--workdir", str(tmp_path / "w")],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    table = run.stdout
    for row in ROWS:
        line = next((ln for ln in table.splitlines() if ln.startswith(f"| {row}")), None)
        assert line is not None, f"no row {row!r} in:\n{table}"
        cells = [c.strip() for c in line.strip("|").split("|")]
        rps, ratio, errors = cells[1], cells[4], cells[5]
        assert float(rps.replace(",", "")) > 0, line
        assert re.fullmatch(r"[\d.]+%", ratio), line
        assert errors == "0", line
    assert re.search(r"per-worker peak RSS \(VmHWM\): hello-world \d+ MiB, \d+ MiB; forum \d+ MiB, \d+ MiB", table)
