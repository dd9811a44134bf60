"""The comparison plots, drawn onto a matplotlib ``Figure`` handed in by the caller.

Plain functions of their data and a figure, with no Qt: tests and benchmarks can call them
on a ``matplotlib.figure.Figure`` directly. matplotlib is imported by whoever made the figure
(inside a job, never at module import).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.ui.panels.runs_metrics import ORDER, MetricRow, headline

MAX_METRIC_PANELS = 6
MAX_PARALLEL_METRICS = 5


@dataclass(frozen=True)
class Series:
    """One run in a plot: its label and colour index."""

    run_id: int
    label: str


def _color(i: int) -> str:
    return f"C{i % 10}"


def draw_metric_bars(
    figure: Any,
    series: Sequence[Series],
    rows: Mapping[int, Mapping[str, MetricRow]],
    metrics: Sequence[str],
) -> None:
    """One small panel per metric: a bar per run (the mean over folds, else the logged
    value) with an error bar of ± one standard deviation over the folds, folds as dots."""
    figure.clear()
    metrics = headline(metrics, MAX_METRIC_PANELS)
    if not metrics or not series:
        figure.text(0.5, 0.5, "No metric is shared by the selected runs.", ha="center")
        return
    cols = min(3, len(metrics))
    n_rows = (len(metrics) + cols - 1) // cols
    for m, key in enumerate(metrics):
        ax = figure.add_subplot(n_rows, cols, m + 1)
        for i, s in enumerate(series):
            row = rows.get(s.run_id, {}).get(key)
            if row is None or row.value is None:
                continue
            ax.bar(
                i,
                row.value,
                color=_color(i),
                alpha=0.8,
                yerr=row.std or None,
                capsize=4,
                label=s.label,
            )
            if len(row.folds) > 1:
                ax.plot(
                    [i] * len(row.folds), row.folds, "o", color="black", markersize=2.5, alpha=0.6
                )
        _zoom(ax, [rows.get(s.run_id, {}).get(key) for s in series])
        ax.set_title(key, fontsize=9)
        ax.set_xticks(range(len(series)))
        ax.set_xticklabels([f"#{s.run_id}" for s in series], fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = figure.axes[0].get_legend_handles_labels()
    if handles:
        figure.legend(
            handles, labels, loc="upper center", ncol=min(len(series), 5), fontsize=8, frameon=False
        )
    figure.tight_layout(rect=(0, 0, 1, 0.9))


def _zoom(ax: Any, rows: Sequence[MetricRow | None]) -> None:
    """Y limits around the values, their spread and folds, so that 0.912 and 0.921 do not
    look alike; from zero when zero is close anyway."""
    points: list[float] = []
    for row in rows:
        if row is None or row.value is None:
            continue
        spread = row.std or 0.0
        points += [row.value - spread, row.value + spread, *row.folds]
    if not points:
        return
    low, high = min(points), max(points)
    pad = (high - low) * 0.25 or abs(high) * 0.05 or 0.05
    bottom = 0.0 if low >= 0 and low - pad < 0.35 * high else low - pad
    ax.set_ylim(bottom, high + pad)


def draw_curves(
    figure: Any,
    series: Sequence[Series],
    curves: Mapping[int, Mapping[str, Mapping[str, Mapping[str, Any]]]],
    label: str = "",
) -> bool:
    """Overlaid ROC and precision-recall curves of one class (``label``; "" for a binary
    task); False when no run has a curve for it. ``curves``: run → kind → class → curve."""
    figure.clear()
    kinds = [
        k
        for k in ("roc", "pr")
        if any(label in curves.get(s.run_id, {}).get(k, {}) for s in series)
    ]
    if not kinds:
        return False
    for n, kind in enumerate(kinds):
        ax = figure.add_subplot(1, len(kinds), n + 1)
        for i, s in enumerate(series):
            curve = curves.get(s.run_id, {}).get(kind, {}).get(label)
            if not curve:
                continue
            area = curve.get("auc")
            name = "AUC" if kind == "roc" else "AP"
            text = s.label + (f" ({name} {area:.3f})" if area is not None else "")
            ax.plot(curve["x"], curve["y"], color=_color(i), label=text, linewidth=1.5)
        suffix = f" — class {label}" if label else ""
        if kind == "roc":
            ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=0.8)
            ax.set_xlabel("False positive rate")
            ax.set_ylabel("True positive rate")
            ax.set_title("ROC" + suffix, fontsize=10)
        else:
            ax.set_xlabel("Recall")
            ax.set_ylabel("Precision")
            ax.set_title("Precision-recall" + suffix, fontsize=10)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right" if kind == "roc" else "lower left")
    figure.tight_layout()
    return True


def parallel_axes(
    series: Sequence[Series],
    params: Mapping[int, Mapping[str, str]],
    metrics: Mapping[int, Mapping[str, float]],
    *,
    max_axes: int = 14,
) -> tuple[list[str], list[list[float | None]], list[list[str] | None], list[tuple[str, str]]]:
    """The axes of the parallel-coordinates plot: differing parameters, then metrics.

    Returns (axis names, per-run positions in [0, 1], per-axis category labels (None for a
    numeric axis), per-axis (low, high) labels). Numeric parameters are scaled to their range,
    categorical ones spread evenly.
    """
    names: list[str] = []
    keys = sorted({k for s in series for k in params.get(s.run_id, {})})
    for key in keys:
        present = [v for s in series if (v := params.get(s.run_id, {}).get(key)) is not None]
        if len(present) > 1 and len(set(present)) > 1:  # shared by some runs, and differing
            names.append(f"params.{key}")
    shared = (
        set.intersection(*(set(metrics.get(s.run_id, {})) for s in series)) if series else set()
    )
    metric_keys = headline([k for k in ORDER if k in shared] + sorted(shared - set(ORDER)),
                           MAX_PARALLEL_METRICS)  # fmt: skip
    names += [f"metrics.{k}" for k in metric_keys]
    names = names[:max_axes]
    positions: list[list[float | None]] = [[] for _ in series]
    categories: list[list[str] | None] = []
    ranges: list[tuple[str, str]] = []
    for name in names:
        kind, _, key = name.partition(".")
        source = params if kind == "params" else metrics
        raw = [source.get(s.run_id, {}).get(key) for s in series]
        numbers = [_number(v) for v in raw]
        if all(v is None or n is not None for v, n in zip(raw, numbers, strict=True)):
            present = [n for n in numbers if n is not None]
            low, high = (min(present), max(present)) if present else (0.0, 1.0)
            span = high - low
            for i, n in enumerate(numbers):
                positions[i].append(None if n is None else (0.5 if span == 0 else (n - low) / span))
            categories.append(None)
            ranges.append((f"{low:.4g}", f"{high:.4g}"))
        else:
            labels = sorted({str(v) for v in raw if v is not None})
            step = 1 / max(len(labels) - 1, 1)
            for i, v in enumerate(raw):
                positions[i].append(
                    None
                    if v is None
                    else (0.5 if len(labels) == 1 else labels.index(str(v)) * step)
                )
            categories.append(labels)
            ranges.append((labels[0] if labels else "", labels[-1] if labels else ""))
    return names, positions, categories, ranges


def draw_parallel(
    figure: Any,
    series: Sequence[Series],
    params: Mapping[int, Mapping[str, str]],
    metrics: Mapping[int, Mapping[str, float]],
) -> list[str]:
    """A parallel-coordinates plot of the runs; returns the axis names drawn."""
    figure.clear()
    names, positions, categories, ranges = parallel_axes(series, params, metrics)
    ax = figure.add_subplot(1, 1, 1)
    if len(names) < 2:
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            "Fewer than two differing parameters or shared metrics to draw.",
            ha="center",
            va="center",
        )
        return names
    xs = list(range(len(names)))
    for x in xs:
        ax.axvline(x, color="grey", linewidth=0.8, alpha=0.6)
    for i, s in enumerate(series):
        pts = [(x, y) for x, y in zip(xs, positions[i], strict=True) if y is not None]
        ax.plot(
            [p[0] for p in pts],
            [p[1] for p in pts],
            "-o",
            color=_color(i),
            label=s.label,
            linewidth=1.8,
            markersize=4,
            alpha=0.85,
        )
    for x, (cats, (low, high)) in enumerate(zip(categories, ranges, strict=True)):
        if cats is not None and len(cats) > 2:
            step = 1 / (len(cats) - 1)
            for j, cat in enumerate(cats):
                ax.annotate(
                    cat,
                    (x, j * step),
                    xytext=(3, 0),
                    textcoords="offset points",
                    fontsize=7,
                    va="center",
                    color="dimgrey",
                )
        else:
            ax.annotate(
                low,
                (x, 0),
                xytext=(0, -12),
                textcoords="offset points",
                fontsize=7,
                ha="center",
                color="dimgrey",
            )
            ax.annotate(
                high,
                (x, 1),
                xytext=(0, 5),
                textcoords="offset points",
                fontsize=7,
                ha="center",
                color="dimgrey",
            )
    ax.set_xticks(xs)
    ax.set_xticklabels([n.partition(".")[2] for n in names], rotation=20, ha="right", fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.12, 1.12)
    ax.set_xlim(-0.3, len(names) - 0.7)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.04), frameon=False,
              ncol=min(len(series), 4))  # fmt: skip
    figure.tight_layout()
    return names


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
