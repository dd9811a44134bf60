"""A recipe version as readable Python: pandas lines per step in a scikit-learn transformer.

The generated ``Recipe`` class learns in ``fit_transform`` exactly what ModelDesk's runtime
learns (medians, clip bounds, kept categories…) and replays it in ``transform``; steps whose
pandas would be long (casts with row reporting, binning, target encoding with cross-fitting,
per-group medians, formulas) call the runtime's own functions, whose source is copied in
below the class so the file needs nothing but pandas, numpy and scikit-learn.
"""

from __future__ import annotations

import ast
import inspect
from typing import TYPE_CHECKING, Any

from app.core.recipes.steps import SPECS, describe

if TYPE_CHECKING:
    from app.core.recipes.entities import RecipeVersion


def runtime_source() -> str:
    """runtime.py without its docstring, ``__future__`` and imports (the caller has them)."""
    from app.core.recipes import runtime

    source = inspect.getsource(runtime)
    tree = ast.parse(source)
    lines = source.splitlines()
    chunks = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        chunks.append("\n".join(lines[start - 1 : node.end_lineno]))
    return "\n\n".join(chunks)


def _step_code(i: int, step: dict[str, Any]) -> list[str]:
    """Body lines (8-space indent) of step ``i``; ``df`` is the frame, ``self.learnt_``."""
    op = step["op"]
    cols = list(step.get("columns") or ([step["column"]] if step.get("column") else []))
    key = f"step{i + 1}"
    out: list[str] = []
    if op == "drop":
        out.append(f"df = df.drop(columns={cols!r})")
    elif op == "keep":
        out.append(f"df = df[{cols!r}]")
    elif op == "rename":
        out.append(f"df = df.rename(columns={dict(step['mapping'])!r})")
    elif op == "reorder":
        out.append(f"df = df[{cols!r} + [c for c in df.columns if c not in {cols!r}]]")
    elif op in ("filter", "dedupe", "drop_missing_target", "sample"):
        out.append("pass  # a row step: training only, see prepare_rows()")
    elif op == "impute" and step.get("strategy", "median") in ("mean", "median", "constant"):
        strategy = step.get("strategy", "median")
        out.append("if fitting:")
        if strategy == "constant":
            out.append(
                f"    self.learnt_[{key!r}] = {{c: {step.get('value')!r} for c in {cols!r}}}"
            )
        else:
            out.append(f"    self.learnt_[{key!r}] = df[{cols!r}].{strategy}().to_dict()")
        out.append(f"df = df.fillna(self.learnt_[{key!r}])")
    elif op == "clip":
        out.append("if fitting:")
        if step.get("method", "iqr") == "iqr":
            k = step.get("k", 1.5)
            out.append(f"    q1, q3 = df[{cols!r}].quantile(0.25), df[{cols!r}].quantile(0.75)")
            out.append(f"    self.learnt_[{key!r}] = (q1 - {k} * (q3 - q1), q3 + {k} * (q3 - q1))")
        else:
            lo, hi = step.get("low", 0.01), step.get("high", 0.99)
            out.append(
                f"    self.learnt_[{key!r}] = "
                f"(df[{cols!r}].quantile({lo}), df[{cols!r}].quantile({hi}))"
            )
        out.append(f"low, high = self.learnt_[{key!r}]")
        out.append(f"df[{cols!r}] = df[{cols!r}].clip(low, high, axis=1)")
    elif op == "rare":
        other = step.get("other", "other")
        out.append("if fitting:")
        if step.get("min_count") is not None:
            rule = f"counts[counts >= {int(step['min_count'])}]"
        else:
            rule = f"counts[counts / len(df) >= {float(step.get('min_share', 0.01))}]"
        out.append(f"    self.learnt_[{key!r}] = {{}}")
        out.append(f"    for c in {cols!r}:")
        out.append('        counts = df[c].astype("string").value_counts()')
        out.append(f"        self.learnt_[{key!r}][c] = list({rule}.index)")
        out.append(f"for c, kept in self.learnt_[{key!r}].items():")
        out.append('    text = df[c].astype("string")')
        out.append(f"    df[c] = text.where(text.isin(kept) | text.isna(), {other!r})")
    elif op == "text_clean":
        out.append(f"for c in {cols!r}:")
        out.append('    text = df[c].astype("string")')
        if step.get("trim", True):
            out.append("    text = text.str.strip()")
        if step.get("case"):
            out.append(f"    text = text.str.{step['case']}()")
        if step.get("pattern"):
            out.append(
                f"    text = text.str.replace({step['pattern']!r}, "
                f"{step.get('replacement', '')!r}, regex=True)"
            )
        out.append("    df[c] = text")
    elif op == "date_parts":
        parts = step.get("parts") or ["year", "month", "day", "day_of_week"]
        out.append(f"dates = pd.to_datetime(df[{step['column']!r}], errors='coerce')")
        for p in parts:
            out.append(f"df[{step['column'] + '_' + p!r}] = dates.dt.{p}.astype('float64')")
    elif op == "text_length":
        for c in cols:
            out.append(f"df[{c + '_length'!r}] = df[{c!r}].astype('string').str.len()")
            if step.get("words", True):
                out.append(f"df[{c + '_words'!r}] = df[{c!r}].astype('string').str.count(r'\\S+')")
    elif op == "onehot":
        top = int(step.get("max_categories", 20))
        out.append("if fitting:")
        out.append(
            f"    self.learnt_[{key!r}] = {{c: sorted(df[c].astype('string')"
            f".value_counts().index[:{top}]) for c in {cols!r}}}"
        )
        out.append(f"for c, categories in self.learnt_[{key!r}].items():")
        out.append("    for cat in categories:")
        out.append("        df[f'{c}={cat}'] = (df[c].astype('string') == cat).fillna(False)")
        if step.get("drop_original", True):
            out.append(f"df = df.drop(columns={cols!r})")
    else:  # the runtime's own code for this step (copied below)
        fit = (
            "None" if SPECS[op].learns is False else f"_fit_{op.replace('target_encode', 'target')}"
        )
        out.append(f"step = {step!r}")
        if fit != "None":
            out.append("if fitting:")
            out.append(f"    self.learnt_[{key!r}] = {fit}(df, y, step)")
        state = f"self.learnt_.get({key!r})"
        out.append(
            f"df = _{op}(df, step, {state}, y=y, training=fitting)"
            if op != "target_encode"
            else f"df = _target_encode(df, step, {state}, y=y, training=fitting)"
        )
    return out


def render_class(steps: list[dict[str, Any]], *, class_name: str = "Recipe") -> str:
    """The ``Recipe`` transformer class and ``prepare_rows`` for these steps."""
    body = []
    for i, step in enumerate(steps):
        if not step.get("enabled", True):
            body.append(f"        # {i + 1}. {describe(step)}")
            continue
        body.append(f"        # {i + 1}. {describe(step)}")
        body.extend("        " + line for line in _step_code(i, step))
    rows = [s for s in steps if s.get("enabled", True) and SPECS[s["op"]].training_only]
    return f'''class {class_name}(TransformerMixin, BaseEstimator):
    """The recipe's steps; learnt values come from the rows given to fit."""

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        self.learnt_ = {{}}
        return self._run(X.copy(), y, fitting=True)

    def transform(self, X):
        return self._run(X.copy(), None, fitting=False)

    def _run(self, df, y, fitting):
{chr(10).join(body) or "        pass"}
        return df


def prepare_rows(frame):
    """The recipe's row steps (training only: never applied to rows being predicted)."""
    return apply_rows(frame, {rows!r})
'''


def render_module(rv: RecipeVersion) -> str:
    return f'''"""Recipe {rv.ref} from ModelDesk: pandas steps in a scikit-learn transformer.

{rv.description or ""}
Usage: Recipe().fit_transform(training_frame, y) then .transform(new_rows); or put Recipe()
first in a Pipeline. prepare_rows(frame) runs the training-only row steps.
"""

import ast
import re

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin


{render_class(rv.steps)}

# -- helpers copied from ModelDesk's recipe runtime ----------------------------------------

{runtime_source()}
'''
