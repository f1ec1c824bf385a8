"""`PgSearchIndex`: the search index as tables of the forum's PostgreSQL database.

Why a second backend: the Whoosh index lives in files on one host's disk, so two web hosts
cannot share it. Here the documents are rows, every host reads the same index, and a
writer's index update commits (or rolls back) with its own transaction.

What is stored (`search_documents`, one row per `Document`):

* ``tsv``: a weighted ``tsvector`` -- title A, tags B, body and accepted answer C, other
  answers D -- searched through a GIN index. Its lexemes are produced by the product's own
  analyzer (`search.analysis`: tokenizer, accent folding, stop list, Porter stemmer) and
  written as ``tsvector`` literals (``'printer':1A,7C``), never by ``to_tsvector`` with a
  PostgreSQL dictionary, so a word stems alike in both backends and in the query parser.
  Positions follow the Whoosh index (stop words dropped and renumbered, a gap of 100
  between sections), so ``"exact phrases"`` become ``<->`` queries with the same answers.
* ``title_words``: the folded, unstemmed title words (the title field of `similar()`).
* ``title`` (trigram GIN, ``pg_trgm``): titles close to a typed title are candidates of
  `similar()` even when no word is spelt the same.
* the filter columns (kind, tags array with a GIN index, author, solved, score, answer
  count, created), the excerpt for snippets and the fingerprint for `flask search check`.

`search_words` is the vocabulary of title words with a trigram index: "did you mean" looks
up words within edit distance 1, then 2, of an unknown word there (the same automaton
check as the Whoosh backend, `search.spelling`).

Ranking is BM25-like: each query term adds ``idf(term) * boost * ts_rank(weights, tsv,
term)``. ``ts_rank`` of one term is a saturating, section-weighted term frequency (weights
title 1, tags 2/3, body 1/3, answers 1/12: the Whoosh section weights 3 : 2 : 1 : 0.25
scaled into ts_rank's 0..1 range); ts_rank has no notion of how rare a word is, hence the
IDF factor, from capped document-frequency counts through the GIN index (frequent words:
the column statistics ANALYZE keeps), cached per process for a minute.

Bounds: a query matches at most `CANDIDATES` rows (`total` and tag counts cover those) and,
by relevance, ranks the newest `RANK_POOL` of them (a word in most posts is ranked over a
bounded set); `similar()` draws candidates from its rarest words up to `SIMILAR_CANDIDATES`
rows, plus titles near by trigrams for a bare title whose words find little. PostgreSQL
keeps at most 256 positions per lexeme and positions up to 16,383: a phrase far down a very
long thread may be missed.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    TextClause,
    create_engine,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR, Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.types import TypeDecorator

from search.analysis import TOKEN_FINDALL, fold, lookup_term, lookup_word, strip_controls
from search.document import Document, split_key
from search.errors import IndexBusy, SearchError
from search.highlight import highlight_title, snippet
from search.index import MAX_PAGE, MAX_PER_PAGE, MAX_SIMILAR, SORTS, _clamp, _documents, _unique
from search.plan import Alternative, Plan, TermRef, build_plan, keep_rarest, similar_plan, without_unknown
from search.query import KNOWN_KINDS, parse_query
from search.results import Hit, SearchResults
from search.schema import EXCERPT_CHARS
from search.spelling import _MAX_WORDS, _MIN_LENGTH, _within

__all__ = ["PgSearchIndex", "metadata", "documents", "words", "SEARCH_TABLES", "CANDIDATES", "create_schema"]

#: Matching rows one query ranks at most (see the module docstring).
CANDIDATES = 10_000
#: Rows `similar()` draws from its rarest words (plus a few by title trigrams).
SIMILAR_CANDIDATES = 200
#: Matches a relevance-ordered search ranks: this many, title matches first, then the newest.
RANK_POOL = 1_000
_TRIGRAM_CANDIDATES = 20
#: What a title's trigram similarity (0..1) adds to an as-you-type score (a shared rare word adds ~3-6).
TRIGRAM_WEIGHT = 2.0
#: Document frequencies are counted up to this.
DF_CAP = 5_000
#: From this many documents on, frequent words' frequencies come from ANALYZE's statistics.
_COMMON_FROM = 1_000
_STATS_TTL = 60.0
_TOP_TAGS = 30
# ts_rank's weights, in its order {D, C, B, A}: answers 0.25, body and accepted answer 1,
# tags 2, title 3 -- the Whoosh section weights (search.schema) divided by 3.
_WEIGHTS = "'{0.08333,0.33333,0.66667,1.0}'::real[]"
_SECTION_GAP = 100
_MAX_POSITION = 16_383
_MAX_POSITIONS = 256
# ts_rank's length normalisation: none. On the SemEval dev split the options moved MAP by
# under a point either way (1: +0.4, 2: -0.2, 8: +0.1, 16: +0.9, 32: 0.0), within noise.
_NORMALIZATION = 0

metadata = MetaData()


class _TsVector(TypeDecorator[str]):
    """A tsvector bound as text and cast by the server (the literal we build)."""

    impl = TSVECTOR
    cache_ok = True

    def bind_expression(self, bindvalue: Any) -> Any:
        return bindvalue.cast(TSVECTOR)


documents = Table(
    "search_documents", metadata,
    Column("key", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("excerpt", Text, nullable=False),
    Column("tags", ARRAY(Text), nullable=False),
    Column("author", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("solved", Boolean, nullable=False),
    Column("score", BigInteger, nullable=False),
    Column("answer_count", Integer, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("fp", Text, nullable=False),
    Column("tsv", _TsVector, nullable=False),
    Column("title_words", _TsVector, nullable=False),
)
words = Table("search_words", metadata, Column("word", Text, primary_key=True))
#: The tables this backend owns; the app's migrations compare ignores them (not ORM models).
SEARCH_TABLES = frozenset({"search_documents", "search_words"})

_INDEXES = (
    "CREATE INDEX IF NOT EXISTS search_documents_tsv ON search_documents USING gin (tsv)",
    "CREATE INDEX IF NOT EXISTS search_documents_title_words ON search_documents USING gin (title_words)",
    "CREATE INDEX IF NOT EXISTS search_documents_title_trgm ON search_documents USING gin (title gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_documents_tags ON search_documents USING gin (tags)",
    "CREATE INDEX IF NOT EXISTS search_words_trgm ON search_words USING gin (word gin_trgm_ops)",
)


def create_schema(connection: Connection) -> None:
    """Create the extension, tables and indexes if missing (the migration does the same).

    Raises:
        sqlalchemy.exc.DBAPIError: the role may not create the ``pg_trgm`` extension or tables.
    """
    connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    metadata.create_all(connection)
    for ddl in _INDEXES:
        connection.execute(text(ddl))


# ---------------------------------------------------------------- documents -> rows


def _lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsvector(sections: Iterable[tuple[str, str]], lookup: Callable[[str], str | None]) -> str:
    """A tsvector literal of `sections` ``(text, weight letter)``, positions as Whoosh numbers them."""
    positions: defaultdict[str, list[str]] = defaultdict(list)
    pos = 0
    for body, weight in sections:
        # `lookup` returns None (stop word) or a non-empty term, so filter(None) keeps the terms.
        terms = list(filter(None, map(lookup, TOKEN_FINDALL(body))))
        labels = _labels(weight)
        for offset, term in enumerate(terms, pos + 1):
            found = positions[term]
            if len(found) < _MAX_POSITIONS:
                found.append(labels[min(offset, _MAX_POSITION)])
        pos += len(terms) + _SECTION_GAP
    return " ".join(map(_ENTRY, map(_QUOTED.lookup, positions), map(",".join, positions.values())))


_ENTRY = "{}:{}".format


class _Quoted(dict):  # type: ignore[type-arg]
    """term -> its tsvector lexeme literal (`_lexeme`), filled on first lookup.

    A known term is quoted once per process, not once per post, and looked up through
    ``map(lookup, ...)`` without a Python call. Bounded like the analyzer's memo
    (`search.analysis`), so a flood of unique tokens cannot grow it forever.
    """

    def __init__(self) -> None:
        super().__init__()
        self.lookup: Callable[[str], str] = self.__getitem__

    def __missing__(self, term: str) -> str:
        if len(self) >= _QUOTED_LIMIT:
            self.clear()
        quoted = self[term] = _lexeme(term)
        return quoted


_QUOTED_LIMIT = 200_000
_QUOTED = _Quoted()


@cache
def _labels(weight: str) -> tuple[str, ...]:
    """The position labels ``"<n><weight>"`` for n = 0 .. `_MAX_POSITION`, formatted once per weight.

    Instead of one f-string per word of every post: four tuples of 16k short strings (about
    1 MB each), built once per process.
    """
    return tuple(f"{n}{weight}" for n in range(_MAX_POSITION + 1))


def _clean(value: str) -> str:
    """`value` without NUL characters, which PostgreSQL text cannot hold (the fingerprint keeps them)."""
    return value.replace("\x00", "")


def _sendable(key: object) -> bool:
    """Whether `key` can be a document key in a statement (text without NUL or lone surrogates)."""
    if not isinstance(key, str) or "\x00" in key:
        return False
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _row(doc: Document) -> dict[str, Any]:
    sections = [(doc.title, "A"), (doc.body, "C")]
    if doc.answers:
        sections.append((doc.answers, "D"))
    if doc.accepted:
        sections.append((doc.accepted, "C"))
    if doc.tags:
        sections.append((" ".join(doc.tags), "B"))
    return {
        "key": doc.key,
        "kind": doc.kind,
        "title": _clean(doc.title),
        "excerpt": _clean(doc.body[:EXCERPT_CHARS]),
        "tags": [_clean(t) for t in doc.tags],
        "author": _clean(doc.author.strip().lower()),
        "status": _clean(doc.status.strip().lower()),
        "solved": doc.solved,
        "score": doc.score,
        "answer_count": max(0, doc.answer_count),
        "created": doc.created,
        "fp": doc.fingerprint(),
        "tsv": _tsvector(sections, lookup_term),
        "title_words": _tsvector([(doc.title, "A")], lookup_word),
    }


def _title_words(doc: Document) -> set[str]:
    return {w for w in map(lookup_word, TOKEN_FINDALL(doc.title)) if w is not None}


@cache
def _upsert_many() -> Insert:
    """The upsert of document rows (executed with a list of rows), built once: building it took
    longer than sending one document."""
    stmt = pg_insert(documents)
    return stmt.on_conflict_do_update(
        index_elements=[documents.c.key],
        set_={c.name: stmt.excluded[c.name] for c in documents.columns if c.name != "key"})


@cache
def _upsert_one() -> TextClause:
    """Upsert one document row and add its title words to `search_words` if they changed.

    The words' INSERT is a data-modifying CTE, so both writes are one round trip. Its
    ``NOT EXISTS`` reads the statement's snapshot, i.e. the row as it was before this upsert:
    when the stored ``title_words`` equal the new ones, the words are already in
    `search_words` (only `rebuild` deletes words, and it deletes the documents with them), so
    nothing is inserted. PostgreSQL runs an unreferenced data-modifying CTE after the main
    statement, so locks are taken in the same order as `_write_rows` (document, then words).
    Built once: the text is constant and the values are bound.
    """
    names = [c.name for c in documents.columns]
    casts = {"tsv": "tsvector", "title_words": "tsvector", "tags": "text[]"}
    values = ", ".join(f"CAST(:{n} AS {casts[n]})" if n in casts else f":{n}" for n in names)
    updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n != "key")
    return text(
        "WITH new_words AS ("
        " INSERT INTO search_words (word) SELECT unnest(CAST(:w AS text[]))"
        " WHERE NOT EXISTS (SELECT 1 FROM search_documents"
        " WHERE key = :key AND title_words = CAST(:title_words AS tsvector))"
        " ON CONFLICT DO NOTHING) "
        f"INSERT INTO search_documents ({', '.join(names)}) VALUES ({values}) "
        f"ON CONFLICT (key) DO UPDATE SET {updates}"
    )


# ---------------------------------------------------------------- query building


class _Sql:
    """Collects bound parameters while a statement's text is assembled."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def _word_query(alt: Alternative) -> str | None:
    """The tsquery of one alternative's text terms (a phrase as ``<->``), or None if it has none."""
    if alt.phrase:
        return "(" + " <-> ".join(_lexeme(s.decode("utf-8")) for s in alt.phrase) + ")"
    stems = [_lexeme(r.text.decode("utf-8")) for r in alt.terms if r.field == "text"]
    return "(" + " | ".join(stems) + ")" if stems else None


def _match_query(plan: Plan, union: bool) -> str | None:
    clauses = []
    for clause in plan.clauses:
        alts = [q for q in map(_word_query, clause) if q]
        if alts:
            clauses.append("(" + " | ".join(alts) + ")")
    return (" | " if union else " & ").join(clauses) or None


_SOLVED = {b"t": True, b"f": False}


def _filter_sql(sql: _Sql, refs: tuple[TermRef, ...]) -> str:
    """SQL true when a row holds at least one of `refs` (a `Plan` filter group)."""
    parts = []
    for ref in refs:
        value = _clean(ref.text.decode("utf-8", "replace"))
        if ref.field == "tags":
            parts.append(f"tags @> CAST({sql.bind([value])} AS text[])")
        elif ref.field in ("kind", "author", "status"):
            parts.append(f"{ref.field} = {sql.bind(value)}")
        elif ref.field == "solved":
            parts.append("solved" if _SOLVED.get(ref.text) else "NOT solved")
        elif ref.field == "answer_count":
            # build_plan filters on answer_count == 0 only (is:unanswered).
            parts.append("answer_count = 0")
    return "(" + " OR ".join(parts or ["false"]) + ")"


def _exclusion_sql(sql: _Sql, alt: Alternative) -> str | None:
    query = _word_query(alt)
    if query:
        return f"NOT (tsv @@ CAST({sql.bind(query)} AS tsquery))"
    ref = alt.terms[0] if alt.terms else None
    if ref is not None and ref.field == "tags":
        return f"NOT (tags @> CAST({sql.bind([_clean(ref.text.decode('utf-8', 'replace'))])} AS text[]))"
    if ref is not None and ref.field == "author":
        return f"author <> {sql.bind(_clean(ref.text.decode('utf-8', 'replace')))}"
    return None


def _without_seqscan(conn: Connection, statement: str, params: dict[str, Any]) -> list[Any]:
    """Run `statement` with sequential scans discouraged, then put the setting back.

    For a word in half the posts the planner prefers reading the whole table, but matching
    ``tsv @@ query`` row by row decompresses every tsvector (EXPLAIN ANALYZE: 52 ms of a 100 ms
    search at 100k posts), while the GIN index answers a word without re-checking rows, and
    the page's rows are then fetched by key. The setting is transaction-local (``set_config``
    with ``is_local``), and restored at once because reads run in the request's transaction.
    """
    old = conn.execute(text(
        "SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)")).scalar()
    try:
        return list(conn.execute(text(statement), params))
    finally:
        conn.execute(text("SELECT set_config('enable_seqscan', :old, true)"), {"old": old or "on"})


def _idf(total: int, df: int) -> float:
    """BM25's IDF (as Whoosh computes it)."""
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))


class _Stats:
    """Document frequencies and the document count, cached for `_STATS_TTL` seconds.

    Only positive frequencies are cached: a word just indexed (here or by another host) must
    not stay "unknown" (dropped from queries, "corrected") for a minute. A positive frequency a
    minute old only moves an IDF a little, so writes do not clear the cache (on a busy forum
    every post would); a rebuild does.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.df: dict[tuple[str, str], tuple[int, float]] = {}
        self.total: tuple[int, float] | None = None
        self.common: tuple[dict[tuple[str, str], float], float] | None = None

    def clear(self) -> None:
        with self.lock:
            self.df.clear()
            self.total = None
            self.common = None


class PgSearchIndex:
    """A `SearchBackend` over PostgreSQL tables; see the module docstring.

    Thread-safe: it holds only an SQLAlchemy engine and a statistics cache. Reads run on the
    connection `reader()` gives (by default a pooled connection of `engine`; the forum passes
    the request's own session connection), writes on the connection passed to `upsert` and
    `delete` (the writer's transaction) or in a transaction of their own.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        reader: Callable[[], AbstractContextManager[Connection]] | None = None,
        write_timeout: float = 10.0,
        kinds: Iterable[str] = KNOWN_KINDS,
        owns_engine: bool = False,
    ) -> None:
        """Wrap `engine` (a PostgreSQL engine).

        Raises:
            SearchError: `engine` is not PostgreSQL.
        """
        if engine.dialect.name != "postgresql":
            raise SearchError(f"the PostgreSQL search backend needs a PostgreSQL database, not {engine.dialect.name}")
        self._engine = engine
        self._reader = reader or engine.connect
        self.write_timeout = write_timeout
        self.kinds = frozenset(kinds)
        self._owns_engine = owns_engine
        self._stats = _Stats()
        self._schema_ok = False

    @classmethod
    def open(cls, url: str, **kwargs: Any) -> PgSearchIndex:
        """Open an index on the database at `url`, creating its tables if missing (tools, tests).

        Raises:
            SearchError: the database cannot be reached or the tables cannot be created.
        """
        url = url.replace("postgresql://", "postgresql+psycopg://", 1).replace("postgres://", "postgresql+psycopg://", 1)
        engine = create_engine(url)
        index = cls(engine, owns_engine=True, **kwargs)
        try:
            with engine.begin() as conn:
                create_schema(conn)
        except DBAPIError as exc:
            engine.dispose()
            raise SearchError(f"cannot create the search tables: {exc}") from exc
        return index

    # -- plumbing -----------------------------------------------------------------------

    @property
    def schema_is_current(self) -> bool:
        """False until the tables exist (created by the migration, `open` or `rebuild`)."""
        if not self._schema_ok:
            with self._engine.connect() as conn:
                found = conn.execute(text(
                    "SELECT to_regclass('search_documents') IS NOT NULL AND to_regclass('search_words') IS NOT NULL"
                )).scalar()
            self._schema_ok = bool(found)
        return self._schema_ok

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            if not self.schema_is_current:
                raise SearchError("the search tables are missing; run `flask db upgrade` or `flask search rebuild`")
            with self._reader() as conn:
                yield conn
        except DBAPIError as exc:
            raise SearchError(f"cannot read the search tables: {exc}") from exc

    @contextmanager
    def _writing(self, connection: Connection | None) -> Iterator[Connection]:
        try:
            if not self.schema_is_current:
                raise SearchError("the search tables are missing; run `flask db upgrade` or `flask search rebuild`")
            if connection is not None:
                yield connection
            else:
                with self._engine.begin() as conn:
                    conn.execute(text("SELECT set_config('lock_timeout', :t, true)"),
                                 {"t": f"{int(self.write_timeout * 1000)}ms"})
                    yield conn
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                raise IndexBusy(f"search rows stayed locked past {self.write_timeout} s") from exc
            raise SearchError(f"cannot write the search tables: {exc}") from exc
        except DBAPIError as exc:
            raise SearchError(f"cannot write the search tables: {exc}") from exc

    def _document_count(self, conn: Connection) -> int:
        now = time.monotonic()
        cached = self._stats.total
        if cached is not None and cached[1] > now:
            return cached[0]
        # The planner's estimate on a large table (counting 100,000 rows is ~10 ms), exact below.
        estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'search_documents'::regclass")).scalar()
        if estimate is not None and estimate >= 50_000:
            total = int(estimate)
        else:
            total = int(conn.execute(text("SELECT count(*) FROM search_documents")).scalar() or 0)
        self._stats.total = (total, now + _STATS_TTL)
        return total

    def _common(self, conn: Connection) -> dict[tuple[str, str], float]:
        """Fractions of documents holding the most common lexemes (ANALYZE's statistics)."""
        now = time.monotonic()
        cached = self._stats.common
        if cached is not None and cached[1] > now:
            return cached[0]
        found: dict[tuple[str, str], float] = {}
        rows = conn.execute(text(
            "SELECT attname, most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE tablename = 'search_documents' AND attname IN ('tsv', 'title_words', 'tags') "
            "AND schemaname = current_schema()"))
        for column, elems, freqs in rows:
            if elems and freqs:
                field = {"tsv": "text", "title_words": "title"}.get(column, column)
                found.update(((field, e), float(f)) for e, f in zip(elems, freqs))
        self._stats.common = (found, now + _STATS_TTL)
        return found

    def _frequencies(self, conn: Connection, refs: Iterable[TermRef]) -> dict[tuple[str, bytes], int]:
        """Document frequency of each ``(field, term)``.

        Counting a frequent word through the GIN index re-checks every row holding it (about
        10 ms per thousand rows here), so on a large index the words ANALYZE lists among the
        column's most common elements take their frequency from those statistics, and only
        the rarer ones are counted, up to `DF_CAP`, in one statement. Small indexes (and
        every test) count everything: cheap there, and never stale.
        """
        now = time.monotonic()
        out: dict[tuple[str, bytes], int] = {}
        todo: dict[str, set[str]] = defaultdict(set)
        common: dict[tuple[str, str], float] = {}
        total = self._document_count(conn)
        if total >= _COMMON_FROM:
            common = self._common(conn)
        for ref in refs:
            term = ref.text.decode("utf-8", "replace")
            cached = self._stats.df.get((ref.field, term))
            if cached is not None and cached[1] > now:
                out[(ref.field, ref.text)] = cached[0]
            elif (ref.field, term) in common:
                out[(ref.field, ref.text)] = max(1, round(common[(ref.field, term)] * total))
            elif ref.field in ("text", "title", "tags"):
                todo[ref.field].add(term)
            else:
                out[(ref.field, ref.text)] = 0
        if todo:
            sql = _Sql()
            parts = []
            conditions = {"text": "d.tsv @@ CAST(t.term AS tsquery)",
                          "title": "d.title_words @@ CAST(t.term AS tsquery)",
                          "tags": "d.tags @> ARRAY[t.term]"}
            for field, terms in todo.items():
                values = sorted(terms) if field == "tags" else [_lexeme(t) for t in sorted(terms)]
                parts.append(
                    f"SELECT '{field}' AS field, t.term, (SELECT count(*) FROM (SELECT 1 FROM search_documents d "
                    f"WHERE {conditions[field]} LIMIT {DF_CAP}) s) AS df "
                    f"FROM unnest(CAST({sql.bind(values)} AS text[])) AS t(term)")
            for field, term, df in conn.execute(text(" UNION ALL ".join(parts)), sql.params):
                if field != "tags":
                    term = term[1:-1].replace("''", "'").replace("\\\\", "\\")
                out[(field, term.encode("utf-8"))] = int(df)
                if df > 0:
                    self._stats.df[(field, term)] = (int(df), now + _STATS_TTL)
            if len(self._stats.df) > 100_000:
                self._stats.df.clear()
        return out

    @staticmethod
    def _frequency(found: dict[tuple[str, bytes], int]) -> Callable[[str, bytes], int]:
        return lambda field, term: found.get((field, term), 0)

    def _rank_sql(self, sql: _Sql, conn: Connection, refs: Sequence[TermRef],
                  freq: dict[tuple[str, bytes], int]) -> str:
        """``sum(idf * boost * ts_rank)`` over the distinct text and title terms of `refs`."""
        total = max(self._document_count(conn), 1)
        parts = []
        for ref in dict.fromkeys(refs):
            if ref.field not in ("text", "title"):
                continue  # tags: their words are in tsv with weight B already
            df = freq.get((ref.field, ref.text), 0)
            if df == 0:
                continue
            weight = _idf(max(total, df), df) * ref.boost
            query = sql.bind(_lexeme(ref.text.decode("utf-8")))
            if ref.field == "text":
                parts.append(f"{weight:.6f} * ts_rank({_WEIGHTS}, tsv, CAST({query} AS tsquery), {_NORMALIZATION})")
            else:
                parts.append(f"{weight:.6f} * ts_rank(title_words, CAST({query} AS tsquery))")
        if not parts:
            return "0"
        # Each ts_rank call would detoast (decompress) the row's tsvector again: a thread's is
        # kilobytes, and 40 terms cost 40 decompressions a row (measured: 77 ms for 1,100 rows).
        # Concatenating once in a subquery that is not flattened (OFFSET 0) decompresses it once.
        return (f"(SELECT {' + '.join(parts)} FROM (SELECT d.tsv || ''::tsvector AS tsv, "
                f"d.title_words AS title_words OFFSET 0) AS once)")

    @staticmethod
    def _hits(rows: Iterable[Any], plan: Plan, scored: bool) -> list[Hit]:
        hits = []
        for key, title, excerpt, rank in rows:
            kind, id = split_key(key)
            hits.append(Hit(kind=kind, id=id, score=float(rank or 0.0) if scored else 0.0,
                            title_html=highlight_title(title, plan.highlight),
                            snippet_html=snippet(excerpt, plan.highlight)))
        return hits

    # -- reading ------------------------------------------------------------------------

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
        """Search with the forum query language; the same contract as `SearchIndex.search`.

        ``total`` counts at most `CANDIDATES` matches.

        Raises:
            SearchError: only if the tables cannot be read (missing, database down).
        """
        parsed = parse_query(query, kinds=self.kinds)
        per_page = _clamp(per_page, 1, MAX_PER_PAGE, 20)
        page = _clamp(page, 1, MAX_PAGE, 1)
        sort = sort if sort in SORTS else "relevance"
        plan = build_plan(parsed, kinds=kinds, tags=tags, solved=solved)
        with self._reading() as conn:
            if plan.impossible or plan.is_empty:
                return SearchResults([], 0, 1, per_page, 0, [], None, parsed)
            order = sort if plan.clauses else ("votes" if sort == "votes" else "newest")
            want = page * per_page
            freq = self._frequencies(conn, [r for clause in plan.clauses for a in clause for r in a.terms])
            known = without_unknown(plan, self._frequency(freq))
            relaxed = len(known.clauses) < len(plan.clauses)
            # The query's words as the title_words column holds them (folded, not stemmed).
            title_words = [w for text in parsed.words() for w in map(lookup_word, TOKEN_FINDALL(text)) if w]
            total, rows, tag_counts = self._evaluate(conn, known, freq, want, order, False, title_words)
            if total == 0 and len(known.clauses) > 1:
                total, rows, tag_counts = self._evaluate(conn, known, freq, want, order, True, title_words)
                relaxed = True
            relaxed = relaxed and total > 0
            pages = min(MAX_PAGE, math.ceil(total / per_page))
            page = max(1, min(page, pages))
            top = rows[(page - 1) * per_page: page * per_page]
            fixes = self._corrections(conn, parsed.words(), freq) if total < 5 * per_page else {}
        return SearchResults(
            hits=self._hits(top, plan, scored=order == "relevance"),
            total=total,
            page=page,
            per_page=per_page,
            pages=pages,
            tag_counts=tag_counts,
            suggestion=parsed.render(fixes) if fixes else None,
            parsed=parsed,
            relaxed=relaxed,
        )

    def _evaluate(self, conn: Connection, plan: Plan, freq: dict[tuple[str, bytes], int], want: int,
                  order: str, union: bool, title_words: Sequence[str] = ()) -> tuple[int, list[Any], list[tuple[str, int]]]:
        """(total up to CANDIDATES, the best `want` rows, tag counts) of one match."""
        sql = _Sql()
        where = []
        match = _match_query(plan, union)
        if match:
            where.append(f"tsv @@ CAST({sql.bind(match)} AS tsquery)")
        elif plan.clauses:
            return 0, [], []  # clauses of tag-only alternatives can't happen; nothing matches
        where += [_filter_sql(sql, refs) for refs in plan.filters]
        where += [w for w in (_exclusion_sql(sql, alt) for alt in plan.exclusions) if w]
        if order == "relevance":
            rank = self._rank_sql(sql, conn, [r for c in plan.clauses for a in c for r in a.terms], freq)
            ordering = "rank DESC, created DESC, key"
        else:
            rank = "0"
            ordering = "score DESC, created DESC, key" if order == "votes" else "created DESC, key"
        # Sorting by date or votes, the capped set is the newest (or best-voted) matches.
        plain = ordering.replace("rank DESC, ", "")
        cap_order = "" if order == "relevance" else f"ORDER BY {plain}"
        # Only the rows that can be shown are read in full (title, excerpt, tsvector): by relevance,
        # RANK_POOL matches are ranked, those with a query word in the title first, then the newest
        # (a tsvector is kilobytes to decompress, ~20 us a row: a word in 6,000 posts cost 130 ms
        # to rank in full; the small title_words column is cheap to test); otherwise just the page.
        pool = max(RANK_POOL, want) if order == "relevance" else max(want, 0)
        title_query = " | ".join(_lexeme(w) for w in dict.fromkeys(title_words))
        in_title = f"title_words @@ CAST({sql.bind(title_query)} AS tsquery)" if title_query else "false"
        pool_order = "in_title DESC, created DESC, key" if order == "relevance" else plain
        statement = f"""
            WITH cand AS MATERIALIZED (
                SELECT key, tags, created, score, {in_title if order == "relevance" else "false"} AS in_title
                FROM search_documents AS d WHERE {" AND ".join(where) or "true"} {cap_order} LIMIT {CANDIDATES}
            ), pool AS (
                SELECT key FROM cand ORDER BY {pool_order}
                LIMIT {sql.bind(pool)}
            ), ranked AS (
                SELECT d.key, d.title, d.excerpt, d.created, d.score, {rank} AS rank
                FROM search_documents AS d JOIN pool USING (key)
            ), top AS (
                SELECT key, title, excerpt, rank, row_number() OVER (ORDER BY {ordering}) AS n
                FROM ranked ORDER BY {ordering} LIMIT {sql.bind(max(want, 0))}
            ), tag_counts AS (
                SELECT tag, count(*) AS n FROM cand, unnest(cand.tags) AS tag
                GROUP BY tag ORDER BY count(*) DESC, tag LIMIT {_TOP_TAGS}
            )
            SELECT 0, key, title, excerpt, rank, n FROM top
            UNION ALL SELECT 1, NULL, NULL, NULL, NULL, count(*) FROM cand
            UNION ALL SELECT 2, tag, NULL, NULL, NULL, n FROM tag_counts"""
        total = 0
        rows: list[tuple[int, Any]] = []
        tags: list[tuple[str, int]] = []
        for part, key, title, excerpt, score, n in _without_seqscan(conn, statement, sql.params):
            if part == 0:
                rows.append((n, (key, title, excerpt, score)))
            elif part == 1:
                total = int(n)
            else:
                tags.append((key, int(n)))
        rows.sort(key=lambda item: item[0])
        tags.sort(key=lambda kv: (-kv[1], kv[0]))
        return total, [row for _, row in rows], tags

    def _corrections(self, conn: Connection, query_words: Sequence[str],
                     freq: dict[tuple[str, bytes], int]) -> dict[str, str]:
        """Did-you-mean: the same rules as `search.spelling.corrections`, over `search_words`."""
        out: dict[str, str] = {}
        for word in list(dict.fromkeys(query_words))[:_MAX_WORDS]:
            folded = fold(word)
            if len(folded) < _MIN_LENGTH or not folded.isalpha() or lookup_word(word) is None:
                continue
            stem = lookup_term(word)
            if stem is None or freq.get(("text", stem.encode("utf-8")), 0) > 0:
                continue
            conn.execute(text("SELECT set_config('pg_trgm.similarity_threshold', '0.15', true)"))
            vocab = sorted(conn.execute(text(
                "SELECT word FROM search_words WHERE word % :w AND left(word, 1) = left(:w, 1) "
                "AND length(word) BETWEEN :low AND :high LIMIT 500"),
                {"w": folded, "low": len(folded) - 2, "high": len(folded) + 2}).scalars())
            for maxdist in (1, 2):
                cands = _within(vocab, folded, maxdist)
                if cands:
                    stems = {c: lookup_term(c) for c in cands}
                    pop = self._frequencies(conn, [TermRef("text", s.encode("utf-8")) for s in stems.values() if s])

                    def popularity(cand: str, stems: dict[str, str | None] = stems,
                                   pop: dict[tuple[str, bytes], int] = pop) -> int:
                        found = stems[cand]
                        return pop.get(("text", found.encode("utf-8")), 0) if found else 0

                    out[word] = max(sorted(cands), key=popularity)
                    break
        return out

    def similar(
        self,
        title: str,
        *,
        limit: int = 5,
        exclude: Iterable[str] = (),
        body: str = "",
        only: Iterable[str] | None = None,
    ) -> list[Hit]:
        """Posts most like `title` (+ `body`); the same contract as `SearchIndex.similar`.

        Raises:
            SearchError: only if the tables cannot be read.
        """
        limit = _clamp(limit, 0, MAX_SIMILAR, 5)
        title = strip_controls(title[:300]) if isinstance(title, str) else ""
        body = strip_controls(body[:5_000]) if isinstance(body, str) else ""
        # Keys that cannot be sent as text (NUL, lone surrogates) are in no index: they match nothing.
        excluded = sorted(filter(_sendable, set(exclude)))[:MAX_SIMILAR]
        allowed = sorted(filter(_sendable, set(only))) if only is not None else None
        with self._reading() as conn:
            plan = similar_plan(title, body)
            if not plan.clauses or limit == 0 or allowed == []:
                return []
            refs = [a.terms[0] for a in plan.clauses[0]]
            freq = self._frequencies(conn, refs)
            plan = keep_rarest(plan, self._frequency(freq))
            refs = [a.terms[0] for a in plan.clauses[0] if freq.get((a.terms[0].field, a.terms[0].text), 0) > 0]
            stems = sorted({r.text for r in refs if r.field == "text"}, key=lambda s: freq.get(("text", s), 0))
            # As-you-type (a title alone) whose words find few posts (typos, new words): titles a
            # few typos away (pg_trgm) are candidates too, and their similarity adds to the score.
            # Not when the words already find plenty (the trigram scan cost ~30 ms at 100k posts),
            # nor with a body ("related questions", whose words say enough).
            covered = sum(freq.get(("text", stem), 0) for stem in stems)
            trigrams = allowed is None and bool(title.strip()) and not body.strip() and covered < 4 * limit
            if not refs and not trigrams:
                return []
            sql = _Sql()
            rank = self._rank_sql(sql, conn, refs, freq)
            if trigrams:
                rank = f"{rank} + {TRIGRAM_WEIGHT} * similarity(d.title, {sql.bind(title)})"
            sources = []
            if allowed is not None:
                any_word = " | ".join(_lexeme(s.decode("utf-8")) for s in stems) or "''"
                sources.append(f"SELECT key FROM search_documents WHERE key = ANY(CAST({sql.bind(allowed)} AS text[])) "
                               f"AND tsv @@ CAST({sql.bind(any_word)} AS tsquery)")
            elif stems:
                # Candidates from the rarest words, until they cover SIMILAR_CANDIDATES rows:
                # a post sharing only very common words with the title cannot rank high.
                chosen: list[str] = []
                total = 0
                for stem in stems:
                    if chosen and total + freq.get(("text", stem), 0) > SIMILAR_CANDIDATES:
                        break
                    chosen.append(_lexeme(stem.decode("utf-8")))
                    total += freq.get(("text", stem), 0)
                sources.append(f"(SELECT key FROM search_documents WHERE tsv @@ CAST({sql.bind(' | '.join(chosen))} "
                               f"AS tsquery) LIMIT {SIMILAR_CANDIDATES})")
            if trigrams:
                sources.append(f"SELECT key FROM (SELECT key FROM search_documents WHERE title % {sql.bind(title)} "
                               f"ORDER BY similarity(title, {sql.bind(title)}) DESC LIMIT {_TRIGRAM_CANDIDATES}) AS near")
            statement = (
                f"SELECT d.key, d.title, d.excerpt, {rank} AS rank FROM search_documents d "
                f"JOIN ({' UNION '.join(sources)}) AS cand USING (key) "
                f"WHERE NOT (d.key = ANY(CAST({sql.bind(excluded)} AS text[]))) "
                f"ORDER BY rank DESC, d.created DESC, d.key LIMIT {sql.bind(limit)}")
            rows = [row for row in _without_seqscan(conn, statement, sql.params) if row[3] and row[3] > 0]
        return self._hits(rows, plan, scored=True)

    def fingerprints(self) -> dict[str, str]:
        """``{key: fingerprint}`` of every indexed document (for `flask search check`).

        Raises:
            SearchError: the tables cannot be read.
        """
        with self._reading() as conn:
            return {key: fp for key, fp in conn.execute(text("SELECT key, fp FROM search_documents"))}

    def __len__(self) -> int:
        with self._reading() as conn:
            return int(conn.execute(text("SELECT count(*) FROM search_documents")).scalar() or 0)

    # -- writing ------------------------------------------------------------------------

    @staticmethod
    def lock(connection: Connection, keys: Iterable[str]) -> None:
        """Take transaction-scoped advisory locks on `keys`, in key order.

        A writer that builds documents after taking them sees every transaction that wrote
        the same documents before it committed (READ COMMITTED takes a new snapshot per
        statement), so the last commit writes the complete document. Sorted, so two writers
        never wait for each other in a cycle.
        """
        ordered = sorted(set(keys))
        if ordered:
            connection.execute(text(
                "SELECT count(pg_advisory_xact_lock(hashtext('forum.search'), hashtext(k))) "
                "FROM (SELECT k FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS s"), {"keys": ordered})

    def upsert(self, docs: Iterable[Document], *, connection: Connection | None = None) -> None:
        """Add or replace documents (by key); on `connection` (its transaction) when given.

        Raises:
            TypeError: an item is not a `Document` (checked before writing).
            IndexBusy: without `connection`, another writer held the rows past `write_timeout`.
            SearchError: the tables are missing or the write failed.
        """
        batch = {doc.key: doc for doc in _documents(docs)}  # the last version wins
        if not batch:
            return
        rows = [_row(batch[key]) for key in sorted(batch)]
        if len(rows) == 1:
            # One post (every answer without write coalescing): one statement that writes the
            # title's words only when they changed -- an answer or an edit of the body does not.
            row = rows[0]
            with self._writing(connection) as conn:
                conn.execute(_upsert_one(), {**row, "w": sorted(_title_words(batch[row["key"]]))})
            return
        vocabulary = sorted(set().union(*(_title_words(d) for d in batch.values())))
        with self._writing(connection) as conn:
            self._write_rows(conn, rows, vocabulary)

    @staticmethod
    def _write_rows(conn: Connection, rows: list[dict[str, Any]], vocabulary: list[str]) -> None:
        conn.execute(_upsert_many(), rows)
        if vocabulary:
            conn.execute(text("INSERT INTO search_words (word) SELECT unnest(CAST(:w AS text[])) "
                              "ON CONFLICT DO NOTHING"), {"w": vocabulary})

    def delete(self, keys: Iterable[str], *, connection: Connection | None = None) -> None:
        """Remove documents by key; unknown keys are ignored.

        Raises:
            IndexBusy, SearchError: as for `upsert`.
        """
        wanted = sorted(filter(_sendable, set(keys)))
        if wanted:
            with self._writing(connection) as conn:
                conn.execute(text("DELETE FROM search_documents WHERE key = ANY(CAST(:k AS text[]))"), {"k": wanted})

    def rebuild(self, docs: Iterable[Document], progress: Callable[[int], None] | None = None) -> int:
        """Replace every document in one transaction (readers see the old set until it commits).

        Creates the tables first if missing. Duplicate keys keep their first document.

        Raises:
            TypeError: an item is not a `Document` (nothing is changed).
            SearchError: the tables cannot be created or written.
        """
        count = 0
        try:
            with self._engine.begin() as conn:
                create_schema(conn)
                self._schema_ok = True
                conn.execute(text("DELETE FROM search_documents"))
                conn.execute(text("DELETE FROM search_words"))
                batch: list[Document] = []
                for doc in _unique(docs):
                    batch.append(doc)
                    if len(batch) == 1_000:
                        count += self._flush(conn, batch, progress, count)
                if batch or not count:
                    count += self._flush(conn, batch, progress, count)
            with self._engine.connect() as conn:
                # Fresh statistics: the planner's and the IDF of frequent words (`_common`).
                conn.execute(text("ANALYZE search_documents"))
                conn.commit()
        except DBAPIError as exc:
            raise SearchError(f"cannot rebuild the search tables: {exc}") from exc
        finally:
            self._stats.clear()
        return count

    def _flush(self, conn: Connection, batch: list[Document], progress: Callable[[int], None] | None,
               done: int) -> int:
        if batch:
            vocabulary = sorted(set().union(*(_title_words(d) for d in batch)))
            self._write_rows(conn, [_row(d) for d in batch], vocabulary)
        n = len(batch)
        batch.clear()
        if progress is not None and n:
            progress(done + n)
        return n

    def close(self) -> None:
        """Dispose of the engine if `open` created it; the object must not be used after."""
        self._stats.clear()
        if self._owns_engine:
            self._engine.dispose()
