"""tritonclient's defaults (binary tensors in and out) against the running container: the
image's server speaks the KServe/Triton binary tensor extension too."""

from __future__ import annotations

import numpy as np
import pytest
import tritonclient.http as tritonclient

from app.core.deploy import RunOptions
from app.core.deploy.bundles import example_frame
from tests.deploy.conftest import MODEL

pytestmark = pytest.mark.docker


def test_tritonclient_default_binary_tensors_against_the_container(deploy_env, built) -> None:
    services, deploy, versions = deploy_env
    image, _ = built
    dep = deploy.run(image.id, RunOptions(token="tc"))
    try:
        frame = example_frame(versions[0].input_example, versions[0].signature)
        expected = services.registry.load_model(versions[0].ref).predict(frame)
        inputs = []
        for name in frame.columns:
            values = frame[name].to_numpy()
            text = values.dtype == object
            tensor = tritonclient.InferInput(name, [len(frame)], "BYTES" if text else "FP64")
            tensor.set_data_from_numpy(values.astype(object if text else np.float64))
            inputs.append(tensor)
        client = tritonclient.InferenceServerClient(f"127.0.0.1:{dep.port}")
        auth = {"Authorization": "Bearer tc"}
        result = client.infer(MODEL, inputs, headers=auth)
        got = [v.decode() for v in result.as_numpy("predict")]
        assert got == [str(v) for v in expected]
        outputs = [tritonclient.InferRequestedOutput("predict_proba")]
        proba = client.infer(MODEL, inputs, outputs=outputs, headers=auth)
        assert proba.as_numpy("predict_proba").shape == (len(frame), 2)
    finally:
        deploy.stop(dep.id)
