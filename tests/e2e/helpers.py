"""Shared by the e2e conftest and test modules (import as ``tests.e2e.helpers``)."""
from __future__ import annotations

import itertools

PASSWORD = "correct-horse-battery"

_names = itertools.count(1)


def unique_username(prefix: str) -> str:
    """A username no other test in this session uses (3-30 letters, digits, underscores)."""
    return f"{prefix[:20]}_{next(_names)}"
