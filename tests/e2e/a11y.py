"""axe-core for the accessibility tests: installed from npm into tests/e2e/axe, injected into pages.

``axe_source()`` returns the text of ``axe.min.js``. When ``tests/e2e/axe/node_modules`` is
missing, or holds another version than ``package-lock.json`` pins, it runs ``npm ci`` there
once (under a file lock, so parallel workers don't install over each other). Without npm, or
when the install fails, the tests skip, except with CI=true where they fail.
"""
from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import IN_CI

AXE_DIR = Path(__file__).resolve().parent / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
NPM_TIMEOUT_S = 300
# What the walk fails on; "moderate" and "minor" findings are not (yet) gated.
FAILING_IMPACTS = ("serious", "critical")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (the accessibility tests are required in CI)")
    pytest.skip(reason)


def _pinned_version() -> str:
    lock = json.loads((AXE_DIR / "package-lock.json").read_text())
    return str(lock["packages"]["node_modules/axe-core"]["version"])


def _installed_version() -> str | None:
    manifest = AXE_DIR / "node_modules" / "axe-core" / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"]) if AXE_JS.is_file() else None
    except (OSError, ValueError, KeyError):
        return None


def axe_source() -> str:
    """The axe-core script, installing it with ``npm ci`` first when needed (see module doc)."""
    wanted = _pinned_version()
    if _installed_version() != wanted:
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is not on PATH; cannot install axe-core (cd tests/e2e/axe && npm ci)")
        with open(AXE_DIR / ".install.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be installing: wait, then look again
            if _installed_version() != wanted:
                try:
                    done = subprocess.run(
                        [str(npm), "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"],
                        cwd=AXE_DIR, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False)
                except subprocess.TimeoutExpired:
                    _unavailable(f"npm ci in {AXE_DIR} took longer than {NPM_TIMEOUT_S} s")
                if done.returncode != 0:
                    _unavailable(f"npm ci in {AXE_DIR} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
        if _installed_version() != wanted:
            _unavailable(f"axe-core {wanted} is not in {AXE_DIR}/node_modules after npm ci")
    return AXE_JS.read_text()


@dataclass(frozen=True)
class Finding:
    """One failing axe result on one element."""
    where: str  # "admin 360px /questions/3/slug"
    rule: str
    impact: str
    help: str
    target: str

    def __str__(self) -> str:
        return f"{self.where}: [{self.impact}] {self.rule} ({self.help}) at {self.target}"


def run_axe(page: Any, source: str, where: str) -> list[Finding]:
    """Inject axe (once per document) and run it on the whole page; the serious and critical
    violations, one per element."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=source)
    results = page.evaluate(
        """async () => {
            const r = await window.axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            targets: v.nodes.map(n => n.target.join(' '))}));
        }""")
    return [Finding(where, v["id"], v["impact"] or "", v["help"], target)
            for v in results if v["impact"] in FAILING_IMPACTS for target in v["targets"]]
