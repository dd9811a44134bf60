"""Data-quality warnings from a computed profile, each naming the columns it is about.

Every rule reads the profile document and the thresholds in ``ProfileSettings.thresholds``;
nothing here touches the data again. A warning is a dict: ``kind``, ``severity`` ('warning'
for what will likely break a model, 'info' for what deserves a look), ``columns``,
``message`` (a sentence), ``value`` and ``threshold``.
"""

from __future__ import annotations

from typing import Any

from app.core.profiling.settings import ProfileSettings

KINDS = {
    "empty": "Empty column",
    "constant": "Constant",
    "near_constant": "Near-constant",
    "high_missing": "Many missing values",
    "high_cardinality": "High cardinality",
    "identifier": "Identifier-like",
    "skewed": "Skewed",
    "infinite": "Infinite values",
    "mixed_types": "Mixed types",
    "duplicates": "Duplicate rows",
    "high_correlation": "Highly correlated",
    "imbalanced_target": "Imbalanced target",
    "leakage": "Possible target leakage",
}
SEVERE = {
    "empty",
    "constant",
    "infinite",
    "mixed_types",
    "duplicates",
    "imbalanced_target",
    "leakage",
}


def _w(
    kind: str, columns: list[str], message: str, value: Any = None, threshold: Any = None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": KINDS[kind],
        "severity": "warning" if kind in SEVERE else "info",
        "columns": columns,
        "message": message,
        "value": value,
        "threshold": threshold,
    }


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%" if share < 0.999 or share == 1 else f"{share * 100:.2f}%"


def collect(document: dict[str, Any], settings: ProfileSettings) -> list[dict[str, Any]]:
    t = settings.thresholds
    target = settings.target
    out: list[dict[str, Any]] = []
    for col in document["columns"]:
        out.extend(_column_warnings(col, settings, is_target=col["name"] == target))
    dup = document["overview"].get("duplicates") or {}
    if dup.get("count") and dup["share"] > t.duplicates:
        out.append(
            _w(
                "duplicates",
                [],
                f"{dup['count']:,} rows ({_pct(dup['share'])}) repeat an earlier row.",
                dup["share"],
                t.duplicates,
            )
        )
    assoc = document.get("associations") or {}
    for pair in assoc.get("pairs", []):
        value = pair.get("value")
        if value is None or abs(value) < t.high_correlation:
            continue
        names = {
            "pearson": "Pearson r",
            "spearman": "Spearman ρ",
            "cramers_v": "Cramér's V",
            "correlation_ratio": "correlation ratio η",
        }
        out.append(
            _w(
                "high_correlation",
                [pair["a"], pair["b"]],
                f"{pair['a']} and {pair['b']} are highly associated "
                f"({names[pair['method']]} {value:.3f}).",
                value,
                t.high_correlation,
            )
        )
    tgt = document.get("target")
    if tgt:
        ratio = tgt.get("imbalance_ratio")
        if tgt["task"] == "classification" and ratio is not None and ratio < t.imbalance:
            smallest = min(tgt["classes"], key=lambda c: c["count"])
            out.append(
                _w(
                    "imbalanced_target",
                    [tgt["column"]],
                    f"The target {tgt['column']} is imbalanced: its smallest class "
                    f"'{smallest['value']}' has {_pct(smallest['share'])} of the rows "
                    f"({ratio:.3f} × the largest).",
                    ratio,
                    t.imbalance,
                )
            )
        for feat in tgt.get("features", []):
            out.extend(_leakage(feat, tgt, t.leakage))
    order = {"warning": 0, "info": 1}
    out.sort(key=lambda w: order[w["severity"]])
    return out


def _column_warnings(
    col: dict[str, Any], settings: ProfileSettings, is_target: bool
) -> list[dict[str, Any]]:
    t = settings.thresholds
    name, role = col["name"], col["role"]
    rows, present = col["rows"], col["count"]
    out = []
    if present == 0:
        return [
            _w("empty", [name], f"{name} has no values: all {rows:,} rows are missing.", 1.0, None)
        ]
    if col["missing_share"] >= t.high_missing:
        out.append(
            _w(
                "high_missing",
                [name],
                f"{name} is missing in {col['missing']:,} rows ({_pct(col['missing_share'])}).",
                col["missing_share"],
                t.high_missing,
            )
        )
    distinct = col.get("distinct")
    top = col.get("top_values") or []
    if distinct == 1:
        out.append(
            _w(
                "constant",
                [name],
                f"{name} holds one value ({top[0][0]!r}) in every present row."
                if top
                else f"{name} holds a single value.",
                1,
                None,
            )
        )
    elif distinct and top and present:
        share = top[0][1] / present
        if share >= t.near_constant:
            out.append(
                _w(
                    "near_constant",
                    [name],
                    f"{name} is nearly constant: {top[0][0]!r} is {_pct(share)} of the "
                    "present values.",
                    share,
                    t.near_constant,
                )
            )
    if role == "categorical" and distinct and distinct > t.high_cardinality:
        out.append(
            _w(
                "high_cardinality",
                [name],
                f"{name} has {distinct:,} distinct categories.",
                distinct,
                t.high_cardinality,
            )
        )
    unique_share = (distinct or 0) / present if present else 0.0
    integral = col["physical_type"].startswith(("int", "uint", "string", "large_string"))
    if not is_target and (
        role == "identifier"
        or (
            integral
            and role in ("numeric", "categorical")
            and present >= 20
            and unique_share >= t.identifier_unique
        )
    ):
        out.append(
            _w(
                "identifier",
                [name],
                f"{name} looks like an identifier: {_pct(unique_share)} of its values "
                "are distinct, so it carries no pattern a model can learn.",
                unique_share,
                t.identifier_unique,
            )
        )
    num = col.get("numeric") or {}
    skew = num.get("skewness")
    if role == "numeric" and skew is not None and abs(skew) >= t.skewness:
        out.append(
            _w(
                "skewed",
                [name],
                f"{name} is highly skewed (skewness {skew:.2f}); consider a log or rank transform.",
                skew,
                t.skewness,
            )
        )
    if col.get("infinite"):
        n_inf = col["infinite"]
        if n_inf == present:
            text = f"{name} holds only infinite values ({n_inf:,})."
        else:
            text = f"{name} holds {n_inf:,} infinite values."
        out.append(_w("infinite", [name], text, n_inf, None))
    kinds = (col.get("text") or {}).get("kinds") or {}
    if kinds and role in ("categorical", "text", "identifier"):
        out.extend(_mixed(name, kinds, t.mixed_types))
    return out


def _mixed(name: str, kinds: dict[str, int], threshold: float) -> list[dict[str, Any]]:
    total = sum(kinds.values())
    if not total:
        return []
    ranked = sorted(kinds.items(), key=lambda kv: -kv[1])
    dominant, top = ranked[0]
    minority = (total - top) / total
    if len(ranked) == 1:
        if dominant in ("number", "date"):
            return [
                _w(
                    "mixed_types",
                    [name],
                    f"{name} holds {dominant}s stored as text.",
                    1.0,
                    threshold,
                )
            ]
        return []
    if dominant != "text" or minority >= threshold:
        parts = ", ".join(f"{_pct(c / total)} {k}s" for k, c in ranked)
        return [
            _w(
                "mixed_types",
                [name],
                f"{name} mixes kinds of values: {parts}.",
                minority,
                threshold,
            )
        ]
    return []


def _leakage(feat: dict[str, Any], tgt: dict[str, Any], threshold: float) -> list[dict[str, Any]]:
    """The held-out score (target.py, leakage.py), then the correlation: with a numeric
    target, or the point-biserial r with a two-class one. The codes of three or more classes
    have no order, so a correlation with them means nothing and is not read."""
    score = feat.get("leakage_score")
    if tgt["task"] == "regression":
        pair = (feat.get("pearson"), feat.get("spearman"))
    elif len(tgt.get("classes") or ()) == 2:
        pair = (feat.get("point_biserial"), None)
    else:
        pair = (None, None)
    corr = max((abs(v) for v in pair if v is not None), default=None)
    name, target = feat["name"], tgt["column"]
    if score is not None and score >= threshold:
        what = "R²" if tgt["task"] == "regression" else "gain over the majority class"
        return [
            _w(
                "leakage",
                [name, target],
                f"{name} alone predicts the target {target} almost perfectly on held-out "
                f"rows ({what} {score:.3f}, each row from its nearest neighbour in {name}); "
                "it may be derived from the target.",
                score,
                threshold,
            )
        ]
    if corr is not None and corr >= threshold:
        return [
            _w(
                "leakage",
                [name, target],
                f"{name} is almost perfectly correlated with the target {target} "
                f"(|r| {corr:.3f}); it may be derived from the target.",
                corr,
                threshold,
            )
        ]
    return []
