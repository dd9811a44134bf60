"""Where a version came from and where it went: dataset version → run (or study trial) →
model version → images → deployments, as nodes and edges any client can draw.

Each node names the panel that shows it (``panel``) and the key that panel opens it by
(``key``), so a click in the graph can open the right place. It reads the store and
nothing else: the caller resolves the version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.core.store.models import DatasetRow, DatasetVersionRow, RunRow
from app.core.store.models_deploy import DeploymentRow, ImageRow

if TYPE_CHECKING:
    from app.core.registry.entities import ModelVersion
    from app.core.store import Store


def _node(node_id: str, kind: str, label: str, panel: str, key: Any, **extra: Any) -> dict:
    return {"id": node_id, "kind": kind, "label": label, "panel": panel, "key": key, **extra}


def lineage(store: Store, version: ModelVersion) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, str]] = []
    vid = f"version:{version.id}"
    with store.session() as s:
        upstream: str | None = None
        if version.dataset_version_id is not None:
            row = s.get(DatasetVersionRow, version.dataset_version_id)
            if row is not None:
                name = s.get(DatasetRow, row.dataset_id).name
                upstream = f"dataset_version:{row.id}"
                nodes.append(
                    _node(
                        upstream,
                        "dataset_version",
                        f"{name}@{row.version}",
                        "data",
                        f"{name}@{row.version}",
                        rows=row.rows,
                        sha256=row.snapshot_sha256,
                    )
                )
        if version.run_id is not None:
            run = s.get(RunRow, version.run_id)
            if run is not None:
                if run.study_name:
                    study = f"study:{run.study_name}"
                    nodes.append(
                        _node(study, "study", f"Study {run.study_name}", "tuning", run.study_name)
                    )
                    if upstream:
                        edges.append({"from": upstream, "to": study})
                    upstream = study
                run_node = f"run:{run.id}"
                label = f"Run {run.id} · {run.estimator or run.name}"
                if run.trial_number is not None:
                    label += f" (trial {run.trial_number})"
                nodes.append(_node(run_node, "run", label, "runs", run.id, status=run.status))
                if upstream:
                    edges.append({"from": upstream, "to": run_node})
                upstream = run_node
        nodes.append(
            _node(
                vid,
                "model_version",
                version.ref,
                "registry",
                version.ref,
                aliases=version.aliases,
                sha256=version.artifact_sha256,
                source=version.source,
            )
        )
        if upstream:
            edges.append({"from": upstream, "to": vid})
        images = s.scalars(
            select(ImageRow).where(ImageRow.model_version_id == version.id).order_by(ImageRow.id)
        ).all()
        for image in images:
            nid = f"image:{image.id}"
            nodes.append(_node(nid, "image", image.tag, "deploy", image.id, status=image.status))
            edges.append({"from": vid, "to": nid})
        image_ids = {image.id for image in images}
        deployments = s.scalars(
            select(DeploymentRow)
            .where(DeploymentRow.model_version_id == version.id)
            .order_by(DeploymentRow.id)
        ).all()
        for dep in deployments:
            nid = f"deployment:{dep.id}"
            label = dep.container_name or f"Deployment {dep.id}"
            nodes.append(
                _node(
                    nid,
                    "deployment",
                    f"{label} ({dep.status})",
                    "deploy",
                    dep.id,
                    status=dep.status,
                    port=dep.port,
                )
            )
            parent = f"image:{dep.image_row_id}" if dep.image_row_id in image_ids else vid
            edges.append({"from": parent, "to": nid})
    return {"version": version.ref, "nodes": nodes, "edges": edges}
