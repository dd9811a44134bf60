"""Matplotlib figures of a profile document, drawn onto a ``Figure`` handed in by the caller.

Plain functions of document parts and a figure, with no Qt (the target's plots are in
``plots_target``): the Explore panel draws them on
its canvases, tests and scripts on a bare ``matplotlib.figure.Figure``. Nothing here reads
data: every number comes from the document. matplotlib is imported by whoever made the figure.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any

ACCENT = "#3b7dd8"
MISSING_COLOUR = "#33415c"
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _fmt(v: Any) -> str:
    from app.core.profiling.report_svg import _fmt as fmt

    return fmt(v)


def _short(text: Any, width: int = 18) -> str:
    s = str(text)
    return s if len(s) <= width else s[: width - 1] + "…"


def _empty(figure: Any, text: str) -> None:
    ax = figure.add_subplot(1, 1, 1)
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, color="dimgrey")


def _reset(figure: Any) -> None:
    """Clear the figure. Margins are set by each plot from its label lengths in pixels, not
    by a layout engine: constrained or tight layout doubles the cost of every redraw, and
    these figures are redrawn on the GUI thread whenever a canvas is resized."""
    figure.clear()
    with contextlib.suppress(ValueError, RuntimeError, AttributeError):
        figure.set_layout_engine("none")


def _size(figure: Any) -> tuple[float, float]:
    w, h = figure.get_size_inches() * figure.dpi
    return max(float(w), 120.0), max(float(h), 90.0)


def _margins(
    figure: Any,
    *,
    left_chars: int = 6,
    bottom_chars: int = 0,
    rotated: bool = False,
    right_px: float = 14,
    top_px: float = 26,
    bottom_px: float = 32,
) -> dict[str, float]:
    """Subplot margins (figure fractions) that leave room for labels of the given lengths."""
    w, h = _size(figure)
    char = 6.2  # pixels per character at the 8-point tick labels used here
    left = min(0.5, (left_chars * char + 26) / w)
    extra = bottom_chars * char * (0.72 if rotated else 0.0)
    bottom = min(0.5, (bottom_px + extra) / h)
    return {"left": left, "right": 1 - right_px / w, "top": 1 - top_px / h, "bottom": bottom}


def _stairs(ax: Any, counts: Sequence[float], edges: Sequence[float], colour: str) -> None:
    """A histogram as one filled step artist (50 bars are drawn as fast as one)."""
    ax.stairs(counts, edges, fill=True, color=colour, alpha=0.85)
    ax.stairs(counts, edges, color="white", linewidth=0.3, alpha=0.6)


def _style(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", alpha=0.25)


# -- columns ----------------------------------------------------------------------------------


def draw_column(figure: Any, col: dict[str, Any]) -> None:
    """The main plots of one column, chosen by what its statistics hold."""
    _reset(figure)
    if col.get("count", 0) == 0:
        _empty(figure, f"{col['name']}: every value is missing.")
    elif col.get("numeric"):
        draw_numeric(figure, col)
    elif col.get("datetime"):
        draw_datetime(figure, col)
    elif col.get("boolean"):
        draw_top_values(figure, col, rows=1)
    elif col.get("text"):
        draw_top_values(figure, col, rows=2)
    elif col.get("top_values"):
        draw_top_values(figure, col, rows=1)
    else:
        _empty(figure, "\n".join(col.get("notes") or ["Nothing to draw."]))


def draw_numeric(figure: Any, col: dict[str, Any]) -> None:
    num = col["numeric"]
    hist = num["histogram"]
    edges, counts = hist["edges"], hist["counts"]
    grid = figure.add_gridspec(
        2, 1, height_ratios=(5, 1), hspace=0.08, **_margins(figure, left_chars=7)
    )
    ax = figure.add_subplot(grid[0])
    _stairs(ax, counts, edges, ACCENT)
    ax.set_ylim(bottom=0)
    q = num["quantiles"]
    for key, style in (("0.5", "-"), ("0.25", ":"), ("0.75", ":")):
        ax.axvline(q[key], color="#222", linestyle=style, linewidth=1)
    ax.axvline(num["mean"], color="#d8573b", linewidth=1, label=f"mean {_fmt(num['mean'])}")
    ax.set_title(f"{col['name']}: histogram ({len(counts)} bins)", fontsize=9)
    ax.set_ylabel("rows", fontsize=8)
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    _style(ax)
    ax.tick_params(labelbottom=False)
    box = figure.add_subplot(grid[1], sharex=ax)
    _box(box, num)
    box.set_yticks([])
    for side in ("top", "right", "left"):
        box.spines[side].set_visible(False)
    box.tick_params(labelsize=8)


def _horizontal() -> dict[str, Any]:
    """bxp's keyword for horizontal boxes: ``orientation`` since matplotlib 3.10."""
    import matplotlib

    major, minor = (int(p) for p in matplotlib.__version__.split(".")[:2])
    return {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}


def _box(ax: Any, num: dict[str, Any]) -> None:
    """A box plot from stored quantiles: box q25–q75, whiskers at the IQR fences (clipped to
    the data), dots at the 1 % and 99 % quantiles."""
    q = num["quantiles"]
    out = num["outliers"]
    lo = max(num["min"], out["low"])
    hi = min(num["max"], out["high"])
    ax.bxp(
        [
            {
                "med": q["0.5"],
                "q1": q["0.25"],
                "q3": q["0.75"],
                "whislo": lo,
                "whishi": hi,
                "fliers": [num["min"], num["max"]] if out["count"] else [],
                "mean": num["mean"],
            }
        ],
        **_horizontal(),
        showmeans=True,
        widths=0.6,
        patch_artist=True,
        boxprops={"facecolor": "#dbe7f7", "edgecolor": "#555"},
        meanprops={
            "marker": "D",
            "markersize": 4,
            "markerfacecolor": "#d8573b",
            "markeredgecolor": "#d8573b",
        },
        flierprops={"marker": "o", "markersize": 3},
    )


def draw_top_values(figure: Any, col: dict[str, Any], rows: int = 1) -> None:
    top = col.get("top_values") or []
    labels = [_short(v) if v != "" else "(empty)" for v, _ in top][::-1]
    counts = [c for _, c in top][::-1]
    rest = col["count"] - sum(counts)
    if rest > 0:
        labels.insert(0, f"other ({col['distinct'] - len(top):,} values)")
        counts.insert(0, rest)
    longest = max((len(s) for s in labels), default=4)
    figure.subplots_adjust(hspace=0.45, **_margins(figure, left_chars=longest))
    ax = figure.add_subplot(rows, 1, 1)
    ax.barh(range(len(counts)), counts, color=ACCENT, alpha=0.85)
    ax.set_yticks(range(len(counts)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_title(f"{col['name']}: most frequent values", fontsize=9)
    ax.set_xlabel("rows", fontsize=8)
    _style(ax)
    ax.grid(axis="x", alpha=0.25)
    ax.grid(axis="y", visible=False)
    text = col.get("text") or {}
    if rows > 1 and text.get("length_histogram"):
        hist = text["length_histogram"]
        ax2 = figure.add_subplot(rows, 1, 2)
        _stairs(ax2, hist["counts"], hist["edges"], "#7aa6e0")
        ax2.set_ylim(bottom=0)
        ax2.set_title("length in characters", fontsize=9)
        ax2.set_ylabel("values", fontsize=8)
        _style(ax2)


def draw_datetime(figure: Any, col: dict[str, Any]) -> None:
    dt = col["datetime"]
    period = dt["period"]
    has_hour = bool(dt.get("hour"))
    grid = figure.add_gridspec(
        2,
        2 if has_hour else 1,
        height_ratios=(3, 2),
        hspace=0.45,
        wspace=0.25,
        **_margins(figure, left_chars=6),
    )
    ax = figure.add_subplot(grid[0, :])
    counts = period["counts"]
    _stairs(ax, counts, [i - 0.5 for i in range(len(counts) + 1)], ACCENT)
    ax.set_ylim(bottom=0)
    starts = period["starts"]
    step = max(1, len(starts) // 6)
    ax.set_xticks(range(0, len(starts), step))
    ax.set_xticklabels([starts[i] for i in range(0, len(starts), step)], fontsize=7)
    empty = period.get("empty_periods", 0)
    ax.set_title(
        f"{col['name']}: rows per {period['unit']}" + (f" ({empty} empty)" if empty else ""),
        fontsize=9,
    )
    _style(ax)
    ax2 = figure.add_subplot(grid[1, 0])
    ax2.bar(_WEEKDAYS, dt["weekday"], color="#7aa6e0")
    ax2.set_title("by weekday", fontsize=9)
    _style(ax2)
    if has_hour:
        ax3 = figure.add_subplot(grid[1, 1])
        ax3.bar(range(24), dt["hour"], color="#7aa6e0")
        ax3.set_xticks(range(0, 24, 3))
        ax3.set_title("by hour of day", fontsize=9)
        _style(ax3)


# -- associations -----------------------------------------------------------------------------


def draw_heatmap(
    figure: Any,
    rows: Sequence[str],
    cols: Sequence[str],
    matrix: Sequence[Sequence[float | None]],
    title: str,
    *,
    vmin: float = -1.0,
    vmax: float = 1.0,
    annotate: bool | None = None,
) -> Any:
    """A labelled heatmap; returns the image so a caller can map a mouse position to a cell."""
    import numpy as np

    _reset(figure)
    if not rows or not cols:
        _empty(figure, f"{title}: fewer than two columns to compare.")
        return None
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    row_labels = [_short(r, 16) for r in rows]
    col_labels = [_short(c, 14) for c in cols]
    grid = figure.add_gridspec(
        1,
        2,
        width_ratios=(1, 0.035),
        wspace=0.04,
        **_margins(
            figure,
            left_chars=max(len(s) for s in row_labels),
            right_px=46,
            bottom_chars=max(len(s) for s in col_labels),
            rotated=True,
            bottom_px=14,
        ),
    )
    ax = figure.add_subplot(grid[0, 0])
    cax = figure.add_subplot(grid[0, 1])
    cmap = "RdBu_r" if vmin < 0 else "Blues"
    image = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    size = 8 if max(len(rows), len(cols)) <= 12 else 6
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(col_labels, rotation=45, ha="right", fontsize=size)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(row_labels, fontsize=size)
    ax.set_title(title, fontsize=9)
    if annotate is None:
        annotate = len(rows) * len(cols) <= 225
    if annotate:
        for i in range(len(rows)):
            for j in range(len(cols)):
                v = data[i, j]
                if math.isfinite(v):
                    strong = abs(v) > 0.6 * max(abs(vmin), abs(vmax))
                    ax.text(
                        j,
                        i,
                        f"{v:.2f}",
                        ha="center",
                        va="center",
                        fontsize=6.5,
                        color="white" if strong else "#222",
                    )
    figure.colorbar(image, cax=cax).ax.tick_params(labelsize=7)
    return image


# -- missing values ---------------------------------------------------------------------------


def draw_missing_matrix(
    figure: Any, missing: dict[str, Any], columns: list[dict[str, Any]]
) -> None:
    import numpy as np

    _reset(figure)
    matrix = missing["matrix"]
    names = matrix["columns"]
    n = len(matrix["rows"])
    grid = np.zeros((n, len(names)))
    for j, name in enumerate(names):
        for i in matrix["missing"].get(name, []):
            grid[i, j] = 1.0
    gs = figure.add_gridspec(
        2,
        1,
        height_ratios=(1, 5),
        hspace=0.12,
        **_margins(
            figure,
            left_chars=11,
            bottom_chars=max((len(_short(c, 14)) for c in names), default=4),
            rotated=True,
            bottom_px=14,
        ),
    )
    top = figure.add_subplot(gs[0])
    shares = [c["missing_share"] for c in columns]
    top.bar(range(len(names)), shares, color=MISSING_COLOUR, width=0.8)
    top.set_xlim(-0.5, len(names) - 0.5)
    top.set_ylim(0, max(max(shares, default=0), 0.01))
    top.set_xticks([])
    top.set_ylabel("missing", fontsize=7)
    top.yaxis.set_major_formatter(_percent_formatter())
    _style(top)
    ax = figure.add_subplot(gs[1])
    from matplotlib.colors import ListedColormap

    ax.imshow(
        grid,
        aspect="auto",
        interpolation="nearest",
        cmap=ListedColormap(["#eef2f7", MISSING_COLOUR]),
        vmin=0,
        vmax=1,
    )
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([_short(c, 14) for c in names], rotation=45, ha="right", fontsize=7)
    rows = matrix["rows"]
    ticks = [0, n // 2, n - 1] if n > 2 else list(range(n))
    ax.set_yticks(ticks)
    ax.set_yticklabels([f"row {rows[t]:,}" for t in ticks], fontsize=7)
    ax.set_title(f"{n:,} sampled rows in file order (dark: missing)", fontsize=9)


def _percent_formatter() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)
