"""Prometheus metrics of one server, in its own registry (two servers in a test never mix).

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


def _value_buckets() -> tuple[float, ...]:
    """Symmetric 1-2.5-5 steps from 0.01 to 1e6: a regression target of any scale fits."""
    steps = [m * 10.0**e for e in range(-2, 7) for m in (1.0, 2.5, 5.0)]
    return (*sorted(-s for s in steps), 0.0, *steps)


class ServerMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, model: str, version: Any, sha256: str, task: str) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "modeldesk_requests", "HTTP requests by endpoint and status code",
            ["endpoint", "code"], registry=r,
        )  # fmt: skip
        self.errors = Counter(
            "modeldesk_request_errors", "Requests answered with a 4xx/5xx, by status code",
            ["code"], registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "modeldesk_request_latency_seconds", "Time from request to response, by endpoint",
            ["endpoint"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.batch_size = Histogram(
            "modeldesk_batch_size", "Rows per predict call (micro-batching)",
            buckets=BATCH_BUCKETS, registry=r,
        )  # fmt: skip
        self.predict_seconds = Histogram(
            "modeldesk_predict_seconds", "Time of one predict call on a batch",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.rows = Counter("modeldesk_predicted_rows", "Rows predicted", registry=r)
        self.in_flight = Gauge("modeldesk_requests_in_flight", "Requests in progress", registry=r)
        self.task = task
        if task == "regression":
            self.values = Histogram(
                "modeldesk_prediction_value", "Predicted values",
                buckets=_value_buckets(), registry=r,
            )  # fmt: skip
        else:
            self.classes = Counter(
                "modeldesk_predictions", "Predicted rows by class", ["class"], registry=r
            )
        info = Gauge("modeldesk_model_info", "The model served", ["name", "version", "sha256"],
                     registry=r)  # fmt: skip
        info.labels(model, str(version), sha256).set(1)
        self._requests: dict[tuple[str, int], Any] = {}
        self._errors: dict[int, Any] = {}
        self._latency: dict[str, Any] = {}
        self._class_children: dict[Any, Any] = {}

    def observe_request(self, endpoint: str, code: int, seconds: float) -> None:
        child = self._requests.get((endpoint, code))
        if child is None:
            child = self._requests[(endpoint, code)] = self.requests.labels(endpoint, str(code))
        child.inc()
        if code >= 400:
            err = self._errors.get(code)
            if err is None:
                err = self._errors[code] = self.errors.labels(str(code))
            err.inc()
        hist = self._latency.get(endpoint)
        if hist is None:
            hist = self._latency[endpoint] = self.latency.labels(endpoint)
        hist.observe(seconds)

    def observe_batch(self, rows: int, seconds: float, predictions: np.ndarray) -> None:
        self.batch_size.observe(rows)
        self.predict_seconds.observe(seconds)
        self.rows.inc(rows)
        if self.task == "regression":
            for value in np.asarray(predictions, dtype=np.float64).tolist():
                self.values.observe(value)
            return
        labels, counts = np.unique(predictions, return_counts=True)
        for label, count in zip(labels.tolist(), counts.tolist(), strict=True):
            child = self._class_children.get(label)
            if child is None:
                child = self._class_children[label] = self.classes.labels(str(label))
            child.inc(count)

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
