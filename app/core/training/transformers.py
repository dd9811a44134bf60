"""The two transformers scikit-learn lacks, kept self-contained for where models travel.

This module imports only numpy, pandas and scikit-learn, never the rest of ModelDesk: the
exported code of a run embeds its source as it is, and a serving image can ship it beside
the model. Saved pipelines refer to these classes by this module's path, so the module must
keep its name.

- ``AsCategories``: any column (text, booleans, integers, mixed, with None/NaN/pd.NA) to
  strings, missing values to one ``"(missing)"`` category, so the encoders downstream see
  one type whatever the raw rows carried (a CSV's ``true``, JSON's ``true``, Arrow's bool).
- ``DateParts``: datetime columns, or text holding dates, to numeric parts (year, month,
  day, weekday, day of year, hour, minute); parts constant in the training data are left
  out. Unparseable values become NaN for the imputer that follows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

MISSING = "(missing)"
DATE_PARTS = ("year", "month", "day", "day_of_week", "day_of_year", "hour", "minute")


def _frame(X, columns=None) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    return pd.DataFrame(np.asarray(X, dtype=object), columns=columns)


def _names(estimator, input_features):
    if input_features is not None:
        return [str(c) for c in input_features]
    return [str(c) for c in getattr(estimator, "feature_names_in_", [])] or [
        f"x{i}" for i in range(estimator.n_features_in_)
    ]


class AsCategories(TransformerMixin, BaseEstimator):
    """Values as strings; every kind of missing value becomes ``"(missing)"``."""

    def fit(self, X, y=None):
        frame = _frame(X)
        self.n_features_in_ = frame.shape[1]
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        return self

    def transform(self, X):
        frame = _frame(X, getattr(self, "feature_names_in_", None))
        out = np.empty(frame.shape, dtype=object)
        for i, column in enumerate(frame.columns):
            values = frame[column].astype(object)
            missing = pd.isna(values).to_numpy()
            out[:, i] = [MISSING if m else _text(v) for v, m in zip(values, missing, strict=True)]
        return out

    def get_feature_names_out(self, input_features=None):
        return np.asarray(_names(self, input_features), dtype=object)


def _text(value) -> str:
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))  # 1.0 from a float column and 1 from JSON are one category
    return str(value)


def _parse_dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    elif pd.api.types.is_numeric_dtype(values):
        parsed = pd.to_datetime(values, errors="coerce", unit="s")
    else:
        parsed = pd.to_datetime(values.astype(object), errors="coerce", format="mixed", utc=True)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed


class DateParts(TransformerMixin, BaseEstimator):
    """Datetime columns to numeric parts; the parts kept are those that vary when fitted."""

    def fit(self, X, y=None):
        frame = _frame(X)
        self.n_features_in_ = frame.shape[1]
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        parts = []
        for column in frame.columns:
            parsed = _parse_dates(frame[column])
            varying = [p for p in DATE_PARTS if getattr(parsed.dt, p).nunique(dropna=True) > 1]
            parts.append(varying or ["year"])
        self.parts_ = parts
        return self

    def transform(self, X):
        frame = _frame(X, getattr(self, "feature_names_in_", None))
        blocks = []
        for column, parts in zip(frame.columns, self.parts_, strict=True):
            parsed = _parse_dates(frame[column])
            for part in parts:
                blocks.append(getattr(parsed.dt, part).astype("float64").to_numpy())
        return np.column_stack(blocks) if blocks else np.empty((len(frame), 0))

    def get_feature_names_out(self, input_features=None):
        names = _names(self, input_features)
        return np.asarray(
            [f"{n}_{p}" for n, parts in zip(names, self.parts_, strict=True) for p in parts],
            dtype=object,
        )
