"""``modeldesk explain NAME@V --rows FILE [--json]``: why the model answers what it answers.

    modeldesk explain churn@champion --rows three-customers.csv
    modeldesk explain churn@3 --rows rows.parquet --json > why.json

One attribution per row and input column plus the expected value, in the model's raw output
(log-odds of the positive class, per class for several, the value for a regressor), where
expected value + the row's attributions = its raw output. Boosted trees (XGBoost, LightGBM,
CatBoost) use their library's exact TreeSHAP; other tree models need ``shap``
(``pip install 'modeldesk[explain]'``).
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli import add_common

#: columns shown per row in the text output (the --json output has them all)
SHOWN = 5


def register(commands: Any) -> None:
    p = commands.add_parser("explain", help="per-row attributions of a model version")
    p.add_argument("ref", metavar="NAME@V|NAME@ALIAS", help="model version, e.g. churn@champion")
    p.add_argument("--rows", required=True, metavar="FILE", help="the rows to explain")
    add_common(p)
    p.set_defaults(handler=explain)


def explain(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.core.explanations import explain_file

    result = explain_file(services.registry, args.ref, args.rows)
    expected = result["expected_value"]
    unit = {"log_odds": f"log-odds of '{result.get('class')}'", "margin": "margin per class"}
    lines = [
        f"{result['model']} on {result['rows']} row(s) of {args.rows}; attributions in "
        f"{unit.get(result['output'], 'the predicted value')}; expected value "
        f"{_fmt(expected)}."
    ]
    for i, row in enumerate(result["explanations"], start=1):
        lines.append(f"row {i}: prediction {row['prediction']} (raw {_fmt(row['raw'])})")
        attributions = row["attributions"]
        if "classes" in result:  # several classes: the predicted class's attributions
            attributions = attributions[str(row["prediction"])]
        top = sorted(attributions.items(), key=lambda kv: -abs(kv[1]))[:SHOWN]
        lines.extend(f"    {name:<28} {value:+.4f}" for name, value in top)
    return result, "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(f"{v:.4f}" for v in value) + "]"
    return f"{value:.4f}"
