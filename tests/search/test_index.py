"""SearchIndex writes, similar(), snippets, fingerprints and the on-disk index."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.document import Document
from search.errors import IndexBusy, SearchError
from search.index import MAX_SIMILAR, SearchIndex
from search.writing import write_lock


def keys(index: SearchIndex, query: str) -> list[str]:
    return [hit.key for hit in index.search(query, per_page=100).hits]


def test_upsert_adds_documents(index: SearchIndex, forum: list[Document]) -> None:
    assert len(index) == len(forum)
    assert keys(index, "spooler") == ["question:1"]


def test_upsert_replaces_a_document_with_the_same_key(index: SearchIndex, make_doc) -> None:
    index.upsert([make_doc(1, "Scanner jams on page two", "Paper jam.")])
    assert keys(index, "spooler") == []
    assert keys(index, "scanner") == ["question:1"]
    assert len(index) == 10


def test_upsert_keeps_the_last_of_duplicate_keys(empty_index: SearchIndex, make_doc) -> None:
    empty_index.upsert([make_doc(1, "first version"), make_doc(1, "second version")])
    assert keys(empty_index, "second") == ["question:1"] and keys(empty_index, "first") == []


def test_same_id_of_another_kind_is_a_different_document(index: SearchIndex, make_doc) -> None:
    index.upsert([make_doc(1, "Printer article", kind="article")])
    assert set(keys(index, "printer")) >= {"question:1", "article:1"}


def test_delete_removes_documents_and_ignores_unknown_keys(index: SearchIndex) -> None:
    index.delete(["question:1", "question:999", "nonsense"])
    assert "question:1" not in keys(index, "printer")
    assert len(index) == 9


def test_upsert_rejects_non_documents_before_writing(index: SearchIndex) -> None:
    with pytest.raises(TypeError):
        index.upsert([{"kind": "question"}])  # type: ignore[list-item]
    assert len(index) == 10


def test_rebuild_replaces_everything(index: SearchIndex, make_doc) -> None:
    seen: list[int] = []
    count = index.rebuild([make_doc(50, "Only this one"), make_doc(50, "dup")], progress=seen.append)
    assert count == 1 and seen == [1]
    assert keys(index, "printer") == [] and keys(index, "only") == ["question:50"]


def test_fingerprints_map_every_key_to_the_document_hash(index: SearchIndex, forum) -> None:
    assert index.fingerprints() == {doc.key: doc.fingerprint() for doc in forum}


def test_fingerprints_reveal_a_stale_document(index: SearchIndex, forum, make_doc) -> None:
    changed = make_doc(2, "Printer prints blank pages (edited)")
    stale = {k for k, fp in index.fingerprints().items() if fp != changed.fingerprint()}
    assert "question:2" in stale


def test_replacing_one_document_keeps_its_title_words_for_suggestions(empty_index: SearchIndex, make_doc) -> None:
    # One document per upsert (as after each post): a new title's words become suggestions,
    # a new body under the same title (an answer) is searchable and keeps the title's words.
    empty_index.upsert([make_doc(1, "Printer offline", "first body")])
    empty_index.upsert([make_doc(1, "Scanner offline", "first body")])
    empty_index.upsert([make_doc(1, "Scanner offline", "second body", answers="driver reinstalled")])
    assert keys(empty_index, "reinstalled") == ["question:1"] and keys(empty_index, "first") == []
    assert empty_index.search("scaner").suggestion == "scanner"
    assert keys(empty_index, "scanner") == ["question:1"] and keys(empty_index, "printer") == []


def test_snippets_escape_html_and_mark_matches(empty_index: SearchIndex, make_doc) -> None:
    empty_index.upsert([make_doc(1, "<b>Bold</b> printer", "<script>alert('x')</script> printer & co")])
    hit = empty_index.search("printer").hits[0]
    assert "<script>" not in hit.snippet_html and "&lt;script&gt;" in hit.snippet_html
    assert "<mark>printer</mark>" in hit.snippet_html and "&amp; co" in hit.snippet_html
    assert hit.title_html == "&lt;b&gt;Bold&lt;/b&gt; <mark>printer</mark>"


def test_snippet_is_cut_around_the_first_match(empty_index: SearchIndex, make_doc) -> None:
    body = "filler " * 200 + "the spooler crashed " + "filler " * 200
    empty_index.upsert([make_doc(1, "Long post", body)])
    snippet = empty_index.search("spooler").hits[0].snippet_html
    assert "<mark>spooler</mark>" in snippet and len(snippet) < 400
    assert snippet.startswith("\u2026") and snippet.endswith("\u2026")


def test_similar_finds_related_titles_and_excludes_keys(index: SearchIndex) -> None:
    hits = index.similar("printer is offline", limit=3)
    assert [h.key for h in hits][0] == "question:1" and len(hits) <= 3
    hits = index.similar("printer is offline", limit=3, exclude=["question:1"])
    assert "question:1" not in [h.key for h in hits] and len(hits) <= 3


def test_similar_uses_the_body_too(index: SearchIndex) -> None:
    hits = index.similar("Help please", body="ink cartridges full but pages blank")
    assert hits[0].key == "question:2"


def test_similar_limit_is_capped_and_can_be_zero(index: SearchIndex) -> None:
    assert index.similar("printer", limit=0) == []
    assert len(index.similar("printer OR sync password vpn", limit=10_000)) <= MAX_SIMILAR


def test_similar_can_be_restricted_to_given_keys(index: SearchIndex) -> None:
    hits = index.similar("printer offline", limit=10, only=["question:2", "question:7"])
    assert {h.key for h in hits} <= {"question:2", "question:7"}


def test_similar_of_nothing_is_empty(index: SearchIndex) -> None:
    assert index.similar("") == [] and index.similar("the of and") == []


def test_on_disk_index_persists_across_opens(tmp_path: Path, forum) -> None:
    first = SearchIndex.open(tmp_path / "ix")
    first.upsert(forum)
    first.close()
    second = SearchIndex.open(tmp_path / "ix")
    assert keys(second, "spooler") == ["question:1"]
    second.close()


def test_a_reader_sees_commits_made_by_another_instance(tmp_path: Path, forum, make_doc) -> None:
    reader, writer = SearchIndex.open(tmp_path), SearchIndex.open(tmp_path)
    writer.upsert(forum)
    assert keys(reader, "spooler") == ["question:1"]
    writer.delete(["question:1"])
    assert keys(reader, "spooler") == []
    reader.close()
    writer.close()


def test_rebuild_on_disk_leaves_readers_a_complete_index(tmp_path: Path, forum, make_doc) -> None:
    index = SearchIndex.open(tmp_path)
    index.upsert(forum)
    index.rebuild([make_doc(i, f"post number {i}") for i in range(1, 30)])
    assert index.search("post").total == 29
    index.upsert([make_doc(99, "post added later")])
    assert index.search("post").total == 30
    index.close()


def test_writes_raise_index_busy_after_the_timeout(tmp_path: Path, make_doc) -> None:
    index = SearchIndex.open(tmp_path, write_timeout=0.2)
    holder = SearchIndex.open(tmp_path)
    with write_lock(holder._ix, timeout=1):
        with pytest.raises(IndexBusy):
            index.upsert([make_doc(1, "blocked")])
        with pytest.raises(SearchError):  # IndexBusy is a SearchError
            index.delete(["question:1"])
    index.upsert([make_doc(1, "free again")])
    assert keys(index, "free") == ["question:1"]
    index.close()
    holder.close()


def test_open_reports_an_unusable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SearchError):
        SearchIndex.open(blocker / "ix")


def test_an_index_built_by_another_schema_must_be_rebuilt(tmp_path: Path, forum) -> None:
    from whoosh import fields
    from whoosh.index import create_in

    create_in(str(tmp_path), fields.Schema(key=fields.ID(stored=True, unique=True)), indexname="MAIN")
    index = SearchIndex.open(tmp_path)
    assert not index.schema_is_current
    with pytest.raises(SearchError):
        index.search("printer")
    with pytest.raises(SearchError):
        index.upsert(forum)
    assert index.rebuild(forum) == len(forum) and index.schema_is_current
    assert index.search("printer").total == 3
    index.close()


def test_a_repeated_search_is_answered_from_its_generation_and_a_write_shows_at_once(
        make_doc, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a bad day everyone searches the same words: the second identical search does no
    matching or scoring work, while any write (a new generation) is seen by the next search."""
    from search.engine import Engine

    index = SearchIndex.open(None)
    index.upsert([make_doc(i, f"Login fails after update {i}", "Cannot sign in.") for i in range(1, 30)])
    evaluated: list[object] = []
    real = Engine._evaluate
    monkeypatch.setattr(Engine, "_evaluate", lambda self, *args: evaluated.append(args) or real(self, *args))

    first = index.search("login", per_page=5)
    again = index.search("login", per_page=5)
    assert len(evaluated) == 1
    assert [h.key for h in again.hits] == [h.key for h in first.hits] and again.total == first.total == 29
    again.hits.clear()  # what a caller does with its results does not change the next answer
    assert [h.key for h in index.search("login", per_page=5).hits] == [h.key for h in first.hits]
    assert index.search("login", per_page=5, page=2).total == 29  # another page is another question
    assert len(evaluated) == 2

    index.upsert([make_doc(100, "Login fails with error 42", "Login login login.")])
    after = index.search("login", per_page=5)
    assert after.total == 30 and after.hits[0].key == "question:100"
    index.delete(["question:100"])
    assert index.search("login", per_page=5).total == 29
    index.close()


def test_writes_replace_score_lists_instead_of_piling_them_up(make_doc) -> None:
    """Every commit changes the BM25 statistics of every term; a worker that searches between
    writes must keep one score list per segment and term, not one per commit (they filled the
    cache's budget with dead copies, and the worker's memory with it, as writes went on)."""
    index = SearchIndex.open(None)
    index.upsert([make_doc(i, f"Login fails after update {i}", "Cannot sign in to the hub.") for i in range(1, 40)])
    index.search("login hub")

    def score_lists() -> list[tuple[object, ...]]:
        return [key for key in index._cache._items if key[0] == "tf"]

    before = score_lists()
    first_segments = {key[1] for key in before}
    for n in range(10):
        index.upsert([make_doc(100 + n, f"Another login question {n}", "Hub offline.")])
        index.search("login hub")
    after = [key for key in score_lists() if key[1] in first_segments]
    assert len(after) == len(set(after)) <= len(before)
    evaluations = [key for key in index._cache._items if key[0] == "evaluation"]
    assert len(evaluations) == 1  # one answer per query, replaced by each new generation
    index.close()


def test_a_merge_drops_the_cached_data_of_the_segments_it_replaced(make_doc) -> None:
    """Writes add segments and Whoosh merges small ones into a new one; the decoded lists of a
    merged-away segment can never be asked for again, and held a worker's memory (20 MiB after
    20 answers at 200,000 posts) until the budget pushed them out."""
    index = SearchIndex.open(None)
    index.upsert([make_doc(i, f"Login fails after update {i}", "Cannot sign in to the hub.") for i in range(1, 40)])
    index.search("login hub")
    seen: set[object] = set()
    for n in range(25):  # enough small segments for Whoosh to merge some
        index.upsert([make_doc(100 + n, f"Another login question {n}", "Hub offline.")])
        index.search("login hub")
        seen |= {key[1] for key in index._cache._items if key[0] in ("p", "tf")}
        live = {seg.segid for seg in index._current().segments}
        cached = {key[1] for key in index._cache._items if key[0] in ("p", "tf")}
        assert cached <= live, cached - live
    assert len(seen) > len(live)  # segments did go away meanwhile
    assert index.search("login hub").total == 64
    index.close()
