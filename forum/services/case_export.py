"""``flask cases export``: private cases with their timeline, for import into a CRM or ticket system.

JSON lines (one case per line, its timeline inside) or CSV (one row per timeline event, the
case's columns repeated). Read in batches of ``BATCH`` cases (two queries per batch), so an
export of any size runs in bounded memory. Times are ISO 8601 in UTC; texts are the Markdown
as written.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select

from ..extensions import db
from ..mail import absolute_url, site_path
from ..models import CaseEvent, SupportCase
from .questions import slugify

BATCH = 200
CSV_COLUMNS = ("case_id", "external_ref", "status", "title", "question_url", "asker", "opened_at", "resolved_at",
               "event_index", "event_kind", "event_at", "event_actor", "event_status", "event_text")


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _timeline_entry(e: CaseEvent) -> dict[str, Any]:
    entry: dict[str, Any] = {"kind": e.kind, "at": _iso(e.created_at), "actor": e.actor.username}
    if e.kind in ("opened", "status", "resolved"):
        entry["status"] = e.status
    if e.kind in ("message", "resolved"):
        entry["text"] = e.body
    return entry


def cases(since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Every case opened at or after ``since`` (all without it), oldest first, as a dict with
    its timeline (opened, messages, status changes, the resolution). Expunges the session
    after each batch (bounded memory): meant for the command line, not inside a write."""
    last_id = 0
    while True:
        stmt = select(SupportCase).where(SupportCase.id > last_id).order_by(SupportCase.id).limit(BATCH)
        if since is not None:
            stmt = stmt.where(SupportCase.opened_at >= since)
        batch = list(db.session.scalars(stmt))
        if not batch:
            return
        events: dict[int, list[CaseEvent]] = {}
        for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_([c.id for c in batch]))
                                    .order_by(CaseEvent.case_id, CaseEvent.created_at, CaseEvent.id)):
            events.setdefault(e.case_id, []).append(e)
        for case in batch:
            yield {
                "id": case.id,
                "external_ref": case.external_ref,
                "status": case.status,
                "title": case.context_title,
                "question_id": case.question_id,
                "question_url": absolute_url(site_path("questions.show", question_id=case.question_id,
                                                       slug=slugify(case.question.title))),
                "asker": case.asker.username,
                "opened_by": case.opened_by.username,
                "opened_at": _iso(case.opened_at),
                "resolved_at": _iso(case.resolved_at),
                "resolved_by": case.resolved_by.username if case.resolved_by else None,
                "resolution_answer_id": case.resolution_answer_id,
                "tags": case.context_tags.split(),
                "timeline": [_timeline_entry(e) for e in events.get(case.id, [])],
            }
        last_id = batch[-1].id
        db.session.expunge_all()  # bounded memory: the batch is written


def write(out: IO[str], fmt: str = "jsonl", since: datetime | None = None) -> int:
    """Write the export to ``out`` as "jsonl" or "csv"; returns the number of cases. Raises
    ValueError for another format."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"unknown export format {fmt!r}")
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(CSV_COLUMNS)
    n = 0
    for case in cases(since):
        n += 1
        if writer is None:
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
            continue
        for i, e in enumerate(case["timeline"], start=1):
            writer.writerow([case["id"], case["external_ref"] or "", case["status"], case["title"], case["question_url"],
                             case["asker"], case["opened_at"], case["resolved_at"] or "", i, e["kind"], e["at"],
                             e["actor"], e.get("status", ""), e.get("text", "")])
    return n
