"""Charts as inline SVG, drawn by the report itself: no JavaScript, no network, no fonts to fetch.

Every label goes through `gapctl.escape.html` (XML text and attributes, bidi characters shown)
and every number through `gapctl.figures.figure` (half-up, as in the tables beside the chart);
sizes are fixed so the same data gives the same bytes.
"""

from __future__ import annotations

from decimal import Decimal

from gapctl.escape import html as escape
from gapctl.escape import plain
from gapctl.figures import figure
from gapctl.textwidth import width

BAR = "#3b6ea5"
MUTED = "#9aa9b8"
FONT = ('font-family="Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, WenQuanYi Micro Hei, sans-serif" '
        'font-size="12"')


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{figure(x)}" y="{figure(y)}" text-anchor="{anchor}" {FONT}{extra}>{escape(text)}</text>'


def column_chart(title: str, bars: list[tuple[str, int]]) -> str:
    """Vertical bars with counts: grade distribution, score distribution."""
    width_px, height_px, top, bottom, left = 480, 220, 28, 36, 30
    plot_h = height_px - top - bottom
    n = max(len(bars), 1)
    slot = (width_px - left - 10) / n
    biggest = max([count for _, count in bars] + [1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
             f'viewBox="0 0 {width_px} {height_px}" role="img" aria-label="{escape(title)}">',
             _text(left, 16, title, extra=' font-weight="bold"'),
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width_px - 10}" y2="{top + plot_h}" stroke="{MUTED}"/>']
    for i, (label, count) in enumerate(bars):
        h = plot_h * count / biggest
        x = left + i * slot + slot * 0.15
        y = top + plot_h - h
        parts.append(f'<rect x="{figure(x)}" y="{figure(y)}" width="{figure(slot * 0.7)}" height="{figure(h)}" '
                     f'fill="{BAR}"/>')
        parts.append(_text(x + slot * 0.35, y - 4, str(count), "middle"))
        parts.append(_text(x + slot * 0.35, top + plot_h + 16, label, "middle"))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, bars: list[tuple[str, Decimal]], maximum: Decimal = Decimal(100),
              suffix: str = "%") -> str:
    """Horizontal bars with values: attainment per indicator."""
    label_w = max([width(plain(label)) for label, _ in bars] + [4]) * 7 + 12
    row_h, top = 22, 28
    width_px = label_w + 300
    height_px = top + row_h * len(bars) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
             f'viewBox="0 0 {width_px} {height_px}" role="img" aria-label="{escape(title)}">',
             _text(4, 16, title, extra=' font-weight="bold"')]
    for i, (label, value) in enumerate(bars):
        y = top + i * row_h
        share = max(Decimal(0), min(value / maximum, Decimal(1))) if maximum else Decimal(0)
        w = float(share) * 240
        parts.append(_text(label_w - 6, y + 14, label, "end"))
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="240" height="14" fill="#e8edf2"/>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{figure(w)}" height="14" fill="{BAR}"/>')
        parts.append(_text(label_w + 246, y + 14, f"{figure(value, 1)}{suffix}"))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, points: list[tuple[str, Decimal | None, str]], maximum: Decimal = Decimal(100)) -> str:
    """One value per round joined by a line, each labelled as published: a unit's totals over the years.
    `points`: (round, value or None where the round did not score it, the label above the point)."""
    top, bottom, left, right = 28, 40, 36, 24
    slot = 110
    width_px = max(320, left + right + slot * len(points))
    height_px = 210
    plot_h = height_px - top - bottom
    maximum = maximum if maximum > 0 else Decimal(100)

    def y_of(value: Decimal) -> Decimal:
        share = max(Decimal(0), min(value / maximum, Decimal(1)))
        return top + plot_h * (1 - share)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
             f'viewBox="0 0 {width_px} {height_px}" role="img" aria-label="{escape(title)}">',
             _text(4, 16, title, extra=' font-weight="bold"')]
    for value in (Decimal(0), maximum):  # the scale's bottom and top
        y = y_of(value)
        dashed = "" if value == 0 else ' stroke-dasharray="3 3"'
        parts.append(f'<line x1="{left}" y1="{figure(y)}" x2="{width_px - right}" y2="{figure(y)}" '
                     f'stroke="{MUTED}"{dashed}/>')
        parts.append(_text(left - 4, y + 4, figure(value, 0), "end"))
    xs = [left + slot * i + slot / 2 for i in range(len(points))]
    run: list[str] = []
    for x, (_label, value, _shown) in zip(xs, points, strict=True):
        if value is None:
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{BAR}" stroke-width="2"/>')
            run = []
            continue
        run.append(f"{figure(x)},{figure(y_of(value))}")
    if len(run) > 1:
        parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{BAR}" stroke-width="2"/>')
    for x, (label, value, shown) in zip(xs, points, strict=True):
        parts.append(_text(x, height_px - bottom + 18, label, "middle"))
        if value is None:
            parts.append(_text(x, top + plot_h - 6, "—", "middle", f' fill="{MUTED}"'))
            continue
        y = y_of(value)
        parts.append(f'<circle cx="{figure(x)}" cy="{figure(y)}" r="4" fill="{BAR}"/>')
        parts.append(_text(x, y - 9, shown, "middle"))
    parts.append("</svg>")
    return "".join(parts)


ACCENT = "#c0392b"  # the rank as computed


def rank_intervals(title: str, rows: list[tuple[str, int, int, int, int, bool]], most: int,
                   legend: tuple[str, str, str]) -> str:
    """One row per unit, in the order given: the ranks it took in 90 per cent of the draws (a bar from
    the 5th to the 95th percentile), its median rank (a dot) and its rank as computed (a red tick);
    bars of units whose rank or grade is not robust in the darker colour. `rows`: (label, rank, median,
    low, high, robust); `most`: the lowest rank (the axis runs 1…most); `legend`: the words for the
    bar, the dot and the tick."""
    label_w = max([width(plain(label)) for label, *_ in rows] + [4]) * 7 + 12
    row_h, top, plot_w = 18, 46, 360
    bar, dot, tick = legend
    legend_w = 34 + (width(plain(bar)) + width(plain(dot)) + width(plain(tick))) * 7 + 62
    width_px = label_w + max(plot_w + 24, legend_w)
    height_px = top + row_h * len(rows) + 34
    span = max(most - 1, 1)

    def x(rank: int) -> float:
        return label_w + 6 + (rank - 1) * plot_w / span if most > 1 else label_w + 6 + plot_w / 2

    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, most) if most / s <= 12)
    ticks = sorted({1} | set(range(step, most + 1, step)))
    if most - ticks[-1] >= step / 2:  # the last rank, unless a label close by would overlap it
        ticks.append(most)
    bottom = top + row_h * len(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
             f'viewBox="0 0 {width_px} {height_px}" role="img" aria-label="{escape(title)}">',
             _text(4, 16, title, extra=' font-weight="bold"')]
    for at_rank in ticks:
        parts.append(f'<line x1="{figure(x(at_rank))}" y1="{top - 4}" x2="{figure(x(at_rank))}" y2="{bottom}" '
                     f'stroke="#e8edf2"/>')
        parts.append(_text(x(at_rank), top - 8, str(at_rank), "middle"))
    for i, (label, rank, median, low, high, robust) in enumerate(rows):
        y = top + i * row_h + row_h / 2
        colour = MUTED if robust else BAR
        parts.append(_text(label_w - 6, y + 4, label, "end"))
        parts.append(f'<line x1="{figure(x(low))}" y1="{figure(y)}" x2="{figure(x(high))}" y2="{figure(y)}" '
                     f'stroke="{colour}" stroke-width="6" stroke-linecap="round"/>')
        parts.append(f'<circle cx="{figure(x(median))}" cy="{figure(y)}" r="3" fill="#ffffff" stroke="{colour}"/>')
        parts.append(f'<line x1="{figure(x(rank))}" y1="{figure(y - 7)}" x2="{figure(x(rank))}" y2="{figure(y + 7)}" '
                     f'stroke="{ACCENT}" stroke-width="2"/>')
    y = bottom + 20
    parts.append(f'<line x1="{label_w + 6}" y1="{y - 4}" x2="{label_w + 26}" y2="{y - 4}" stroke="{BAR}" '
                 f'stroke-width="6" stroke-linecap="round"/>')
    parts.append(_text(label_w + 34, y, bar))
    at = label_w + 34 + width(plain(bar)) * 7 + 16
    parts.append(f'<circle cx="{figure(at)}" cy="{y - 4}" r="3" fill="#ffffff" stroke="{BAR}"/>')
    parts.append(_text(at + 8, y, dot))
    at += 8 + width(plain(dot)) * 7 + 16
    parts.append(f'<line x1="{figure(at)}" y1="{y - 11}" x2="{figure(at)}" y2="{y + 3}" stroke="{ACCENT}" '
                 f'stroke-width="2"/>')
    parts.append(_text(at + 6, y, tick))
    parts.append("</svg>")
    return "".join(parts)
