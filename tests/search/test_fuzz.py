"""No input, however malformed, makes parsing, searching or similar() raise."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from search.document import Document
from search.index import MAX_PER_PAGE, SearchIndex
from search.protocol import SearchBackend
from search.query import MAX_QUERY_CHARS, parse_query
from tests.search.conftest import open_backend

PIECES = [
    *"abcdefghijklmnopqrstuvwxyz0123456789", " ", " ", " ", "  ", "\t", "\n",
    *"\"'\u201c\u201d\u00ab\u00bb:-()[]{}*?~^!\\/.,;|&<>=+%$#@`",
    "OR", "AND", "NOT", "or", "tag:", "is:", "user:", "-tag:", "-is:", "-user:", "is:solved",
    "is:unanswered", "is:article", "is:question", "--", "-\"", "\"-", "::", "tag:\"",
    "é", "ß", "Ω", "中文", "日本語", "🙂", "\u0301", "\u200b", "\ufb01", "\x00", "\x1b", "\x7f",
    "\ud800", "\udfff", "\uffff", "\U0010ffff", "\u202e", "<script>", "&amp;", "%s", "{0}",
    "printer", "driver", "sync", "password", "0x80070005", "v2.3.1", "config.yaml",
]


def random_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05:
        return "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(50)))
    if roll < 0.10:
        return rng.choice(PIECES) * rng.randrange(1, 2_000)  # very long
    return "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 40)))


@pytest.fixture(scope="module", params=["whoosh", "postgres"])
def noisy_index(request: pytest.FixtureRequest) -> Iterator[SearchBackend]:
    rng = random.Random(99)
    docs = [
        Document(kind=rng.choice(["question", "article"]), id=i, title=random_text(rng),
                 body=random_text(rng), answers=random_text(rng), tags=(random_text(rng)[:20],),
                 author=random_text(rng)[:20], solved=rng.random() < 0.5,
                 answer_count=rng.randrange(3), score=rng.randrange(-5, 5),
                 created=datetime(2024, 1, 1, tzinfo=timezone.utc))
        for i in range(300)
    ]
    index = open_backend(request.param)
    index.upsert(docs)
    yield index
    index.close()


def _rounds(index: SearchBackend, whoosh: int) -> int:
    # A PostgreSQL query is a round trip (5-20 ms here): a fifth as many random inputs keeps
    # the test under ten seconds; the parser, shared by both, gets its thousands above.
    return whoosh if isinstance(index, SearchIndex) else whoosh // 5


def test_parser_never_raises_on_random_input() -> None:
    rng = random.Random(1)
    for _ in range(5_000):
        parsed = parse_query(random_text(rng))
        assert len(parsed.raw) <= MAX_QUERY_CHARS
        parse_query(parsed.render())


def test_search_never_raises_on_random_input(noisy_index: SearchBackend) -> None:
    rng = random.Random(2)
    for _ in range(_rounds(noisy_index, 3_000)):
        results = noisy_index.search(
            random_text(rng),
            sort=rng.choice(["relevance", "newest", "votes", "x"]),
            page=rng.choice([1, 2, 0, -1, 10**9]),
            per_page=rng.choice([1, 20, 10**6]),
        )
        assert len(results.hits) <= MAX_PER_PAGE and results.total >= 0
        for hit in results.hits:
            assert "<script" not in hit.snippet_html and "<script" not in hit.title_html


def test_similar_never_raises_on_random_input(noisy_index: SearchBackend) -> None:
    rng = random.Random(3)
    for _ in range(_rounds(noisy_index, 1_000)):
        hits = noisy_index.similar(random_text(rng), body=random_text(rng),
                                   limit=rng.choice([0, 1, 5, 10**6]), exclude=[random_text(rng)])
        assert len(hits) <= 100
