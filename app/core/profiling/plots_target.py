"""Matplotlib figures of a profile's target analysis: balance or distribution with the
mutual-information ranking, and one feature against the target. See ``plots``."""

from __future__ import annotations

import itertools
from typing import Any

from app.core.profiling.plots import (
    ACCENT,
    _fmt,
    _horizontal,
    _margins,
    _reset,
    _short,
    _size,
    _stairs,
    _style,
)


def draw_target(figure: Any, target: dict[str, Any], column: dict[str, Any] | None) -> None:
    """Class balance (bars) or the distribution of a numeric target, with MI ranking."""
    _reset(figure)
    feats = target["features"][:15][::-1]
    w, _ = _size(figure)
    longest = max((len(_short(f["name"])) for f in feats), default=4)
    figure.subplots_adjust(
        wspace=0.1 + (longest * 6.2 + 20) / w * 2, **_margins(figure, left_chars=6, bottom_px=48)
    )
    ax = figure.add_subplot(1, 2, 1)
    if target["task"] == "classification":
        classes = target["classes"][:20]
        ax.bar(
            [_short(c["value"], 10) for c in classes], [c["count"] for c in classes], color=ACCENT
        )
        ax.set_title(f"{target['column']}: class balance", fontsize=9)
        ax.tick_params(axis="x", rotation=30)
    elif column and column.get("numeric"):
        hist = column["numeric"]["histogram"]
        _stairs(ax, hist["counts"], hist["edges"], ACCENT)
        ax.set_ylim(bottom=0)
        ax.set_title(f"{target['column']}: distribution", fontsize=9)
    _style(ax)
    ax2 = figure.add_subplot(1, 2, 2)
    ax2.barh(
        [_short(f["name"]) for f in feats],
        [f["mutual_information"] or 0 for f in feats],
        color="#7aa6e0",
    )
    ax2.set_title("mutual information with the target (nats)", fontsize=9)
    ax2.tick_params(labelsize=7)
    _style(ax2)


def draw_feature_vs_target(figure: Any, target: dict[str, Any], feature: dict[str, Any]) -> None:
    _reset(figure)
    plot = feature.get("plot") or {}
    kind = plot.get("kind")
    labels = (
        [_short(g) for g in plot.get("groups", [])]
        if kind == "categories"
        else [_short(b["group"]) for b in plot.get("boxes", [])]
    )
    legend = kind in ("histogram", "categories")
    figure.subplots_adjust(
        **_margins(
            figure,
            left_chars=max((len(s) for s in labels), default=7),
            right_px=110 if legend else 14,
            bottom_px=40,
        )
    )
    ax = figure.add_subplot(1, 1, 1)
    name, tname = feature["name"], target["column"]
    if kind == "histogram":  # numeric feature, class target: share of each class per bin
        groups = plot["groups"]
        counts = plot["counts"]
        centres = [(float(a) + float(b)) / 2 for a, b in itertools.pairwise(groups)]
        width = (float(groups[-1]) - float(groups[0])) / max(len(centres), 1)
        bottom = [0.0] * len(counts)
        totals = [sum(r) or 1 for r in counts]
        for k, cls in enumerate(plot["classes"]):
            share = [r[k] / t for r, t in zip(counts, totals, strict=True)]
            ax.bar(
                centres,
                share,
                width=width,
                bottom=bottom,
                label=_short(cls, 12),
                color=f"C{k % 10}",
                alpha=0.85,
            )
            bottom = [b + s for b, s in zip(bottom, share, strict=True)]
        ax.set_xlabel(name, fontsize=8)
        ax.set_ylabel(f"share of {tname}", fontsize=8)
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    elif kind == "categories":
        groups = plot["groups"]
        counts = plot["counts"]
        totals = [sum(r) or 1 for r in counts]
        left = [0.0] * len(groups)
        for k, cls in enumerate(plot["classes"]):
            share = [r[k] / t for r, t in zip(counts, totals, strict=True)]
            ax.barh(
                [_short(g) for g in groups],
                share,
                left=left,
                label=_short(cls, 12),
                color=f"C{k % 10}",
                alpha=0.85,
            )
            left = [a + s for a, s in zip(left, share, strict=True)]
        ax.set_xlabel(f"share of {tname}", fontsize=8)
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    elif kind == "binned":
        pts = plot.get("scatter") or []
        if pts:
            ax.scatter(
                [p[0] for p in pts],
                [p[1] for p in pts],
                s=5,
                alpha=0.35,
                color="grey",
                label="sample",
            )
        bins = plot["bins"]
        xs = [b["x"] for b in bins]
        ax.fill_between(
            xs,
            [b["q"][1] for b in bins],
            [b["q"][3] for b in bins],
            color=ACCENT,
            alpha=0.2,
            label="25–75 %",
        )
        ax.plot(
            xs, [b["mean"] for b in bins], "-o", color=ACCENT, markersize=3, label=f"mean {tname}"
        )
        ax.set_xlabel(name, fontsize=8)
        ax.set_ylabel(tname, fontsize=8)
        ax.legend(fontsize=7, frameon=False)
    elif kind == "boxes":
        boxes = plot["boxes"]
        stats = [
            {
                "label": _short(b["group"]),
                "whislo": b["q"][0],
                "q1": b["q"][1],
                "med": b["q"][2],
                "q3": b["q"][3],
                "whishi": b["q"][4],
                "mean": b["mean"],
                "fliers": [],
            }
            for b in boxes
        ]
        ax.bxp(
            stats,
            **_horizontal(),
            showmeans=True,
            patch_artist=True,
            boxprops={"facecolor": "#dbe7f7"},
        )
        ax.set_xlabel(tname, fontsize=8)
    else:
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"No plot for {name}.", ha="center", va="center")
        return
    ax.set_title(f"{tname} by {name} (MI {_fmt(feature.get('mutual_information'))})", fontsize=9)
    _style(ax)
