"""Balanced deployments: variants (primary, canary) behind HAProxy, replicas, fallback.

A balanced deployment is a ``deployments`` row of kind ``balanced`` whose container is the
load balancer; its variants are ``deployment_variants`` rows; each replica is an ordinary
deployment row (started and smoke-tested by ``run``) that names its variant. The store is
the truth: every change rewrites the balancer's configuration from it and reloads HAProxy
(no connection dropped), and writes an audit entry.

Fallback is the balancer's job: health checks and an error budget take a broken replica out
of the rotation within about a second, so its traffic goes to the variants still up. When
ModelDesk next looks (``deployments list``, the Deploy panel, ``check_fallbacks``) it records
a canary whose replicas are all down as ``fallen_back`` with the reason and an audit entry,
and takes it out of the configuration.

``VariantsMixin`` is one of the parts of ``DeployService``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.core.deploy import balancer as lb
from app.core.deploy import containers as ctr
from app.core.deploy.deployments import ACTIVE, LABEL_IMAGE_ROW
from app.core.deploy.entities import Deployment, Image, Variant
from app.core.deploy.images import LogSink, _Slice
from app.core.errors import Conflict, InvalidInput, ModelDeskError, NotFound
from app.core.progress import NullProgress, Progress
from app.core.store.models_deploy import DeploymentRow, ImageRow, VariantRow

MAX_REPLICAS = 16
GRACE_SECONDS = 2.0  # the old HAProxy worker may still send a request to a removed replica
_HEADER = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class VariantsMixin:
    """Canary, replicas, promote, abort, scale and fallback of balanced deployments."""

    store: Any

    # -- starting ---------------------------------------------------------------------------

    def deploy_variants(
        self,
        primary: str,
        *,
        canary: str | None = None,
        weight: int = 10,
        sticky: str | None = None,
        replicas: int = 1,
        options: ctr.RunOptions | None = None,
        budget: lb.Budget | None = None,
        progress: Progress | None = None,
        on_log: LogSink | None = None,
    ) -> Deployment:
        """Start ``primary`` (``replicas`` containers) and an optional ``canary`` behind HAProxy.

        The canary takes ``weight`` % of the requests; with ``sticky`` the value of that
        header picks the variant by consistent hashing, so one key always meets one variant.
        """
        progress = progress or NullProgress()
        options = options or ctr.RunOptions()
        _check_variant_args(canary, weight, sticky, replicas)
        client = self.client()
        images = [self.image_for(primary, progress=_Slice(progress, 0, 0.3), on_log=on_log)]
        if canary:
            images.append(self.image_for(canary, progress=_Slice(progress, 0.3, 0.5)))
        progress.update(0.5, "Preparing the load balancer")
        lb_tag = lb.ensure_image(client, self.base_image)
        port = options.port or ctr.free_port()
        if options.port:
            ctr.check_port(port)
        budget = budget or lb.Budget()
        settings = {
            **options.public(),
            "sticky": sticky,
            "stats_port": ctr.free_port(),
            "budget": dataclasses.asdict(budget),
        }
        dep_id = self._insert_balanced(images[0], port, settings)
        replica_options = dataclasses.replace(options, port=None)
        try:
            shares = [(images[0], "primary", 100 - weight if canary else 100, replicas)]
            if canary:
                shares.append((images[1], "canary", weight, 1))
            for n, (image, role, share, count) in enumerate(shares):
                variant_id = self._insert_variant(dep_id, image, role, share, count)
                for _ in range(count):
                    progress.update(0.55 + 0.3 * n / len(shares), f"Starting {image.ref}")
                    self._start_replica(variant_id, image, replica_options)
            progress.update(0.9, "Starting the load balancer")
            folder = self._balancer_folder(dep_id)
            lb.write_config(folder, self._render(dep_id))
            container = lb.start(
                client,
                lb_tag,
                name=f"modeldesk-lb-{dep_id}-{uuid.uuid4().hex[:6]}",
                folder=folder,
                labels={LABEL_IMAGE_ROW: str(images[0].id), ctr.LABEL_DEPLOYMENT: str(dep_id)},
            )
            self._set_container(dep_id, container)
            lb.wait_serving(port)
        except BaseException as exc:
            self._stop_replicas(dep_id)
            with contextlib.suppress(ModelDeskError):
                found = self._container(self.deployment(dep_id))
                if found is not None:
                    ctr.stop_container(found)
            self._finish_deployment(dep_id, "failed", smoke={"ok": False, "reason": str(exc)})
            self._audit("deployment.failed", images[0].ref, {"deployment": dep_id})
            raise
        dep = self._finish_deployment(dep_id, "running", smoke={"ok": True}, stopped=False)
        variants = self.variants(dep_id)
        self._audit(
            "deployment.started",
            images[0].ref,
            {
                "deployment": dep_id,
                "port": port,
                "balanced": True,
                "sticky": sticky,
                "variants": [
                    {"ref": v.ref, "role": v.role, "weight": v.weight, "replicas": v.replicas}
                    for v in variants
                ],
            },
        )
        progress.update(1.0, f"Running on {dep.url}")
        return dataclasses.replace(dep, variants=tuple(variants))

    # -- changing ---------------------------------------------------------------------------

    def promote(self, deployment_id: int) -> Deployment:
        """All traffic to the canary; the old primary's replicas stop after a grace period."""
        primary, canary = self._pair(deployment_id, "promote")
        self._update_variant(canary.id, role="primary", weight=100, status="active")
        self._update_variant(primary.id, weight=0, status="retired", reason="promoted away")
        self._apply(deployment_id)
        self._stop_variant(primary.id, grace=True)
        self._audit(
            "deployment.promoted",
            canary.ref,
            {"deployment": deployment_id, "from": primary.ref, "to": canary.ref},
        )
        return self.balanced(deployment_id)

    def abort(self, deployment_id: int) -> Deployment:
        """All traffic back to the primary; the canary's replicas stop."""
        primary, canary = self._pair(deployment_id, "abort")
        self._update_variant(canary.id, weight=0, status="aborted", reason="aborted by the user")
        self._apply(deployment_id)
        self._stop_variant(canary.id, grace=True)
        self._audit(
            "deployment.aborted", canary.ref, {"deployment": deployment_id, "back_to": primary.ref}
        )
        return self.balanced(deployment_id)

    def scale(self, deployment_id: int, replicas: int) -> Deployment:
        """Change the primary's replica count live (new ones join only once smoke-tested)."""
        if not 1 <= replicas <= MAX_REPLICAS:
            raise InvalidInput(
                f"Replicas must be between 1 and {MAX_REPLICAS}, not {replicas}.",
                hint="Give a whole number, e.g. `modeldesk deployments scale ID 2`.",
            )
        dep = self._running_balanced(deployment_id)
        primary = _active(self.variants(deployment_id), "primary")
        before = len(primary.replica_ids)
        image = self.image(primary.image_row_id)
        options = self._replica_options(dep)
        for _ in range(replicas - before):
            self._start_replica(primary.id, image, options)
        extra = list(primary.replica_ids)[replicas:] if replicas < before else []
        self._update_variant(primary.id, replicas=replicas)
        self._apply(deployment_id, leaving=set(extra))
        if extra:
            time.sleep(GRACE_SECONDS)
            for replica in extra:
                self.stop(replica)
        self._audit(
            "deployment.scaled",
            primary.ref,
            {"deployment": deployment_id, "from": before, "to": replicas},
        )
        return self.balanced(deployment_id)

    def update(
        self, deployment_id: int, target: str, *, progress: Progress | None = None
    ) -> Deployment:
        """Rolling update: start the new version's replicas, move the traffic, stop the old."""
        dep = self._running_balanced(deployment_id)
        variants = self.variants(deployment_id)
        if _active(variants, "canary"):
            raise Conflict(
                f"Deployment {deployment_id} has a canary; promote or abort it first.",
            )
        primary = _active(variants, "primary")
        image = self.image_for(target, progress=progress)
        variant_id = self._insert_variant(deployment_id, image, "canary", 0, primary.replicas)
        options = self._replica_options(dep)
        for _ in range(primary.replicas):
            self._start_replica(variant_id, image, options)
        return self.promote(deployment_id)

    # -- fallback ---------------------------------------------------------------------------

    def check_fallbacks(self) -> list[Variant]:
        """Record every canary the balancer took out of the rotation (all replicas down)."""
        fallen: list[Variant] = []
        for dep in self.deployments(active_only=True):
            if dep.kind == "balanced" and dep.status == "running":
                with contextlib.suppress(ModelDeskError):
                    fallen += self.check_fallback(dep.id)
        return fallen

    def check_fallback(self, deployment_id: int) -> list[Variant]:
        dep = self.deployment(deployment_id)
        rows = {r["svname"]: r for r in lb.stats(int(dep.options["stats_port"]))}
        fallen = []
        for variant in self.variants(deployment_id):
            if variant.role != "canary" or variant.status != "active":
                continue
            states = [rows.get(_server_name(variant.id, r)) for r in variant.replica_ids]
            if any(s is not None and not s.get("status", "").startswith("DOWN") for s in states):
                continue
            reason = (
                "; ".join(
                    f"{s['svname']} down: {s.get('check_status') or '-'} {s.get('last_chk') or ''}"
                    for s in states
                    if s is not None
                )
                or "none of its containers is running"
            )
            self._update_variant(variant.id, weight=0, status="fallen_back", reason=reason)
            self._apply(deployment_id)
            self._stop_variant(variant.id, grace=False)
            self._audit(
                "deployment.fallback",
                variant.ref,
                {"deployment": deployment_id, "reason": reason, "to": "primary"},
            )
            fallen.append(self._variant(variant.id))
        return fallen

    # -- reading ----------------------------------------------------------------------------

    def variants(self, deployment_id: int) -> list[Variant]:
        with self.store.session() as s:
            rows = s.scalars(
                select(VariantRow)
                .where(VariantRow.deployment_id == int(deployment_id))
                .order_by(VariantRow.id)
            ).all()
            return [_variant(s, r) for r in rows]

    def balanced(self, deployment_id: int) -> Deployment:
        """The deployment with its variants."""
        dep = self.deployment(deployment_id)
        return dataclasses.replace(dep, variants=tuple(self.variants(deployment_id)))

    # -- helpers ----------------------------------------------------------------------------

    def _pair(self, deployment_id: int, verb: str) -> tuple[Variant, Variant]:
        self._running_balanced(deployment_id)
        variants = self.variants(deployment_id)
        primary, canary = _active(variants, "primary"), _active(variants, "canary")
        if primary is None or canary is None:
            raise Conflict(
                f"Deployment {deployment_id} has no active canary, so there is nothing to {verb}.",
                hint="Start one with `modeldesk deploy NAME@V --canary NAME@W --weight 10`.",
            )
        return primary, canary

    def _running_balanced(self, deployment_id: int) -> Deployment:
        dep = self.deployment(deployment_id)
        if dep.kind != "balanced":
            raise Conflict(
                f"Deployment {deployment_id} is a single container, not a deployment with "
                "variants behind a load balancer.",
                hint="Deploy with --replicas N or --canary REF to get one.",
            )
        if dep.status != "running":
            raise Conflict(f"Deployment {deployment_id} is {dep.status}, not running.")
        return dep

    def _replica_options(self, dep: Deployment) -> ctr.RunOptions:
        replicas = [r for v in self.variants(dep.id) for r in v.replica_ids]
        token = self._token_of(self.deployment(replicas[0])) if replicas else None
        return ctr.RunOptions(
            token=token,
            cpus=dep.options.get("cpus"),
            memory=dep.options.get("memory"),
            log_dir=dep.options.get("log_dir"),
            max_body_mb=dep.options.get("max_body_mb"),
        )

    def _start_replica(self, variant_id: int, image: Image, options: ctr.RunOptions) -> int:
        replica = self.run(image.id, options)

        def write(s: Any) -> None:
            s.get(DeploymentRow, replica.id).variant_id = variant_id

        self.store.write(write)
        return replica.id

    def _render(self, deployment_id: int, leaving: set[int] | None = None) -> str:
        dep = self.deployment(deployment_id)
        live = [
            (v, [r for r in v.replica_ids if r not in (leaving or set())])
            for v in self.variants(deployment_id)
            if v.status == "active" and v.role in ("primary", "canary")
        ]
        weights = lb.server_weights([(v.weight, len(ids)) for v, ids in live])
        servers = [
            lb.Server(_server_name(v.id, r), self.deployment(r).port, w, v.version)
            for (v, ids), w in zip(live, weights, strict=True)
            for r in ids
        ]
        return lb.render_config(
            port=dep.port,
            stats_port=int(dep.options["stats_port"]),
            servers=servers,
            sticky=dep.options.get("sticky"),
            budget=lb.Budget(**(dep.options.get("budget") or {})),
        )

    def _apply(self, deployment_id: int, leaving: set[int] | None = None) -> None:
        dep = self.deployment(deployment_id)
        lb.write_config(self._balancer_folder(deployment_id), self._render(deployment_id, leaving))
        container = self._container(dep)
        if container is None:
            raise NotFound(f"The load balancer of deployment {deployment_id} is gone.")
        lb.reload(container)

    def _stop_variant(self, variant_id: int, *, grace: bool) -> None:
        if grace:
            time.sleep(GRACE_SECONDS)
        for replica in self._variant(variant_id).replica_ids:
            self.stop(replica)

    def _stop_replicas(self, deployment_id: int) -> None:
        for variant in self.variants(deployment_id):
            for replica in variant.replica_ids:
                with contextlib.suppress(ModelDeskError):
                    self.stop(replica)

    def _balancer_folder(self, deployment_id: int) -> Path:
        return Path(self.store.artifacts_dir).parent / "balancers" / str(deployment_id)

    def _variant(self, variant_id: int) -> Variant:
        with self.store.session() as s:
            return _variant(s, s.get(VariantRow, variant_id))

    def _insert_balanced(self, image: Image, port: int, settings: dict[str, Any]) -> int:
        from app.core.artifacts import owner_tag

        def write(s: Any) -> int:
            row = DeploymentRow(
                image_row_id=image.id,
                model_version_id=image.model_version_id,
                container_id="",
                container_name="",
                host="127.0.0.1",
                port=port,
                status="starting",
                options=settings,
                smoke_test={},
                owner=owner_tag(),
                created_at=datetime.now(UTC),
                kind="balanced",
            )
            s.add(row)
            s.flush()
            return row.id

        return self.store.write(write)

    def _set_container(self, deployment_id: int, container: Any) -> None:
        def write(s: Any) -> None:
            row = s.get(DeploymentRow, deployment_id)
            row.container_id, row.container_name = container.id, container.name

        self.store.write(write)

    def _insert_variant(
        self, deployment_id: int, image: Image, role: str, weight: int, replicas: int
    ) -> int:
        def write(s: Any) -> int:
            now = datetime.now(UTC)
            row = VariantRow(
                deployment_id=deployment_id,
                role=role,
                image_row_id=image.id,
                model_version_id=image.model_version_id,
                weight=weight,
                replicas=replicas,
                status="active",
                reason="",
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            return row.id

        return self.store.write(write)

    def _update_variant(self, variant_id: int, **values: Any) -> None:
        def write(s: Any) -> None:
            row = s.get(VariantRow, variant_id)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = datetime.now(UTC)

        self.store.write(write)


def _check_variant_args(canary: str | None, weight: int, sticky: str | None, replicas: int) -> None:
    if canary and not 1 <= weight <= 99:
        raise InvalidInput(
            f"--weight must be between 1 and 99 (the canary's percent of requests), not {weight}.",
            hint="e.g. --weight 10 sends one request in ten to the canary.",
        )
    if not 1 <= replicas <= MAX_REPLICAS:
        raise InvalidInput(f"--replicas must be between 1 and {MAX_REPLICAS}, not {replicas}.")
    if sticky is not None and not _HEADER.match(sticky):
        raise InvalidInput(
            f"--sticky {sticky!r} is not an HTTP header name (letters, digits and '-').",
            hint="e.g. --sticky X-User-Id",
        )


def _active(variants: list[Variant], role: str) -> Any:
    """The active variant of ``role`` (retired, aborted and fallen-back ones stay listed)."""
    return next((v for v in variants if v.role == role and v.status == "active"), None)


def _server_name(variant_id: int, replica_id: int) -> str:
    return f"v{variant_id}-r{replica_id}"


def _variant(s: Any, row: VariantRow) -> Variant:
    image = s.get(ImageRow, row.image_row_id) if row.image_row_id else None
    labels = (image.labels or {}) if image is not None else {}
    replicas = s.scalars(
        select(DeploymentRow.id)
        .where(DeploymentRow.variant_id == row.id, DeploymentRow.status.in_(ACTIVE))
        .order_by(DeploymentRow.id)
    ).all()
    return Variant(
        id=row.id,
        deployment_id=row.deployment_id,
        role=row.role,
        image_row_id=row.image_row_id,
        model_version_id=row.model_version_id,
        weight=row.weight,
        replicas=row.replicas,
        status=row.status,
        reason=row.reason,
        model=labels.get("io.modeldesk.model", ""),
        version=labels.get("io.modeldesk.version", ""),
        replica_ids=tuple(replicas),
    )
