"""The forum's python-markdown extension: processors, heading demotion, table alignment.

:class:`ForumMarkdown` replaces python-markdown's own inline processors by the bounded ones
built from forum.markup.guards, removes raw-HTML parsing, and (``inline=True``) builds the
comment dialect.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from markdown import Markdown
from markdown.extensions import Extension
from markdown.inlinepatterns import (
    AUTOLINK_RE,
    AUTOMAIL_RE,
    BACKTICK_RE,
    ESCAPE_RE,
    IMAGE_LINK_RE,
    IMAGE_REFERENCE_RE,
    LINE_BREAK_RE,
    LINK_RE,
    REFERENCE_RE,
    AutolinkInlineProcessor,
    AutomailInlineProcessor,
    EscapeInlineProcessor,
    ImageInlineProcessor,
    ImageReferenceInlineProcessor,
    InlineProcessor,
    LinkInlineProcessor,
    ReferenceInlineProcessor,
    ShortImageReferenceInlineProcessor,
    ShortReferenceInlineProcessor,
    SubstituteTagInlineProcessor,
)
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from .guards import (
    MAX_MARKDOWN_WORK,
    Backtick,
    BoundedLink,
    BoundedText,
    Budget,
    ChargeBlocks,
    Counted,
    Emphasis,
    FencedBlocks,
    TameBlocks,
)
from .links import LinkState, SiteLinks


class _Link(Counted, BoundedLink, BoundedText, LinkInlineProcessor):
    pass


class _Image(Counted, BoundedLink, BoundedText, ImageInlineProcessor):
    pass


class _Reference(Counted, BoundedText, ReferenceInlineProcessor):
    pass


class _ShortReference(Counted, BoundedText, ShortReferenceInlineProcessor):
    pass


class _ImageReference(Counted, BoundedText, ImageReferenceInlineProcessor):
    pass


class _ShortImageReference(Counted, BoundedText, ShortImageReferenceInlineProcessor):
    pass


class _Autolink(Counted, AutolinkInlineProcessor):
    pass


class _Escape(Counted, EscapeInlineProcessor):
    pass


class _HardBreak(Counted, SubstituteTagInlineProcessor):
    pass


class _Automail(Counted, AutomailInlineProcessor):
    """``<me@example.com>`` as a plain mailto link.

    python-markdown writes each character as an entity (``&#109;``) to "hide" the address:
    it fools no harvester, makes the HTML five times longer, and bleach pays per entity.
    """

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Element, int, int]:  # type: ignore[override]  # noqa: N802
        self.budget.spend()
        address = self.unescape(m.group(1)).removeprefix("mailto:")
        el = Element("a", {"href": f"mailto:{address}"})
        el.text = AtomicString(address)
        return el, m.start(0), m.end(0)


class _SimpleTag(Counted, InlineProcessor):
    """``<kbd>..</kbd>``, ``<sup>``, ``<sub>``, ``<del>`` (no attributes) as Markdown syntax.

    Content is inline Markdown, at most 300 characters so that an unclosed tag does not
    scan the whole paragraph. ``<br>`` matches with an empty group 1 (posts only).
    """

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Element, int, int]:  # type: ignore[override]  # noqa: N802
        self.budget.spend()
        if m.lastindex is None:
            return Element("br"), m.start(0), m.end(0)
        el = Element(m.group(1).lower())
        el.text = m.group(2)
        return el, m.start(0), m.end(0)


class _ShapeTree(Treeprocessor):
    """Demotes headings; turns table alignment styles into classes (no inline CSS)."""

    _ALIGN_RE = re.compile(r"text-align:\s*(left|center|right)")

    def run(self, root: Element) -> None:
        for el in root.iter():
            if el.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                el.tag = f"h{min(int(el.tag[1]) + 2, 6)}"
            elif el.tag in ("th", "td"):
                align = self._ALIGN_RE.search(el.attrib.pop("style", ""))
                if align:
                    el.set("class", f"align-{align.group(1)}")


class ForumMarkdown(Extension):
    """Wires the above into python-markdown; ``inline=True`` builds the comment dialect.

    The bounded processors and block guards it registers come from forum.markup.guards.
    """

    def __init__(self, inline: bool) -> None:
        super().__init__()
        self.inline = inline
        self.budget = Budget()
        self.links = LinkState()

    def reset(self) -> None:
        self.budget.left = MAX_MARKDOWN_WORK
        self.links.reset()

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802
        md.registerExtension(self)  # so that md.reset() resets the budget
        budget = self.budget
        inline = md.inlinePatterns
        md.preprocessors.deregister("html_block")
        inline.deregister("html")
        # Same names and priorities as python-markdown's own processors they replace.
        inline.register(Backtick(BACKTICK_RE, budget=budget), "backtick", 190)
        inline.register(_Escape(ESCAPE_RE, md, budget=budget), "escape", 180)
        inline.register(_Reference(REFERENCE_RE, md, budget=budget), "reference", 170)
        inline.register(_Link(LINK_RE, md, budget=budget), "link", 160)
        inline.register(_ShortReference(REFERENCE_RE, md, budget=budget), "short_reference", 130)
        inline.register(_Autolink(AUTOLINK_RE, md, budget=budget), "autolink", 120)
        inline.register(_Automail(AUTOMAIL_RE, md, budget=budget), "automail", 110)
        tags = r"(?i)<(kbd|sup|sub|del)>(.{1,300}?)</\1>" + ("" if self.inline else r"|<br\s*/?>")
        inline.register(_SimpleTag(tags, md, budget=budget), "simple_tags", 85)
        inline.register(Emphasis("*", "strong,em", md, budget=budget), "em_strong", 60)
        delimiters = md.delimiters
        assert delimiters is not None, "forum.markup needs Markdown 3.11's delimiter processor"
        delimiters.add("_", "strong,em", smart=True)  # as python-markdown does
        delimiters.add("~", "del", double=True)  # GFM ~~strikethrough~~
        md.treeprocessors.register(ChargeBlocks(md, budget), "forum_budget", 30)
        # After the inline patterns (20): code spans are elements by then, never looked into.
        md.treeprocessors.register(SiteLinks(md, self.links), "forum_site_links", 15)
        if self.inline:  # comments: one paragraph of inline Markdown, no images
            for name in ("image_link", "image_reference", "short_image_ref", "linebreak"):
                inline.deregister(name)
            for name in ("empty", "indent", "code", "hashheader", "setextheader", "hr",
                         "olist", "ulist", "quote", "reference"):
                md.parser.blockprocessors.deregister(name, strict=False)
            return
        inline.register(_Image(IMAGE_LINK_RE, md, budget=budget), "image_link", 150)
        inline.register(
            _ImageReference(IMAGE_REFERENCE_RE, md, budget=budget), "image_reference", 140
        )
        inline.register(
            _ShortImageReference(IMAGE_REFERENCE_RE, md, budget=budget), "short_image_ref", 125
        )
        inline.register(_HardBreak(LINE_BREAK_RE, "br", budget=budget), "linebreak", 100)
        md.preprocessors.register(
            FencedBlocks(md, {"lang_prefix": "language-"}), "fenced_code_block", 25
        )
        md.preprocessors.register(TameBlocks(md), "forum_tame_blocks", 15)
        md.treeprocessors.register(_ShapeTree(md), "forum_shape", 1)
