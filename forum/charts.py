"""Geometry for the small SVG charts we draw on the server (no Flask, no database).

The template (templates/users/_rep_chart.html) turns a ``LineChart`` into SVG elements with
presentation attributes and classes only, so the strict CSP needs no inline styles.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 60, 14, 12, 30  # room for the y labels and the x labels


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str
    anchor: str = "middle"  # SVG text-anchor: the end labels stay inside the drawing


@dataclass(frozen=True)
class Frame:
    """The drawing's size and the plot area inside it (room for the labels around)."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float


@dataclass(frozen=True)
class LineChart(Frame):
    line: str  # SVG path data
    area: str
    last: tuple[float, float]
    x_ticks: list[Tick]
    y_ticks: list[Tick]


def nice_step(span: float, target: int = 4) -> int:
    """A round step (1, 2 or 5 times a power of ten) that cuts ``span`` into about ``target`` parts."""
    raw = max(span / target, 1)
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return int(m * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def line_chart(days: list[date], values: list[int], width: int = WIDTH, height: int = HEIGHT) -> LineChart:
    """Lay out one value per day: y axis from a round number below the minimum to one above
    the maximum, about five dated ticks on the x axis. Raises ValueError for no points."""
    if not values or len(days) != len(values):
        raise ValueError("one value per day, at least one day")
    left, right, top, bottom = LEFT, width - RIGHT, TOP, height - BOTTOM
    lo, hi = min(values), max(values)
    step = nice_step(hi - lo)
    y0 = math.floor(lo / step) * step
    y1 = max(math.ceil(hi / step) * step, y0 + step)

    def x(i: int) -> float:
        return left + (right - left) * (i / (len(values) - 1) if len(values) > 1 else 0.5)

    def y(v: float) -> float:
        return bottom - (bottom - top) * (v - y0) / (y1 - y0)

    points = [(x(i), y(v)) for i, v in enumerate(values)]
    if len(points) == 1:  # one day: a flat line across the plot reads better than a dot
        points = [(left, points[0][1]), (right, points[0][1])]
    line = "M" + " L".join(f"{_fmt(px)},{_fmt(py)}" for px, py in points)
    area = f"{line} L{_fmt(points[-1][0])},{_fmt(bottom)} L{_fmt(points[0][0])},{_fmt(bottom)} Z"
    y_ticks = [Tick(y(v), f"{v:,}") for v in range(y0, y1 + 1, step)]
    n = len(days)
    picks = sorted({round(k * (n - 1) / 4) for k in range(5)}) if n > 1 else [0]
    x_ticks = [Tick(x(i), f"{days[i]:%d %b}", "start" if i == 0 else "end" if i == n - 1 else "middle")
               for i in picks] if n > 1 else [Tick((left + right) / 2, f"{days[0]:%d %b}")]
    return LineChart(width, height, left, right, top, bottom, line, area, points[-1], x_ticks, y_ticks)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart(Frame):
    bars: list[Bar]  # one per label; a missing value is a bar of height 0
    x_ticks: list[Tick]
    y_ticks: list[Tick]


def bar_chart(labels: list[str], values: list[float | None], width: int = WIDTH, height: int = HEIGHT) -> BarChart:
    """Lay out one bar per label (weeks): y axis from 0 to a round number above the maximum, at
    most five labels on the x axis. Raises ValueError when labels and values differ in length."""
    if len(labels) != len(values):
        raise ValueError("one value per label")
    left, right, top, bottom = LEFT, width - RIGHT, TOP, height - BOTTOM
    hi = max([v for v in values if v is not None] or [0.0])
    step = nice_step(hi) if hi > 0 else 1
    y1 = max(math.ceil(hi / step) * step, step)
    slot = (right - left) / max(len(values), 1)
    bars = []
    for i, v in enumerate(values):
        h = 0.0 if v is None else (bottom - top) * max(v, 0.0) / y1
        bars.append(Bar(left + i * slot + slot * 0.15, bottom - h, slot * 0.7, h))
    n = len(labels)
    picks = sorted({round(k * (n - 1) / 4) for k in range(5)}) if n > 1 else [0]
    x_ticks = [Tick(left + i * slot + slot / 2, labels[i]) for i in picks] if labels else []
    y_ticks = [Tick(bottom - (bottom - top) * v / y1, f"{v:,}") for v in range(0, int(y1) + 1, int(step))]
    return BarChart(width, height, left, right, top, bottom, bars, x_ticks, y_ticks)
