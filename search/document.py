"""The flat, ORM-free record that the search index stores.

`forum/search_sync.py` turns database rows into `Document` values; nothing in this
package ever sees a model object.  A `Document` is immutable and normalised on
construction (tags lower-cased and de-duplicated, `created` made timezone-aware UTC) so
that two documents built from the same row always compare and fingerprint equal.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timezone

__all__ = ["Document", "KIND_PATTERN", "make_key", "split_key", "normalise_tag"]

# Kinds are part of the stored key ("question:12") and of `is:<kind>` filters, so they
# must be short identifiers without the ":" separator.  New kinds (e.g. "comment")
# need no schema change: the kind field is an ID field.
KIND_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}\Z")

# Tags are stored in a comma-separated KEYWORD field; commas and whitespace inside a tag
# would split it, so they are replaced.  The same function normalises `tag:` filters.
_TAG_JUNK = re.compile(r"[\s,]+")


def normalise_tag(tag: str) -> str:
    """Return the canonical form of a tag: stripped, lower-cased, no commas or spaces."""
    return _TAG_JUNK.sub("-", tag.strip().lower()).strip("-")


def make_key(kind: str, id: int) -> str:
    """Return the unique index key of a document, e.g. ``"question:12"``."""
    return f"{kind}:{id}"


def split_key(key: str) -> tuple[str, int]:
    """Split a key made by `make_key` back into ``(kind, id)``.

    Raises:
        ValueError: the key has no ``:`` or its id part is not an integer; callers
            pass keys that came out of the index, so this signals a programming error.
    """
    kind, sep, rest = key.partition(":")
    if not sep:
        raise ValueError(f"not a document key: {key!r}")
    return kind, int(rest)


def _valid_text(text: str) -> str:
    # Lone surrogates (from lenient decoding upstream) cannot be UTF-8 encoded, which
    # every index term must be; they become U+FFFD like any undecodable input.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text


def _as_utc(value: datetime) -> datetime:
    # Naive datetimes are taken to be UTC already (that is what the ORM stores);
    # aware ones are converted, so both spellings of one instant fingerprint equal.
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@dataclass(frozen=True, slots=True)
class Document:
    """One searchable post.

    Attributes:
        kind: "question", "article", ... (see `KIND_PATTERN`).
        id: primary key of the row within its kind.
        title: plain-text title.
        body: plain text of the post (HTML already stripped).
        answers: plain text of all visible answers, joined.
        accepted: plain text of the accepted answer, "" if none; weighted above answers.
        tags: tag names; normalised with `normalise_tag`, order kept, duplicates dropped.
        author: username of the author.
        status: "open", "closed", "published", ...
        solved: whether the question has an accepted answer.
        score: net votes.
        answer_count: number of visible answers.
        created: creation time; naive values are read as UTC.

    Raises:
        ValueError: on construction, if `kind` does not match `KIND_PATTERN`, `id` is
            not an int, a text field is not a str, or `created` is not a datetime --
            such a document could not be keyed, indexed or sorted, and failing here
            points at the row that produced it.
    """

    kind: str
    id: int
    title: str
    body: str
    answers: str = ""
    accepted: str = ""
    tags: tuple[str, ...] = ()
    author: str = ""
    status: str = "open"
    solved: bool = False
    score: int = 0
    answer_count: int = 0
    _: KW_ONLY
    # Keyword-only because it has no sensible default (a default of "now" would make
    # fingerprints unstable) and it follows fields that have defaults.
    created: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not KIND_PATTERN.match(self.kind):
            raise ValueError(f"invalid document kind: {self.kind!r}")
        if isinstance(self.id, bool) or not isinstance(self.id, int):
            raise ValueError(f"document id must be an int, got {self.id!r}")
        if not isinstance(self.created, datetime):
            raise ValueError(f"created must be a datetime, got {self.created!r}")
        for name in ("title", "body", "answers", "accepted", "author", "status"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ValueError(f"{name} must be a str, got {type(value).__name__}")
            object.__setattr__(self, name, _valid_text(value))
        seen: dict[str, None] = {}
        if isinstance(self.tags, str):
            raise ValueError("tags must be a sequence of str, not one str")
        for tag in self.tags:
            if not isinstance(tag, str):
                raise ValueError(f"tags must be str, got {type(tag).__name__}")
            norm = normalise_tag(_valid_text(tag))
            if norm:
                seen.setdefault(norm, None)
        # object.__setattr__ is the documented way to normalise a frozen dataclass.
        object.__setattr__(self, "tags", tuple(seen))
        object.__setattr__(self, "created", _as_utc(self.created))
        object.__setattr__(self, "solved", bool(self.solved))

    @property
    def key(self) -> str:
        """The unique index key, e.g. ``"question:12"``."""
        return make_key(self.kind, self.id)

    def fingerprint(self) -> str:
        """Return a stable hash of every field.

        `SearchIndex.fingerprints()` returns the stored value so that `flask search
        check` can compare it with documents rebuilt from the database and re-index
        only the stale ones.  JSON with sorted keys keeps the hash independent of
        Python's hash seed and of field order.
        """
        payload = {
            "kind": self.kind,
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "answers": self.answers,
            "accepted": self.accepted,
            "tags": list(self.tags),
            "author": self.author,
            "status": self.status,
            "solved": self.solved,
            "score": self.score,
            "answer_count": self.answer_count,
            "created": self.created.isoformat(),
        }
        raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.blake2b(raw.encode("utf-8"), digest_size=16).hexdigest()
