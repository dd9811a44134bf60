"""The pieces of the HTML report: number formatting, hand-written SVG plots and heatmap tables.

Every bar and heatmap cell carries a ``<title>`` (or ``title=``) so its value shows on hover.
Pure string building, no imports beyond the standard library.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

_ACCENT = "#3b7dd8"
_MISSING = "#33415c"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _anchor(name: str) -> str:
    return "col-" + re.sub(r"[^A-Za-z0-9_-]", "_", name)


def _fmt(v: Any, digits: int = 4) -> str:
    """A number for people: thousands separated (at most two decimals from 1,000 up), four
    significant digits below, no exponent between 0.001 and 10^15."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "—"
        a = abs(v)
        if a == 0:
            return "0"
        if a >= 1e15 or a < 1e-3:
            return f"{v:.{digits - 1}e}"
        if a >= 1e3:  # two decimals at most, trailing zeros dropped: 3,206.79 · 9,999.5 · 2,007
            return f"{v:,.2f}".rstrip("0").rstrip(".")
        return f"{v:.{digits}g}"
    return str(v)


def when(text: str | None) -> str:
    """An ISO timestamp as '2024-01-03 12:00:07' (no T, no zero fraction)."""
    if not text:
        return "—"
    s = str(text).replace("T", " ")
    if "." in s:
        head, frac = s.split(".", 1)
        s = head if not frac.strip("0") else f"{head}.{frac.rstrip('0')}"
    return s


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def _bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


# -- SVG pieces -------------------------------------------------------------------------------


def svg_bars(
    counts: list[float],
    tips: list[str],
    *,
    width: int = 420,
    height: int = 150,
    colour: str = _ACCENT,
    axis: tuple[str, str] | None = None,
) -> str:
    """Vertical bars (a histogram) with a hover title per bar and optional end labels."""
    if not counts:
        return ""
    top = max(counts) or 1
    pad_b = 16 if axis else 2
    inner = height - pad_b - 4
    w = width / len(counts)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    for i, (c, tip) in enumerate(zip(counts, tips, strict=True)):
        h = inner * c / top
        parts.append(
            f'<rect x="{i * w:.1f}" y="{4 + inner - h:.1f}" width="{max(w - 1, 0.8):.1f}"'
            f' height="{h:.1f}" fill="{colour}"><title>{_e(tip)}</title></rect>'
        )
    if axis:
        parts.append(
            f'<text x="0" y="{height - 3}" font-size="10" fill="#5b6475">'
            f'{_e(axis[0])}</text><text x="{width}" y="{height - 3}" font-size="10" '
            f'fill="#5b6475" text-anchor="end">{_e(axis[1])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_hbars(
    labels: list[str],
    values: list[float],
    *,
    width: int = 420,
    label_width: int = 130,
    fmt: Any = None,
    colour: str = _ACCENT,
) -> str:
    if not values:
        return ""
    row = 18
    height = row * len(values) + 4
    top = max(values) or 1
    bar_w = width - label_width - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        y = i * row + 2
        w = bar_w * v / top
        text = fmt(v) if fmt else _fmt(v)
        short = label if len(label) <= 20 else label[:19] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 13}" font-size="11" text-anchor="end">'
            f'{_e(short)}</text><rect x="{label_width}" y="{y + 2}" width="{max(w, 0.5):.1f}" '
            f'height="{row - 5}" fill="{colour}"><title>{_e(label)}: {_e(text)}</title></rect>'
            f'<text x="{label_width + w + 4:.1f}" y="{y + 13}" font-size="10" fill="#5b6475">'
            f"{_e(text)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _heat_colour(v: float | None, signed: bool) -> str:
    if v is None:
        return "#f0f0f0"
    v = max(-1.0, min(1.0, v))
    if signed:
        r, g, b = (178, 24, 43) if v > 0 else (33, 102, 172)
        a = abs(v)
    else:
        r, g, b = (33, 102, 172)
        a = max(0.0, v)
    mix = [round(255 + (c - 255) * a) for c in (r, g, b)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def heatmap_table(
    rows: list[str],
    cols: list[str],
    matrix: list[list[float | None]],
    measure: str,
    *,
    signed: bool = True,
) -> str:
    if not rows or not cols:
        return '<p class="note">Fewer than two columns to compare.</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = []
    for name, values in zip(rows, matrix, strict=True):
        cells = []
        for col, v in zip(cols, values, strict=True):
            colour = _heat_colour(v, signed)
            dark = v is not None and abs(v) > 0.6
            text = "" if v is None else f"{v:.2f}"
            cells.append(
                f'<td style="background:{colour};color:{"#fff" if dark else "#222"}" '
                f'title="{_e(name)} × {_e(col)}: {measure} {_e(text or "n/a")}">'
                f"{text}</td>"
            )
        body.append(f"<tr><th>{_e(name)}</th>{''.join(cells)}</tr>")
    return (
        f'<table class="heat"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def svg_missing_matrix(missing: dict[str, Any], width: int = 760, height: int = 260) -> str:
    matrix = missing["matrix"]
    names = matrix["columns"]
    n = max(len(matrix["rows"]), 1)
    if not names:
        return ""
    col_w = width / len(names)
    row_h = (height - 4) / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 90}" '
        f'viewBox="0 0 {width} {height + 90}" role="img">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#eef2f7"/>',
    ]
    for j, name in enumerate(names):
        rows = matrix["missing"].get(name, [])
        start = prev = None
        runs = []
        for r in rows:  # merge consecutive sampled rows into one rectangle
            if start is None:
                start = prev = r
            elif r == prev + 1:
                prev = r
            else:
                runs.append((start, prev))
                start = prev = r
        if start is not None:
            runs.append((start, prev))
        for a, b in runs:
            parts.append(
                f'<rect x="{j * col_w + 1:.1f}" y="{a * row_h:.2f}" '
                f'width="{col_w - 2:.1f}" height="{(b - a + 1) * row_h:.2f}" '
                f'fill="{_MISSING}"/>'
            )
        label = name if len(name) <= 16 else name[:15] + "…"
        x = j * col_w + col_w / 2
        parts.append(
            f'<text transform="translate({x:.1f},{height + 6}) rotate(45)" '
            f'font-size="10">{_e(label)}<title>{_e(name)}: {len(rows)} of {n} '
            f"sampled rows missing</title></text>"
        )
    parts.append("</svg>")
    return "".join(parts)
