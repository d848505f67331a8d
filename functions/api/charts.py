"""Small server-side SVG charts for the KPI pages: a trend line (sparkline) and horizontal bars.

Plain strings, no dependency and no JavaScript (a chart library would cost the page's cold start more than
these two shapes are worth). Every text that goes into the SVG (labels, titles) is escaped here; numbers
are formatted by us. A chart of no data says so instead of drawing nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

Formatter = Callable[[float], str]


def _plain(value: float) -> str:
    return f"{value:g}"


def _empty(width: int, height: int, title: str, note: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart empty" role="img" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
            f'<text x="4" y="{height // 2 + 4}" font-size="11" fill="#666">{escape(note)}</text></svg>')


def sparkline(points: Sequence[tuple[str, float | None]], title: str, width: int = 220, height: int = 48,
              fmt: Formatter = _plain, empty: str = "no data") -> str:
    """A trend line over labelled points (a label per week, say); a point without a value (None) leaves a
    gap. Each drawn point carries its label and value as a tooltip."""
    known = [(i, v) for i, (_, v) in enumerate(points) if v is not None]
    if not known:
        return _empty(width, height, title, empty)
    low, high = min(v for _, v in known), max(v for _, v in known)
    span = (high - low) or 1.0
    pad = 4
    step = (width - 2 * pad) / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return pad + i * step, height - pad - (v - low) / span * (height - 2 * pad)

    segments: list[list[tuple[float, float]]] = [[]]
    for i, (_, v) in enumerate(points):
        if v is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append(xy(i, v))
    lines = "".join(
        '<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in seg) + '"/>' for seg in segments if len(seg) > 1)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#1f5fa8"><title>{escape(points[i][0])}: '
        f'{escape(fmt(v))}</title></circle>' for i, v in known for x, y in [xy(i, v)])
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart sparkline" role="img" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}"><title>{escape(title)}</title>{lines}{dots}</svg>')


def bars(rows: Sequence[tuple[str, float]], title: str, width: int = 360, fmt: Formatter = _plain,
         compare: Sequence[float | None] | None = None, empty: str = "no data") -> str:
    """Horizontal bars, one per labelled value, with the value written after the bar. `compare` (one value
    per row, e.g. the prior period) draws a thin grey bar under each for comparison."""
    if not rows:
        return _empty(width, 24, title, empty)
    row_h = 26 if compare is not None else 18
    label_w, value_w = 110, 80
    bar_w = width - label_w - value_w
    others = [c for c in (compare or []) if c is not None]
    top = max([abs(v) for _, v in rows] + [abs(c) for c in others] + [1e-9])
    height = row_h * len(rows) + 4
    parts = []
    for n, (label, value) in enumerate(rows):
        y = 2 + n * row_h
        length = abs(value) / top * bar_w
        parts.append(f'<text x="0" y="{y + 12}" font-size="11">{escape(label[:18])}</text>'
                     f'<rect x="{label_w}" y="{y + 2}" width="{length:.1f}" height="12" fill="#1f5fa8">'
                     f'<title>{escape(label)}: {escape(fmt(value))}</title></rect>'
                     f'<text x="{label_w + length + 4:.1f}" y="{y + 12}" font-size="11">{escape(fmt(value))}</text>')
        prior = compare[n] if compare is not None and n < len(compare) else None
        if prior is not None:
            parts.append(f'<rect x="{label_w}" y="{y + 16}" width="{abs(prior) / top * bar_w:.1f}" height="5" '
                         f'fill="#aaa"><title>{escape(label)} (before): {escape(fmt(prior))}</title></rect>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bars" role="img" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}"><title>{escape(title)}</title>{"".join(parts)}</svg>')
