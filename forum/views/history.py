"""Revision history as line diffs, for the question and answer history pages."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ..models import Revision, SuggestedEdit

CONTEXT = 2


@dataclass
class DiffLine:
    op: str  # "add", "del", "same" or "gap"
    text: str


@dataclass
class RevisionDiff:
    revision: Revision
    title_changed: tuple[str, str] | None = None
    tags_changed: tuple[str, str] | None = None
    lines: list[DiffLine] = field(default_factory=list)


def _line_diff(old: str, new: str) -> list[DiffLine]:
    a, b = old.splitlines(), new.splitlines()
    out: list[DiffLine] = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(CONTEXT):
        if out:
            out.append(DiffLine("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(DiffLine("same", line) for line in a[i1:i2])
                continue
            if tag in ("replace", "delete"):
                out.extend(DiffLine("del", line) for line in a[i1:i2])
            if tag in ("replace", "insert"):
                out.extend(DiffLine("add", line) for line in b[j1:j2])
    return out


def revision_diffs(revisions: list[Revision], with_title: bool = False) -> list[RevisionDiff]:
    """Newest first; each entry shows what changed from the revision before it."""
    diffs: list[RevisionDiff] = []
    previous: Revision | None = None
    for rev in revisions:
        if previous is None:
            entry = RevisionDiff(rev, lines=[DiffLine("add", line) for line in rev.body.splitlines()])
        else:
            entry = RevisionDiff(rev, lines=_line_diff(previous.body, rev.body))
            if with_title and rev.title != previous.title:
                entry.title_changed = (previous.title, rev.title)
            if with_title and rev.tags != previous.tags:
                entry.tags_changed = (previous.tags, rev.tags)
        diffs.append(entry)
        previous = rev
    return list(reversed(diffs))


def suggestion_diff(suggestion: SuggestedEdit, base: Revision | None) -> RevisionDiff:
    """What a suggested edit changes in the revision it was made from (title, tags, body lines)."""
    old_title, old_body, old_tags = (base.title, base.body, base.tags) if base is not None else ("", "", "")
    entry = RevisionDiff(revision=base, lines=_line_diff(old_body, suggestion.body))  # type: ignore[arg-type]
    if suggestion.post_type == "question":
        if suggestion.title != old_title:
            entry.title_changed = (old_title, suggestion.title)
        if suggestion.tags != old_tags:
            entry.tags_changed = (old_tags, suggestion.tags)
    return entry
