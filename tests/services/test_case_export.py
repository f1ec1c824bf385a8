"""`flask cases export`: cases with their timeline, JSON lines or CSV (docs/support.md, "CRM")."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from forum.extensions import db
from forum.models import CaseEvent, SupportCase
from forum.services import cases

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _small_case(make_user, make_question):
    agent = make_user("agent_ann", role="agent")
    asker = make_user("cust")
    q = make_question(author=asker, title="Hub refuses the firmware", tags="hub firmware")
    case = cases.open_case(agent, q)
    db.session.commit()
    cases.add_message(asker, case, "Serial HB-1, still orange.")
    db.session.commit()
    cases.set_status(agent, case, "waiting")
    db.session.commit()
    cases.set_external_ref(agent, case, "CRM-9")
    cases.resolve_case(agent, case, "Reflashed with the recovery image; the hub is fine.", confirm=True)
    db.session.commit()
    # Fixed times, so the output can be compared exactly.
    events = list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                     .order_by(CaseEvent.created_at, CaseEvent.id)))
    for i, e in enumerate(events):
        e.created_at = T0 + timedelta(minutes=i)
    case.opened_at, case.resolved_at = T0, T0 + timedelta(minutes=len(events) - 1)
    db.session.commit()
    return case, q


def test_jsonl_export_is_exact(app, runner, make_user, make_question) -> None:
    case, q = _small_case(make_user, make_question)
    result = runner.invoke(args=["cases", "export"])
    assert result.exit_code == 0, result.output
    site = app.config["SITE_URL"]
    assert result.output.splitlines() == [json.dumps({
        "id": case.id, "external_ref": "CRM-9", "status": "resolved", "title": "Hub refuses the firmware",
        "question_id": q.id, "question_url": f"{site}/questions/{q.id}/hub-refuses-the-firmware",
        "asker": "cust", "opened_by": "agent_ann", "opened_at": "2026-03-02T09:00:00+00:00",
        "resolved_at": "2026-03-02T09:03:00+00:00", "resolved_by": "agent_ann",
        "resolution_answer_id": case.resolution_answer_id, "tags": ["firmware", "hub"],
        "timeline": [
            {"kind": "opened", "at": "2026-03-02T09:00:00+00:00", "actor": "agent_ann", "status": "open"},
            {"kind": "message", "at": "2026-03-02T09:01:00+00:00", "actor": "cust", "text": "Serial HB-1, still orange."},
            {"kind": "status", "at": "2026-03-02T09:02:00+00:00", "actor": "agent_ann", "status": "waiting"},
            {"kind": "resolved", "at": "2026-03-02T09:03:00+00:00", "actor": "agent_ann", "status": "resolved",
             "text": "Reflashed with the recovery image; the hub is fine."},
        ],
    })]


def test_csv_export_has_one_row_per_timeline_event_and_since_filters(app, runner, make_user, make_question,
                                                                    tmp_path: Path) -> None:
    case, q = _small_case(make_user, make_question)
    out = tmp_path / "cases.csv"
    result = runner.invoke(args=["cases", "export", "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0 and "Exported 1 cases" in result.output
    url = f"{app.config['SITE_URL']}/questions/{q.id}/hub-refuses-the-firmware"
    head = f"{case.id},CRM-9,resolved,Hub refuses the firmware,{url},cust,2026-03-02T09:00:00+00:00,2026-03-02T09:03:00+00:00"
    assert out.read_text().splitlines() == [
        "case_id,external_ref,status,title,question_url,asker,opened_at,resolved_at,event_index,event_kind,"
        "event_at,event_actor,event_status,event_text",
        f"{head},1,opened,2026-03-02T09:00:00+00:00,agent_ann,open,",
        f'{head},2,message,2026-03-02T09:01:00+00:00,cust,,"Serial HB-1, still orange."',
        f"{head},3,status,2026-03-02T09:02:00+00:00,agent_ann,waiting,",
        f"{head},4,resolved,2026-03-02T09:03:00+00:00,agent_ann,resolved,Reflashed with the recovery image; the hub is fine.",
    ]
    later = runner.invoke(args=["cases", "export", "--since", "2026-03-03"])
    assert later.exit_code == 0 and later.output == ""
    assert db.session.scalars(select(SupportCase)).one().id == case.id
