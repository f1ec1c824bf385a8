"""No VIP queues: an asker's reputation never moves their question up a list or a search."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from forum.extensions import db
from forum.models import User

PAGES = ["/", "/questions", "/questions?tab=newest", "/questions?tab=active", "/questions?tab=unanswered",
         "/questions?tab=unsolved", "/tags/pairing", "/search?q=zigbee+pairing", "/search?q=zigbee+pairing&sort=newest",
         "/search?q=zigbee+pairing&sort=votes"]


def _order(client, path: str, ids: list[int]) -> list[int]:
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    seen = [int(m) for m in re.findall(r'href="/questions/(\d+)/', html)]
    return [i for i in dict.fromkeys(seen) if i in ids]


@pytest.fixture
def askers(make_user, make_question):
    """Four questions asked in turn by a 5,000-reputation member and a newcomer (oldest first)."""
    vip, newcomer = make_user("big_customer"), make_user("newcomer")
    db.session.execute(update(User).where(User.id == vip.id).values(reputation=5000))
    db.session.commit()
    ids = []
    for n, author in enumerate([vip, newcomer, vip, newcomer]):
        ids.append(make_question(author=author, title=f"Zigbee pairing fails on hub model QX{n}",
                                 body="The Zigbee pairing stops at 80% and the hub light blinks orange.",
                                 tags="pairing").id)
    return {"vip": vip.id, "newcomer": newcomer.id, "ids": ids}


def test_lists_and_search_order_questions_by_time_not_by_the_askers_reputation(client, askers) -> None:
    ids = askers["ids"]
    newest_first = ids[::-1]
    before = {}
    for path in PAGES:
        order = _order(client, path, ids)
        assert sorted(order) == sorted(ids), path
        if "q=" not in path or "sort=newest" in path:  # equal relevance or votes aside, lists go by time
            assert order == newest_first, path
        before[path] = order
    # Swap the reputations: nothing moves.
    db.session.execute(update(User).where(User.id == askers["vip"]).values(reputation=1))
    db.session.execute(update(User).where(User.id == askers["newcomer"]).values(reputation=5000))
    db.session.commit()
    assert {path: _order(client, path, ids) for path in PAGES} == before
