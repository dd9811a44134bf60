"""One store per session with XGBoost and LightGBM models trained on scikit-learn's breast
cancer (binary, text labels) and diabetes (regression) data, and registered.

Training is real but small (30 rounds, 3 folds); the images are built once per flavour per
session (``image_of``), since a build costs tens of seconds on a loaded machine.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FLAVOURS = ("xgboost", "lightgbm", "catboost")
DATASETS = {"cancer": "label", "diabetes": "target"}
TAG = uuid.uuid4().hex[:6]
PARAMS = {"n_estimators": 30, "n_jobs": 1}


def frame(name: str):
    from sklearn import datasets

    if name == "cancer":
        X, y = datasets.load_breast_cancer(return_X_y=True, as_frame=True)
        return X.assign(label=np.where(y == 1, "benign", "malignant"))
    X, y = datasets.load_diabetes(return_X_y=True, as_frame=True)
    return X.assign(target=y)


def request(flavour: str, data: str, *, boosting: bool = True, **params: Any):
    """A small training request (``boosting=False``: no boosting defaults)."""
    from app.core.training import TrainRequest

    return TrainRequest(
        f"{data}@1",
        DATASETS[data],
        flavour,
        params={**(PARAMS if boosting else {}), **params},
        folds=3,
        plots=False,
        seed=7,
    )


@pytest.fixture(scope="session")
def fw(tmp_path_factory):
    """services + {(flavour, data): (run, registered version)}."""
    import pyarrow as pa

    from app.bootstrap import build_services

    root = tmp_path_factory.mktemp("frameworks")
    services = build_services(f"sqlite:///{root / 'store' / 'modeldesk.db'}")
    for name in DATASETS:
        table = pa.Table.from_pandas(frame(name), preserve_index=False)
        services.datasets.add_table(table, name=name, source_kind="test")
    models = {}
    for flavour in FLAVOURS:
        for data in DATASETS:
            run = services.training.train_inline(request(flavour, data))
            assert run.status == "finished", run.error
            version = services.registry.register(run.id, f"fw{TAG}-{flavour}-{data}")
            models[(flavour, data)] = (run, version)
    services.__dict__["fw_root"] = root
    yield services, models
    services.close()


@pytest.fixture(scope="session")
def bundle_of(fw):
    """A bundle folder of a registered version, written once."""
    from app.core.bundle import bundle_from_version

    services, models = fw
    made: dict[tuple[str, str], Path] = {}

    def get(flavour: str, data: str) -> Path:
        if (flavour, data) not in made:
            _, version = models[(flavour, data)]
            dest = services.fw_root / f"bundle-{flavour}-{data}"
            made[(flavour, data)] = bundle_from_version(services.registry, version.ref, dest)[0]
        return made[(flavour, data)]

    return get


@pytest.fixture(scope="session")
def deploy(fw):
    from tests.deploy.conftest import deploy_service, docker_or_fail, tear_down

    docker_or_fail()
    services, _ = fw
    service = deploy_service(services)
    yield service
    tear_down(service)


@pytest.fixture(scope="session")
def image_of(fw, deploy):
    """The image of a flavour's cancer model, built at most once per session."""
    _, models = fw
    built: dict[str, Any] = {}

    def get(flavour: str) -> Any:
        if flavour not in built:
            built[flavour] = deploy.build(models[(flavour, "cancer")][1].ref)
        return built[flavour]

    return get


def input_frame(version) -> Any:
    """The version's input example as the frame the pipeline takes."""
    import pandas as pd

    return pd.DataFrame(version.input_example)[[c["name"] for c in version.signature["columns"]]]
