"""``RegistryService``: named models, numbered versions, aliases, policy and the audit trail.

    register(run_id, name)        → ModelVersion (copies signature, metrics, environment)
    resolve("name" | "name@3" | "name@champion") → ModelVersion
    load_model(ref) / model_bytes(ref)   the skops bytes, SHA-256 checked before anything else
    set_alias(name, alias, version, force=, reason=)   champion moves pass the policy
    list_models(search) / list_versions(name) / archive(ref) / restore(ref)
    audit_append / audit_log / audit_verify

Every change commits in the same transaction as its audit entry, so the log never claims
what did not happen and nothing happens unlogged. A refused promotion and a refused load
(tampered file) are logged too: an auditor wants to see attempts, not only successes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.core.errors import Conflict, InvalidInput, NotFound, PolicyRefused, TamperedArtifact
from app.core.registry import audit, policy
from app.core.registry.entities import (
    AuditEntry,
    AuditReport,
    ModelVersion,
    PolicyCheck,
    RegisteredModel,
)
from app.core.registry.refs import check_alias, check_name, parse_ref
from app.core.store.models_registry import (
    AuditRow,
    ModelAliasRow,
    ModelVersionRow,
    RegisteredModelRow,
)

if TYPE_CHECKING:
    from app.core.artifacts import ArtifactStore
    from app.core.store import Store
    from app.core.tracking import Run, TrackingService
    from app.core.training.service import TrainingService


def _now() -> datetime:
    return datetime.now(UTC)


def recipe_of(run: Run) -> dict[str, Any] | None:
    """``{"name", "version"}`` of the data recipe a run was trained with, if any.

    The recipes area records it in the run's recipe (top level or in the plan's request) or
    as a ``recipe`` parameter, either as a dict or as ``"name@version"`` text.
    """
    plan_request = ((run.recipe or {}).get("plan") or {}).get("request") or {}
    for found in (
        (run.recipe or {}).get("recipe"),
        plan_request.get("recipe"),
        run.params.get("recipe"),
    ):
        if not found:
            continue
        if isinstance(found, dict) and found.get("name"):
            return {"name": str(found["name"]), "version": found.get("version")}
        if isinstance(found, str):
            name, _, version = found.partition("@")
            return {"name": name, "version": int(version) if version.isdigit() else None}
    return None


class RegistryService:
    def __init__(
        self,
        store: Store,
        artifacts: ArtifactStore,
        tracking: TrackingService | None = None,
        training: TrainingService | None = None,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.tracking = tracking
        self.training = training
        self.clock = clock

    # -- registering -----------------------------------------------------------------------

    def register(
        self,
        run_id: int,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Make run ``run_id``'s model the next version of ``name`` (created if new)."""
        from app.core.training import model_io
        from app.core.training.metrics import CV_PREFIX

        check_name(name)
        if self.tracking is None:
            raise InvalidInput("This registry was opened without runs; it cannot register.")
        run = self.tracking.get(run_id)
        if run.deleted:
            raise Conflict(f"Run {run_id} is deleted.", hint="Restore it before registering.")
        if run.status != "finished":
            raise InvalidInput(
                f"Run {run_id} is {run.status}; only a finished run can be registered."
            )
        art, meta_art = run.artifact(model_io.MODEL_NAME), run.artifact(model_io.META_NAME)
        if art is None or meta_art is None:
            raise NotFound(f"Run {run_id} has no saved model to register.")
        meta = json.loads(self.artifacts.open_verified(meta_art.sha256).read_bytes())
        self._read_verified(art.sha256, subject=f"run:{run_id}")  # refuse a changed file now
        env = run.env or {}
        classes = meta.get("classes") or []
        fields = dict(
            source="run",
            run_id=run.id,
            dataset_version_id=run.dataset_version_id,
            artifact_sha256=art.sha256,
            artifact_size=art.size,
            task=run.task or meta.get("task"),
            target=run.target or meta.get("target"),
            estimator=run.estimator,
            signature=meta.get("inputs") or {"columns": []},
            input_example=meta.get("input_example") or [],
            output={"task": run.task, **({"classes": classes} if classes else {})},
            metrics={k: float(v) for k, v in run.metrics.items() if not k.startswith(CV_PREFIX)},
            trusted_types=list(meta.get("trusted_types") or []),
            packages=dict(env.get("packages") or {}),
            python_version=str(env.get("python") or (meta.get("versions") or {}).get("python")),
            recipe=recipe_of(run),
            description=description,
            tags={str(k): str(v) for k, v in (tags or {}).items()},
        )
        return self.store.write(self._insert_version, name, fields, None, recount=4)

    def _insert_version(
        self, s: Session, name: str, fields: dict[str, Any], pending: Any
    ) -> ModelVersion:
        now = self.clock()
        model = s.scalar(select(RegisteredModelRow).where(RegisteredModelRow.name == name))
        if model is None:
            model = RegisteredModelRow(
                name=name, description="", tags={}, policy={}, created_at=now, updated_at=now
            )
            s.add(model)
            s.flush()
            audit.append(s, "model.create", name, {})
        number = (
            s.scalar(
                select(func.max(ModelVersionRow.version)).where(
                    ModelVersionRow.model_id == model.id
                )
            )
            or 0
        ) + 1
        row = ModelVersionRow(
            model_id=model.id, version=number, status="active", card={}, created_at=now, **fields
        )
        s.add(row)
        model.updated_at = now
        if pending is not None:
            pending.mark_stored(s)
        s.flush()
        audit.append(
            s,
            "version.register",
            f"{name}@{number}",
            {
                "source": fields["source"],
                "run_id": fields["run_id"],
                "dataset_version_id": fields["dataset_version_id"],
                "artifact_sha256": fields["artifact_sha256"],
                "tags": fields["tags"],
                **({"trusted_types": fields["trusted_types"]} if fields["source"] != "run" else {}),
            },
        )
        return self._version(s, row, name)

    # -- reading ---------------------------------------------------------------------------

    def resolve(self, ref: str) -> ModelVersion:
        """The version ``ref`` names; ``name`` alone is its latest active version."""
        with self.store.session() as s:
            row, name = self._resolve_row(s, ref)
            return self._version(s, row, name)

    def version_by_id(self, version_id: int) -> ModelVersion:
        """The version whose row id is ``version_id`` (what images and deployments keep)."""
        with self.store.session() as s:
            row = s.get(ModelVersionRow, int(version_id))
            if row is None:
                raise NotFound(f"No model version has the id {version_id}.")
            name = s.get(RegisteredModelRow, row.model_id).name
            return self._version(s, row, name)

    def get_model(self, name: str) -> RegisteredModel:
        models = [m for m in self._models(exact=name) if m.name == name]
        if not models:
            raise NotFound(f"No registered model named '{name}'.", hint=self._names_hint())
        return models[0]

    def list_models(self, search: str = "") -> list[RegisteredModel]:
        """Models whose name or description contains ``search`` (any case), by name."""
        return self._models(search=search)

    def list_versions(self, name: str, *, include_archived: bool = True) -> list[ModelVersion]:
        """All versions of ``name``, newest first."""
        with self.store.session() as s:
            model = self._model_row(s, name)
            query = select(ModelVersionRow).where(ModelVersionRow.model_id == model.id)
            if not include_archived:
                query = query.where(ModelVersionRow.status == "active")
            rows = list(s.scalars(query.order_by(ModelVersionRow.version.desc())))
            aliases = self._aliases_by_version(s, model.id)
            return [self._version(s, r, name, aliases.get(r.id, [])) for r in rows]

    def policy_of(self, name: str) -> dict[str, Any]:
        """The effective promotion policy of ``name`` (defaults filled in)."""
        with self.store.session() as s:
            model = self._model_row(s, name)
            task = s.scalar(
                select(ModelVersionRow.task)
                .where(ModelVersionRow.model_id == model.id)
                .order_by(ModelVersionRow.version.desc())
                .limit(1)
            )
            return policy.effective(model.policy, task)

    # -- loading ---------------------------------------------------------------------------

    def model_bytes(self, ref: str) -> tuple[bytes, ModelVersion]:
        """The verified skops bytes of ``ref`` (for packaging) and its version."""
        version = self.resolve(ref)
        return self._read_verified(version.artifact_sha256, subject=version.ref), version

    def load_model(self, ref: str) -> Any:
        """The fitted pipeline of ``ref``: hash checked on the bytes read, then skops with only
        the types recorded when the file was written."""
        data, version = self.model_bytes(ref)
        return self.loads(data, version)

    @staticmethod
    def loads(data: bytes, version: ModelVersion) -> Any:
        import skops.io as sio
        from skops.io.exceptions import UntrustedTypesFoundException

        try:
            return sio.loads(data, trusted=list(version.trusted_types))
        except UntrustedTypesFoundException as exc:
            raise InvalidInput(
                f"{version.ref}'s file holds types that were not trusted when it was "
                f"registered: {exc}",
                hint="Import it again, trusting those types, if you know where it came from.",
            ) from exc

    def _read_verified(self, sha256: str, *, subject: str) -> bytes:
        """Read once, hash what was read: a mismatch is refused and logged."""
        path = self.artifacts.path_for(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self.audit_append(
                "artifact.missing", subject, {"artifact_sha256": sha256, "path": str(path)}
            )
            raise NotFound(
                f"The model file of {subject} is missing from {path.parent}.",
                hint="The artifact folder was moved or cleaned; restore it from a backup.",
            ) from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            self.audit_append(
                "artifact.load_refused",
                subject,
                {"expected_sha256": sha256, "actual_sha256": actual, "path": str(path)},
            )
            raise TamperedArtifact(
                f"The model file of {subject} ({path}) was changed after it was stored "
                f"(SHA-256 {actual[:12]}… instead of {sha256[:12]}…). It was not loaded.",
                hint="Restore the file from a backup or register the model again; the refusal "
                "is in the audit log.",
            )
        return data

    # -- aliases and policy ------------------------------------------------------------------

    def check_promotion(
        self,
        name: str,
        version: int,
        alias: str = "champion",
        *,
        evidence: Mapping[str, Any] | None = None,
    ) -> PolicyCheck:
        """What the policy says about moving ``alias`` to ``version`` (nothing changes).

        ``evidence`` (see ``set_alias``) makes the policy decide on scores measured on the
        same data rather than on the registered cross-validation scores.
        """
        cleaned = policy.clean_evidence(evidence) if evidence is not None else None
        with self.store.session() as s:
            return self._check(s, name, version, alias, cleaned)

    def _check(
        self,
        s: Session,
        name: str,
        version: int,
        alias: str,
        evidence: dict[str, Any] | None = None,
    ) -> PolicyCheck:
        model = self._model_row(s, name)
        candidate = self._version(s, self._version_row(s, model, version), name)
        if alias != policy.PROMOTED_ALIAS:
            return PolicyCheck(True, (), None, None, None, None, evidence)
        current = s.scalar(
            select(ModelAliasRow.version_id).where(
                ModelAliasRow.model_id == model.id, ModelAliasRow.alias == alias
            )
        )
        incumbent = (
            self._version(s, s.get(ModelVersionRow, current), name) if current is not None else None
        )
        replay = None
        if (model.policy or {}).get("replay_agreement"):
            last = s.scalar(
                select(AuditRow)
                .where(AuditRow.action == "model.replayed", AuditRow.subject == candidate.ref)
                .order_by(AuditRow.id.desc())
                .limit(1)
            )
            replay = audit.to_entry(last).details if last is not None else None
        return policy.check(model.policy, candidate, incumbent, evidence, replay)

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        force: bool = False,
        reason: str = "",
        evidence: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Point ``alias`` of ``name`` at ``version``; ``champion`` moves pass the policy.

        A refusal raises ``PolicyRefused`` (exit code 3) with the reasons and is logged;
        ``force`` needs a written ``reason``, which goes into the audit log.

        ``evidence`` = ``{"metric": name, "data": "dataset@version", "scores": {version:
        value, ...}}``: both the champion and ``version`` scored on the same evaluation data
        (e.g. a new batch's held-out rows). The policy then decides on those scores (its
        ``min_gain``, the metric's direction) instead of the registered ones, so a challenger
        trained on newer data needs no force; the evidence goes into the audit entry.
        """
        check_alias(alias)
        cleaned = policy.clean_evidence(evidence) if evidence is not None else None
        reason = (reason or "").strip()
        if force and not reason:
            raise InvalidInput(
                "A forced alias move needs a written reason.",
                hint="Say why with --reason TEXT; it goes into the audit log.",
            )

        def write(s: Session) -> tuple[ModelVersion | None, PolicyCheck]:
            model = self._model_row(s, name)
            row = self._version_row(s, model, version)
            if row.status != "active":
                raise Conflict(
                    f"{name}@{version} is archived; restore it before giving it an alias."
                )
            verdict = self._check(s, name, version, alias, cleaned)
            if not verdict.allowed and not force:
                return None, verdict
            alias_row = s.get(ModelAliasRow, (model.id, alias))
            previous = s.get(ModelVersionRow, alias_row.version_id).version if alias_row else None
            if alias_row is None:
                s.add(
                    ModelAliasRow(
                        model_id=model.id, alias=alias, version_id=row.id, updated_at=self.clock()
                    )
                )
            else:
                alias_row.version_id, alias_row.updated_at = row.id, self.clock()
            model.updated_at = self.clock()
            s.flush()
            audit.append(
                s,
                "alias.set",
                f"{name}@{version}",
                {
                    "alias": alias,
                    "version": version,
                    "previous": previous,
                    "forced": bool(force and not verdict.allowed),
                    "reason": reason,
                    "policy": verdict.to_dict(),
                    **({"evidence": cleaned} if cleaned is not None else {}),
                },
            )
            return self._version(s, row, name), verdict

        moved, verdict = self.store.write(write)
        if moved is None:
            self.audit_append(
                "alias.refused",
                f"{name}@{version}",
                {
                    "alias": alias,
                    "version": version,
                    "policy": verdict.to_dict(),
                    **({"evidence": cleaned} if cleaned is not None else {}),
                },
            )
            raise PolicyRefused(
                f"{name}@{version} was not made {alias}: " + " ".join(verdict.reasons),
                hint="Improve the model, or force the move with a written reason "
                "(--force --reason TEXT).",
            )
        return moved

    def delete_alias(self, name: str, alias: str) -> None:
        def write(s: Session) -> None:
            model = self._model_row(s, name)
            row = s.get(ModelAliasRow, (model.id, alias))
            if row is None:
                raise NotFound(f"{name} has no alias '{alias}'.")
            version = s.get(ModelVersionRow, row.version_id).version
            s.delete(row)
            audit.append(s, "alias.delete", f"{name}@{version}", {"alias": alias})

        self.store.write(write)

    def set_policy(self, name: str, **changes: Any) -> dict[str, Any]:
        """Change ``metric``, ``min_gain``, ``required_tags``, ``same_data`` or
        ``replay_agreement`` of a model."""
        values = policy.clean(changes)

        def write(s: Session) -> dict[str, Any]:
            model = self._model_row(s, name)
            before = dict(model.policy or {})
            model.policy = {**before, **values}
            model.updated_at = self.clock()
            audit.append(s, "model.policy", name, {"before": before, "after": model.policy})
            return dict(model.policy)

        self.store.write(write)
        return self.policy_of(name)

    # -- editing -----------------------------------------------------------------------------

    def archive(self, ref: str) -> ModelVersion:
        return self._set_status(ref, "archived")

    def restore(self, ref: str) -> ModelVersion:
        return self._set_status(ref, "active")

    def _set_status(self, ref: str, status: str) -> ModelVersion:
        def write(s: Session) -> ModelVersion:
            row, name = self._resolve_row(s, ref, include_archived=True)
            aliases = self._aliases_by_version(s, row.model_id).get(row.id, [])
            if status == "archived" and aliases:
                raise Conflict(
                    f"{name}@{row.version} holds the alias(es) {', '.join(aliases)}.",
                    hint="Move or remove them before archiving the version.",
                )
            if row.status != status:
                row.status = status
                audit.append(
                    s,
                    "version.archive" if status == "archived" else "version.restore",
                    f"{name}@{row.version}",
                    {},
                )
            return self._version(s, row, name, aliases)

        return self.store.write(write)

    def update_version(
        self,
        ref: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        remove_tags: list[str] | tuple[str, ...] = (),
        card: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Edit a version's description, tags or model-card fields (each change is logged)."""

        def write(s: Session) -> ModelVersion:
            row, name = self._resolve_row(s, ref, include_archived=True)
            changed: dict[str, Any] = {}
            if description is not None and description != row.description:
                row.description, changed["description"] = description, description
            if tags or remove_tags:
                new = {k: v for k, v in (row.tags or {}).items() if k not in remove_tags}
                new.update({str(k): str(v) for k, v in (tags or {}).items()})
                if new != row.tags:
                    row.tags, changed["tags"] = new, new
            if card:
                new_card = {**(row.card or {}), **{str(k): str(v) for k, v in card.items()}}
                if new_card != row.card:
                    row.card, changed["card"] = new_card, dict(card)
            if changed:
                audit.append(s, "version.update", f"{name}@{row.version}", changed)
            return self._version(s, row, name)

        return self.store.write(write)

    def update_model(
        self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        def write(s: Session) -> None:
            model = self._model_row(s, name)
            changed: dict[str, Any] = {}
            if description is not None and description != model.description:
                model.description, changed["description"] = description, description
            if tags:
                model.tags = {**(model.tags or {}), **{str(k): str(v) for k, v in tags.items()}}
                changed["tags"] = dict(model.tags)
            if changed:
                model.updated_at = self.clock()
                audit.append(s, "model.update", name, changed)

        self.store.write(write)
        return self.get_model(name)

    # -- audit -------------------------------------------------------------------------------

    def audit_append(
        self, action: str, subject: str, details: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        """Record an event of any area (deploy, monitor, retrain); user and time filled in."""
        if not action or not subject:
            raise InvalidInput("An audit entry needs an action and a subject.")
        return self.store.write(lambda s: audit.append(s, action, subject, details or {}))

    def audit_log(
        self, subject: str | None = None, *, action: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """Entries oldest first; ``subject`` NAME also matches NAME@… (its versions)."""
        with self.store.session() as s:
            query = select(AuditRow)
            if subject:
                query = query.where(
                    or_(AuditRow.subject == subject, AuditRow.subject.startswith(f"{subject}@"))
                )
            if action:
                query = query.where(AuditRow.action == action)
            if limit:
                inner = query.order_by(AuditRow.id.desc()).limit(limit)
                rows = sorted(s.scalars(inner), key=lambda r: r.id)
            else:
                rows = list(s.scalars(query.order_by(AuditRow.id)))
            return [audit.to_entry(r) for r in rows]

    def audit_verify(self) -> AuditReport:
        with self.store.session() as s:
            return audit.verify(s)

    def audit_reanchor(self) -> AuditReport:
        """Accept the log's current length (after a restore from a backup): only when every
        entry checks out; the re-anchoring is itself logged."""
        with self.store.session() as s:
            report = audit.verify(s, anchored=False)
        if not report.ok:
            return report

        def write(s: Session) -> None:
            audit.append(s, "audit.reanchor", "audit", {"entries": report.entries})
            s.flush()

        self.store.write(write)
        with self.store.session() as s:
            audit.reanchor(s)
            return audit.verify(s)

    # -- more (separate modules) -------------------------------------------------------------

    def lineage(self, ref: str) -> dict[str, Any]:
        from app.core.registry.lineage import lineage

        return lineage(self.store, self.resolve(ref))

    def card(self, ref: str) -> dict[str, Any]:
        from app.core.registry.card import build_card
        from app.core.registry.lineage import lineage

        v = self.resolve(ref)
        run = None
        if v.run_id is not None and self.tracking is not None:
            try:
                run = self.tracking.get(v.run_id)
            except NotFound:  # the run was removed: the card still describes the version
                run = None
        return build_card(
            self.store,
            v,
            run=run,
            lineage=lineage(self.store, v),
            audit=self.audit_log(v.model_name, limit=100),
        )

    def card_markdown(self, ref: str) -> str:
        from app.core.registry.card import render_markdown

        return render_markdown(self.card(ref))

    def card_html(self, ref: str) -> str:
        from app.core.registry.card import render_html

        return render_html(
            self.card(ref), png=lambda sha: self.artifacts.path_for(sha).read_bytes()
        )

    def export(self, ref: str, path: Any, *, format: str = "skops") -> dict[str, Any]:
        from app.core.registry.files import export_version

        return export_version(self, ref, path, format=format)

    def inspect_file(self, path: Any) -> dict[str, Any]:
        from app.core.registry.files import inspect_file

        return inspect_file(path)

    def import_file(
        self, path: Any, name: str, *, trust: list[str] | None = None, description: str = ""
    ) -> ModelVersion:
        from app.core.registry.files import import_file

        return import_file(self, path, name, trust=trust or [], description=description)

    # -- helpers (receive a session) ---------------------------------------------------------

    def _models(self, *, search: str = "", exact: str | None = None) -> list[RegisteredModel]:
        with self.store.session() as s:
            counts = (
                select(
                    ModelVersionRow.model_id.label("mid"),
                    func.count().label("n"),
                    func.max(ModelVersionRow.version).label("latest"),
                )
                .group_by(ModelVersionRow.model_id)
                .subquery()
            )
            query = select(
                RegisteredModelRow.id,
                RegisteredModelRow.name,
                RegisteredModelRow.description,
                RegisteredModelRow.tags,
                RegisteredModelRow.policy,
                RegisteredModelRow.created_at,
                RegisteredModelRow.updated_at,
                counts.c.n,
                counts.c.latest,
            ).outerjoin(counts, counts.c.mid == RegisteredModelRow.id)
            if exact is not None:
                query = query.where(RegisteredModelRow.name == exact)
            elif search:
                like = f"%{search.strip()}%"
                query = query.where(
                    or_(
                        RegisteredModelRow.name.ilike(like),
                        RegisteredModelRow.description.ilike(like),
                    )
                )
            rows = s.execute(query.order_by(RegisteredModelRow.name)).all()
            alias_query = select(
                ModelAliasRow.model_id, ModelAliasRow.alias, ModelVersionRow.version
            ).join(ModelVersionRow, ModelVersionRow.id == ModelAliasRow.version_id)
            if exact is not None:
                alias_query = alias_query.where(ModelAliasRow.model_id.in_([r.id for r in rows]))
            aliases: dict[int, dict[str, int]] = {}
            for mid, alias, number in s.execute(alias_query):
                aliases.setdefault(mid, {})[alias] = number
            return [
                RegisteredModel(
                    id=r.id,
                    name=r.name,
                    description=r.description,
                    tags=dict(r.tags or {}),
                    policy=dict(r.policy or {}),
                    versions=r.n or 0,
                    latest_version=r.latest,
                    aliases=dict(sorted(aliases.get(r.id, {}).items())),
                    created_at=r.created_at,
                    updated_at=r.updated_at,
                )
                for r in rows
            ]

    def _names_hint(self) -> str:
        with self.store.session() as s:
            names = list(
                s.scalars(
                    select(RegisteredModelRow.name).order_by(RegisteredModelRow.name).limit(10)
                )
            )
        if not names:
            return "No model is registered yet: register a run with 'modeldesk models register'."
        return "Registered models: " + ", ".join(names) + "."

    def _model_row(self, s: Session, name: str) -> RegisteredModelRow:
        model = s.scalar(select(RegisteredModelRow).where(RegisteredModelRow.name == name))
        if model is None:
            raise NotFound(f"No registered model named '{name}'.", hint=self._names_hint())
        return model

    @staticmethod
    def _version_row(s: Session, model: RegisteredModelRow, version: int) -> ModelVersionRow:
        row = s.scalar(
            select(ModelVersionRow).where(
                ModelVersionRow.model_id == model.id, ModelVersionRow.version == int(version)
            )
        )
        if row is None:
            latest = s.scalar(
                select(func.max(ModelVersionRow.version)).where(
                    ModelVersionRow.model_id == model.id
                )
            )
            raise NotFound(
                f"{model.name} has no version {version}.",
                hint=f"Its versions go from 1 to {latest}." if latest else None,
            )
        return row

    def _resolve_row(
        self, s: Session, ref: str, *, include_archived: bool = True
    ) -> tuple[ModelVersionRow, str]:
        name, which = parse_ref(ref)
        model = self._model_row(s, name)
        if which is None:
            row = s.scalar(
                select(ModelVersionRow)
                .where(ModelVersionRow.model_id == model.id, ModelVersionRow.status == "active")
                .order_by(ModelVersionRow.version.desc())
                .limit(1)
            )
            if row is None:
                raise NotFound(f"{name} has no active version.", hint="Restore or register one.")
            return row, name
        if isinstance(which, int):
            return self._version_row(s, model, which), name
        alias_row = s.get(ModelAliasRow, (model.id, which))
        if alias_row is None:
            known = sorted(
                s.scalars(select(ModelAliasRow.alias).where(ModelAliasRow.model_id == model.id))
            )
            raise NotFound(
                f"{name} has no alias '{which}'.",
                hint=f"Its aliases: {', '.join(known)}." if known else "It has no aliases yet.",
            )
        return s.get(ModelVersionRow, alias_row.version_id), name

    @staticmethod
    def _aliases_by_version(s: Session, model_id: int) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for version_id, alias in s.execute(
            select(ModelAliasRow.version_id, ModelAliasRow.alias)
            .where(ModelAliasRow.model_id == model_id)
            .order_by(ModelAliasRow.alias)
        ):
            out.setdefault(version_id, []).append(alias)
        return out

    def _version(
        self, s: Session, row: ModelVersionRow, name: str, aliases: list[str] | None = None
    ) -> ModelVersion:
        if aliases is None:
            aliases = self._aliases_by_version(s, row.model_id).get(row.id, [])
        return ModelVersion(
            id=row.id,
            model_name=name,
            version=row.version,
            run_id=row.run_id,
            dataset_version_id=row.dataset_version_id,
            artifact_sha256=row.artifact_sha256,
            task=row.task,
            target=row.target,
            estimator=row.estimator,
            signature=dict(row.signature or {}),
            input_example=list(row.input_example or []),
            output=dict(row.output or {}),
            metrics=dict(row.metrics or {}),
            trusted_types=list(row.trusted_types or []),
            packages=dict(row.packages or {}),
            python_version=row.python_version,
            recipe=dict(row.recipe) if row.recipe else None,
            description=row.description,
            tags=dict(row.tags or {}),
            status=row.status,
            aliases=list(aliases),
            created_at=row.created_at,
            source=row.source,
            artifact_size=row.artifact_size,
            card=dict(row.card or {}),
        )
