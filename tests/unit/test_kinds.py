"""The typed names (forum/models/kinds.py) match what the services actually use."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from forum.models.kinds import ACTIONS, LedgerReason
from forum.services import reputation
from forum.services.permissions import RULES

ROOT = Path(__file__).resolve().parents[2]


def test_every_permission_action_is_typed_and_every_typed_action_has_a_rule() -> None:
    assert set(RULES) == ACTIONS


def test_every_action_the_code_and_templates_ask_about_exists() -> None:
    asked = set()
    call = re.compile(r"\b(?:can|require|missing_privilege|privilege_note)\([^,()]+, \"([a-z_]+)\"")
    for path in [*ROOT.joinpath("forum").rglob("*.py"), *ROOT.joinpath("templates").rglob("*.html")]:
        asked.update(call.findall(path.read_text(encoding="utf-8")))
    assert asked and asked <= ACTIONS


def test_the_ledger_reasons_the_reputation_service_writes_are_typed() -> None:
    written = {*reputation.VOTE_REASONS, *reputation.ACCEPT_REASONS, *reputation.CAPPED_REASONS, "suggested_edit"}
    assert written <= set(LedgerReason)
    assert {r.undone() for r in (LedgerReason.UPVOTE, LedgerReason.ACCEPT)} == {"undo:upvote", "undo:accept"}
    with pytest.raises(ValueError):
        LedgerReason.DEMO_HISTORY.undone()
