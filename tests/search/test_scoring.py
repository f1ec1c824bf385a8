"""The fast paths agree with stock Whoosh: analyzer tokens and BM25F scores."""

from __future__ import annotations

import pytest
from whoosh import query as wq

from search.analysis import ForumAnalyzer, reference_analyzer
from search.engine import Engine
from search.index import SearchIndex
from search.plan import build_plan, similar_plan
from search.query import parse_query
from tools.search.synthetic import SyntheticForum

TEXTS = [
    "The cafés ARE closing; v2.3.1 error 0x80070005 in config.yaml",
    "Ünïcode naïve résumé  a b cd ÉTÉ straße",
    "the the the running runs ran configured configuration",
    "",
    "x" * 50 + " ok i'm can't won't e-mail wi-fi",
    "数据 同步 失败 — ошибка синхронизации",
]


@pytest.mark.parametrize("stem", [True, False])
@pytest.mark.parametrize("text", TEXTS)
def test_forum_analyzer_equals_the_whoosh_chain(text: str, stem: bool) -> None:
    fast, reference = ForumAnalyzer(stem=stem), reference_analyzer(stem=stem)
    for options in ({}, {"positions": True, "chars": True},
                    {"positions": True, "chars": True, "removestops": False}):
        def tokens(analyzer: object) -> list[tuple[object, ...]]:
            return [(t.text, getattr(t, "pos", None), getattr(t, "startchar", None), t.stopped)
                    for t in analyzer(text, **options)]  # type: ignore[operator]  # noqa: B023 - called in this iteration
        assert tokens(fast) == tokens(reference)


def test_phrases_do_not_span_title_and_body(make_doc, empty_index: SearchIndex) -> None:
    empty_index.upsert([make_doc(1, "ends with alpha", "beta starts the body")])
    assert empty_index.search('"alpha beta"').total == 0
    assert empty_index.search('"ends with alpha"').total == 1


@pytest.fixture(scope="module")
def synthetic_index() -> SearchIndex:
    forum = SyntheticForum(5)
    index = SearchIndex.open(None)
    index.upsert(list(forum.documents(300)))
    index.upsert(list(SyntheticForum(6).documents(40)))  # replaces some: deletions too
    return index


def _whoosh_query(plan):  # type: ignore[no-untyped-def]
    return wq.And([
        wq.Or([wq.Term(r.field, r.text.decode(), boost=r.boost) for a in clause for r in a.terms])
        for clause in plan.clauses
    ])


def test_engine_scores_equal_whoosh_bm25f(synthetic_index: SearchIndex) -> None:
    engine: Engine = synthetic_index._current()
    queries = SyntheticForum(7).queries(60)
    checked = 0
    for text in queries:
        plan = build_plan(parse_query(text.replace('"', "")))
        if not plan.clauses or plan.filters or plan.exclusions:
            continue
        ours = engine.evaluate(plan, want=1000, facets=False).top
        theirs = engine.searcher.search(_whoosh_query(plan), limit=None)
        expected = {hit.docnum: hit.score for hit in theirs}
        assert {doc for _, doc in ours} == set(expected), text
        for score, doc in ours:
            assert score == pytest.approx(expected[doc], rel=1e-9), text
        checked += 1
    assert checked > 20


def test_pruned_top_k_equals_exhaustive_ranking(synthetic_index: SearchIndex) -> None:
    engine: Engine = synthetic_index._current()
    forum = SyntheticForum(9)
    for _ in range(40):
        plan = similar_plan(forum.title(), forum._paragraph(("{noun} {verb} {adj} {error}",), 3))
        everything = engine.evaluate(plan, want=10_000, union=True, facets=False).top
        for k in (1, 3, 10):
            top = engine.evaluate(plan, want=k, union=True, facets=False, count=False).top
            assert [s for s, _ in top] == pytest.approx([s for s, _ in everything[:k]])


def test_pruned_search_ranking_equals_exhaustive_ranking(synthetic_index: SearchIndex) -> None:
    engine: Engine = synthetic_index._current()
    for text in SyntheticForum(11).queries(80):
        plan = build_plan(parse_query(text))
        if not plan.clauses:
            continue
        for union in (False, True):
            everything = engine.evaluate(plan, want=10_000, union=union, facets=False)
            for k in (1, 5, 20):
                top = engine.evaluate(plan, want=k, union=union, facets=False)
                assert top.total == everything.total
                expected = [s for s, _ in everything.top[:k]]
                assert [s for s, _ in top.top] == pytest.approx(expected), text
