"""One model as the server holds it: its checks, predictor, batcher, prediction log, metrics
and the answers it gives in both protocols.

A server holds one ``ServedModel`` per loaded (name, version); the HTTP layer finds the one a
request names and hands it the parsed body. Starting and stopping the batcher happen on the
event loop (at server start, or when the repository API loads or unloads the model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import jsonio, oip
from .batcher import MicroBatcher
from .metrics import ModelMetrics, ServerMetrics
from .model_loader import LoadedModel
from .options import ServeOptions
from .parsing import Piece
from .prediction_log import PredictionLog
from .predictor import BatchResult, PieceResult, Predictor
from .schema import Signature


class ServedModel:
    def __init__(
        self,
        model: LoadedModel,
        options: ServeOptions,
        metrics: ServerMetrics,
        *,
        log_dir: str | Path | None = None,
    ) -> None:
        self.model = model
        self.name = model.name
        self.version = str(model.version)
        self.options = options
        self.signature = Signature(model.columns, model.pipeline)
        self.predictor = Predictor(model, self.signature)
        self.metrics: ModelMetrics = metrics.for_model(
            model.name, model.version, model.sha256, model.task
        )
        self.log: PredictionLog | None = None
        if log_dir:
            self.log = PredictionLog(
                log_dir,
                model=model.name,
                version=model.version,
                max_bytes=int(options.log_max_mb * 1024 * 1024),
            )
        self.batcher: MicroBatcher | None = None
        self.active = 0  # prediction requests that hold this model now
        self.metadata = self._model_metadata()

    # -- start and stop ---------------------------------------------------------------------

    def warm_up(self) -> None:
        """Predict the input example once: proves the model runs here, and primes caches."""
        if not self.model.input_example:
            return
        rows = self.model.input_example
        piece = Piece([[r.get(n) for r in rows] for n in self.signature.names], len(rows))
        self.signature.check(piece.columns)
        self.predictor.predict([piece])

    def start(self) -> None:
        """Start the batcher (on the running event loop)."""
        self.batcher = MicroBatcher(
            self.predictor.predict,
            max_batch=self.options.max_batch,
            max_wait_ms=self.options.max_wait_ms,
            after_batch=self._after_batch,
        )
        self.batcher.start()

    async def stop(self) -> int:
        """Answer what is queued, then close the log; returns the batches predicted."""
        batches = 0
        if self.batcher is not None:
            await self.batcher.stop()
            batches = self.batcher.stats.batches
        if self.log is not None:
            self.log.close()
        return batches

    def _after_batch(
        self, pieces: list[Piece], ids: list[Any], result: BatchResult, seconds: float
    ) -> None:
        """On the post-batch thread: metrics of the batch and the prediction log."""
        rows = sum(p.n for p in pieces)
        self.metrics.observe_batch(rows, seconds, result.predictions)
        if self.log is None:
            return
        start = 0
        for piece, rid in zip(pieces, ids, strict=True):
            part = result.slice(start, start + piece.n)
            start += piece.n
            if not piece.logged:
                continue
            self.log.write(
                self.signature.names,
                piece.columns,
                piece.request_id or rid,
                part.predictions,
                part.proba,
                self.predictor.classes,
            )

    # -- answers ----------------------------------------------------------------------------

    def mlflow_answer(self, result: PieceResult) -> bytes:
        out: dict[str, Any] = {"predictions": result.predictions.tolist()}
        if result.proba is not None:
            out["probabilities"] = result.proba.tolist()
            out["classes"] = self.predictor.classes
        return jsonio.dumps(out)

    def oip_answer(
        self, piece: Piece, result: PieceResult, rid: str, reply: oip.Reply
    ) -> tuple[bytes, dict[str, str]]:
        outputs: list[tuple[str, np.ndarray, dict[str, Any]]] = [
            ("predict", result.predictions, {})
        ]
        if result.proba is not None:
            proba = np.asarray(result.proba, dtype=np.float64)
            outputs.append(("predict_proba", proba, {"classes": self.predictor.classes}))
        head = {
            "model_name": self.name,
            "model_version": self.version,
            "id": piece.request_id or rid,
            "parameters": {},
        }
        return oip.answer(head, outputs, reply)

    def _model_metadata(self) -> dict[str, Any]:
        inputs = [
            {"name": c.name, "datatype": "FP64" if c.kind == "number" else "BYTES", "shape": [-1]}
            for c in self.signature.columns
        ]
        outputs = [
            {
                "name": "predict",
                "datatype": "FP64" if self.model.task == "regression" else "BYTES",
                "shape": [-1],
            }
        ]
        if self.model.has_proba:
            outputs.append(
                {
                    "name": "predict_proba",
                    "datatype": "FP64",
                    "shape": [-1, len(self.predictor.classes)],
                }
            )
        return {
            "name": self.name,
            "versions": [self.version],
            "platform": "sklearn",
            "inputs": inputs,
            "outputs": outputs,
            "parameters": {
                "task": self.model.task,
                "target": self.model.target,
                "classes": self.predictor.classes,
                "sha256": self.model.sha256,
                "run_id": self.model.run_id,
                "signature": self.model.columns,
                "input_example": self.model.input_example,
            },
        }
