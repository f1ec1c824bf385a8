"""Fixtures for the search package: a document factory and a small index.

`empty_index` (and so `index`) is parametrized over both backends: ``[whoosh]`` an in-memory
Whoosh index, ``[postgres]`` `PgSearchIndex` on FORUM_TEST_DATABASE_URL (skipped without it,
failed in CI), so the same contract tests check both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from search.document import Document
from search.index import SearchIndex
from search.protocol import SearchBackend
from tests.support import pg_url_or_skip

EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)

MakeDoc = Callable[..., Document]


@pytest.fixture
def make_doc() -> MakeDoc:
    """Return a factory: ``make_doc(id, title, body="", **fields) -> Document``."""

    def make(id: int, title: str, body: str = "", **fields: Any) -> Document:
        fields.setdefault("kind", "question")
        fields.setdefault("created", EPOCH + timedelta(days=id))
        return Document(id=id, title=title, body=body, **fields)

    return make


def open_backend(backend: str) -> SearchBackend:
    """A fresh, empty index of `backend` ("whoosh" in memory, or "postgres" on the test database)."""
    if backend == "whoosh":
        return SearchIndex.open(None)
    from sqlalchemy import text

    from search.postgres import PgSearchIndex

    index = PgSearchIndex.open(pg_url_or_skip())
    with index._engine.begin() as conn:
        conn.execute(text("DELETE FROM search_documents"))
        conn.execute(text("DELETE FROM search_words"))
    return index


@pytest.fixture(params=["whoosh", "postgres"])
def empty_index(request: pytest.FixtureRequest) -> Iterator[SearchBackend]:
    """A fresh index of each backend."""
    index = open_backend(request.param)
    yield index
    index.close()


@pytest.fixture
def forum(make_doc: MakeDoc) -> list[Document]:
    """A dozen posts covering every field and filter the query language uses."""
    return [
        make_doc(1, "Printer offline after Windows update",
                 "My printer shows offline since the last Windows update.",
                 answers="Reinstall the printer driver. Restart the spooler service.",
                 accepted="Reinstall the printer driver.", tags=("printing", "windows"),
                 author="alice", solved=True, score=12, answer_count=2),
        make_doc(2, "Printer prints blank pages",
                 "Every page comes out blank, ink cartridges are full.",
                 tags=("printing",), author="bob", score=3, answer_count=0),
        make_doc(3, "Cannot login after password reset",
                 "The login page says invalid password after I reset my password.",
                 answers="Clear the browser cache and cookies.", tags=("account", "login"),
                 author="carol", score=7, answer_count=1),
        make_doc(4, "How to export invoices as PDF",
                 "I need every invoice of 2023 as a PDF for my accountant.",
                 answers="Use Billing > Invoices > Export.", accepted="Use Billing > Invoices > Export.",
                 tags=("billing",), author="alice", solved=True, score=5, answer_count=1),
        make_doc(5, "Sync conflict when two devices edit a file",
                 "Error sync conflict appears when my laptop and phone edit the same file.",
                 tags=("sync",), author="dave", score=1, answer_count=0),
        make_doc(6, "Resetting your password", "Go to Settings > Security > Reset password.",
                 kind="article", status="published", tags=("account", "login"), author="staff",
                 score=20),
        make_doc(7, "Configuring the VPN client on macOS",
                 "The VPN client needs configuration of the server address and a certificate.",
                 answers="Import the certificate first.", tags=("vpn", "macos"), author="erin",
                 score=2, answer_count=1),
        make_doc(8, "Windows firewall blocks sync", "Sync stops when the firewall is on.",
                 answers="Allow the sync client in the firewall.", tags=("sync", "windows"),
                 author="bob", solved=False, score=-1, answer_count=1),
        make_doc(9, "Café menu shows wrong accents", "Résumé and naïve render wrongly.",
                 tags=("display",), author="frank", answer_count=0),
        make_doc(10, "Printer driver for macOS Sonoma", "Where can I download the printer driver?",
                 answers="From the vendor site.", tags=("printing", "macos"), author="alice",
                 answer_count=1, score=4),
    ]


@pytest.fixture
def index(empty_index: SearchBackend, forum: list[Document]) -> SearchBackend:
    """The in-memory index holding `forum`."""
    empty_index.upsert(forum)
    return empty_index
