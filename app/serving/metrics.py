"""Prometheus metrics of one server, in its own registry (two servers in a test never mix).

Every series carries ``model`` and ``version`` labels, so one scrape of a server holding
several models tells them apart (requests that name no model, such as ``/metrics`` itself,
have both empty). The bytes of request bodies in flight are the server's, shared by all its
models, so that gauge has no model label.

Children of labelled metrics are bound once and cached: ``labels()`` costs a dict lookup and
a lock per call, which the request path need not pay.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
)  # fmt: skip
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
MODEL = ["model", "version"]


def _value_buckets() -> tuple[float, ...]:
    """Symmetric 1-2.5-5 steps from 0.01 to 1e6: a regression target of any scale fits."""
    steps = [m * 10.0**e for e in range(-2, 7) for m in (1.0, 2.5, 5.0)]
    return (*sorted(-s for s in steps), 0.0, *steps)


class ServerMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "modeldesk_requests", "HTTP requests by model, endpoint and status code",
            [*MODEL, "endpoint", "code"], registry=r,
        )  # fmt: skip
        self.errors = Counter(
            "modeldesk_request_errors", "Requests answered with a 4xx/5xx, by status code",
            [*MODEL, "code"], registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "modeldesk_request_latency_seconds", "Time from request to response, by endpoint",
            [*MODEL, "endpoint"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.batch_size = Histogram(
            "modeldesk_batch_size", "Rows per predict call (micro-batching)",
            MODEL, buckets=BATCH_BUCKETS, registry=r,
        )  # fmt: skip
        self.predict_seconds = Histogram(
            "modeldesk_predict_seconds", "Time of one predict call on a batch",
            MODEL, buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.rows = Counter("modeldesk_predicted_rows", "Rows predicted", MODEL, registry=r)
        self.in_flight = Gauge("modeldesk_requests_in_flight", "Requests in progress", registry=r)
        self.values = Histogram(
            "modeldesk_prediction_value", "Predicted values of regression models",
            MODEL, buckets=_value_buckets(), registry=r,
        )  # fmt: skip
        self.classes = Counter(
            "modeldesk_predictions", "Predicted rows by class", [*MODEL, "class"], registry=r
        )
        self.info = Gauge(
            "modeldesk_model_info", "The models served (1 while loaded)",
            ["name", "version", "sha256"], registry=r,
        )  # fmt: skip
        self._requests: dict[tuple[str, str, str, int], Any] = {}
        self._errors: dict[tuple[str, str, int], Any] = {}
        self._latency: dict[tuple[str, str, str], Any] = {}

    def for_model(self, name: str, version: Any, sha256: str, task: str) -> ModelMetrics:
        """The series of one model (shared with a reload of the same version)."""
        return ModelMetrics(self, name, str(version), sha256, task)

    def show_models(self, models: list[tuple[str, str, str]]) -> None:
        """One ``modeldesk_model_info`` line per (name, version, sha256) loaded now; a model's
        counters stay after it is unloaded (they only grow)."""
        self.info.clear()
        for labels in models:
            self.info.labels(*labels).set(1)

    def observe_request(
        self, endpoint: str, code: int, seconds: float, model: str = "", version: str = ""
    ) -> None:
        key = (model, version, endpoint, code)
        child = self._requests.get(key)
        if child is None:
            child = self._requests[key] = self.requests.labels(model, version, endpoint, str(code))
        child.inc()
        if code >= 400:
            err = self._errors.get((model, version, code))
            if err is None:
                err = self._errors[(model, version, code)] = self.errors.labels(
                    model, version, str(code)
                )
            err.inc()
        hist = self._latency.get((model, version, endpoint))
        if hist is None:
            hist = self._latency[(model, version, endpoint)] = self.latency.labels(
                model, version, endpoint
            )
        hist.observe(seconds)

    def watch_body_bytes(self, in_use: Any) -> None:
        """Export the bytes of request bodies held now (read at each scrape)."""
        gauge = Gauge(
            "modeldesk_request_body_bytes_in_flight",
            "Bytes of request bodies being read, parsed or predicted (bounded)",
            registry=self.registry,
        )
        gauge.set_function(in_use)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class ModelMetrics:
    """One model's children of the server's series, bound once."""

    def __init__(self, server: ServerMetrics, name: str, version: str, sha256: str, task: str):
        self.task = task
        self._labels = (name, version)
        self.batch_size = server.batch_size.labels(name, version)
        self.predict_seconds = server.predict_seconds.labels(name, version)
        self.rows = server.rows.labels(name, version)
        self.values = server.values.labels(name, version) if task == "regression" else None
        self._classes = server.classes
        self._class_children: dict[Any, Any] = {}

    def observe_batch(self, rows: int, seconds: float, predictions: np.ndarray) -> None:
        self.batch_size.observe(rows)
        self.predict_seconds.observe(seconds)
        self.rows.inc(rows)
        if self.values is not None:
            for value in np.asarray(predictions, dtype=np.float64).tolist():
                self.values.observe(value)
            return
        labels, counts = np.unique(predictions, return_counts=True)
        for label, count in zip(labels.tolist(), counts.tolist(), strict=True):
            child = self._class_children.get(label)
            if child is None:
                child = self._class_children[label] = self._classes.labels(
                    *self._labels, str(label)
                )
            child.inc(count)
