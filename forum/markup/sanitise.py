"""bleach side of the pipeline: tag allowlist, attribute and link filters, linkify.

Sanitises python-markdown's *output* HTML (defence in depth: every tag reaching bleach was
built by the parser) and linkifies bare URLs.
"""

from __future__ import annotations

import html
import re
import threading
from functools import partial
from typing import Any

import bleach
from bleach.html5lib_shim import Filter, getTreeWalker  # type: ignore[attr-defined]  # re-exports the stubs miss
from bleach.linkifier import LinkifyFilter

from .guards import MAX_SANITISER_WORK
from .highlight import allow_span_class

INLINE_TAGS = frozenset({"a", "strong", "em", "del", "code", "kbd", "sup", "sub"})
BLOCK_TAGS = frozenset(
    {"p", "br", "hr", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "li", "img",
     "table", "thead", "tbody", "tr", "th", "td"}
)
PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
_ALIGN_CLASSES = frozenset({"align-left", "align-center", "align-right"})
# Set by forum.markup.links on links to this site's threads and on @mentions.
_LINK_CLASSES = frozenset({"post-link", "mention"})
_DATA_LINK_RE = re.compile(r"(?:question|article):[0-9]{1,9}")
_DIGITS_RE = re.compile(r"[0-9]{1,9}")
#: An image uploaded to this site (forum/services/uploads.py): the only relative image source.
LOCAL_IMAGE_RE = re.compile(r"/uploads/[A-Za-z0-9_-]{22}\.(?:png|jpg|gif|webp)")

#: Per-render options, set by forum.markup around each render (the cleaners are per thread).
options = threading.local()


def remote_images_shown() -> bool:
    """Whether this render shows images from other hosts (else they become links)."""
    return bool(getattr(options, "remote_images", False))


# ----------------------------------------------------------------------------- sanitising

_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.\-]*):")
_URL_NOISE_RE = re.compile(r"[\s\x00-\x20\x7f-\x9f]+|[^\x00-\x7f]")
_LANGUAGE_NOISE_RE = re.compile(r"[^a-z0-9+#\-]")
# Bare URLs worth linking: written with a scheme or "www.". bleach's default pattern also
# links "config.py" (.py is a TLD) and backtracks catastrophically on "((((...": 30,000 "("
# took 13 s. This one is linear, keeps balanced parentheses ("wiki/Foo_(bar)") but not the
# ")" of a surrounding remark, and does not end on trailing punctuation.
_URL_CHAR = r"""[^\s()<>"`{}|\\^]"""
BARE_URL_RE = re.compile(
    rf"""\b(?:https?://|www\.)(?:{_URL_CHAR}|\({_URL_CHAR}*\))*"""
    rf"""(?:[^\s()<>"`{{}}|\\^.,;:!?'*_]|\({_URL_CHAR}*\))""",
    re.IGNORECASE,
)


def _normalise_url(value: str) -> str:
    """The URL as a browser would read its scheme, made harder to sneak anything past.

    Entity-decodes until stable (``&amp;#106;avascript:`` counts as ``javascript:``), drops
    whitespace, controls and non-ASCII (browsers skip some of them inside a scheme), reads
    ``\\`` as ``/`` (browsers do) and lowercases.
    """
    for _ in range(5):
        decoded = html.unescape(value)
        if decoded == value:
            break
        value = decoded
    return _URL_NOISE_RE.sub("", value).replace("\\", "/").lower()


def _scheme(value: str) -> str | None:
    match = _SCHEME_RE.match(_normalise_url(value))
    return match.group(1) if match else None


def _is_safe_href(value: str) -> bool:
    scheme = _scheme(value)
    return scheme is None or scheme in PROTOCOLS


def _is_external(href: str) -> bool:
    return _scheme(href) is not None or _normalise_url(href).startswith("//")


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    """bleach attribute policy: which attribute may stay on which allowed tag."""
    if tag == "a":
        if name == "class":
            return value in _LINK_CLASSES
        if name == "data-link":
            return _DATA_LINK_RE.fullmatch(value) is not None
        if name == "data-user":
            return _DIGITS_RE.fullmatch(value) is not None
        return name == "title" or (name == "href" and _is_safe_href(value))
    if tag == "img":
        return name in ("alt", "title") or (name == "src" and (
            _scheme(value) in ("http", "https") or LOCAL_IMAGE_RE.fullmatch(value) is not None))
    if tag == "code":
        return name == "class"  # reduced to a language class by _TidyFilter
    if tag == "span":  # only ever inside highlighted code
        return allow_span_class(name, value)
    if tag in ("th", "td"):
        return name == "class" and value in _ALIGN_CLASSES
    if tag == "ol":
        return name == "start" and value.isdigit() and len(value) <= 9
    return False


def _language_class(value: str) -> str | None:
    for token in html.unescape(value).lower().split():
        if token.startswith("language-"):
            name = _LANGUAGE_NOISE_RE.sub("", token[len("language-") :])[:40]
            return f"language-{name}" if name else None
    return None


def _image_tokens(attrs: dict[Any, str], in_link: bool) -> list[dict[str, Any]]:
    """What an allowed ``<img>`` becomes: this site's uploads (and, with REMOTE_IMAGES, any
    image) an ``<img loading="lazy">``; an image from another host a link to it (its alt
    text, or the address), or just that text inside a link, so no reader's browser fetches
    from that host (it would learn who reads the page, a private case included)."""
    src = attrs[(None, "src")]
    if LOCAL_IMAGE_RE.fullmatch(src) or remote_images_shown():
        attrs[(None, "loading")] = "lazy"
        return [{"type": "EmptyTag", "name": "img", "data": attrs}]
    text = {"type": "Characters", "data": attrs.get((None, "alt")) or src}
    if in_link:
        return [text]
    return [{"type": "StartTag", "name": "a", "data": {(None, "href"): src, (None, "class"): "remote-image"}},
            text, {"type": "EndTag", "name": "a"}]


class _TidyFilter(Filter):  # type: ignore[misc]  # Filter is untyped (see the import)
    """Post-sanitiser touch-ups: code language class; refused images become alt text; images
    from other hosts become links (see _image_tokens)."""

    def __iter__(self) -> Any:
        links = 0
        for token in super().__iter__():
            kind, name, attrs = token["type"], token.get("name"), token.get("data") or {}
            if name == "a" and kind in ("StartTag", "EndTag"):
                links = links + 1 if kind == "StartTag" else max(0, links - 1)
            if kind == "StartTag" and name == "code" and attrs:
                language = _language_class(attrs.pop((None, "class"), ""))
                if language:
                    attrs[(None, "class")] = language
            elif kind == "EmptyTag" and name == "img":
                if (None, "src") not in attrs:
                    if attrs.get((None, "alt")):
                        yield {"type": "Characters", "data": attrs[(None, "alt")]}
                    continue
                yield from _image_tokens(attrs, links > 0)
                continue
            yield token


def _link_callback(attrs: dict[Any, str], new: bool) -> dict[Any, str] | None:
    """bleach linkify callback: decides which links survive and sets ``rel``.

    Returning None turns the link back into its text; used for links whose href the
    sanitiser refused, so that no dead ``<a>`` is left behind.
    """
    href = attrs.get((None, "href"))
    if href is None or not _is_safe_href(href):
        return None
    if _is_external(href):
        attrs[(None, "rel")] = LINK_REL
    else:
        attrs.pop((None, "rel"), None)
    return attrs


class _EtreeWalker(getTreeWalker("etree")):  # type: ignore[misc]
    """html5lib's etree walker with an O(1) step back up to the parent.

    The vendored walker finds a parent's position with ``list(grandparent).index(parent)``
    (after an ``assert ... count(parent) == 1``) every time it leaves an element, so 5,000
    table rows or 7,500 top-level headings cost rows x rows: 0.8 s of a 1.5 s render.
    Here positions are computed once per grandparent.
    """

    def __init__(self, tree: Any) -> None:
        super().__init__(tree)
        self._positions: dict[int, dict[int, int]] = {}

    def getParentNode(self, node: Any) -> Any:  # noqa: N802
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            return (element, key, parents, None) if parents else element
        parent = parents.pop()
        if not parents:
            return parent
        grandparent = parents[-1]
        positions = self._positions.get(id(grandparent))
        if positions is None:
            positions = {id(child): i for i, child in enumerate(grandparent)}
            self._positions[id(grandparent)] = positions
        return parent, positions[id(parent)], parents, None


def new_cleaner(tags: frozenset[str]) -> bleach.Cleaner:
    linkify = partial(
        LinkifyFilter,
        callbacks=[_link_callback],  # type: ignore[list-item]  # bleach drops a link on None; stubs miss it
        skip_tags={"pre", "code"},
        parse_email=False,
        url_re=BARE_URL_RE,
    )
    # strip=False: a tag outside the allowlist would show as escaped text instead of
    # vanishing with what the user typed. No "style" allowed, so no css_sanitizer needed.
    cleaner = bleach.Cleaner(
        tags=tags,
        attributes=_allow_attribute,
        protocols=PROTOCOLS,
        strip=False,
        strip_comments=True,
        filters=[_TidyFilter, linkify],
    )
    cleaner.walker = _EtreeWalker  # type: ignore[assignment]  # bleach keeps the class; stubs say instance
    return cleaner


def sanitise_html(cleaner: bleach.Cleaner, body: str | None) -> str | None:
    """bleach-clean python-markdown's output, or None when that would take too long.

    Callers replace None with html.escape(source): plain text is safe by construction
    and needs no sanitiser (whose cost is exactly the problem then).
    """
    if body is None:
        return None
    # ">" needs no escaping in text or quoted attributes, but python-markdown writes "&gt;"
    # and bleach pays an entity lookup for each. bleach escapes it again on output.
    body = body.replace("&gt;", ">")
    if body.count("<") + body.count("&") > MAX_SANITISER_WORK:
        return None
    return cleaner.clean(body).strip()
