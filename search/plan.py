"""Turn a `ParsedQuery` (plus the caller's filters) into a `Plan` of index terms.

A plan is Whoosh-level but evaluation-agnostic: field names, term bytes and boosts.
User text reaches the index only as analyzed terms; nothing is handed to Whoosh's
query parser.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from whoosh.fields import Schema

from search.analysis import TOKEN_PATTERN, fold, lookup_term, lookup_word
from search.document import normalise_tag
from search.query import ParsedQuery, Term
from search.schema import TAG_BOOST, TITLE_BOOST, build_schema

__all__ = [
    "TermRef", "Alternative", "Plan", "build_plan", "similar_plan", "keep_rarest", "without_unknown",
]


@dataclass(frozen=True, slots=True)
class TermRef:
    """One index term: a field, its encoded text and the query-time boost."""

    field: str
    text: bytes
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Alternative:
    """One word or phrase of a clause.

    A word matches documents holding any of `terms`; a phrase (non-empty `phrase`,
    the stems in order) matches documents holding all stems at consecutive positions
    of the `text` field.  Either way the document scores the sum of `terms`.
    """

    terms: tuple[TermRef, ...]
    phrase: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """What to match and how to score it.

    Attributes:
        clauses: every clause must match (or, for a relaxed/OR evaluation, any one);
            a clause matches when any of its alternatives does.
        filters: groups of terms; a hit must hold at least one term of every group.
        exclusions: a hit must match none of these.
        highlight: stems to mark in titles and snippets.
        impossible: the filters contradict each other (e.g. is:article with
            kinds=["question"]); nothing can match.
    """

    clauses: tuple[tuple[Alternative, ...], ...] = ()
    filters: tuple[tuple[TermRef, ...], ...] = ()
    exclusions: tuple[Alternative, ...] = ()
    highlight: frozenset[str] = frozenset()
    impossible: bool = False

    @property
    def is_empty(self) -> bool:
        """True when the plan neither matches text nor filters: there is nothing to do."""
        return not self.clauses and not self.filters and not self.exclusions


@lru_cache(maxsize=1)
def _schema() -> Schema:
    # Only used for `to_bytes` of the BOOLEAN/NUMERIC fields, whose encodings are fixed.
    return build_schema()


def _value(field: str, value: object) -> bytes:
    encoded: bytes = _schema()[field].to_bytes(value)
    return encoded


def _stems(text: str) -> list[bytes]:
    stems = (lookup_term(m.group(0)) for m in TOKEN_PATTERN.finditer(text))
    return [s.encode("utf-8") for s in stems if s]


def _alternative(term: Term, with_tag: bool = True) -> Alternative | None:
    stems = _stems(term.text)
    if not stems:
        return None  # only stop words or punctuation: it cannot constrain anything
    refs = [TermRef("text", s) for s in dict.fromkeys(stems)]
    tag = normalise_tag(term.text) if with_tag else ""
    if tag:
        refs.append(TermRef("tags", tag.encode("utf-8"), TAG_BOOST))
    # A "word" that analyzes to several tokens ("wi-fi", "e-mail") is a phrase too.
    phrase = tuple(stems) if len(stems) > 1 else ()
    return Alternative(tuple(refs), phrase)


def build_plan(
    parsed: ParsedQuery,
    *,
    kinds: Sequence[str] | None = None,
    tags: Sequence[str] = (),
    solved: bool | None = None,
) -> Plan:
    """Combine the parsed query with the caller's filters into a `Plan`.

    `kinds` restricts to those kinds (intersected with any ``is:article``/
    ``is:question``), `tags` adds required tags, and `solved` overrides nothing:
    if it contradicts ``is:solved``/``is:unsolved`` the plan is impossible.
    """
    clauses = []
    highlight: set[str] = set()
    for clause in parsed.clauses:
        alts = [a for a in (_alternative(t) for t in clause) if a is not None]
        if alts:
            clauses.append(tuple(alts))
            for alt in alts:
                highlight.update(r.text.decode("utf-8") for r in alt.terms if r.field == "text")
    filters: list[tuple[TermRef, ...]] = []
    impossible = False
    for tag in dict.fromkeys([*parsed.tags, *(normalise_tag(t) for t in tags)]):
        if tag:
            filters.append((TermRef("tags", tag.encode("utf-8")),))
    wanted_kinds = set(parsed.kinds)
    if kinds is not None:
        allowed = {k for k in kinds if isinstance(k, str)}
        wanted_kinds = wanted_kinds & allowed if wanted_kinds else allowed
        impossible |= not wanted_kinds
    question_only = False
    if parsed.solved is not None and solved is not None and parsed.solved != solved:
        impossible = True
    want_solved = parsed.solved if parsed.solved is not None else solved
    if want_solved is True:
        filters.append((TermRef("solved", _value("solved", True)),))
    elif want_solved is False:
        filters.append((TermRef("solved", _value("solved", False)),))
        question_only = True  # articles are never "solved"; "unsolved" means questions
    if parsed.unanswered:
        filters.append((TermRef("answer_count", _value("answer_count", 0)),))
        question_only = True
    if question_only:
        impossible |= bool(wanted_kinds) and "question" not in wanted_kinds
        wanted_kinds = {"question"}
    if wanted_kinds:
        filters.append(tuple(TermRef("kind", k.encode("utf-8")) for k in sorted(wanted_kinds)))
    if parsed.users:
        filters.append(tuple(TermRef("author", u.encode("utf-8")) for u in parsed.users))
    exclusions = [a for a in (_alternative(t, with_tag=False) for t in parsed.excluded) if a]
    exclusions += [Alternative((TermRef("tags", t.encode("utf-8")),)) for t in parsed.excluded_tags]
    exclusions += [Alternative((TermRef("author", u.encode("utf-8")),)) for u in parsed.excluded_users]
    return Plan(
        clauses=tuple(clauses),
        filters=tuple(filters),
        exclusions=tuple(exclusions),
        highlight=frozenset(highlight),
        impossible=impossible,
    )


# Weight of the words of the typed title against those of the body (each distinct
# word counts once, at the higher weight).  Tuned on the SemEval-2016 dev split.
SIMILAR_TITLE_WEIGHT = 1.5

# Words ignored when looking for similar questions (not when searching): forum small
# talk.  "Hi all, can anyone help me" should not make two questions similar.  (English
# function words are NOT ignored: "where to buy" and "how to buy" differ, and dropping
# them cost a point of MAP on the SemEval dev split.)
SIMILAR_STOP_WORDS: frozenset[str] = frozenset(
    "hi hello hey dear all anyone anybody someone somebody guys friends folks please pls "
    "plz thanks thank thx regards help advice advise suggest suggestion suggestions "
    "know tell need want would could get got also really im ive dont cant wanna "
    "question questions query ask asking kindly".split()
)

# Cap on distinct query terms of a similar() lookup: a pasted body can hold hundreds
# of words, and each costs a posting list.  The rarest (most telling) are kept.
MAX_SIMILAR_TERMS = 40


def similar_plan(title: str, body: str = "") -> Plan:
    """Return the plan for "questions like this one": every word is an alternative.

    Title words are matched against the title field and, stemmed, against the BM25F
    text field; body words only against the text field.  One clause of alternatives,
    to be evaluated as OR (any shared word counts, shared rare words count most).
    """
    refs: dict[tuple[str, bytes], float] = {}
    for match in TOKEN_PATTERN.finditer(title):
        raw = match.group(0)
        if fold(raw) in SIMILAR_STOP_WORDS:
            continue
        stem, word = lookup_term(raw), lookup_word(raw)
        if stem:
            refs[("text", stem.encode("utf-8"))] = SIMILAR_TITLE_WEIGHT
        if word:
            refs[("title", word.encode("utf-8"))] = TITLE_BOOST
    for match in TOKEN_PATTERN.finditer(body):
        raw = match.group(0)
        stem = lookup_term(raw)
        if stem and fold(raw) not in SIMILAR_STOP_WORDS:
            refs.setdefault(("text", stem.encode("utf-8")), 1.0)
    alts = tuple(Alternative((TermRef(f, t, boost),)) for (f, t), boost in refs.items())
    highlight = frozenset(t.decode("utf-8") for f, t in refs if f == "text")
    return Plan(clauses=(alts,) if alts else (), highlight=highlight)


Frequency = Callable[[str, bytes], int]  # (field, term) -> number of documents


def keep_rarest(plan: Plan, frequency: Frequency, limit: int = MAX_SIMILAR_TERMS) -> Plan:
    """Keep the `limit` rarest alternatives of a `similar_plan`.

    A pasted body can hold hundreds of words, each a posting list to read; the rare
    ones carry the meaning.
    """
    if not plan.clauses or len(plan.clauses[0]) <= limit:
        return plan
    alts = sorted(plan.clauses[0], key=lambda a: frequency(a.terms[0].field, a.terms[0].text))
    return replace(plan, clauses=(tuple(alts[:limit]),))


def without_unknown(plan: Plan, frequency: Frequency) -> Plan:
    """`plan` without the clauses that no indexed document can match.

    Returned unchanged when every clause, or no clause, is matchable: dropping every
    word would turn a search for nonsense into a listing of everything.
    """
    def possible(alt: Alternative) -> bool:
        if alt.phrase:
            return all(frequency("text", stem) for stem in alt.phrase)
        return any(frequency(ref.field, ref.text) for ref in alt.terms)

    kept = tuple(clause for clause in plan.clauses if any(possible(a) for a in clause))
    if not kept or len(kept) == len(plan.clauses):
        return plan
    return replace(plan, clauses=kept)
