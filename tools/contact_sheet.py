"""Contact sheets of page screenshots, for looking at every page of a walk at once.

    python -m tools.contact_sheet SHOTS_DIR OUT_DIR [--per-sheet 12] [--width 1440]

Takes the PNGs of SHOTS_DIR (e.g. from FORUM_A11Y_SCREENSHOTS, docs/accessibility.md) whose
names end in ``-<width>.png``, scales each to a column, crops it to a readable height, labels it
with its file name and writes ``sheet-NNN.png`` files to OUT_DIR. Pillow is a dependency of the
forum already (uploads).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw


def sheets(shots: list[Path], out: Path, per_sheet: int, column: int, height: int) -> list[Path]:
    """Write the sheets and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    cols = 4
    rows = -(-per_sheet // cols)
    label = 16
    written: list[Path] = []
    for first in range(0, len(shots), per_sheet):
        batch = shots[first:first + per_sheet]
        sheet = Image.new("RGB", (cols * column, rows * (height + label)), "white")
        draw = ImageDraw.Draw(sheet)
        for i, path in enumerate(batch):
            with Image.open(path) as shot:
                scale = column / shot.width
                scaled = shot.convert("RGB").resize((column, max(1, int(shot.height * scale))))
            x, y = (i % cols) * column, (i // cols) * (height + label)
            sheet.paste(scaled.crop((0, 0, column, min(height, scaled.height))), (x, y + label))
            draw.text((x + 2, y + 2), path.stem[-60:], fill="black")
            draw.rectangle((x, y, x + column - 1, y + height + label - 1), outline="grey")
        target = out / f"sheet-{first // per_sheet + 1:03d}.png"
        sheet.save(target)
        written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shots", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-sheet", type=int, default=12)
    parser.add_argument("--width", type=int, default=1440, help="which screenshots: those taken at this width")
    args = parser.parse_args()
    shots = sorted(args.shots.glob(f"*-{args.width}.png"))
    narrow = args.width < 600
    written = sheets(shots, args.out, args.per_sheet, column=200 if narrow else 400, height=700 if narrow else 500)
    print(f"{len(shots)} screenshots on {len(written)} sheets in {args.out}")


if __name__ == "__main__":
    main()
