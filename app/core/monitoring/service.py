"""``MonitorService``: drift of a registered model version's inputs and outputs, stored.

    check(ref, deployment=… | batch=… | dataset=…, window=None) → [DriftReport] (stored)
    reports(model=None, …) → stored summaries, newest first;  report(id) → the full report
    trend(model) → summaries oldest first, for the drift-over-time chart
    html(report) / export(report, path) → self-contained HTML or JSON

The reference is the dataset version the model version was trained on. Current data is a
deployment's prediction log (its own predictions), a batch file (ingested as a dataset
version first, so the report can always be traced to its data) or any dataset version. The
model's predictions on the reference (a fixed sample) and on batch data give prediction
drift; a batch that carries the target also gets the model's metrics against training.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.fsutil import write_atomically
from app.core.monitoring import history, predlog
from app.core.monitoring.columns import (
    as_kind,
    check_columns,
    feature_kinds,
    kind_of,
    looks_like_labels,
    sample,
)
from app.core.monitoring.engine import (
    assemble,
    compare_column,
    compare_metrics,
    compute_drift,
)
from app.core.monitoring.html import render_html
from app.core.monitoring.report import DriftReport
from app.core.monitoring.settings import DriftSettings
from app.core.progress import NullProgress, Progress, SubProgress
from app.core.store.models_monitoring import DriftReportRow

if TYPE_CHECKING:
    import pyarrow as pa

    from app.core.artifacts import ArtifactStore
    from app.core.datasets import DatasetService
    from app.core.store import Store

PRED = "__prediction__"
REFERENCE_PREDICTION_ROWS = 50_000


class MonitorService:
    def __init__(
        self,
        store: Store,
        artifacts: ArtifactStore,
        datasets: DatasetService,
        registry: Any,
        *,
        settings: DriftSettings | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.datasets = datasets
        self.registry = registry
        self.settings = settings or DriftSettings()

    # -- computing -------------------------------------------------------------------------

    def check(
        self,
        ref: str,
        *,
        deployment: int | None = None,
        batch: str | Path | None = None,
        dataset: str | None = None,
        log: str | Path | None = None,
        window: str | None = None,
        settings: DriftSettings | None = None,
        store: bool = True,
        progress: Progress | None = None,
    ) -> list[DriftReport]:
        """Drift of ``ref``'s current data against its training data: one report, or one per
        time window of the prediction log (a deployment's, or a ``modeldesk serve --log-dir``
        folder given as ``log``). Each is stored unless ``store`` is False."""
        progress = progress or NullProgress()
        settings = settings or self.settings
        if sum(x is not None for x in (deployment, batch, dataset, log)) != 1:
            raise InvalidInput(
                "Name exactly one source: a deployment, a prediction log folder, a batch file "
                "or a dataset."
            )
        if window is not None and deployment is None and log is None:
            raise InvalidInput(
                "Time windows come from the prediction log's timestamps.",
                hint="Use --window with --deployment or --log, or leave it out for a batch or "
                "dataset.",
            )
        version = self.registry.resolve(ref)
        kinds = feature_kinds(version.signature, version.target)
        if not kinds:
            raise InvalidInput(f"{version.ref} has no numeric or categorical inputs to monitor.")
        progress.update(0.02, "Reading the training data")
        reference, ref_version = self._reference(version, list(kinds))
        model = self.registry.load_model(version.ref)
        progress.check_cancelled()
        ref_pred = self._predict(model, sample(reference, REFERENCE_PREDICTION_ROWS), kinds)
        ref_table = sample(reference, REFERENCE_PREDICTION_ROWS).append_column(PRED, ref_pred)

        from app.core.training.importance import stored_shares

        importance, importance_source = stored_shares(
            getattr(self.registry, "tracking", None), self.artifacts, version.run_id
        )
        source: dict[str, Any] = {}
        if deployment is not None or log is not None:
            if deployment is not None:
                progress.update(0.1, f"Reading the prediction log of deployment {deployment}")
                folder, log_version = self._log_folder(deployment)
                source = {"source": "deployment", "deployment_id": deployment}
                what = f"deployment {deployment}"
            else:
                folder, log_version = Path(log), version.version  # type: ignore[arg-type]
                progress.update(0.1, f"Reading the prediction log in {folder}")
                source = {"source": "log", "log_dir": str(folder.resolve())}
                what = str(folder)
            read = predlog.read_log(folder, model=version.model_name, version=log_version)
            check_columns(
                {f.name: str(f.type) for f in read.table.schema},
                kinds,
                str(folder / predlog.PATTERN),
                version.ref,
                table=read.table,
            )
            source["label"] = f"{what} ({read.rows:,} logged rows)"
            current = read.table.set_column(
                read.table.schema.get_field_index(predlog.PREDICTION),
                PRED,
                as_kind(read.table.column(predlog.PREDICTION), ref_pred.type),
            )
        else:
            if batch is not None:
                dv = self._ingest_batch(Path(batch), version, kinds, progress)
            else:
                dv = self.datasets.resolve(dataset)  # type: ignore[arg-type]
            cols = [c.name for c in dv.schema]
            wanted = [c for c in (*kinds, version.target) if c and c in cols]
            check_columns({c.name: c.physical_type for c in dv.schema}, kinds, dv.ref, version.ref)
            current = self.datasets.load_table(dv, columns=wanted)
            if current.num_rows == 0:
                raise InvalidInput(f"{dv.ref} has no rows.")
            source = {
                "source": "batch" if batch is not None else "dataset",
                "dataset_version_id": dv.id,
                "label": dv.ref,
            }
            progress.update(0.35, "Predicting on the current data")
            current = current.append_column(
                PRED, self._predict(model, current, kinds, label=dv.ref)
            )
        progress.check_cancelled()

        parts = [(None, None, current)]
        if window is not None:
            parts = predlog.split_windows(current, window)
        reports = []
        for i, (begin, end, part) in enumerate(parts):
            sub = SubProgress(
                progress, 0.4 + 0.55 * i / len(parts), 0.4 + 0.55 * (i + 1) / len(parts)
            )
            metrics = self._metrics(version, model, part, kinds)
            label = (
                source["label"] if begin is None else f"{source['label']} · {begin:%Y-%m-%d %H:%M}"
            )
            report = compute_drift(
                reference,
                part,
                columns=kinds,
                settings=settings,
                reference_label=ref_version.ref,
                current_label=label,
                progress=SubProgress(sub, 0.0, 0.9),
            )
            pred = compare_column(
                "prediction",
                kind_of(ref_pred),
                ref_table.column(PRED),
                part.column(PRED),
                settings,
                label,
            )
            report = assemble(
                report.features,
                pred,
                settings=settings,
                reference=report.reference,
                current=report.current,
                metrics=metrics,
                importance=importance,
                importance_source=importance_source,
            )
            from dataclasses import replace

            report = replace(
                report,
                reference={
                    **report.reference,
                    "label": ref_version.ref,
                    "rows": reference.num_rows,
                    "dataset_version_id": ref_version.id,
                },
                current={**report.current, **source, "label": label},
                model={
                    "name": version.model_name,
                    "version": version.version,
                    "id": version.id,
                    "task": version.task,
                },
                window=None
                if begin is None
                else {"start": begin.isoformat(), "end": end.isoformat(), "unit": window},
            )
            if store:
                report = self._store(report, version, ref_version.id, source, begin, end)
            reports.append(report)
        progress.update(1.0, f"{len(reports)} report(s): {reports[-1].status}")
        return reports

    def _ingest_batch(
        self, path: Path, version: Any, kinds: dict[str, str], progress: Progress
    ) -> Any:
        """Read and check the batch first: a refused file leaves no dataset version behind."""
        from app.core import readers

        progress.update(0.1, f"Reading {path.name}")
        result = readers.read_table(path, progress=SubProgress(progress, 0.1, 0.25))
        table = result.table
        check_columns(
            {f.name: str(f.type) for f in table.schema}, kinds, path.name, version.ref, table=table
        )
        return self.datasets.add_table(
            table,
            name=f"{version.model_name}-batches",
            source_kind="file",
            source_path=str(path.resolve()),
            format=result.info.format,
            options=result.options,
            progress=SubProgress(progress, 0.25, 0.3),
        ).version

    def _reference(self, version: Any, columns: list[str]) -> tuple[pa.Table, Any]:
        if version.dataset_version_id is None:
            raise Conflict(
                f"{version.ref} does not know the data it was trained on, so there is no "
                "reference to compare with.",
                hint="Compare two datasets with the drift engine directly instead.",
            )
        try:
            dv = self.datasets.version_by_id(version.dataset_version_id)
        except NotFound as exc:
            raise Conflict(f"The training data of {version.ref} is gone from the store.") from exc
        return self.datasets.load_table(dv, columns=columns), dv

    def _log_folder(self, deployment_id: int) -> tuple[Path, int | None]:
        from app.core.store.models_deploy import DeploymentRow
        from app.core.store.models_registry import ModelVersionRow

        with self.store.session() as s:
            row = s.get(DeploymentRow, deployment_id)
            if row is None:
                raise NotFound(
                    f"No deployment with id {deployment_id}.",
                    hint="`modeldesk deployments list` shows them.",
                )
            folder = (row.options or {}).get("log_dir")
            mv = s.get(ModelVersionRow, row.model_version_id) if row.model_version_id else None
            version = mv.version if mv is not None else None
        if not folder:
            raise InvalidInput(
                f"Deployment {deployment_id} does not log its predictions.",
                hint="Redeploy with the prediction log on to monitor it.",
            )
        return Path(folder), version

    @staticmethod
    def _predict(
        model: Any, table: pa.Table, kinds: dict[str, str], label: str = "the data"
    ) -> pa.Array:
        import numpy as np
        import pyarrow as pa

        frame = table.select(list(kinds)).to_pandas()
        try:
            out = np.asarray(model.predict(frame))
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidInput(
                f"The model cannot predict on {label}: {exc}",
                hint="Check that each column has the type the model was trained on.",
            ) from exc
        if out.dtype.kind in "fiu" and not looks_like_labels(model):
            return pa.array(out.astype(float))
        return pa.array([str(v) for v in out], type=pa.string())

    def _metrics(
        self, version: Any, model: Any, table: pa.Table, kinds: dict[str, str]
    ) -> dict[str, Any] | None:
        target = version.target
        if not target or target not in table.column_names:
            return None
        from app.core.training.metrics import evaluate, has_proba, predict_scores

        frame = table.select([*kinds, target]).to_pandas().dropna(subset=[target])
        if frame.empty:
            return None
        y = frame.pop(target)
        pred = model.predict(frame)
        task = version.task or "regression"
        scores = predict_scores(model, frame) if task != "regression" else None
        classes = list(getattr(model, "classes_", []))
        current = evaluate(task, y, pred, scores, classes=classes, proba=has_proba(model))
        from app.core.training.metrics import PRIMARY

        training = {k: v for k, v in version.metrics.items() if not k.startswith(("cv.", "test."))}
        primary = self._policy_metric(version) or PRIMARY.get(task)
        out = compare_metrics(current, training, self.settings.metric_tolerance, primary)
        out["rows_labelled"] = len(frame)
        return out

    def _policy_metric(self, version: Any) -> str | None:
        try:
            return self.registry.policy_of(version.model_name).get("metric")
        except (AttributeError, NotFound):
            return None

    # -- storing ---------------------------------------------------------------------------

    def _store(
        self,
        report: DriftReport,
        version: Any,
        reference_id: int,
        source: dict[str, Any],
        begin: datetime | None,
        end: datetime | None,
    ) -> DriftReport:
        pending = self.artifacts.put_bytes(
            json.dumps(report.to_dict(), default=str).encode(), kind="drift-report"
        )

        def insert(s: Any) -> int:
            row = DriftReportRow(
                model_name=version.model_name,
                model_version=version.version,
                model_version_id=version.id,
                source=source["source"],
                source_label=str(source.get("label", ""))[:500],
                deployment_id=source.get("deployment_id"),
                dataset_version_id=source.get("dataset_version_id"),
                reference_version_id=reference_id,
                window_start=begin,
                window_end=end,
                status=report.status,
                dataset_drift=report.dataset_drift,
                drift_share=report.drift_share,
                summary=report.summary(),
                artifact_sha256=pending.sha256,
                created_at=datetime.fromisoformat(report.created_at),
            )
            s.add(row)
            s.flush()
            pending.mark_stored(s)
            return row.id

        try:
            report_id = self.store.write(insert)
        except BaseException:
            self.artifacts.discard(pending)
            raise
        if report.status == "alert" and hasattr(self.registry, "audit_append"):
            self.registry.audit_append(
                "monitor.alert",
                version.ref,
                {
                    "report": report_id,
                    "drift_share": report.drift_share,
                    "rules": list(report.rules),
                    "drifted": [f.name for f in report.features if f.status == "alert"],
                    "source": source.get("label"),
                },
            )
        return report.with_id(report_id)

    # -- choices for pickers ----------------------------------------------------------------

    def versions(self) -> list[str]:
        """Every active model version as a ref, aliases first within a model (for pickers)."""
        out: list[str] = []
        for m in self.registry.list_models():
            name = m.name
            versions = sorted(
                self.registry.list_versions(name, include_archived=False), key=lambda v: -v.version
            )
            for v in versions:
                out.extend(f"{name}@{a}" for a in sorted(v.aliases))
            out.extend(v.ref for v in versions)
        return out

    def deployments(self, model: str | None = None) -> list[dict[str, Any]]:
        """Deployments that log their predictions (newest first), optionally of one model."""
        from app.core.store.models_deploy import DeploymentRow
        from app.core.store.models_registry import ModelVersionRow, RegisteredModelRow

        query = (
            select(DeploymentRow, ModelVersionRow.version, RegisteredModelRow.name)
            .join(ModelVersionRow, ModelVersionRow.id == DeploymentRow.model_version_id)
            .join(RegisteredModelRow, RegisteredModelRow.id == ModelVersionRow.model_id)
            .order_by(DeploymentRow.id.desc())
        )
        if model is not None:
            query = query.where(RegisteredModelRow.name == model)
        with self.store.session() as s:
            return [
                {
                    "id": d.id,
                    "model": name,
                    "version": version,
                    "status": d.status,
                    "log_dir": (d.options or {}).get("log_dir"),
                }
                for d, version, name in s.execute(query)
                if (d.options or {}).get("log_dir")
            ]

    # -- reading back ----------------------------------------------------------------------

    def reports(
        self,
        model: str | None = None,
        *,
        version: int | None = None,
        deployment: int | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Stored report summaries, newest first."""
        return history.summaries(
            self.store, model, version=version, deployment=deployment, limit=limit
        )

    def trend(
        self,
        model: str,
        *,
        version: int | None = None,
        deployment: int | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Summaries oldest first: what the drift-over-time charts plot."""
        return list(
            reversed(self.reports(model, version=version, deployment=deployment, limit=limit))
        )

    def report(self, report_id: int) -> DriftReport:
        return history.load(self.store, self.artifacts, report_id)

    def html(self, report: DriftReport) -> str:
        trend = None
        if report.model:
            trend = self.trend(report.model["name"], version=report.model.get("version"))
        return render_html(report, trend=trend)

    def export(self, report: DriftReport, path: str | Path) -> Path:
        """``.html`` → the self-contained page; anything else → the JSON document."""
        path = Path(path)
        text = (
            self.html(report)
            if path.suffix.lower() in (".html", ".htm")
            else json.dumps(report.to_dict(), indent=2, default=str)
        )
        return write_atomically(path, text)
