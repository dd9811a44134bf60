"""Champion/challenger retraining: the champion's recipe on new data, compared, maybe promoted.

The challenger is the champion's run recipe (preprocessing, estimator, parameters,
validation, seed) trained on a dataset version the user names; it becomes a new version of
the same model with the alias ``challenger``. Both are then scored on the same rows, the new
data: the champion as it stands (it never saw them, so its score is out of sample) and the
challenger by its cross-validation on them (mean and fold spread; each fold's score is out of
sample too). Promotion to ``champion`` goes through the registry's ``set_alias`` policy with
those two scores as its evidence: the registry's ``same_data`` rule refuses a candidate
trained on other data when only the registered scores speak for it, but evidence measured on
one dataset version lets the policy decide on the numbers. Any other refusal (a required tag)
stands and is raised.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from app.core.errors import InvalidInput
from app.core.progress import NullProgress, Progress, SubProgress


@dataclass(frozen=True)
class Comparison:
    metric: str
    lower_is_better: bool
    champion: float | None  # the champion's score on the new data
    challenger: float | None  # the challenger's cross-validation mean on the new data
    challenger_std: float | None
    better: bool
    rows: list[dict[str, Any]]  # every metric side by side


@dataclass(frozen=True)
class RetrainResult:
    champion: str  # ref of the champion at the start (name@version)
    challenger: str  # ref of the new version
    run_id: int
    data: str
    comparison: Comparison
    promoted: bool
    decision: str  # promoted | kept out | not asked
    champion_drift: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_html(self) -> str:
        """Champion and challenger side by side (the panel's comparison view)."""
        from html import escape

        cmp = self.comparison

        def f(v: Any) -> str:
            return "–" if v is None else f"{v:.4f}"

        rows = "".join(
            f"<tr><td>{'<b>' if r['metric'] == cmp.metric else ''}{escape(r['metric'])}</td>"
            f"<td align='right'>{f(r['champion'])}</td><td align='right'>{f(r['challenger'])}"
            f" ± {f(r['challenger_std'])}</td></tr>"
            for r in cmp.rows
        )
        drift = ""
        if self.champion_drift:
            drift = (
                f"<p>Drift of {escape(self.data)} from the champion's training data: "
                f"{escape(drift_sentence(self.champion_drift))}</p>"
            )
        return (
            f"<h3>{escape(self.champion)} (champion) vs {escape(self.challenger)} (challenger)</h3>"
            f"<p>Both scored on {escape(self.data)}: the champion as it stands, the challenger "
            f"by cross-validation (mean ± fold spread).</p><table><tr><th>metric</th>"
            f"<th>champion</th><th>challenger</th></tr>{rows}</table>"
            f"<p>{escape(cmp.metric)} decides ({'lower' if cmp.lower_is_better else 'higher'} is "
            f"better): the challenger is {'better' if cmp.better else 'not better'} — "
            f"<b>{escape(self.decision)}</b>.</p>{drift}"
        )


def drift_sentence(drift: dict[str, Any]) -> str:
    """The drift summary of a retraining, naming the rule that set its status."""
    verdict = drift.get("verdict")
    if verdict:
        return verdict
    drifted = drift.get("drifted") or []  # a result stored before verdicts were kept
    return f"{drift['status']} ({len(drifted)} feature(s) drifted, {drift['drift_share']:.0%})."


class Retrainer:
    def __init__(self, registry: Any, training: Any, datasets: Any, monitoring: Any = None) -> None:
        self.registry = registry
        self.training = training
        self.datasets = datasets
        self.monitoring = monitoring

    def retrain(
        self,
        ref: str,
        data: str,
        *,
        promote_if_better: bool = False,
        progress: Progress | None = None,
    ) -> RetrainResult:
        progress = progress or NullProgress()
        champion = self.registry.resolve(ref)
        if champion.run_id is None:
            raise InvalidInput(
                f"{champion.ref} was imported from a file, so it has no recipe to train again."
            )
        new_data = self.datasets.resolve(data)
        old = self.training.plan_of(champion.run_id)
        if old.request.target not in [c.name for c in new_data.schema]:
            raise InvalidInput(
                f"{new_data.ref} has no column '{old.request.target}' (the target), so a "
                "challenger cannot be trained on it.",
                hint="Retraining needs labelled data.",
            )
        request = replace(
            old.request,
            dataset=new_data.ref,
            name=f"{champion.model_name} challenger on {new_data.ref}",
            tags={**old.request.tags, "retrains": champion.ref},
            note="",
            parent_run_id=champion.run_id,
            study_name=None,
            trial_number=None,
        )
        progress.update(0.0, f"Training a challenger on {new_data.ref}")
        run = self.training.train_inline(request, SubProgress(progress, 0.0, 0.7))
        version = self.registry.register(
            run.id,
            champion.model_name,
            description=f"Retrained from {champion.ref} on {new_data.ref}.",
            tags={"retrained_from": champion.ref, "data": new_data.ref},
        )
        self.registry.set_alias(champion.model_name, "challenger", version.version)
        progress.update(0.75, "Scoring the champion on the new data")
        comparison = self._compare(champion, version, new_data)
        drift = None
        if self.monitoring is not None:
            try:
                [report] = self.monitoring.check(
                    champion.ref,
                    dataset=new_data.ref,
                    store=False,
                    progress=SubProgress(progress, 0.85, 0.95),
                )
                drift = {
                    "status": report.status,
                    "rules": list(report.rules),
                    "verdict": report.verdict,
                    "drift_share": report.drift_share,
                    "drifted": [f.name for f in report.features if f.status == "alert"],
                }
            except InvalidInput:
                drift = None
        details = {
            "champion": champion.ref,
            "challenger": version.ref,
            "data": new_data.ref,
            "metric": comparison.metric,
            "champion_score": comparison.champion,
            "challenger_score": comparison.challenger,
            "challenger_std": comparison.challenger_std,
        }
        promoted, decision = False, "not asked"
        if promote_if_better:
            if comparison.better:
                self._promote(champion, version, comparison, new_data.ref)
                promoted, decision = True, "promoted"
                self.registry.audit_append("retrain.promoted", version.ref, details)
            else:
                decision = "kept out"
                self.registry.audit_append("retrain.kept_out", version.ref, details)
        else:
            self.registry.audit_append("retrain.challenger", version.ref, details)
        progress.update(1.0, f"{version.ref}: {decision}")
        return RetrainResult(
            champion.ref, version.ref, run.id, new_data.ref, comparison, promoted, decision, drift
        )

    def _compare(self, champion: Any, challenger: Any, data: Any) -> Comparison:
        from app.core.training.metrics import LOWER_IS_BETTER, evaluate, has_proba, predict_scores

        metric = self.registry.policy_of(champion.model_name).get("metric") or "accuracy"
        kinds = [c["name"] for c in champion.signature.get("columns", [])]
        table = self.datasets.load_table(data, columns=[*kinds, champion.target])
        frame = table.to_pandas().dropna(subset=[champion.target])
        y = frame.pop(champion.target)
        model = self.registry.load_model(champion.ref)
        task = champion.task or "regression"
        scores = predict_scores(model, frame) if task != "regression" else None
        on_new = evaluate(
            task,
            y,
            model.predict(frame),
            scores,
            classes=list(getattr(model, "classes_", [])),
            proba=has_proba(model),
        )
        rows = []
        for name, value in on_new.items():
            rows.append(
                {
                    "metric": name,
                    "champion": value,
                    "challenger": challenger.metrics.get(name),
                    "challenger_std": challenger.metrics.get(f"{name}_std"),
                }
            )
        lower = metric in LOWER_IS_BETTER
        a, b = on_new.get(metric), challenger.metrics.get(metric)
        min_gain = float(self.registry.policy_of(champion.model_name).get("min_gain") or 0.0)
        better = (
            a is not None
            and b is not None
            and ((a - b) if lower else (b - a)) >= min_gain
            and a != b
        )
        return Comparison(
            metric, lower, a, b, challenger.metrics.get(f"{metric}_std"), bool(better), rows
        )

    def _promote(self, champion: Any, challenger: Any, cmp: Comparison, data: str) -> None:
        """Move ``champion`` with the comparison as the policy's evidence: both scores come
        from the same rows, so the policy decides on them (its ``min_gain``, its required
        tags) and any refusal is the registry's to raise (exit code 3)."""
        evidence = {
            "metric": cmp.metric,
            "data": data,
            "scores": {champion.version: cmp.champion, challenger.version: cmp.challenger},
        }
        self.registry.set_alias(
            challenger.model_name, "champion", challenger.version, evidence=evidence
        )
