"""``next=`` only ever leads to a path on this site."""
from __future__ import annotations

import pytest

from forum.views.redirects import safe_next
from tests.support import shared_data_dir

HOSTILE = [
    "//evil.test", "/\\evil.test", "https://evil.test", "http://evil.test/path", "\\\\evil.test",
    "/\t/evil.test", "/ /evil.test", "javascript:alert(1)", "data:text/html,x", "evil.test",
    "///evil.test", "/\\/evil.test", " //evil.test", "https:evil.test", "\x00//evil.test", "/%09/evil.test?x",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_next_targets_stay_home(target: str) -> None:
    result = safe_next(target, "/home")
    assert result == "/home" or (result.startswith("/") and not result.startswith("//") and "\\" not in result)


@pytest.mark.parametrize("target", ["/questions/3/hub", "/questions?tab=active", "/users/1#bio", "/"])
def test_local_paths_are_kept(target: str) -> None:
    assert safe_next(target) == target


def _payload_files() -> list:
    data = shared_data_dir()
    if data is None:
        return []
    return sorted((data / "security" / "open-redirect").rglob("*.txt"))


def test_every_open_redirect_payload_in_the_shared_corpus_stays_home() -> None:
    files = _payload_files()
    if not files:
        pytest.skip("shared open-redirect corpus not present")
    escaped = []
    total = 0
    for path in files:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            total += 1
            result = safe_next(line, "/")
            if result != "/" and (not result.startswith("/") or result.startswith("//") or "\\" in result
                                  or any(ord(c) < 0x21 for c in result)):
                escaped.append(line)
    assert total > 100
    assert not escaped, f"{len(escaped)} payloads escaped: {escaped[:10]}"
