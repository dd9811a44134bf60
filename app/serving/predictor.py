"""Checked column lists of several requests → one DataFrame → one predict call.

The DataFrame is built once per batch: for an all-numeric model one float64 block filled
column by column (a single pandas block, the cheapest frame to build), otherwise one array
per column. The column ``Index`` is made once at start; building it per request costs more
than the rest of the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .model_loader import LoadedModel
from .parsing import Piece
from .schema import Signature


@dataclass
class BatchResult:
    predictions: np.ndarray
    proba: np.ndarray | None  # rows × classes, when a request in the batch asked for it

    def slice(self, start: int, stop: int) -> PieceResult:
        return PieceResult(
            self.predictions[start:stop],
            None if self.proba is None else self.proba[start:stop],
        )


@dataclass
class PieceResult:
    predictions: np.ndarray
    proba: np.ndarray | None


class Predictor:
    def __init__(self, model: LoadedModel, signature: Signature) -> None:
        self.model = model
        self.signature = signature
        self.pipeline = model.pipeline
        self.index = pd.Index(signature.names)
        self.dtypes = [c.numpy_dtype for c in signature.columns]
        self.has_proba = model.has_proba
        classes = getattr(self.pipeline, "classes_", None)
        self.classes = [_plain(c) for c in classes] if classes is not None else model.classes

    def frame(self, pieces: Sequence[Piece]) -> pd.DataFrame:
        n = sum(p.n for p in pieces)
        k = len(self.dtypes)
        rows = pd.RangeIndex(n)
        if self.signature.all_numeric:
            block = np.empty((n, k), dtype=np.float64)
            start = 0
            for piece in pieces:
                stop = start + piece.n
                for j, values in enumerate(piece.columns):
                    block[start:stop, j] = values
                start = stop
            return pd.DataFrame(block, columns=self.index, index=rows, copy=False)
        data = {}
        for j, name in enumerate(self.signature.names):
            if len(pieces) == 1:
                values: Any = pieces[0].columns[j]
            else:
                values = [v for p in pieces for v in p.columns[j]]
            if self.dtypes[j] == "float64":
                data[name] = np.asarray(values, dtype=np.float64)
            else:
                column = np.empty(n, dtype=object)
                column[:] = values
                data[name] = column
        return pd.DataFrame(data, columns=self.index, index=rows, copy=False)

    def predict(self, pieces: Sequence[Piece]) -> BatchResult:
        X = self.frame(pieces)
        predictions = np.asarray(self.pipeline.predict(X))
        proba = None
        if self.has_proba and any(p.want_proba for p in pieces):
            proba = np.asarray(self.pipeline.predict_proba(X), dtype=np.float64)
        return BatchResult(predictions, proba)


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value
