"""The search-box query language: a hand-written tokenizer producing `ParsedQuery`.

Grammar (informal; anything else is read as plain words, nothing is ever an error):

    query    := item*
    item     := ["-"] (phrase | filter | word) | "OR"
    phrase   := '"' chars ('"' | end)
    filter   := ("tag" | "is" | "user") ":" (word | phrase)
    is-value := solved | unsolved | unanswered | article | question | <any other kind>

* Words and phrases are required (AND) and ranked by BM25F; ``a OR b`` makes one
  clause of alternatives.
* ``-word`` / ``-"a phrase"`` exclude; ``-tag:x`` and ``-user:x`` exclude by filter.
* Parentheses and other punctuation are plain text: users paste code and error messages.

Nothing here touches Whoosh: `search.compile` turns a `ParsedQuery` into Whoosh query
objects, so the user's text never reaches Whoosh's own query parser.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from search.analysis import strip_controls
from search.document import normalise_tag

__all__ = [
    "KNOWN_KINDS",
    "MAX_QUERY_CHARS",
    "MAX_TERMS",
    "MAX_FILTERS",
    "Term",
    "ParsedQuery",
    "parse_query",
]

# Hard bounds keep the cost of one query predictable whatever is pasted into the box.
MAX_QUERY_CHARS = 500
MAX_TERMS = 16  # words + phrases, positive and excluded together
MAX_FILTERS = 8  # per filter kind (tags, users, kinds)
MAX_PHRASE_WORDS = 12

_FILTER_KEYS = ("tag", "is", "user")
# Kinds accepted by `is:<kind>`; pass `kinds=` to parse_query when more kinds exist.
KNOWN_KINDS: frozenset[str] = frozenset({"question", "article"})
_STATUS_VALUES = ("solved", "unsolved", "unanswered")
_QUOTES = '"\u201c\u201d\u201e\u00ab\u00bb'  # straight and typographic double quotes
_SEPARATORS = "()[]{}"  # treated as whitespace: there is no grouping syntax


@dataclass(frozen=True, slots=True)
class Term:
    """One word or phrase as the user typed it; `phrase` is True for quoted text."""

    text: str
    phrase: bool = False

    def render(self) -> str:
        """Return the term in query syntax (phrases re-quoted)."""
        return f'"{self.text}"' if self.phrase else self.text


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """The structured form of a search-box string.

    Attributes:
        raw: the input after truncation to `MAX_QUERY_CHARS` and control-char removal.
        clauses: required clauses; each is a tuple of alternatives joined by ``OR``.
        excluded: words and phrases a hit must not contain (``-word``).
        tags: ``tag:`` filters; a hit must carry every one.
        excluded_tags: ``-tag:`` filters.
        users: ``user:`` filters (any of them).
        excluded_users: ``-user:`` filters.
        kinds: ``is:article`` / ``is:question`` (any of them); empty = all kinds.
        solved: True for ``is:solved``, False for ``is:unsolved``, None for either.
        unanswered: True for ``is:unanswered``.
        ignored: operator tokens that were understood but not applicable, such as an
            unknown ``is:`` value, or dropped because a cap was reached; the UI can
            show them as "ignored".
    """

    raw: str = ""
    clauses: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()
    tags: tuple[str, ...] = ()
    excluded_tags: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    excluded_users: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    solved: bool | None = None
    unanswered: bool = False
    ignored: tuple[str, ...] = ()

    @property
    def has_text(self) -> bool:
        """True if the query has at least one positive word or phrase."""
        return bool(self.clauses)

    @property
    def has_filters(self) -> bool:
        """True if any filter or exclusion narrows the result set."""
        return bool(
            self.excluded or self.tags or self.excluded_tags or self.users
            or self.excluded_users or self.kinds or self.solved is not None
            or self.unanswered
        )

    @property
    def is_empty(self) -> bool:
        """True if the query neither matches text nor filters (nothing to search)."""
        return not self.has_text and not self.has_filters

    def words(self) -> list[str]:
        """Return the positive single words in order (the spelling checker's input)."""
        return [t.text for clause in self.clauses for t in clause if not t.phrase]

    def render(self, replace: dict[str, str] | None = None) -> str:
        """Return a canonical query string; `replace` maps words to substitutes.

        Used to build the "did you mean" query: the same filters, corrected words.
        """
        replace = replace or {}
        parts: list[str] = []
        for clause in self.clauses:
            alts = [
                replace.get(t.text, t.text) if not t.phrase else t.render() for t in clause
            ]
            parts.append(" OR ".join(alts))
        parts += ["-" + t.render() for t in self.excluded]
        parts += [f"tag:{t}" for t in self.tags] + [f"-tag:{t}" for t in self.excluded_tags]
        parts += [f"user:{u}" for u in self.users] + [f"-user:{u}" for u in self.excluded_users]
        parts += [f"is:{k}" for k in self.kinds]
        if self.solved is not None:
            parts.append("is:solved" if self.solved else "is:unsolved")
        if self.unanswered:
            parts.append("is:unanswered")
        return " ".join(parts)


@dataclass
class _Builder:
    """Mutable accumulator used while scanning; frozen into a ParsedQuery at the end."""

    clauses: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    excluded_tags: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    excluded_users: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    solved: bool | None = None
    unanswered: bool = False
    ignored: list[str] = field(default_factory=list)
    terms: int = 0
    pending_or: bool = False
    known_kinds: Collection[str] = KNOWN_KINDS

    def add_term(self, term: Term, negated: bool) -> None:
        if self.terms >= MAX_TERMS:
            self.ignored.append(term.render())
            return
        self.terms += 1
        if negated:
            self.excluded.append(term)
        elif self.pending_or and self.clauses:
            self.clauses[-1].append(term)
        else:
            self.clauses.append([term])
        self.pending_or = False

    def add_filter(self, key: str, value: str, negated: bool, token: str) -> None:
        if key == "tag":
            tag = normalise_tag(value)
            self._add_capped(self.excluded_tags if negated else self.tags, tag, token)
        elif key == "user":
            user = value.strip().lower()
            self._add_capped(self.excluded_users if negated else self.users, user, token)
        else:
            self._add_is(value.strip().lower(), negated, token)

    def _add_capped(self, target: list[str], value: str, token: str) -> None:
        if not value:
            self.ignored.append(token)
        elif value not in target:
            if len(target) >= MAX_FILTERS:
                self.ignored.append(token)
            else:
                target.append(value)

    def _add_is(self, value: str, negated: bool, token: str) -> None:
        if value in _STATUS_VALUES and not negated:
            if value == "unanswered":
                self.unanswered = True
            else:
                self.solved = value == "solved"
        elif value in ("solved", "unsolved") and negated:
            # -is:solved reads naturally as is:unsolved, and vice versa.
            self.solved = value == "unsolved"
        elif not negated and value in self.known_kinds:
            self._add_capped(self.kinds, value, token)
        else:
            self.ignored.append(token)

    def freeze(self, raw: str) -> ParsedQuery:
        return ParsedQuery(
            raw=raw,
            clauses=tuple(tuple(c) for c in self.clauses),
            excluded=tuple(self.excluded),
            tags=tuple(self.tags),
            excluded_tags=tuple(self.excluded_tags),
            users=tuple(self.users),
            excluded_users=tuple(self.excluded_users),
            kinds=tuple(self.kinds),
            solved=self.solved,
            unanswered=self.unanswered,
            ignored=tuple(self.ignored),
        )


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Return the text after the quote at `start` up to the closing quote, and the end.

    An unterminated quote runs to the end of the input (what the user most likely meant).
    """
    end = start + 1
    while end < len(text) and text[end] not in _QUOTES:
        end += 1
    return text[start + 1:end], min(end + 1, len(text))


def _read_bare(text: str, start: int) -> tuple[str, int]:
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end], end


def _clean_phrase(text: str) -> str:
    words = text.split()
    return " ".join(words[:MAX_PHRASE_WORDS])


def parse_query(text: object, kinds: Collection[str] = KNOWN_KINDS) -> ParsedQuery:
    """Parse search-box text into a `ParsedQuery`.

    Never raises: any input, including non-strings, malformed quotes and unknown
    operators, yields some ParsedQuery (possibly empty).  `kinds` lists the values
    that ``is:<kind>`` accepts; other ``is:`` values end up in `ParsedQuery.ignored`.  The input is cut to
    `MAX_QUERY_CHARS` characters and at most `MAX_TERMS` words/phrases are kept.
    """
    if not isinstance(text, str):
        text = ""
    raw = strip_controls(text[:MAX_QUERY_CHARS])
    for sep in _SEPARATORS:
        raw = raw.replace(sep, " ")
    raw = " ".join(raw.split())
    out = _Builder(known_kinds=kinds)
    i, n = 0, len(raw)
    while i < n:
        if raw[i].isspace():
            i += 1
            continue
        negated = raw[i] == "-" and i + 1 < n and not raw[i + 1].isspace()
        start = i + 1 if negated else i
        if raw[start] in _QUOTES:
            phrase, i = _read_quoted(raw, start)
            phrase = _clean_phrase(phrase)
            if phrase:
                out.add_term(Term(phrase, phrase=" " in phrase), negated)
            continue
        token, i = _read_bare(raw, start)
        if token == "OR" and not negated:
            out.pending_or = bool(out.clauses)
            continue
        key, sep, value = token.partition(":")
        if sep and key.lower() in _FILTER_KEYS:
            if value and value[0] in _QUOTES:
                # tag:"two words" -- re-read from the quote, which may span spaces.
                value, i = _read_quoted(raw, start + len(key) + 1)
            out.add_filter(key.lower(), value, negated, raw[start - negated:i].strip())
            continue
        token = token.strip("-")
        if token:
            out.add_term(Term(token), negated)
    return out.freeze(raw)
