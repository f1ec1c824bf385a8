"""`SearchIndex`: the one object the Flask app talks to.

One instance per process.  Reads share a searcher that is refreshed when another
process commits (checked per call, one directory listing); its files are read with
``os.pread`` (`search.files.PreadStorage`), never copied into the process; writes take the index's
write lock with back-off (see `search.writing`).  Every public method's bounds are
hard: at most `MAX_PER_PAGE` hits per page, `MAX_PAGE` pages and `MAX_SIMILAR` similar
posts, whatever the caller asks for.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.index import Index

from search.analysis import strip_controls
from search.document import Document, split_key
from search.engine import Engine, Evaluation, PostingCache
from search.errors import SearchError
from search.files import PreadStorage
from search.highlight import highlight_title, snippet
from search.plan import Plan, build_plan, keep_rarest, similar_plan, without_unknown
from search.postings import DEFAULT_BUDGET
from search.query import KNOWN_KINDS, ParsedQuery, parse_query
from search.results import Hit, SearchResults
from search.schema import build_schema, document_fields, schema_signature, weighting
from search.spelling import corrections
from search.writing import bulk_write, merge_tiers, open_writer, write_lock

__all__ = ["SearchIndex", "IndexBatch", "MAX_PER_PAGE", "MAX_PAGE", "MAX_SIMILAR", "SORTS"]

INDEX_NAME = "MAIN"  # Whoosh's default, so plain whoosh.index.open_dir works too
MAX_PER_PAGE = 100
MAX_PAGE = 50
MAX_SIMILAR = 100
SORTS = ("relevance", "newest", "votes")
_TOP_TAGS = 30
# Reads of the newest generation retried when a concurrent commit deleted its files (`_reopen`).
_REOPEN_TRIES = 5
_CURRENT_SIGNATURE = schema_signature(build_schema())


class _PrivateRamStorage(RamStorage):  # type: ignore[misc]  # whoosh ships no types
    """In-memory storage whose temporary files are in memory too.

    Whoosh's RamStorage puts writers' temporary files in ``$TMPDIR/MAIN.tmp``, one
    directory shared by every in-memory index of every process, and each writer
    deletes it when done -- under a concurrent test run, one writer wipes another's
    files.
    """

    def temp_storage(self, name: str | None = None) -> RamStorage:
        return RamStorage()


def _clamp(value: object, low: int, high: int, default: int) -> int:
    try:
        number: int = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return default
    return max(low, min(high, number))


def _documents(docs: Iterable[Document]) -> list[Document]:
    out = list(docs)
    for doc in out:
        if not isinstance(doc, Document):
            raise TypeError(f"expected search.Document, got {type(doc).__name__}")
    return out


def _unique(docs: Iterable[Document]) -> Iterable[Document]:
    seen: set[str] = set()
    for doc in docs:
        if not isinstance(doc, Document):
            raise TypeError(f"expected search.Document, got {type(doc).__name__}")
        if doc.key not in seen:  # keys are unique in the index; the first one wins
            seen.add(doc.key)
            yield doc


class IndexBatch:
    """Writes gathered under the index's write lock, committed as one segment (`SearchIndex.batch`)."""

    def __init__(self, ix: Index) -> None:
        self._ix = ix
        self._writer: Any = None

    def run(self, work: Callable[[Any], object]) -> None:
        if self._writer is None:
            self._writer = open_writer(self._ix)
        work(self._writer)

    def upsert(self, docs: Iterable[Document]) -> None:
        """Add or replace documents by key (the last version of a key wins)."""
        batch = {doc.key: doc for doc in _documents(docs)}
        if batch:
            self.run(lambda w: [w.update_document(**document_fields(d)) for d in batch.values()])

    def delete(self, keys: Iterable[str]) -> None:
        """Remove documents by key; unknown keys are ignored."""
        wanted = [k for k in dict.fromkeys(keys) if isinstance(k, str)]
        if wanted:
            self.run(lambda w: [w.delete_by_term("key", k) for k in wanted])

    def commit(self) -> None:
        """Commit what was gathered (nothing to do when nothing was); the lock stays held."""
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.commit(mergetype=merge_tiers)
            except BaseException:
                writer.cancel()
                raise

    def cancel(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()


class SearchIndex:
    """A Whoosh index of `Document`s with forum search, facets and similar posts.

    Thread-safe for concurrent reads and writes within a process, and safe across
    processes sharing one on-disk index (writers queue on the write lock).
    """

    def __init__(
        self,
        ix: Index,
        storage: Any,
        *,
        write_timeout: float = 10.0,
        cache_budget: int = DEFAULT_BUDGET,
        kinds: Iterable[str] = KNOWN_KINDS,
    ) -> None:
        """Wrap an opened Whoosh index; use `SearchIndex.open` instead."""
        self._ix = ix
        self._storage = storage
        self.write_timeout = write_timeout
        self.kinds = frozenset(kinds)
        self._cache = PostingCache(cache_budget)
        self._lock = threading.Lock()
        self._engine: Engine | None = None

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None,
        *,
        write_timeout: float = 10.0,
        cache_budget: int = DEFAULT_BUDGET,
        kinds: Iterable[str] = KNOWN_KINDS,
    ) -> SearchIndex:
        """Open the index at `path`, creating the directory and index if missing.

        `path=None` gives a private in-memory index (tests, development).
        `write_timeout` bounds how long writes wait for another writer.  `kinds` lists
        the document kinds that ``is:<kind>`` accepts.  `cache_budget` bounds the decoded
        posting lists kept in memory (bytes, approximate).

        Raises:
            SearchError: the directory cannot be created or the index cannot be
                read (corrupt files, no permission).
        """
        try:
            if path is None:
                storage: Any = _PrivateRamStorage()
                ix = storage.create_index(build_schema(), indexname=INDEX_NAME)
            else:
                Path(path).mkdir(parents=True, exist_ok=True)
                # os.pread is POSIX-only; elsewhere Whoosh's own storage (a copy per reader).
                storage = (PreadStorage if hasattr(os, "pread") else FileStorage)(os.fspath(path))
                ix = cls._open_or_create(storage)
        except SearchError:
            raise
        except Exception as exc:  # whoosh raises bare Exceptions, OSError, EOFError ...
            raise SearchError(f"cannot open search index at {path}: {exc}") from exc
        return cls(ix, storage, write_timeout=write_timeout, cache_budget=cache_budget, kinds=kinds)

    @staticmethod
    def _open_or_create(storage: FileStorage) -> Index:
        if storage.index_exists(INDEX_NAME):
            return storage.open_index(INDEX_NAME)
        # Several workers may start at once: creation happens under a lock, and whoever
        # gets it second finds the index already there.
        lock = storage.lock(f"{INDEX_NAME}_CREATE")
        lock.acquire(True)
        try:
            if storage.index_exists(INDEX_NAME):
                return storage.open_index(INDEX_NAME)
            return storage.create_index(build_schema(), indexname=INDEX_NAME)
        finally:
            lock.release()

    # -- reading ----------------------------------------------------------------------

    @property
    def schema_is_current(self) -> bool:
        """False when the index on disk was built by an older schema: rebuild it."""
        return schema_signature(self._ix.schema) == _CURRENT_SIGNATURE

    def _current(self) -> Engine:
        """Return an engine over the latest committed generation of the index.

        Raises:
            SearchError: the on-disk schema is outdated (run a rebuild), or the index
                files cannot be read.
        """
        with self._lock:
            engine = self._engine
            try:
                if engine is None or not engine.searcher.up_to_date():
                    engine = self._engine = self._reopen()
            except SearchError:
                raise
            except Exception as exc:
                raise SearchError(f"cannot read search index: {exc}") from exc
            return engine

    def _reopen(self) -> Engine:
        """An engine over the newest generation, read without the write lock.

        A writer committing meanwhile deletes the generation's files this read was about
        to open (its TOC, a merged segment): that read fails with FileNotFoundError, and
        reading again finds the newer generation. A few tries, then the error stands.
        """
        for attempt in range(_REOPEN_TRIES):
            try:
                if not self.schema_is_current:
                    raise SearchError("search index schema is outdated; rebuild the index")
                # A fresh searcher, not refresh(): Whoosh reuses segment readers by id,
                # which would keep serving documents deleted since.  The old searcher is
                # left to the garbage collector, as another thread may still be reading it.
                return Engine(self._open_searcher(), self._cache)
            except FileNotFoundError:
                if attempt == _REOPEN_TRIES - 1:
                    raise
                time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    def _open_searcher(self) -> Any:
        """A searcher over the latest generation.

        Whoosh finds the newest table of contents, then opens it; a writer committing in
        between deletes that file, so the open fails with FileNotFoundError although a newer
        generation is there. Looking again finds it (a test with a writer thread caught this).
        """
        for _ in range(4):
            try:
                return self._ix.searcher(weighting=weighting())
            except FileNotFoundError:
                continue
        return self._ix.searcher(weighting=weighting())  # a fifth failure is a real one

    def _hits(self, engine: Engine, top: list[tuple[Any, int]], plan: Plan, scored: bool) -> list[Hit]:
        hits = []
        for key, docnum in top:
            stored = engine.searcher.stored_fields(docnum)
            kind, id = split_key(stored["key"])
            hits.append(
                Hit(
                    kind=kind,
                    id=id,
                    score=float(key) if scored else 0.0,
                    title_html=highlight_title(stored.get("title", ""), plan.highlight),
                    snippet_html=snippet(stored.get("excerpt", ""), plan.highlight),
                )
            )
        return hits

    def search(
        self,
        query: str,
        *,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 20,
        kinds: Sequence[str] | None = None,
        tags: Sequence[str] = (),
        solved: bool | None = None,
    ) -> SearchResults:
        """Search with the forum query language (see `search.query`).

        Never raises for any query text or out-of-range paging: `per_page` is clamped
        to 1..100, `page` to 1..min(pages, 50), an unknown `sort` means "relevance".
        `kinds`, `tags` and `solved` add filters to those written in the query.

        Raises:
            SearchError: only if the index itself cannot be read (see `_current`).
        """
        parsed = parse_query(query, kinds=self.kinds)
        per_page = _clamp(per_page, 1, MAX_PER_PAGE, 20)
        page = _clamp(page, 1, MAX_PAGE, 1)
        sort = sort if sort in SORTS else "relevance"
        plan = build_plan(parsed, kinds=kinds, tags=tags, solved=solved)
        engine = self._current()
        if plan.impossible or plan.is_empty:
            return self._empty(parsed, per_page)
        order = sort if plan.clauses else ("votes" if sort == "votes" else "newest")
        want = page * per_page
        # Relaxation, when no post holds every word: first drop the words that no post
        # holds at all (typos, unknown names), then accept posts with any of the words.
        known = without_unknown(plan, engine.searcher.doc_frequency)
        relaxed = len(known.clauses) < len(plan.clauses)
        result = engine.evaluate(known, want=want, order=order)
        if result.total == 0 and len(known.clauses) > 1:
            result = engine.evaluate(known, want=want, order=order, union=True)
            relaxed = True
        relaxed = relaxed and result.total > 0
        pages = min(MAX_PAGE, math.ceil(result.total / per_page))
        page = max(1, min(page, pages))
        top = result.top[(page - 1) * per_page: page * per_page]
        fixes = corrections(engine, parsed.words()) if result.total < 5 * per_page else {}
        return SearchResults(
            hits=self._hits(engine, top, plan, scored=order == "relevance"),
            total=result.total,
            page=page,
            per_page=per_page,
            pages=pages,
            tag_counts=sorted(result.tag_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:_TOP_TAGS],
            suggestion=parsed.render(fixes) if fixes else None,
            parsed=parsed,
            relaxed=relaxed,
        )

    @staticmethod
    def _empty(parsed: ParsedQuery, per_page: int) -> SearchResults:
        return SearchResults([], 0, 1, per_page, 0, [], None, parsed)

    def similar(
        self,
        title: str,
        *,
        limit: int = 5,
        exclude: Iterable[str] = (),
        body: str = "",
        only: Iterable[str] | None = None,
    ) -> list[Hit]:
        """Return up to `limit` (capped at 100) posts most similar to a title (+ body).

        For "similar questions" while a title is typed and for "related questions".
        Keys in `exclude` (e.g. the post itself) are never returned.  `only`, if given,
        restricts the answer to those keys (re-ranking a known candidate list).  The
        inputs are cut to 300 (title) and 5,000 (body) characters.  Never raises for
        any text.

        Raises:
            SearchError: only if the index itself cannot be read.
        """
        limit = _clamp(limit, 0, MAX_SIMILAR, 5)
        title = strip_controls(title[:300]) if isinstance(title, str) else ""
        body = strip_controls(body[:5_000]) if isinstance(body, str) else ""
        engine = self._current()
        plan = keep_rarest(similar_plan(title, body), engine.searcher.doc_frequency)
        if not plan.clauses or limit == 0:
            return []
        excluded = set(exclude)
        # Over-fetch by the excluded count (bounded: a caller passing thousands of keys
        # gets fewer than `limit` hits rather than an unbounded evaluation).
        extra = min(len(excluded), MAX_SIMILAR)
        allowed = self._docnums(engine, only) if only is not None else None
        if allowed is not None and not allowed:
            return []
        result: Evaluation = engine.evaluate(
            plan, want=limit + extra, union=True, facets=False, count=False, only=allowed
        )
        hits = [h for h in self._hits(engine, result.top, plan, scored=True) if h.key not in excluded]
        return hits[:limit]

    @staticmethod
    def _docnums(engine: Engine, keys: Iterable[str]) -> frozenset[int]:
        out = set()
        for key in keys:
            docnum = engine.searcher.document_number(key=key)
            if docnum is not None:
                out.add(docnum)
        return frozenset(out)

    def fingerprints(self) -> dict[str, str]:
        """Return ``{key: Document.fingerprint()}`` of every indexed document.

        Reads every stored document (about a second per 100,000); meant for
        `flask search check`, not for requests.

        Raises:
            SearchError: the index cannot be read.
        """
        engine = self._current()
        return {f["key"]: f["fp"] for f in engine.searcher.reader().all_stored_fields()}

    def __len__(self) -> int:
        count: int = self._current().searcher.doc_count()
        return count

    # -- writing ----------------------------------------------------------------------

    def upsert(self, docs: Iterable[Document]) -> None:
        """Add or replace documents (by key) in one commit.

        Waits for the write lock up to `write_timeout` seconds, with back-off.

        Raises:
            IndexBusy: the lock stayed held by another writer past the timeout; the
                index is unchanged, so the caller can queue the documents and retry.
            TypeError: an item is not a `Document` (checked before locking).
            SearchError: the on-disk schema is outdated (rebuild first).
        """
        batch = {doc.key: doc for doc in _documents(docs)}  # the last version wins
        if batch:
            self._write(lambda w: [w.update_document(**document_fields(d)) for d in batch.values()])

    def delete(self, keys: Iterable[str]) -> None:
        """Remove documents by key; unknown keys are ignored.

        Raises:
            IndexBusy: as for `upsert`.
            SearchError: the on-disk schema is outdated (rebuild first).
        """
        wanted = [k for k in dict.fromkeys(keys) if isinstance(k, str)]
        if wanted:
            self._write(lambda w: [w.delete_by_term("key", k) for k in wanted])

    def _write(self, work: Callable[[Any], object]) -> None:
        with self.batch() as batch:
            batch.run(work)
            batch.commit()

    @contextmanager
    def batch(self, timeout: float | None = None) -> Iterator[IndexBatch]:
        """Hold the write lock for the block and gather upserts and deletes into one commit.

        For a caller that must decide *what* to write while no other writer can commit
        (``forum.search_sync`` reads its queue and builds the documents under the lock, so
        an older version of a document can never overwrite a newer one written meanwhile).
        Nothing is written unless the block calls ``commit()``; leaving the block cancels
        an uncommitted writer and releases the lock. ``timeout`` overrides `write_timeout`
        (0: do not wait at all).

        Raises:
            IndexBusy: the lock stayed held by another writer past the timeout.
            SearchError: the on-disk schema is outdated (rebuild first).
        """
        with write_lock(self._ix, self.write_timeout if timeout is None else timeout):
            # Read under the lock: outside it, another writer's commit may delete the table of
            # contents between finding and opening it (FileNotFoundError, seen under load).
            if not self.schema_is_current:
                raise SearchError("search index schema is outdated; rebuild the index")
            batch = IndexBatch(self._ix)
            try:
                yield batch
            finally:
                batch.cancel()

    def rebuild(
        self, docs: Iterable[Document], progress: Callable[[int], None] | None = None
    ) -> int:
        """Replace the whole index with `docs`; return how many were indexed.

        Readers keep seeing the previous index until the new one is complete.
        `progress(count)` is called every few thousand documents.  Duplicate keys
        keep their first document.  Also upgrades an index with an outdated schema.

        Raises:
            IndexBusy: another writer held the lock past `write_timeout`.
            TypeError: an item is not a `Document` (the index is left unchanged).
        """
        with write_lock(self._ix, self.write_timeout):
            if not self.schema_is_current:
                self._ix = self._storage.create_index(build_schema(), indexname=INDEX_NAME)
            count = bulk_write(self._ix, _unique(docs), progress)
        self._cache.clear()  # the old segments are gone; free their decoded postings
        return count

    def close(self) -> None:
        """Release the searcher and cached data; the object must not be used after."""
        with self._lock:
            if self._engine is not None:
                self._engine.searcher.close()
                self._engine = None
        self._cache.clear()

