"""A feed (forum/services/feeds.py) written as Atom XML, with feedgen.

feedgen builds the document with lxml, so titles, names and bodies are escaped by the XML
serializer, never by string formatting: a title such as ``<script>`` & co arrives in a reader as
that text. Bodies go out as ``<content type="html">``: the HTML the site rendered and sanitised
at write time, escaped once more as XML text, as RFC 4287 asks.
"""
from __future__ import annotations

import re

from feedgen.feed import FeedGenerator

from .services.feeds import Feed

CONTENT_TYPE = "application/atom+xml; charset=utf-8"
# XML 1.0 has no place for most C0 controls, lone surrogates or U+FFFE/U+FFFF; lxml refuses
# them, and a feed must not fail because a post holds one. They are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def render(feed: Feed, site_name: str) -> bytes:
    """The feed as a UTF-8 Atom document. Entries keep the order ``feed`` gives them."""
    fg = FeedGenerator()
    fg.id(feed.id)
    fg.title(_text(f"{feed.title} · {site_name}"))
    fg.link(href=feed.link, rel="alternate", type="text/html")
    fg.link(href=feed.id, rel="self", type="application/atom+xml")
    fg.updated(feed.updated)
    fg.generator(site_name)
    for item in feed.entries:
        entry = fg.add_entry(order="append")
        entry.id(item.id)
        entry.title(_text(item.title))
        entry.link(href=item.link, rel="alternate", type="text/html")
        entry.published(item.published)
        entry.updated(item.updated)
        entry.author(name=_text(item.author))
        entry.content(_text(item.html), type="html")
        for term in item.categories:
            entry.category(term=term)
    body: bytes = fg.atom_str(pretty=False)
    return body
