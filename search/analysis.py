"""Text analysis shared by indexing, querying, highlighting and evaluation.

The product analyzer is, token for token, the Whoosh chain

    RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)
        | StopFilter(STOP_WORDS, minsize=2, maxsize=40) | StemFilter()

(`reference_analyzer()` builds exactly that, and a test checks the two agree).  It is
re-implemented as one generator because the five-stage chain costs a Python call and a
generator hop per token per stage; indexing is dominated by it.  Here every distinct raw
token is normalised once and memoised, so a token costs one regex match and one dict
lookup -- rebuild throughput is a product requirement (>= 1,000 docs/s).

Accents are folded *before* the stop list and the stemmer so that "cafés" and "cafes"
stem alike (with folding last, the stemmer would see the accented form).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)
from whoosh.analysis.filters import STOP_WORDS as WHOOSH_STOP_WORDS
from whoosh.lang.porter import stem as porter_stem
from whoosh.support.charset import accent_map

__all__ = [
    "STOP_WORDS",
    "TOKEN_PATTERN",
    "ForumAnalyzer",
    "reference_analyzer",
    "normalise_word",
    "lookup_term",
    "lookup_word",
    "fold",
    "word_spans",
]

# Whoosh's own stop list (34 words such as "the", "is", "not"); kept small on purpose:
# BM25's IDF already discounts frequent words, and phrase/exclusion queries should still
# work on most words.
STOP_WORDS: frozenset[str] = frozenset(WHOOSH_STOP_WORDS)

# Same expression as Whoosh's RegexTokenizer default: keeps "v2.3.1", "config.yaml" and
# "0x80070005" as single tokens, which matters on a support forum.
TOKEN_PATTERN = re.compile(r"\w+(\.?\w+)*", re.UNICODE)
# The same without the capturing group, so that `findall` returns whole tokens.
TOKEN_FINDALL = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE).findall

MIN_SIZE = 2
MAX_SIZE = 40
# Bounded so that a flood of unique junk tokens (hashes, ids) cannot grow memory forever.
_CACHE_LIMIT = 200_000


def fold(text: str) -> str:
    """Lower-case `text` and fold accents with Whoosh's accent map (é -> e, ß -> ss)."""
    return text.lower().translate(accent_map)


def normalise_word(raw: str) -> str | None:
    """Return the index term for one raw token, or None if it is a stop word or too short."""
    return _normalise(raw)


def _normalise(raw: str) -> str | None:
    text = raw.lower().translate(accent_map)
    if len(text) < MIN_SIZE or len(text) > MAX_SIZE or text in STOP_WORDS:
        return None
    stem: str = porter_stem(text)
    return stem


def _fold_only(raw: str) -> str | None:
    text = raw.lower().translate(accent_map)
    if len(text) < MIN_SIZE or len(text) > MAX_SIZE or text in STOP_WORDS:
        return None
    return text


class _Table(dict):  # type: ignore[type-arg]
    """raw token -> term (None for stop words), filled on first lookup.

    `map(table.__getitem__, tokens)` runs in C except on a miss.
    """

    def __init__(self, normalise: Callable[[str], str | None]) -> None:
        super().__init__()
        self.normalise = normalise

    def __missing__(self, raw: str) -> str | None:
        if len(self) >= _CACHE_LIMIT:
            self.clear()  # bounded: a flood of unique junk tokens must not grow forever
        term = self[raw] = self.normalise(raw)
        return term


class _Memo:
    """A process-wide memo of raw token -> term.

    Shared by every analyzer instance (the schema is unpickled once per index open and
    per searcher) and safe to share across threads: dict get/set are atomic in CPython
    and the worst a race can do is compute the same stem twice.
    """

    def __init__(self, stem: bool = True) -> None:
        self.table = _Table(_normalise if stem else _fold_only)
        self.lookup: Callable[[str], str | None] = self.table.__getitem__


_MEMO = _Memo()
_FOLD_MEMO = _Memo(stem=False)

#: ``lookup_term(raw_token) -> term | None``: the memoised normalisation used everywhere.
lookup_term = _MEMO.lookup
#: ``lookup_word(raw_token) -> word | None``: the same without stemming -- real words,
#: for the title field whose vocabulary feeds "did you mean".
lookup_word = _FOLD_MEMO.lookup


class ForumAnalyzer(Analyzer):  # type: ignore[misc]  # whoosh ships no types
    """Whoosh analyzer: tokenize, lower-case, fold accents, drop stop words, stem.

    Implements the Whoosh analyzer protocol (`__call__` yields one reused `Token`), so
    it can be given to `TEXT(analyzer=...)`.  The instance carries no state of its own,
    so it pickles into the index's table of contents as a bare class reference.
    """

    # Class-level default: analyzers pickled into older indexes lack the attribute.
    stem: bool = True

    def __init__(self, stem: bool = True) -> None:
        # With stem=False the chain stops after the stop list: terms are real words.
        self.stem = stem

    @property
    def lookup(self) -> Callable[[str], str | None]:
        """The memoised raw-token -> term function this analyzer applies."""
        return lookup_term if self.stem else lookup_word

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        """Yield the tokens of `value`; see `whoosh.analysis.RegexTokenizer` for the flags.

        With ``removestops=False`` stop words are yielded with ``stopped=True`` (as
        Whoosh's StopFilter does), otherwise they are dropped and, like StopFilter with
        ``renumber=True``, later positions close up the gap.
        """
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        lookup = self.lookup
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return
        pos: int | None = None
        for index, match in enumerate(TOKEN_PATTERN.finditer(value)):
            raw = match.group(0)
            term = lookup(raw)
            t.boost = 1.0
            if keeporiginal:
                t.original = raw
            if chars:
                t.startchar = start_char + match.start()
                t.endchar = start_char + match.end()
            if term is None:
                if removestops:
                    continue
                t.text = raw.lower().translate(accent_map)
                t.stopped = True
                if positions:
                    t.pos = start_pos + index
                yield t
                continue
            t.text = term
            t.stopped = False
            if positions:
                if pos is None:
                    # StopFilter's renumbering keeps the first kept token's position
                    # and numbers the following kept tokens consecutively (stop words
                    # yielded with removestops=False keep their raw position).
                    pos = t.pos = start_pos + index
                else:
                    pos += 1
                    t.pos = pos
            yield t


def reference_analyzer(stem: bool = True) -> Analyzer:
    """Return the stock Whoosh chain that `ForumAnalyzer` reimplements (used in tests)."""
    chain = (
        RegexTokenizer()
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=STOP_WORDS, minsize=MIN_SIZE, maxsize=MAX_SIZE)
    )
    return chain | StemFilter(stemfn=porter_stem) if stem else chain


def word_spans(text: str) -> Iterator[tuple[int, int, str | None]]:
    """Yield ``(start, end, term)`` for every token of `text`; term is None for stop words.

    Used by the highlighter, which needs character offsets of the original text.
    """
    lookup = _MEMO.lookup
    for match in TOKEN_PATTERN.finditer(text):
        yield match.start(), match.end(), lookup(match.group(0))


def strip_controls(text: str) -> str:
    """Replace control and unassigned code points with spaces (for user query text)."""
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in "\t\n" else ch
        for ch in text
    )
