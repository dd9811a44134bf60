"""Replay before promotion: a deployment's recorded requests, sent again to a candidate.

The prediction log (``app.serving.prediction_log``) holds, per predicted row, the inputs and
what production answered, grouped by ``request_id``. A replay rebuilds every request of the
chosen window, sends it to the candidate version and to the production version — each served
by a server started for the replay alone, the same way, so their latencies are side by side
on equal terms — and reports, per request and in total, which rows the candidate answers
differently from what production answered at the time. Production's own replayed answers
are compared with its log too: a production that no longer reproduces its log (a
non-deterministic model, a changed image) makes every disagreement suspect, and the report
says so.

A finished replay is an audit entry (``model.replayed`` on the candidate), which the
promotion policy reads when it asks for a replay agreement (``replay_agreement``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.progress import NullProgress, Progress
from app.core.store import Store

WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
AUDIT_ACTION = "model.replayed"
SKIP_LOG = {"X-Prediction-Log": "skip"}


@dataclass(frozen=True)
class RecordedRequest:
    request_id: str
    ts: str
    rows: list[dict[str, Any]]
    predictions: list[Any]


@dataclass(frozen=True)
class RequestResult:
    request_id: str
    ts: str
    rows: int
    differing: list[int]  # row numbers (in the request) where the candidate differs
    recorded: list[Any]
    candidate: list[Any] | None  # None when the candidate refused the request
    candidate_ms: float
    production_ms: float | None
    candidate_status: int = 200
    reproduced: bool = True  # production answered again what it logged


@dataclass(frozen=True)
class ReplayReport:
    candidate: str
    production: str
    deployment_id: int | None
    source: str
    window: str | None
    kind: str  # local or container
    requests: int
    rows: int
    differing_rows: int
    differing_requests: int
    agreement: float  # share of rows the candidate answers as production did
    not_reproduced: int  # requests production itself no longer answers as logged
    latency_ms: dict[str, dict[str, float]]
    results: list[RequestResult] = field(default_factory=list)
    skipped_lines: int = 0

    def to_dict(self, *, per_request: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not per_request:
            data.pop("results")
        return data


def percentiles(values: list[float]) -> dict[str, float]:
    import numpy as np

    if not values:
        return {}
    arr = np.asarray(values, dtype=float)
    return {
        "p50": round(float(np.percentile(arr, 50)), 3),
        "p95": round(float(np.percentile(arr, 95)), 3),
        "p99": round(float(np.percentile(arr, 99)), 3),
        "mean": round(float(arr.mean()), 3),
    }


def recorded_requests(
    folder: Path, *, model: str | None = None, version: int | None = None
) -> tuple[list[RecordedRequest], int]:
    """The logged requests in order of arrival (rows grouped by request id), lines skipped."""
    from app.core.monitoring.predlog import log_files

    if not folder.is_dir():
        raise NotFound(
            f"The prediction log folder {folder} does not exist.",
            hint="Deploy with the prediction log switched on (--log-dir); replay reads it.",
        )
    grouped: dict[str, RecordedRequest] = {}
    skipped = 0
    for path in log_files(folder):
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            for _number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    inputs, rid, ts = entry["inputs"], str(entry["request_id"]), str(entry["ts"])
                    prediction = entry["prediction"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    skipped += 1  # a line cut short by a writer still writing
                    continue
                if model is not None and entry.get("model") not in (None, model):
                    continue
                if version is not None and entry.get("version") not in (None, version):
                    continue
                if not isinstance(inputs, dict):
                    skipped += 1
                    continue
                req = grouped.get(rid)
                if req is None:
                    req = grouped[rid] = RecordedRequest(rid, ts, [], [])
                req.rows.append(inputs)
                req.predictions.append(prediction)
    return list(grouped.values()), skipped


def in_window(requests: list[RecordedRequest], window: str | None) -> list[RecordedRequest]:
    """The requests of the last ``window`` (hour, day, week) up to the newest one logged."""
    if window is None:
        return requests
    if window not in WINDOWS:
        raise InvalidInput(f"Unknown window '{window}'.", hint="Use hour, day or week.")

    def when(r: RecordedRequest) -> datetime | None:
        try:
            return datetime.fromisoformat(r.ts)
        except ValueError:
            return None

    stamps = [(r, when(r)) for r in requests]
    known = [t for _, t in stamps if t is not None]
    if not known:
        return []
    start = max(known) - WINDOWS[window]
    return [r for r, t in stamps if t is not None and t > start]


def _ask(port: int, rows: list[dict[str, Any]]) -> tuple[int, Any, float]:
    from app.core.deploy.containers import request

    return request(
        port, "POST", "/invocations", json_body={"dataframe_records": rows}, headers=SKIP_LOG
    )


def _predictions(status: int, body: Any) -> list[Any] | None:
    if status == 200 and isinstance(body, dict) and isinstance(body.get("predictions"), list):
        return body["predictions"]
    return None


class ReplayService:
    """Replays deployments' prediction logs against candidate versions."""

    def __init__(self, store: Store, registry: Any, deploy: Any = None) -> None:
        self.store = store
        self.registry = registry
        self.deploy = deploy

    def replay(
        self,
        candidate: str,
        *,
        deployment: int | None = None,
        log: str | Path | None = None,
        production: str | None = None,
        window: str | None = None,
        limit: int | None = None,
        image: str | bool | None = None,
        progress: Progress | None = None,
        record: bool = True,
    ) -> ReplayReport:
        """Send the recorded requests to ``candidate`` and compare; see the module docstring.

        ``deployment`` names whose log to read (its model version is production); a bare
        ``log`` folder (``modeldesk serve --log-dir``) needs ``production`` (NAME@VERSION).
        ``image``: True runs both sides as containers of their images (built if needed), a
        tag or id runs the candidate from that image; None serves both locally.
        """
        progress = progress or NullProgress()
        if (deployment is None) == (log is None):
            raise InvalidInput("Name the recorded traffic: a deployment (--from-deployment ID) or "
                               "a prediction log folder (--log DIR), not both.")  # fmt: skip
        if limit is not None and limit < 1:
            raise InvalidInput(f"--limit {limit} must be 1 or more.")
        prod_image: int | None = None
        if deployment is not None:
            folder, prod_ref, prod_image = self._deployment(deployment)
            source = f"deployment {deployment}"
        else:
            if not production:
                raise InvalidInput(
                    "A log folder does not say which version answered it.",
                    hint="Name it with --production NAME@VERSION.",
                )
            folder, prod_ref, source = Path(log).expanduser(), production, str(log)  # type: ignore[arg-type]
        cand = self.registry.resolve(candidate)
        prod = self.registry.resolve(prod_ref)
        progress.update(0.02, f"Reading the prediction log of {source}")
        requests, skipped = recorded_requests(folder, model=prod.model_name, version=prod.version)
        requests = in_window(requests, window)
        if limit is not None:
            requests = requests[-limit:]
        if not requests:
            raise InvalidInput(
                f"The prediction log of {source} holds no request of {prod.ref}"
                + (f" in its last {window}" if window else "")
                + (f" ({skipped} unreadable lines skipped)" if skipped else "")
                + ", so there is nothing to replay.",
                hint="Send traffic to the deployment first, or widen --window.",
            )
        kind = "local" if image is None else "container"
        with self._servers(cand.ref, prod.ref, image, prod_image, progress) as (c_port, p_port):
            results = self._send(requests, c_port, p_port, progress)
        report = _summarise(cand.ref, prod.ref, deployment, source, window, kind, results, skipped)
        if record:
            self._record(report)
        progress.update(1.0, f"Agreement {report.agreement:.2%} over {report.rows} rows")
        return report

    # -- steps ------------------------------------------------------------------------------

    def _deployment(self, deployment_id: int) -> tuple[Path, str, int | None]:
        from app.core.store.models_deploy import DeploymentRow
        from app.core.store.models_registry import ModelVersionRow, RegisteredModelRow

        with self.store.session() as s:
            row = s.get(DeploymentRow, int(deployment_id))
            if row is None:
                raise NotFound(
                    f"There is no deployment {deployment_id}.",
                    hint="`modeldesk deployments list --all` shows them.",
                )
            folder = (row.options or {}).get("log_dir")
            mv = s.get(ModelVersionRow, row.model_version_id) if row.model_version_id else None
            model = s.get(RegisteredModelRow, mv.model_id) if mv is not None else None
            ref = f"{model.name}@{mv.version}" if mv is not None and model is not None else None
            image = row.image_row_id
        if not folder:
            raise InvalidInput(
                f"Deployment {deployment_id} does not log its predictions, so there is no "
                "recorded traffic to replay.",
                hint="Redeploy it with a prediction log folder (--log-dir).",
            )
        if ref is None:
            raise Conflict(f"Deployment {deployment_id} names no model version of the registry.")
        return Path(folder), ref, image

    def _servers(
        self,
        cand: str,
        prod: str,
        image: str | bool | None,
        prod_image: int | None,
        progress: Progress,
    ) -> Any:
        import contextlib

        from app.core.monitoring import replay_targets as targets

        @contextlib.contextmanager
        def both() -> Iterator[tuple[int, int]]:
            with contextlib.ExitStack() as stack:
                if image is None:
                    progress.update(0.05, f"Starting {cand} and {prod} locally")
                    c = stack.enter_context(targets.local_server(self.registry, cand))
                    p = stack.enter_context(targets.local_server(self.registry, prod))
                else:
                    if self.deploy is None:
                        raise InvalidInput("Docker is not available in this session.")
                    progress.update(0.05, f"Starting containers of {cand} and {prod}")
                    c_img = self._image_of(cand) if image is True else image
                    p_img = prod_image if prod_image is not None else self._image_of(prod)
                    c = stack.enter_context(targets.container_server(self.deploy, c_img))
                    p = stack.enter_context(targets.container_server(self.deploy, p_img))
                yield c.port, p.port

        return both()

    def _image_of(self, ref: str) -> int:
        """The newest built image of ``ref``, built now when there is none."""
        version = self.registry.resolve(ref)
        for image in self.deploy.images(include_failed=False):
            if image.model_version_id == version.id:
                return image.id
        return self.deploy.build(version.ref).id

    @staticmethod
    def _send(
        requests: list[RecordedRequest], c_port: int, p_port: int, progress: Progress
    ) -> list[RequestResult]:
        from app.core.deploy.containers import same_prediction

        results = []
        last = time.monotonic()
        for i, req in enumerate(requests):
            progress.check_cancelled()
            # alternate who goes first, so neither side always meets a warm cache
            if i % 2 == 0:
                c_status, c_body, c_ms = _ask(c_port, req.rows)
                p_status, p_body, p_ms = _ask(p_port, req.rows)
            else:
                p_status, p_body, p_ms = _ask(p_port, req.rows)
                c_status, c_body, c_ms = _ask(c_port, req.rows)
            got = _predictions(c_status, c_body)
            again = _predictions(p_status, p_body)
            if got is None or len(got) != len(req.predictions):
                differing = list(range(len(req.rows)))
            else:
                differing = [
                    j
                    for j, (a, b) in enumerate(zip(got, req.predictions, strict=True))
                    if not same_prediction(a, b)
                ]
            reproduced = (
                again is not None
                and len(again) == len(req.predictions)
                and all(same_prediction(a, b) for a, b in zip(again, req.predictions, strict=True))
            )
            results.append(
                RequestResult(
                    request_id=req.request_id,
                    ts=req.ts,
                    rows=len(req.rows),
                    differing=differing,
                    recorded=req.predictions,
                    candidate=got,
                    candidate_ms=round(c_ms, 3),
                    production_ms=round(p_ms, 3) if again is not None else None,
                    candidate_status=c_status,
                    reproduced=reproduced,
                )
            )
            if time.monotonic() - last > 0.2:
                last = time.monotonic()
                progress.update(0.1 + 0.88 * (i + 1) / len(requests), f"{i + 1} requests")
        return results

    def _record(self, report: ReplayReport) -> None:
        append = getattr(self.registry, "audit_append", None)
        if append is None:
            return
        append(
            AUDIT_ACTION,
            report.candidate,
            {
                "production": report.production,
                "deployment": report.deployment_id,
                "source": report.source,
                "window": report.window,
                "requests": report.requests,
                "rows": report.rows,
                "differing_rows": report.differing_rows,
                "agreement": report.agreement,
                "not_reproduced": report.not_reproduced,
            },
        )


def _summarise(
    cand: str,
    prod: str,
    deployment: int | None,
    source: str,
    window: str | None,
    kind: str,
    results: list[RequestResult],
    skipped: int,
) -> ReplayReport:
    rows = sum(r.rows for r in results)
    differing = sum(len(r.differing) for r in results)
    return ReplayReport(
        candidate=cand,
        production=prod,
        deployment_id=deployment,
        source=source,
        window=window,
        kind=kind,
        requests=len(results),
        rows=rows,
        differing_rows=differing,
        differing_requests=sum(1 for r in results if r.differing),
        agreement=(rows - differing) / rows if rows else 1.0,
        not_reproduced=sum(1 for r in results if not r.reproduced),
        latency_ms={
            "candidate": percentiles([r.candidate_ms for r in results]),
            "production": percentiles(
                [r.production_ms for r in results if r.production_ms is not None]
            ),
        },
        results=results,
        skipped_lines=skipped,
    )
