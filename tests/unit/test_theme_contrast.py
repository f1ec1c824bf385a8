"""Both colour palettes of static/css/app.css (and the code palettes of code.css) meet WCAG AA.

The palettes are read from the stylesheets themselves: the light one from ``:root``, the dark
one from ``[data-theme="dark"]``, and the "system" copy inside ``@media (prefers-color-scheme:
dark)`` must be the same list. Every pair of a text colour on the background it is used on
must reach 4.5:1 (docs/theming.md).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_CSS = (ROOT / "static" / "css" / "app.css").read_text(encoding="utf-8")
CODE_CSS = (ROOT / "static" / "css" / "code.css").read_text(encoding="utf-8")

_VAR_RE = re.compile(r"(--[a-z0-9-]+)\s*:\s*([^;]+);")


def _block(css: str, selector: str) -> str:
    start = css.index(selector + " {") + len(selector) + 2
    return css[start:css.index("}", start)]


def palette(css: str, selector: str) -> dict[str, str]:
    return {name: value.strip() for name, value in _VAR_RE.findall(_block(css, selector))}


LIGHT = palette(APP_CSS, ":root")
DARK = LIGHT | palette(APP_CSS, '[data-theme="dark"]')
SYSTEM_DARK = LIGHT | palette(APP_CSS[APP_CSS.index("@media (prefers-color-scheme: dark)"):],
                              ':root:not([data-theme="light"])')


def luminance(colour: str) -> float:
    hex_ = colour.lstrip("#")
    if len(hex_) == 3:
        hex_ = "".join(c * 2 for c in hex_)
    assert re.fullmatch(r"[0-9a-fA-F]{6}", hex_), colour

    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# (text, background) as the stylesheet uses them.
TEXT_PAIRS = [
    ("--text", "--bg"), ("--text", "--surface"), ("--text", "--surface-2"),
    ("--muted", "--bg"), ("--muted", "--surface"), ("--muted", "--surface-2"),
    ("--primary", "--bg"), ("--primary", "--surface"),  # links
    ("--primary-dark", "--primary-soft"), ("--primary-dark", "--bg"),  # link hover, current nav item
    ("--text", "--primary-soft"), ("--text", "--success-soft"), ("--text", "--warning-soft"), ("--text", "--danger-soft"),
    ("--on-primary", "--primary"), ("--on-primary", "--primary-dark"),  # primary buttons, active tabs
    ("--on-success", "--success"), ("--on-danger", "--danger"), ("--on-danger", "--danger-dark"),
    ("--on-accent", "--teal"), ("--on-accent", "--purple"),  # staff, official and pinned badges
    ("--success", "--surface"), ("--success", "--success-soft"), ("--danger", "--surface"),
    ("--warning", "--surface"), ("--warning-text", "--warning-soft"),
    ("--teal-text", "--surface"), ("--diff-add-text", "--success-soft"), ("--diff-del-text", "--danger-soft"),
    ("--hero-text", "--hero-from"), ("--hero-text", "--hero-to"), ("--hero-soft", "--hero-to"),
    ("--gold-text", "--gold-soft"), ("--silver-text", "--surface-2"), ("--bronze-text", "--bronze-soft"),
    ("--text", "--mark"), ("--text", "--input-bg"),
]


@pytest.mark.parametrize("name,colours", [("light", LIGHT), ("dark", DARK)])
@pytest.mark.parametrize("text,background", TEXT_PAIRS)
def test_text_is_readable_in_both_themes(name: str, colours: dict[str, str], text: str, background: str) -> None:
    ratio = contrast(colours[text], colours[background])
    assert ratio >= 4.5, f"{name}: {text} {colours[text]} on {background} {colours[background]} is {ratio:.2f}:1"


def test_the_dark_palette_is_one_list_for_the_toggle_and_the_system() -> None:
    assert SYSTEM_DARK == DARK
    assert DARK["--bg"] != LIGHT["--bg"] and DARK["--text"] != LIGHT["--text"]
    # Every colour the dark palette changes exists in the light one (no variable only one side knows).
    assert set(palette(APP_CSS, '[data-theme="dark"]')) <= set(LIGHT)


def test_the_stylesheet_has_no_literal_colours_outside_the_palettes() -> None:
    rules = APP_CSS[APP_CSS.index("*, *::before, *::after"):]
    rules = re.sub(r"\.avatar-hue-\d+ \{ background: #[0-9a-f]{6}; \}", "", rules)  # identity colours, both themes
    assert re.findall(r"#[0-9a-fA-F]{3,6}\b|rgba?\(", rules) == []


def _code_palette(prefix: str) -> tuple[str, dict[str, str]]:
    background = re.search(re.escape(prefix) + r" \{ --code-bg: (#[0-9a-f]{6})", CODE_CSS)
    assert background
    colours = dict(re.findall(re.escape(prefix) + r" pre > code \.([a-z0-9]+) \{ color: (#[0-9A-Fa-f]{6})", CODE_CSS))
    return background.group(1), colours


@pytest.mark.parametrize("prefix", [":root", '[data-theme="dark"]'])
def test_code_tokens_are_readable_on_the_code_background(prefix: str) -> None:
    background, colours = _code_palette(prefix)
    assert len(colours) > 20
    low = {cls: round(contrast(c, background), 2) for cls, c in colours.items() if contrast(c, background) < 4.5}
    assert low == {}, low
    text = DARK["--text"] if "dark" in prefix else LIGHT["--text"]
    code_text = re.search(re.escape(prefix) + r" \{ --code-bg: #[0-9a-f]{6}; --code-text: ([^;]+);", CODE_CSS)
    assert code_text
    assert contrast(text if code_text.group(1).startswith("var(") else code_text.group(1), background) >= 4.5
