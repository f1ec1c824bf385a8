"""Links to this site's threads and articles, ``#123`` shorthand and ``@mentions``, at write time.

A python-markdown tree processor that runs after the inline patterns, so code spans and code
blocks are already ``<code>`` elements (never looked into) and backslash escapes are already
placeholders (``\\#12`` and ``\\@bob`` stay literal). It works in two passes over the tree:
collect candidates, ask the resolver once which of them exist, then rewrite:

* ``<a href>`` to a question or article of this site (relative ``/questions/12[/slug]``,
  ``/articles/3[/slug]``, or a full URL on one of the resolver's hosts): the href becomes
  the site-relative path (so a move to another host keeps working and no ``rel=nofollow``
  is added) and gets ``class="post-link" data-link="question:12"``.
* a bare full URL on the site, or a path such as ``/questions/12`` typed as text: the same
  link, text kept as typed (other bare URLs are left to bleach's linkify).
* ``#123`` (not mid-word as in ``issue#12``, not an entity such as ``&#39``): a link to
  question 123 with the text ``#123`` (never its title: the title may change or be hidden).
* ``@username`` (not inside an e-mail address): a link to the profile,
  ``class="mention" data-user="7"``.

Only targets the resolver knows become links or are recorded. No Flask here: the resolver
(forum.services.links) brings the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol, cast
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from .sanitise import BARE_URL_RE

# Path segments after /questions/<id>/ that name an action, not a slug.
_ACTION_SEGMENTS = frozenset({"edit", "history", "delete", "restore", "comments", "promote", "state", "feedback"})
_PATH_RE = re.compile(r"^/(questions|articles)/(\d{1,9})(?:/([^/]*))?/?$")
# A site-relative path typed as text ("see /questions/12"), not the tail of some other URL.
_REL_PATH_RE = re.compile(r"(?<![\w/.:~%-])/(?:questions|articles)/\d{1,9}(?:/[A-Za-z0-9_-]*)?(?:#[\w-]+)?")
_HASH_RE = re.compile(r"(?<![\w&#/])#(\d{1,9})(?!\w)")
_MENTION_RE = re.compile(r"(?<![\w@.+\-/\\])@([A-Za-z0-9_]{3,30})(?![\w@])")
# Never look inside these: code is literal, a link is already a link.
_SKIP_TAGS = frozenset({"code", "pre", "a", "img"})
_KIND = {"questions": "question", "articles": "article"}
# Distinct @names looked up per render, in document order: the lookup is bounded whatever the
# body holds, and generous enough that a few @words that name nobody ("@home") before the real
# mentions do not hide them (a post links at most LinkResolver.mentions_max of them anyway).
MENTION_LOOKUPS_MAX = 200


@dataclass(frozen=True)
class Resolved:
    questions: frozenset[int] = frozenset()
    articles: frozenset[int] = frozenset()
    users: dict[str, tuple[int, str]] = field(default_factory=dict)  # username key -> (id, username)


class LinkResolver(Protocol):
    """What the renderer needs from the database (forum.services.links provides it)."""

    hosts: frozenset[str]  # lower-case "host[:port]" of full URLs that point at this site
    # @mentions of members that become links (and so are recorded and notified), in document
    # order; later ones stay text. Bounds the work a post full of @names costs (rendering,
    # sanitising, notifying).
    mentions_max: int

    def resolve(self, questions: set[int], articles: set[int], usernames: set[str]) -> Resolved:
        """Which of these exist (usernames are lower-case keys)."""


@dataclass
class LinkState:
    """Per-render input (resolver) and output (links, mentions), reset before every render."""

    resolver: LinkResolver | None = None
    links: list[tuple[str, int]] = field(default_factory=list)
    mentions: list[int] = field(default_factory=list)

    def reset(self) -> None:
        self.resolver = None
        self.links = []
        self.mentions = []


def site_target(href: str, hosts: frozenset[str]) -> tuple[str, int, str] | None:
    """``(kind, id, relative_href)`` when ``href`` points at a question or article of this site."""
    try:
        parts = urlsplit(href.strip())
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        if parts.scheme.lower() not in ("http", "https") or parts.netloc.lower() not in hosts:
            return None
    match = _PATH_RE.match(parts.path)
    if not match or (match.group(3) or "").lower() in _ACTION_SEGMENTS:
        return None
    relative = parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    return _KIND[match.group(1)], int(match.group(2)), relative


def _text_slots(root: Element) -> list[tuple[Element, int]]:
    """Where plain text sits: (element, -1) for element.text, (parent, i) for parent[i].tail."""
    slots: list[tuple[Element, int]] = []

    def walk(el: Element) -> None:
        if el.text and not isinstance(el.text, AtomicString):
            slots.append((el, -1))
        for i, child in enumerate(el):
            if child.tag not in _SKIP_TAGS:
                walk(child)
            if child.tail and not isinstance(child.tail, AtomicString):
                slots.append((el, i))

    walk(root)
    return slots


def _anchors(root: Element) -> list[Element]:
    return [el for el in root.iter("a") if el.get("href")]


class SiteLinks(Treeprocessor):
    """Rewrites site links, ``#id`` and ``@name`` (see the module docstring)."""

    def __init__(self, md: object, state: LinkState) -> None:
        super().__init__(md)  # type: ignore[arg-type]
        self.state = state

    def _tokens(self, text: str, hosts: frozenset[str]) -> list[tuple[int, int, str, object]]:
        """Non-overlapping (start, end, kind, value) candidates in ``text``, in order."""
        found: list[tuple[int, int, str, object]] = []
        for m in BARE_URL_RE.finditer(text):
            target = site_target(m.group(0), hosts) if "://" in m.group(0) else None
            found.append((m.start(), m.end(), "url", target))
        taken = [(s, e) for s, e, _, _ in found]
        for m in _REL_PATH_RE.finditer(text):
            if not any(s <= m.start() < e for s, e in taken):
                found.append((m.start(), m.end(), "url", site_target(m.group(0), hosts)))
        taken = [(s, e) for s, e, _, _ in found]
        for regex, kind in ((_HASH_RE, "hash"), (_MENTION_RE, "mention")):
            for m in regex.finditer(text):
                if not any(s <= m.start() < e for s, e in taken):
                    value: object = int(m.group(1)) if kind == "hash" else m.group(1)
                    found.append((m.start(), m.end(), kind, value))
        return sorted((t for t in found if t[2] != "url" or t[3] is not None), key=lambda t: t[0])

    def run(self, root: Element) -> None:
        resolver = self.state.resolver
        if resolver is None:
            return
        hosts = resolver.hosts
        anchors = [(a, site_target(a.get("href", ""), hosts)) for a in _anchors(root)]
        slots = [(slot, self._tokens(self._get(slot), hosts)) for slot in _text_slots(root)]
        questions: set[int] = set()
        articles: set[int] = set()
        names: dict[str, None] = {}  # insertion-ordered: the first names typed are looked up
        for _, target in anchors:
            if target:
                (questions if target[0] == "question" else articles).add(target[1])
        for _, tokens in slots:
            for _, _, kind, value in tokens:
                if kind == "url":
                    (questions if value[0] == "question" else articles).add(value[1])  # type: ignore[index]
                elif kind == "hash":
                    questions.add(value)  # type: ignore[arg-type]
                else:
                    names.setdefault(str(value).lower())
        if not (questions or articles or names):
            return
        known = resolver.resolve(questions, articles, set(list(names)[:MENTION_LOOKUPS_MAX]))
        slots = self._within_mention_budget(slots, known, resolver.mentions_max)
        for a, target in anchors:
            if target and self._exists(known, target[0], target[1]):
                a.set("href", target[2])
                self._mark(a, target[0], target[1])
        # Right to left, so earlier slot indexes stay valid while elements are inserted.
        for slot, tokens in reversed(slots):
            if tokens:
                self._rewrite(slot, tokens, known)
        for a in root.iter("a"):  # recorded in document order (cards follow it)
            link, user = a.get("data-link"), a.get("data-user")
            if link:
                kind, _, ident = link.partition(":")
                if (kind, int(ident)) not in self.state.links:
                    self.state.links.append((kind, int(ident)))
            elif user and int(user) not in self.state.mentions:
                self.state.mentions.append(int(user))

    @staticmethod
    def _within_mention_budget(slots: list[tuple[tuple[Element, int], list[tuple[int, int, str, object]]]],
                               known: Resolved, budget: int,
                               ) -> list[tuple[tuple[Element, int], list[tuple[int, int, str, object]]]]:
        """The tokens without the @mentions of members past the first ``budget`` (document order)."""
        kept_slots = []
        for slot, tokens in slots:
            kept = []
            for token in tokens:
                if token[2] == "mention":
                    if budget <= 0 or str(token[3]).lower() not in known.users:
                        continue
                    budget -= 1
                kept.append(token)
            kept_slots.append((slot, kept))
        return kept_slots

    @staticmethod
    def _exists(known: Resolved, kind: str, ident: int) -> bool:
        return ident in (known.questions if kind == "question" else known.articles)

    @staticmethod
    def _mark(a: Element, kind: str, ident: int) -> None:
        a.set("class", "post-link")
        a.set("data-link", f"{kind}:{ident}")

    @staticmethod
    def _get(slot: tuple[Element, int]) -> str:
        el, i = slot
        return (el.text if i < 0 else el[i].tail) or ""

    def _link_for(self, kind: str, value: object, text: str, known: Resolved) -> Element | None:
        if kind == "mention":
            user = known.users.get(str(value).lower())
            if user is None:
                return None
            a = Element("a", {"href": f"/users/{user[0]}", "class": "mention", "data-user": str(user[0])})
            a.text = AtomicString(f"@{user[1]}")
            return a
        if kind == "hash":
            tkind, ident, href = "question", cast(int, value), f"/questions/{value}"
        else:
            tkind, ident, href = cast(tuple[str, int, str], value)
        if not self._exists(known, tkind, ident):
            return None
        a = Element("a", {"href": href})
        a.text = AtomicString(text)
        self._mark(a, tkind, ident)
        return a

    def _rewrite(self, slot: tuple[Element, int], tokens: list[tuple[int, int, str, object]], known: Resolved) -> None:
        el, i = slot
        text = self._get(slot)
        pieces: list[Element] = []
        head, pos = text, None
        for start, end, kind, value in tokens:
            a = self._link_for(kind, value, text[start:end], known)
            if a is None:
                continue
            if pos is None:
                head = text[:start]
            else:
                pieces[-1].tail = text[pos:start]
            pieces.append(a)
            pos = end
        if not pieces:
            return
        pieces[-1].tail = text[pos:]
        if i < 0:
            el.text = head
            insert_at = 0
        else:
            el[i].tail = head
            insert_at = i + 1
        for offset, a in enumerate(pieces):
            el.insert(insert_at + offset, a)
