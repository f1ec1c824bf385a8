"""tools.bench.cpu end to end on a tiny generated forum: the table an operator reads to see
whether a page's cost grows with the forum (issue 11, item 3). Figures from a 300-post forum on
a busy CI machine mean nothing; what this proves is that the tool measures every page, on
threads of one shape, and gives each page's ratio."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.bench.cpu import PAGES

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_cpu_table_has_every_page_with_its_ratio(tmp_path: Path) -> None:
    work = tmp_path / "forum"
    work.mkdir()
    generate = subprocess.run(
        [sys.executable, "-m", "tools.bench.generate", "--posts", "300", "--database", f"sqlite:///{work}/forum.db",
         "--index-dir", str(work / "index"), "--manifest", str(work / "manifest.json")],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert generate.returncode == 0, generate.stderr[-3000:]
    run = subprocess.run(
        [sys.executable, "-m", "tools.bench.cpu", "--workdir", str(work), "--workdir", str(work),
         "--requests", "2", "--rounds", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert re.search(r"question page: the mean of up to 5 threads of \d+ answers and \d+ comments", run.stdout)
    for page in PAGES:
        line = next((ln for ln in run.stdout.splitlines() if ln.startswith(f"| {page} |")), None)
        assert line is not None, run.stdout
        first, last, ratio = (cell.strip() for cell in line.strip("|").split("|")[1:])
        assert float(first) > 0 and float(last) > 0, line
        assert re.fullmatch(r"\d+\.\d\dx", ratio), line
