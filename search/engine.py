"""Evaluate a `Plan` over a Whoosh searcher with cached, decoded posting lists.

Why not Whoosh's own matchers: they are pure Python and score one posting at a time
through several method calls (~2-5 us each), so a query containing a word found in a
fifth of 100,000 posts took 100-500 ms.  Here each posting list is decoded once per
segment into compact arrays kept in a size-bounded LRU, and queries run as C-level
set/dict operations.  Scores are Whoosh's BM25F, computed by `whoosh.scoring.bm25`
from the same statistics (`Searcher.idf`, `avg_field_length`, quantized lengths);
a test checks them against Whoosh's own matchers.

Segments never change once written, so decoded data is keyed by segment id and
survives index refreshes; deletions are applied per query from the current reader.
"""

from __future__ import annotations

import heapq
import pickle
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from itertools import accumulate, chain
from typing import Any, TypeVar

from whoosh.searching import Searcher

from search.plan import Alternative, Plan, TermRef
from search.postings import BM25Table, PostingCache, decode_positions, decode_postings

__all__ = ["PostingCache", "Engine", "Evaluation"]

_T = TypeVar("_T")
# Filter terms (kind:question, solved) are huge and used by most queries: their sets
# are kept rather than rebuilt from the arrays each time.
_SET_FIELDS = frozenset({"kind", "solved", "answer_count", "status"})


#: Cache keys ``(kind, segment id, ...)`` of one segment's data (the others are per query).
_PER_SEGMENT = frozenset({"p", "set", "tf", "tags", "tagterms", "col", "pos", "alt"})


@dataclass(slots=True)
class _Segment:
    segid: str
    reader: Any  # whoosh SegmentReader
    searcher: Searcher  # the sub-searcher of this segment
    offset: int
    deleted: frozenset[int]


@dataclass(slots=True)
class Evaluation:
    """The outcome of one evaluation: the total, the requested top and tag counts."""

    total: int
    top: list[tuple[Any, int]]  # (score or sort key, global docnum), best first
    tag_counts: Counter[str]


class Engine:
    """Query evaluation over one searcher (one index generation)."""

    def __init__(self, searcher: Searcher, cache: PostingCache) -> None:
        self.searcher = searcher
        self.cache = cache
        self._avgfl: dict[str, float] = {}
        self.segments = []
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            if hasattr(reader, "_segment"):
                self.segments.append(_Segment(
                    reader._segment.segment_id(), reader, sub, offset, reader.deleted_docs_set))
        # What this generation holds: a segment never changes once written and its deletions
        # only grow, so its id and its number of deletions name its state exactly.
        self.generation = tuple((seg.segid, len(seg.deleted)) for seg in self.segments)
        # Segments merged away since the last generation are gone for good: their lists go now
        # (a merge after a few writes left the decoded lists of every segment it replaced, 20
        # MiB after 20 answers at 200,000 posts, held until the budget pushed them out).
        live = {seg.segid for seg in self.segments}
        cache.retain(lambda key: key[0] not in _PER_SEGMENT or key[1] in live)

    # -- per-segment data -------------------------------------------------------------

    def _cached(self, key: tuple[Any, ...], make: Callable[[], _T], size: Callable[[_T], int]) -> _T:
        found: _T | None = self.cache.get(key)
        if found is None:
            found = make()
            self.cache.put(key, found, size(found))
        return found

    def _cached_as_of(self, key: tuple[Any, ...], version: Any, make: Callable[[], _T],
                      size: Callable[[_T], int]) -> _T:
        """`_cached` for a value that holds only while `version` does: kept with it, and
        replaced in place once it changed. A version in the key would leave a dead copy behind
        at each change, and a commit changes them all (every term's statistics, the generation):
        the dead copies filled the budget, and each worker's memory, as writes went on."""
        found: tuple[Any, _T] | None = self.cache.get(key)
        if found is None or found[0] != version:
            value = make()
            found = self.cache.put(key, (version, value), size(value))
        return found[1]

    def ids(self, seg: _Segment, ref: TermRef) -> array[int]:
        """Segment-local docnums holding `ref`, ascending (deleted ones included)."""
        return self._postings(seg, ref)[0]

    def _postings(self, seg: _Segment, ref: TermRef) -> tuple[array[int], array[float]]:
        return self._cached(("p", seg.segid, ref.field, ref.text),
                            lambda: decode_postings(seg.reader, ref), lambda p: 8 * len(p[0]) + 200)

    def docset(self, seg: _Segment, ref: TermRef) -> Iterable[int]:
        """`ids` as a set for hot filter fields, else the array (both iterable)."""
        if ref.field not in _SET_FIELDS:
            return self.ids(seg, ref)
        return self._cached(("set", seg.segid, ref.field, ref.text),
                            lambda: frozenset(self.ids(seg, ref)), lambda s: 70 * len(s) + 200)

    def term_scores(self, seg: _Segment, ref: TermRef) -> tuple[array[int], array[float], float]:
        """(ids, BM25 scores, max score) of `ref`, as Whoosh's BM25FScorer scores it."""
        # The statistics change with every commit, and so do the scores: they are the
        # version of the kept list, while the decoded postings stay valid.
        avgfl = self._avgfl.get(ref.field)
        if avgfl is None:  # Whoosh sums it over every segment on each call
            avgfl = self._avgfl[ref.field] = self.searcher.avg_field_length(ref.field) or 1
        idf = self.searcher.idf(ref.field, ref.text)

        def make() -> tuple[array[float], float]:
            ids, weights = self._postings(seg, ref)
            table = self._lengths(seg, ref.field)
            lbytes = bytes(map(table.__getitem__, ids)) if table else bytes(len(ids))
            scores = array("d", map(BM25Table(idf, avgfl, ref.boost).__getitem__, zip(weights, lbytes)))
            return scores, max(scores, default=0.0)

        key = ("tf", seg.segid, ref.field, ref.text, ref.boost)
        scores, top = self._cached_as_of(key, (idf, avgfl), make, lambda t: 8 * len(t[0]) + 200)
        return self.ids(seg, ref), scores, top

    def _lengths(self, seg: _Segment, field: str) -> bytes:
        table = getattr(getattr(seg.reader, "_perdoc", None), "_length_table", None)
        found = table(field) if table is not None else None
        return found or b""

    def doc_tags(self, seg: _Segment) -> list[tuple[str, ...]]:
        """Tags of every local docnum, inverted once from the tag postings."""
        def make() -> list[tuple[str, ...]]:
            per_doc: list[list[str]] = [[] for _ in range(seg.reader.doc_count_all())]
            for btext in seg.reader.lexicon("tags"):
                tag = btext.decode("utf-8")
                for doc in decode_postings(seg.reader, TermRef("tags", btext))[0]:
                    per_doc[doc].append(tag)
            return [tuple(t) for t in per_doc]

        return self._cached(("tags", seg.segid), make, lambda t: 64 * len(t) + 200)

    def _tag_terms(self, seg: _Segment) -> tuple[tuple[bytes, ...], int]:
        """The tags of the segment and its number of tag postings (term statistics only)."""
        def make() -> tuple[tuple[bytes, ...], int]:
            terms = tuple(seg.reader.lexicon("tags"))
            return terms, sum(seg.reader.doc_frequency("tags", t) for t in terms)

        return self._cached(("tagterms", seg.segid), make, lambda t: 60 * len(t[0]) + 200)

    def _count_tags(self, seg: _Segment, docs: set[int], counts: Counter[str]) -> None:
        """Add the tag counts of `docs` to `counts`, by the cheaper of two exact ways.

        Many hits: each tag's posting array (the one every `tag:` filter uses, 8 bytes a
        posting) is probed against the hits.  A frozenset per tag would be faster to
        intersect but costs ~70 bytes a posting, and building every tag's set on the first
        search made one cache entry the size of the whole tag field.
        """
        terms, postings = self._tag_terms(seg)
        if len(docs) * 3 < postings:  # few hits: look up each hit's tags
            counts.update(chain.from_iterable(map(self.doc_tags(seg).__getitem__, docs)))
            return
        contains = docs.__contains__
        for btext in terms:
            n = sum(map(contains, self.ids(seg, TermRef("tags", btext))))
            if n:
                counts[btext.decode("utf-8")] += n

    def column(self, seg: _Segment, field: str) -> Any:
        """Raw values of a sortable field's column in this segment (ints)."""
        def make() -> Any:
            return seg.reader.column_reader(field, translate=False).load()

        return self._cached(("col", seg.segid, field), make, lambda c: 9 * len(c) + 200)

    def _positions(self, seg: _Segment, stem: bytes) -> tuple[array[int], bytes, array[int]]:
        """(ids, encoded position lists end to end, where each list starts) of a `text` term.

        For phrase verification.  One bytes object and an offsets array rather than a
        bytes object per posting: a typical list is about 10 bytes, and a bytes object
        of its own costs 33 more plus a tuple slot (the cache held a fifth of its budget
        in these after a few hundred queries).
        """
        def make() -> tuple[array[int], bytes, array[int]]:
            values = decode_positions(seg.reader, "text", stem)
            starts = array("q", accumulate(map(len, values), initial=0))
            return self.ids(seg, TermRef("text", stem)), b"".join(values), starts

        return self._cached(("pos", seg.segid, stem), make, lambda p: len(p[1]) + 8 * len(p[2]) + 200)

    def _phrase_docs(self, seg: _Segment, stems: tuple[bytes, ...], among: Iterable[int]) -> set[int]:
        """Those of `among` whose `text` field holds `stems` at consecutive positions.

        Decodes only the candidates' position lists (binary search in the cached
        arrays, then `_decode_positions`); Whoosh's span matchers cost ~30x more.
        """
        lists = [self._positions(seg, stem) for stem in stems]
        found: set[int] = set()
        for doc in among:
            starts: set[int] = set()
            for offset, (ids, blob, starts_at) in enumerate(lists):
                i = bisect_left(ids, doc)
                if i == len(ids) or ids[i] != doc:
                    starts.clear()
                    break
                positions = _decode_positions(blob[starts_at[i]:starts_at[i + 1]])
                if offset == 0:
                    starts.update(positions)
                else:  # keep the starts whose word number `offset` follows in place
                    starts.intersection_update(map((-offset).__add__, positions))
                if not starts:
                    break
            if starts:
                found.add(doc)
        return found

    # -- matching -----------------------------------------------------------------------

    def _candidates(self, seg: _Segment, alt: Alternative) -> Collection[int]:
        if alt.phrase:
            lists = sorted((self.ids(seg, TermRef("text", s)) for s in alt.phrase), key=len)
            found = set(lists[0])
            for ids in lists[1:]:
                found.intersection_update(ids)
            return found
        if len(alt.terms) == 1:
            return self.docset(seg, alt.terms[0])  # type: ignore[return-value]
        # A word searched in several fields: the union of its lists, kept as a sorted array
        # (4 bytes a document) rather than a frozenset (~70): these were two thirds of the
        # cache after a few hundred distinct queries.  Callers only iterate it, or pass it
        # to set operations, which accept any iterable.
        return self._cached(
            ("alt", seg.segid, alt.terms),
            lambda: array("i", sorted(frozenset().union(*(self.ids(seg, ref) for ref in alt.terms)))),
            lambda found: 4 * len(found) + 200,
        )

    def _members(self, seg: _Segment, clause: tuple[Alternative, ...], universe: set[int]) -> set[int]:
        """Docs of `universe` matching `clause`, phrases verified by position."""
        exact: set[int] = set()
        phrases = []
        for alt in clause:
            if alt.phrase:
                phrases.append(alt)
            else:
                exact |= universe.intersection(self._candidates(seg, alt))
        for alt in phrases:
            todo = universe.intersection(self._candidates(seg, alt)) - exact
            if todo:
                exact |= self._phrase_docs(seg, alt.phrase, todo)
        return exact

    def _match(self, seg: _Segment, plan: Plan, union: bool) -> set[int]:
        universe: set[int] | None = None
        groups = [
            self._candidates(seg, clause[0]) if len(clause) == 1
            else frozenset().union(*(self._candidates(seg, a) for a in clause))
            for clause in plan.clauses
        ]
        if groups:
            groups.sort(key=len)
            universe = set(groups[0])
            for group in groups[1:]:
                if union:
                    universe.update(group)
                else:
                    universe.intersection_update(group)
        for refs in plan.filters:
            if universe is not None and not universe:
                break
            members = [self.docset(seg, ref) for ref in refs]
            if universe is None:
                universe = set().union(*members)
            elif len(members) == 1:
                universe.intersection_update(members[0])
            else:
                universe &= set().union(*members)
        if universe is None:  # exclusions only: start from every document
            universe = set(range(seg.reader.doc_count_all()))
        universe -= seg.deleted
        if universe and any(a.phrase for clause in plan.clauses for a in clause):
            matched = [self._members(seg, clause, universe) for clause in plan.clauses]
            universe = set().union(*matched) if union else set.intersection(*matched)
        for alt in plan.exclusions:
            if not universe:
                break
            universe -= self._members(seg, (alt,), universe)
        return universe

    # -- scoring ------------------------------------------------------------------------

    def _scores(
        self, seg: _Segment, plan: Plan, docs: set[int] | None, want: int, floor: float = 0.0
    ) -> dict[int, float]:
        """BM25F scores (sum over the plan's terms) of at least the best `want` of `docs`.

        `docs=None` means every document holding any term (OR evaluation).  `floor`
        is a score the final `want`-th hit is known to reach (from other segments).
        Terms are added rarest-first.  Once the terms left cannot lift a document
        holding none of the terms so far to the `want`-th score, the remaining terms
        only update documents already scored, and documents that cannot reach it any
        more are dropped ("continue" pruning, Moffat & Zobel 1996).  The scores of the
        top `want` are exact; others may be missing.
        """
        refs = [ref for clause in plan.clauses for alt in clause for ref in alt.terms]
        lists = [self.term_scores(seg, ref) for ref in dict.fromkeys(refs)]
        lists = [item for item in lists if len(item[0])]
        lists.sort(key=lambda item: len(item[0]))
        remaining = sum(item[2] for item in lists)
        acc: dict[int, float] = {}
        closed = False
        for ids, scores, top in lists:
            bound = remaining  # the most this and the later terms can add to a document
            remaining -= top
            if want > 0 and (floor > 0 or len(acc) >= want):
                kth = floor
                if len(acc) >= want and max(acc.values()) >= bound:
                    kth = max(kth, heapq.nlargest(want, acc.values())[-1])
                closed = closed or bound < kth
                if closed and len(acc) > 2 * want:
                    acc = {d: s for d, s in acc.items() if s + bound >= kth}
            if closed:  # a new document cannot reach the top any more
                _add(acc, ids, scores, acc.keys(), adds_new=False)
            elif docs is not None:
                _add(acc, ids, scores, docs, adds_new=True)
            elif seg.deleted:  # deleted documents must not count towards the bound
                get, deleted = acc.get, seg.deleted
                for doc, score in zip(ids, scores):
                    if doc not in deleted:
                        acc[doc] = get(doc, 0.0) + score
            else:
                get = acc.get
                for doc, score in zip(ids, scores):
                    acc[doc] = get(doc, 0.0) + score
        return acc

    def evaluate(
        self,
        plan: Plan,
        *,
        want: int,
        order: str = "relevance",
        union: bool = False,
        facets: bool = True,
        count: bool = True,
        only: frozenset[int] | None = None,
    ) -> Evaluation:
        """Match `plan`, count per tag, and return the best `want` documents.

        `order` is "relevance" (BM25F), "newest" (created) or "votes" (score, then
        created).  `union` evaluates clauses as OR instead of AND.  `only` restricts
        matching to those global docnums.  With `count=False` (and no facets) the total
        is not computed and reported as 0, which lets an OR ranking skip enumerating
        every match.  The same arguments again, over the same generation, are answered from
        the posting cache (`_evaluation_size` is what an answer counts against its budget).
        """
        # Answers are kept by query, as of this generation, in the same size-bounded cache as
        # the posting lists: on a bad day everyone searches the same words, and a frequent
        # word's matching, counting and scoring grow with the forum. Any write makes a new
        # generation, so nothing kept can be stale (like Elasticsearch's shard request cache,
        # which lives until the next refresh).
        key = ("evaluation", plan, want, order, union, facets, count, only)
        kept = self._cached_as_of(key, self.generation,
                                  lambda: self._evaluate(plan, want, order, union, facets, count, only),
                                  _evaluation_size)
        # Copies: a caller may change what it gets without changing what is kept.
        return Evaluation(total=kept.total, top=list(kept.top), tag_counts=Counter(kept.tag_counts))

    def _evaluate(self, plan: Plan, want: int, order: str, union: bool, facets: bool, count: bool,
                  only: frozenset[int] | None) -> Evaluation:
        total = 0
        tag_counts: Counter[str] = Counter()
        best: list[tuple[Any, int]] = []
        # Pure OR ranking (similar()): the scores themselves enumerate the matches, so
        # the union of every posting list need not be built as a set first.
        lazy = (union and not facets and not count and only is None and order == "relevance"
                and not plan.filters and not plan.exclusions
                and not any(a.phrase for clause in plan.clauses for a in clause))
        floor = 0.0  # the want-th best relevance score over the segments done so far
        for seg in self.segments:
            if order == "relevance" and len(best) >= want > 0:
                floor = heapq.nlargest(want, (item[0] for item in best))[-1]
            if lazy:
                scores = self._scores(seg, plan, None, want, floor)
                best.extend((scores[d], seg.offset + d)
                            for d in heapq.nlargest(want, scores, key=scores.__getitem__))
                continue
            docs = self._match(seg, plan, union)
            if only is not None:
                docs &= {d - seg.offset for d in only}
            if not docs:
                continue
            total += len(docs)
            if facets:
                self._count_tags(seg, docs, tag_counts)
            if want <= 0:
                continue
            key: Callable[[int], Any]
            pool: Iterable[int] = docs
            if order == "relevance" and plan.clauses:
                scores = self._scores(seg, plan, docs, want, floor)
                key, pool = scores.__getitem__, scores.keys()
            elif order == "votes":
                votes, created = self.column(seg, "score"), self.column(seg, "created")
                key = lambda d: (votes[d], created[d])  # noqa: E731, B023 - hot, local, used in this iteration
            else:
                key = self.column(seg, "created").__getitem__
            best.extend((key(d), seg.offset + d) for d in heapq.nlargest(want, pool, key=key))
        best.sort(key=lambda item: (item[0], -item[1]), reverse=True)
        return Evaluation(total=total, top=best[: max(0, want)], tag_counts=tag_counts)


def _evaluation_size(result: Evaluation) -> int:
    """Estimated bytes an evaluation and its key hold (checked by tests/search/test_memory.py):
    a ranked (score, docnum) pair ~110, a tag count ~40 (a dict slot; the tag strings are the
    segment's own), the query plan and the key ~800. tracemalloc saw 0.93x of this estimate."""
    return 800 + 110 * len(result.top) + 40 * len(result.tag_counts)


def _add(
    acc: dict[int, float], ids: array[int], scores: array[float], among: Collection[int], adds_new: bool
) -> None:
    """Add one term's scores to the documents of `among` that hold the term.

    Probes whichever side is smaller: each of `among` by binary search in the sorted
    `ids`, or each posting by a set lookup in `among`.
    """
    get = acc.get
    if len(among) * 4 < len(ids):
        n = len(ids)
        for doc in list(among):
            i = bisect_left(ids, doc)
            if i < n and ids[i] == doc:
                acc[doc] = get(doc, 0.0) + scores[i]
    elif adds_new:
        for doc, score in zip(ids, scores):
            if doc in among:
                acc[doc] = get(doc, 0.0) + score
    else:
        for doc, score in zip(ids, scores):
            if doc in acc:
                acc[doc] += score


def _decode_positions(value: bytes) -> Iterable[int]:
    """Positions from a Whoosh `Positions` posting value (see Positions.decode_positions).

    The same steps -- a 4-byte count, then a pickled list of deltas whose final "."
    Whoosh may strip -- with the running sum done by `accumulate` in C.
    """
    data = value[4:]
    if not data.endswith(b"."):
        data += b"."
    return accumulate(pickle.loads(data))
