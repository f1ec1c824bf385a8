"""The search pages' tests again, with the PostgreSQL search backend (``SEARCH_BACKEND=postgres``).

Every test of ``test_search_pages.py`` (results, counts and snippets, filters, sorting, paging,
"did you mean", solved and hidden posts, articles) is collected here a second time under the
``pg_search`` marker, which makes the ``app`` fixture use the PostgreSQL tables (PostgreSQL only).
"""
from __future__ import annotations

import pytest

from tests.web.test_search_pages import *  # noqa: F403 - the same tests and fixtures, collected again

pytestmark = pytest.mark.pg_search


def test_these_pages_read_the_postgresql_tables(app) -> None:
    from forum.search_index import get_index
    from search.postgres import PgSearchIndex

    assert isinstance(get_index(), PgSearchIndex)
