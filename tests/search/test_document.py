"""The Document value object: keys, normalisation, fingerprints, validation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from search.document import Document, make_key, normalise_tag, split_key

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def doc(**fields: object) -> Document:
    base: dict[str, object] = {"kind": "question", "id": 12, "title": "T", "body": "B", "created": WHEN}
    base.update(fields)
    return Document(**base)  # type: ignore[arg-type]


def test_key_joins_kind_and_id_and_splits_back() -> None:
    assert doc().key == "question:12" == make_key("question", 12)
    assert split_key("article:7") == ("article", 7)
    with pytest.raises(ValueError):
        split_key("nonsense")


def test_tags_are_normalised_and_deduplicated_in_order() -> None:
    assert doc(tags=(" Windows ", "mac os", "windows", "", "a,b")).tags == ("windows", "mac-os", "a-b")
    assert normalise_tag("  C++ Help ") == "c++-help"


def test_naive_and_aware_utc_times_are_the_same_document() -> None:
    naive = doc(created=WHEN.replace(tzinfo=None))
    other_zone = doc(created=WHEN.astimezone(timezone(timedelta(hours=3))))
    assert naive == doc() == other_zone
    assert naive.fingerprint() == doc().fingerprint() == other_zone.fingerprint()


def test_fingerprint_changes_with_any_field() -> None:
    base = doc().fingerprint()
    variants = [doc(title="X"), doc(body="X"), doc(answers="X"), doc(accepted="X"), doc(tags=("x",)),
                doc(author="x"), doc(status="closed"), doc(solved=True), doc(score=1),
                doc(answer_count=1), doc(created=WHEN + timedelta(seconds=1)), doc(id=13),
                doc(kind="article")]
    assert len({v.fingerprint() for v in variants} | {base}) == len(variants) + 1
    assert doc().fingerprint() == base  # stable across calls and instances


def test_invalid_documents_are_rejected() -> None:
    for bad in ({"kind": "Question"}, {"kind": "a:b"}, {"id": "12"}, {"id": True},
                {"created": "2024-01-01"}, {"title": None}, {"tags": "windows"}, {"tags": (1,)}):
        with pytest.raises(ValueError):
            doc(**bad)


def test_lone_surrogates_are_replaced() -> None:
    assert doc(title="a\ud800b").title == "a\ufffdb"
    assert doc(title="a?b").title == "a?b"


def test_documents_are_frozen() -> None:
    with pytest.raises(AttributeError):
        doc().title = "changed"  # type: ignore[misc]
