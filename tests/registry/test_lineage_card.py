"""Lineage from data to containers, and the model card in Markdown and HTML."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from app.core.store.models_deploy import DeploymentRow, ImageRow
from app.core.training import TrainRequest


def _deploy(services, version_id: int) -> None:
    def write(s) -> None:
        image = ImageRow(
            model_version_id=version_id,
            tag="modeldesk/num:1",
            image_id="sha256:abc",
            status="built",
            size=1,
            base_image="base",
            labels={},
            build_seconds=1.0,
            error="",
            created_at=datetime.now(UTC),
        )
        s.add(image)
        s.flush()
        s.add(
            DeploymentRow(
                image_row_id=image.id,
                model_version_id=version_id,
                container_id="c1",
                container_name="num-1",
                port=8080,
                status="running",
                options={},
                smoke_test={},
                created_at=datetime.now(UTC),
            )
        )

    services.store.write(write)


def test_lineage_runs_from_dataset_to_deployment(services, numeric) -> None:
    from .conftest import train

    run = train(services, numeric)
    v = services.registry.register(run.id, "num")
    _deploy(services, v.id)
    graph = services.registry.lineage("num@1")
    kinds = [n["kind"] for n in graph["nodes"]]
    assert kinds == ["dataset_version", "run", "model_version", "image", "deployment"]
    ids = [n["id"] for n in graph["nodes"]]
    assert graph["edges"] == [{"from": a, "to": b} for a, b in itertools.pairwise(ids)]
    by_kind = {n["kind"]: n for n in graph["nodes"]}
    assert by_kind["dataset_version"]["key"] == "numeric@1"
    assert by_kind["run"]["panel"] == "runs" and by_kind["run"]["key"] == run.id
    assert by_kind["deployment"]["port"] == 8080


def test_card_has_data_metrics_with_spread_plots_and_history(services, numeric, tmp_path) -> None:
    services.profiles.profile(numeric)
    run = services.training.train_inline(
        TrainRequest(numeric, "label", "logistic", folds=3, test_size=0.25)
    )
    reg = services.registry
    reg.register(run.id, "num", description="Predicts the label from three numbers.")
    reg.update_version("num@1", card={"intended_use": "Demonstrations only."})
    card = reg.card("num@1")
    acc = next(m for m in card["metrics"] if m["metric"] == "accuracy")
    assert acc["std"] is not None and acc["test"] is not None
    assert card["data"]["dataset"] == "numeric@1" and card["data"]["profile"]["rows"] == 120
    assert card["plots"] and card["fields"]["intended_use"] == "Demonstrations only."

    md = reg.card_markdown("num@1")
    assert "# Model card: num@1" in md and "Demonstrations only." in md
    assert f"| accuracy | {acc['mean']:.4f} | {acc['std']:.4f} |" in md
    assert "dataset version numeric@1 → run" in md and "version.update" in md
    page = reg.card_html("num@1")
    assert page.startswith("<!doctype html>") and "data:image/png;base64," in page
    assert "Predicts the label from three numbers." in page
