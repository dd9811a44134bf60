"""The model card: what a reviewer or auditor reads before trusting a version.

Built from the store (details, data and its profile summary, metrics with their fold spread,
plots, signature, environment, lineage, audit history) plus the fields people write
(``EDITABLE``, kept on the version and edited in the panel). Rendered as Markdown and as a
self-contained HTML page (plots embedded), both from the same ``build_card`` dictionary.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.core.store.models import DatasetRow, DatasetVersionRow, ProfileRow

if TYPE_CHECKING:
    from app.core.registry.entities import AuditEntry, ModelVersion
    from app.core.store import Store
    from app.core.tracking import Run

EDITABLE = {
    "intended_use": "Intended use",
    "out_of_scope": "Out-of-scope uses",
    "limitations": "Limitations and known failure modes",
    "ethical_considerations": "Ethical considerations",
    "owner": "Owner and contact",
}
KEY_PACKAGES = ("scikit-learn", "skops", "numpy", "pandas", "scipy", "pyarrow")


def build_card(
    store: Store,
    v: ModelVersion,
    *,
    run: Run | None,
    lineage: dict[str, Any],
    audit: list[AuditEntry],
) -> dict[str, Any]:
    """The card's dictionary from the version, its run (None when it has none or it was
    removed), its lineage graph and its audit history; the data part is read from ``store``."""
    from app.core.training.metrics import CV_PREFIX, STD_SUFFIX, TEST_PREFIX

    data: dict[str, Any] = {}
    if v.dataset_version_id is not None:
        with store.session() as s:
            row = s.get(DatasetVersionRow, v.dataset_version_id)
            if row is not None:
                data = {
                    "dataset": f"{s.get(DatasetRow, row.dataset_id).name}@{row.version}",
                    "rows": row.rows,
                    "columns": row.cols,
                    "source": row.source_path,
                    "sha256": row.snapshot_sha256,
                }
                profile = s.scalar(
                    select(ProfileRow)
                    .where(ProfileRow.dataset_version_id == row.id)
                    .order_by(ProfileRow.id.desc())
                    .limit(1)
                )
                if profile is not None:
                    summary = dict(profile.summary or {})
                    summary.pop("samples", None)
                    data["profile"] = summary
    metrics = []
    for key, value in sorted(v.metrics.items()):
        if key.endswith(STD_SUFFIX) or key.startswith((CV_PREFIX, TEST_PREFIX)):
            continue
        metrics.append(
            {
                "metric": key,
                "mean": value,
                "std": v.metrics.get(key + STD_SUFFIX),
                "test": v.metrics.get(TEST_PREFIX + key),
            }
        )
    plots: list[dict[str, str]] = []
    validation = None
    if run is not None:
        plots = [{"name": a.name, "sha256": a.sha256} for a in run.artifacts if a.kind == "plot"]
        validation = run.tags.get("validation")
    return {
        "title": f"Model card: {v.ref}",
        "details": {
            "model": v.model_name,
            "version": v.version,
            "status": v.status,
            "aliases": v.aliases,
            "estimator": v.estimator,
            "task": v.task,
            "target": v.target,
            "classes": v.output.get("classes"),
            "created_at": v.created_at.isoformat(),
            "source": v.source,
            "run_id": v.run_id,
            "recipe": v.recipe,
            "artifact_sha256": v.artifact_sha256,
            "tags": v.tags,
        },
        "description": v.description,
        "fields": {key: v.card.get(key, "") for key in EDITABLE},
        "data": data,
        "validation": validation,
        "metrics": metrics,
        "plots": plots,
        "signature": v.signature.get("columns", []),
        "environment": {
            "python": v.python_version,
            "packages": {k: v.packages[k] for k in KEY_PACKAGES if k in v.packages},
            "all_packages": len(v.packages),
        },
        "lineage": lineage,
        "audit": [e.to_dict() for e in audit],
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _sections(card: dict[str, Any]) -> list[tuple[str, list[tuple[str, Any]] | str | None]]:
    """(heading, rows or text) in reading order; shared by both renderings."""
    details = [
        (k.replace("_", " "), _fmt(v)) for k, v in card["details"].items() if v not in ("", [], {})
    ]
    out: list[tuple[str, Any]] = [("Model details", details)]
    out.append(("Description", card["description"] or "_No description yet._"))
    for key, heading in EDITABLE.items():
        out.append((heading, card["fields"].get(key) or "_Not written yet._"))
    data = card["data"]
    rows = [(k, _fmt(v)) for k, v in data.items() if k != "profile"]
    for key, value in (data.get("profile") or {}).items():
        rows.append((f"profile: {key.replace('_', ' ')}", _fmt(value)))
    out.append(("Training data", rows or "No dataset version is recorded (imported model)."))
    return out


def render_markdown(card: dict[str, Any]) -> str:
    lines = [f"# {card['title']}", ""]
    for heading, body in _sections(card):
        lines += [f"## {heading}", ""]
        if isinstance(body, list):
            lines += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in body]
        else:
            lines.append(str(body))
        lines.append("")
    lines += ["## Metrics", ""]
    if card["validation"]:
        lines += [f"Validation: {card['validation']}.", ""]
    lines += ["| metric | mean | ± std (folds) | held-out test |", "|---|---|---|---|"]
    lines += [
        f"| {m['metric']} | {_fmt(m['mean'])} | {_fmt(m['std'])} | {_fmt(m['test'])} |"
        for m in card["metrics"]
    ]
    lines += ["", "## Plots", ""]
    lines += [f"- {p['name']} (artifact {p['sha256'][:12]}…)" for p in card["plots"]] or ["None."]
    lines += ["", "## Input signature", "", "| column | dtype | treatment | values |"]
    lines.append("|---|---|---|---|")
    for c in card["signature"]:
        values = (
            ", ".join(c["categories"][:10])
            if c.get("categories")
            else (f"{_fmt(c.get('min'))} … {_fmt(c.get('max'))}" if "min" in c else "")
        )
        lines.append(f"| {c['name']} | {c.get('dtype')} | {c.get('treatment')} | {values} |")
    env = card["environment"]
    lines += ["", "## Environment", "", f"Python {env['python']}; {env['all_packages']} packages."]
    lines += [f"- {k} {v}" for k, v in env["packages"].items()]
    lines += ["", "## Lineage", ""]
    labels = {
        n["id"]: f"{n['kind'].replace('_', ' ')} {n['label']}" for n in card["lineage"]["nodes"]
    }
    lines += [f"- {labels[e['from']]} → {labels[e['to']]}" for e in card["lineage"]["edges"]] or [
        "- " + labels.get(card["lineage"]["nodes"][0]["id"], "")
    ]
    lines += ["", "## Audit history", "", "| when | who | action | subject | details |"]
    lines.append("|---|---|---|---|---|")
    for e in card["audit"]:
        detail = ", ".join(f"{k}={v}" for k, v in e["details"].items() if k != "policy")
        lines.append(
            f"| {e['at'][:19]} | {e['actor']} | {e['action']} | {e['subject']} | {detail} |"
        )
    return "\n".join(lines) + "\n"


_CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#222}table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;
padding:.25rem .5rem;text-align:left;vertical-align:top}h2{border-bottom:1px solid #ddd;
margin-top:2rem}img{max-width:28rem;margin:.5rem}.muted{color:#777}"""


def render_html(card: dict[str, Any], png: Callable[[str], bytes] | None = None) -> str:
    """A self-contained page; ``png(sha256)`` returns a plot's bytes to embed."""
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{e(card['title'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(card['title'])}</h1>",
    ]

    def table(head: list[str], rows: list[list[Any]]) -> str:
        out = "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"
        for row in rows:
            out += "<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>"
        return out + "</table>"

    for heading, body in _sections(card):
        parts.append(f"<h2>{e(heading)}</h2>")
        if isinstance(body, list):
            parts.append(table(["", ""], [list(r) for r in body]))
        else:
            text = str(body)
            muted = text.startswith("_") and text.endswith("_")
            parts.append(
                f"<p class='muted'>{e(text.strip('_'))}</p>"
                if muted
                else "".join(f"<p>{e(p)}</p>" for p in text.split("\n\n"))
            )
    parts.append("<h2>Metrics</h2>")
    if card["validation"]:
        parts.append(f"<p>Validation: {e(card['validation'])}.</p>")
    parts.append(
        table(
            ["metric", "mean", "± std (folds)", "held-out test"],
            [
                [m["metric"], _fmt(m["mean"]), _fmt(m["std"]), _fmt(m["test"])]
                for m in card["metrics"]
            ],
        )
    )
    parts.append("<h2>Plots</h2>")
    for plot in card["plots"]:
        if png is not None:
            try:
                data = base64.b64encode(png(plot["sha256"])).decode()
            except Exception:  # a missing plot must not cost the whole card
                parts.append(f"<p class='muted'>{e(plot['name'])}: file unavailable.</p>")
                continue
            parts.append(f"<img alt='{e(plot['name'])}' src='data:image/png;base64,{data}'>")
        else:
            parts.append(f"<p>{e(plot['name'])}</p>")
    if not card["plots"]:
        parts.append("<p class='muted'>None.</p>")
    parts.append("<h2>Input signature</h2>")
    parts.append(
        table(
            ["column", "dtype", "treatment", "missing", "values"],
            [
                [
                    c["name"],
                    c.get("dtype"),
                    c.get("treatment"),
                    c.get("missing", ""),
                    ", ".join(c["categories"][:10])
                    if c.get("categories")
                    else (f"{_fmt(c.get('min'))} … {_fmt(c.get('max'))}" if "min" in c else ""),
                ]
                for c in card["signature"]
            ],
        )
    )
    env = card["environment"]
    parts.append("<h2>Environment</h2>")
    parts.append(f"<p>Python {e(env['python'])}; {env['all_packages']} packages recorded.</p>")
    parts.append(table(["package", "version"], [[k, v] for k, v in env["packages"].items()]))
    parts.append("<h2>Lineage</h2>")
    labels = {
        n["id"]: f"{n['kind'].replace('_', ' ')} {n['label']}" for n in card["lineage"]["nodes"]
    }
    parts.append(
        "<ul>"
        + "".join(
            f"<li>{e(labels[x['from']])} → {e(labels[x['to']])}</li>"
            for x in card["lineage"]["edges"]
        )
        + "</ul>"
    )
    parts.append("<h2>Audit history</h2>")
    parts.append(
        table(
            ["when", "who", "action", "subject", "details"],
            [
                [
                    x["at"][:19],
                    x["actor"],
                    x["action"],
                    x["subject"],
                    ", ".join(f"{k}={v}" for k, v in x["details"].items() if k != "policy"),
                ]
                for x in card["audit"]
            ],
        )
    )
    parts.append("</body></html>")
    return "\n".join(parts)
