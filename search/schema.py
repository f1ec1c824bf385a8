"""The Whoosh schema, the field weights and the Document -> fields mapping.

Everything that decides *what* is indexed and *how much each part counts* lives here,
so that the product index, the benchmark and the SemEval evaluation cannot drift apart:
they all call `build_schema()`, `document_fields()` and `weighting()`.

Scoring is BM25F in Robertson's sense: title, body, accepted answer and other answers
are indexed into ONE field, `text`, each token carrying its section's weight, so that
per-term frequencies are weighted and summed *before* BM25 saturates them.  Besides
being the textbook BM25F, this makes a query word one posting list instead of four,
which is what keeps searches over 100,000 posts inside the latency budget (Whoosh
matchers are pure Python; the cost of a query grows with the number of posting lists).
Tags are a separate keyword field with their own query-time boost.
"""

from __future__ import annotations

import pickle
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import timezone
from operator import sub
from typing import Any, Final

from whoosh import fields, scoring
from whoosh.system import pack_uint

from search.analysis import TOKEN_FINDALL, ForumAnalyzer
from search.document import Document

__all__ = [
    "SECTION_WEIGHTS",
    "TAG_BOOST",
    "TITLE_BOOST",
    "EXCERPT_CHARS",
    "SectionedText",
    "build_schema",
    "schema_signature",
    "document_fields",
    "weighting",
]

# Weight of one token of each section in the BM25F `text` field (an accepted answer that
# the caller also left in `answers` weighs answers + accepted).  Tuned on the SemEval-2016
# dev split, which has titles, bodies and answers (see search/eval.py).
SECTION_WEIGHTS: Final[dict[str, float]] = {
    "title": 3.0,
    "body": 1.0,
    "answers": 0.25,
    "accepted": 1.0,
}
# Query-time boost of the tag field (a query word equal to a tag of the post).
TAG_BOOST: Final[float] = 2.0
# Query-time boost of the title-only field, used by `similar()` (title-to-title match).
TITLE_BOOST: Final[float] = 1.0

BM25_K1: Final[float] = 1.2
BM25_B: Final[float] = 0.5

# Positions jump between sections so that a phrase cannot match across the end of the
# title and the start of the body.
_SECTION_GAP: Final[int] = 100

# Snippets are cut from the stored prefix of the body; storing whole bodies would grow
# the index for no visible gain (a snippet is ~200 characters).
EXCERPT_CHARS: Final[int] = 2_000


class SectionedText(fields.TEXT):  # type: ignore[misc]  # whoosh ships no types
    """A TEXT field whose value is a sequence of ``(text, weight)`` sections.

    `index` tokenizes with the product analyzer's rules (see `search.analysis`) but
    without building a Token object per token -- it is the hot loop of a rebuild.
    A plain string is accepted too and weighs 1.0.  Positions are recorded when the
    field is created with ``phrase=True``.
    """

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        """Yield Whoosh ``(term bytes, frequency, weight, encoded value)`` per term.

        Raises:
            ValueError: `value` is neither a string nor a sequence of (str, float)
                pairs -- the same error Whoosh raises for a bad field value.
        """
        sections: Sequence[tuple[str, float]]
        if isinstance(value, str):
            sections = ((value, 1.0),)
        elif isinstance(value, (list, tuple)):
            sections = value
        else:
            raise ValueError(f"{value!r} is not text or a sequence of sections")
        lookup = self.analyzer.lookup  # a dict's __getitem__: C-speed on memo hits
        positions: defaultdict[str, list[int]] = defaultdict(list)
        weights: defaultdict[str, float] = defaultdict(float)
        pos = 0
        for text, weight in sections:
            terms = [t for t in map(lookup, TOKEN_FINDALL(text)) if t is not None]
            # Stop words are dropped before numbering, as StopFilter(renumber=True) does.
            for term, count in Counter(terms).items():
                weights[term] += weight * count
            for offset, term in enumerate(terms, pos):
                positions[term].append(offset)
            pos += len(terms) + _SECTION_GAP
        if self.format.supports("positions"):
            for term, plist in positions.items():
                # Whoosh's Positions.encode: the count, then the pickled deltas.
                deltas = list(map(sub, plist, [0, *plist[:-1]]))
                value = pack_uint(len(deltas)) + pickle.dumps(deltas, 2)
                yield term.encode("utf-8"), len(plist), weights[term], value
        else:
            # Whoosh's Frequency format stores the bare count (see Frequency.word_values).
            for term, plist in positions.items():
                yield term.encode("utf-8"), len(plist), weights[term], pack_uint(len(plist))


def _datetime_field() -> fields.DATETIME:
    field = fields.DATETIME(sortable=True)
    # DATETIME hard-codes 8 precision tiers; see the comment on `score` in build_schema.
    field.shift_step = 0
    return field


def build_schema() -> fields.Schema:
    """Return a new schema; see the comments beside each field for why it exists."""
    analyzer = ForumAnalyzer()
    return fields.Schema(
        # "question:12" -- the only unique field; upsert replaces by it.
        key=fields.ID(stored=True, unique=True),
        kind=fields.ID(),
        # BM25F over all text sections (see the module docstring), with positions for
        # "exact phrase" queries.
        text=SectionedText(analyzer=analyzer, phrase=True),
        # The title alone, folded but NOT stemmed: stored for result titles, matched on
        # its own by `similar()` (title-to-title overlap is the strongest signal), and
        # its lexicon of real words is the vocabulary of "did you mean".
        title=SectionedText(analyzer=ForumAnalyzer(stem=False), phrase=False, stored=True),
        # Comma-separated: normalise_tag guarantees tags contain no commas.  Scorable
        # so that a query word equal to a tag ranks the tagged post up.
        tags=fields.KEYWORD(lowercase=True, commas=True, scorable=True),
        author=fields.ID(),
        status=fields.ID(),
        solved=fields.BOOLEAN(),
        # shift_step=0 indexes one term per value instead of 8-16 precision tiers:
        # these fields are sorted on (columns) and only ever range-queried on a single
        # value (answer_count == 0), so the tiers would only slow indexing down.
        score=fields.NUMERIC(numtype=int, bits=64, signed=True, sortable=True, shift_step=0),
        answer_count=fields.NUMERIC(
            numtype=int, bits=32, signed=False, sortable=True, shift_step=0
        ),
        created=_datetime_field(),
        # Stored only: the body prefix for snippets and the fingerprint for `check`.
        excerpt=fields.STORED(),
        fp=fields.STORED(),
    )


def schema_signature(schema: fields.Schema) -> tuple[tuple[str, ...], ...]:
    """What must match between an index on disk and `build_schema()` to search it.

    Field names, field and posting-format classes, and whether text is stemmed; an
    index whose signature differs was built by another version and must be rebuilt.
    """
    return tuple(sorted(
        (name, type(field).__name__, type(field.format).__name__ if field.format else "",
         str(getattr(getattr(field, "analyzer", None), "stem", "")))
        for name, field in schema.items()
    ))


def document_fields(doc: Document) -> dict[str, Any]:
    """Return the keyword arguments for `writer.add_document` / `update_document`."""
    w = SECTION_WEIGHTS
    sections = [(doc.title, w["title"]), (doc.body, w["body"])]
    if doc.answers:
        sections.append((doc.answers, w["answers"]))
    if doc.accepted:
        sections.append((doc.accepted, w["accepted"]))
    return {
        "key": doc.key,
        "kind": doc.kind,
        "text": sections,
        "title": doc.title,
        "tags": ",".join(doc.tags),
        "author": doc.author.strip().lower(),
        "status": doc.status.strip().lower(),
        "solved": doc.solved,
        "score": doc.score,
        "answer_count": max(0, doc.answer_count),
        # Whoosh's DATETIME cannot subtract an aware datetime from its naive epoch.
        "created": doc.created.astimezone(timezone.utc).replace(tzinfo=None),
        "excerpt": doc.body[:EXCERPT_CHARS],
        "fp": doc.fingerprint(),
    }


def weighting() -> scoring.WeightingModel:
    """Return the BM25F model used by every searcher over this schema."""
    return scoring.BM25F(B=BM25_B, K1=BM25_K1)
