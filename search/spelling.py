""""Did you mean": corrections for query words that the index does not contain.

Candidates come from the vocabulary of the `title` field (folded, unstemmed: real
words, and fewer typos than bodies), searched with Whoosh's Levenshtein automata over
one sorted word list per index generation (merged from the segments' lexicons and
cached; walking each segment's lexicon with its own cursor cost ~130 ms a word).
They are ranked by edit distance, then by how many posts contain the candidate's stem
anywhere (title, body or answers), so the vocabulary of the whole text decides ties.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from whoosh.automata.fsa import find_all_matches
from whoosh.automata.lev import levenshtein_automaton

from search.analysis import fold, lookup_term, lookup_word
from search.engine import Engine

__all__ = ["corrections", "vocabulary"]

_MIN_LENGTH = 4  # shorter words have too many neighbours to guess from
_MAX_WORDS = 6  # bound the work per query


def vocabulary(engine: Engine) -> list[str]:
    """The sorted distinct title words of every segment of `engine`'s index."""
    def segment_words(seg: object) -> list[str]:
        return engine._cached(
            ("vocab", seg.segid),  # type: ignore[attr-defined]
            lambda: [w.decode("utf-8") for w in seg.reader.lexicon("title")],  # type: ignore[attr-defined]
            lambda words: 60 * len(words) + 200,
        )

    key = ("vocab-all",) + tuple(seg.segid for seg in engine.segments)
    return engine._cached(
        key,
        lambda: sorted(set().union(*(segment_words(s) for s in engine.segments))),
        lambda words: 60 * len(words) + 200,
    )


def _within(words: list[str], word: str, maxdist: int) -> list[str]:
    dfa = levenshtein_automaton(word, maxdist, prefix=1).to_dfa()

    def first_at_or_after(text: str) -> str | None:
        i = bisect_left(words, text)
        return words[i] if i < len(words) else None

    return [w for w in find_all_matches(dfa, first_at_or_after) if w != word]


def corrections(engine: Engine, words: Sequence[str]) -> dict[str, str]:
    """Map each unknown word of `words` to its best correction (absent if none).

    Words with digits or other non-letters (error codes, versions) are never
    "corrected"; neither are words the index contains.
    """
    out: dict[str, str] = {}
    searcher = engine.searcher

    def popularity(cand: str) -> int:
        stem = lookup_term(cand)
        return searcher.doc_frequency("text", stem) if stem else 0

    for word in list(dict.fromkeys(words))[:_MAX_WORDS]:
        folded = fold(word)
        if len(folded) < _MIN_LENGTH or not folded.isalpha() or lookup_word(word) is None:
            continue
        stem = lookup_term(word)
        if stem is None or searcher.doc_frequency("text", stem) > 0:
            continue
        vocab = vocabulary(engine)
        for maxdist in (1, 2):
            cands = _within(vocab, folded, maxdist)
            if cands:
                out[word] = max(sorted(cands), key=popularity)
                break
    return out
