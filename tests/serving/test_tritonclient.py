"""An unmodified ``tritonclient.http`` against the server: binary tensors in (its default
``set_data_from_numpy``), binary and JSON outputs, numeric and BYTES (text) columns."""

from __future__ import annotations

import numpy as np
import pytest
import tritonclient.http as tritonclient  # the dev extra's; a missing one fails, never skips


def _client(server):
    return tritonclient.InferenceServerClient(server.url.removeprefix("http://"))


def _columns(X, binary: bool = True):
    inputs = []
    for name in X.columns:
        values = X[name].to_numpy()
        kind = "BYTES" if values.dtype == object else "FP64"
        tensor = tritonclient.InferInput(name, [len(X)], kind)
        tensor.set_data_from_numpy(values.astype(object if kind == "BYTES" else np.float64),
                                   binary_data=binary)  # fmt: skip
        inputs.append(tensor)
    return inputs


def test_numeric_columns_as_binary_tensors_with_binary_outputs(bundles, servers) -> None:
    _, model, X = bundles["cancer"]
    X = X.iloc[:25]
    client = _client(servers["cancer"])
    assert client.is_server_ready() and client.is_model_ready("cancer")
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    result = client.infer("cancer", _columns(X))  # no outputs named: all binary
    np.testing.assert_array_equal(result.as_numpy("predict"), model.predict(X))
    assert result.get_output("predict")["parameters"]["binary_data_size"] == 25 * 8
    outputs = [
        tritonclient.InferRequestedOutput("predict", binary_data=False),
        tritonclient.InferRequestedOutput("predict_proba"),  # binary by default
    ]
    result = client.infer("cancer", _columns(X), outputs=outputs, request_id="t-1")
    assert result.get_response()["id"] == "t-1"
    assert "data" in result.get_output("predict")
    np.testing.assert_array_equal(result.as_numpy("predict"), model.predict(X))
    proba = result.as_numpy("predict_proba")
    assert proba.shape == (25, 2)
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-12)


def test_one_matrix_tensor_and_json_inputs(bundles, servers) -> None:
    _, model, X = bundles["cancer"]
    X = X.iloc[:9]
    client = _client(servers["cancer"])
    matrix = tritonclient.InferInput("input-0", list(X.shape), "FP64")
    matrix.set_data_from_numpy(X.to_numpy(dtype=np.float64))
    result = client.infer("cancer", [matrix], model_version="1")
    np.testing.assert_array_equal(result.as_numpy("predict"), model.predict(X))
    result = client.infer("cancer", _columns(X, binary=False))  # JSON in, binary out
    np.testing.assert_array_equal(result.as_numpy("predict"), model.predict(X))


def test_text_columns_as_bytes_tensors(bundles, servers) -> None:
    _, model, X = bundles["mixed_clf"]
    X = X.iloc[:12]
    client = _client(servers["sizes"])
    expected = model.predict(X)
    binary = client.infer("sizes", _columns(X))
    labels = [v.decode() for v in binary.as_numpy("predict")]  # BYTES out: bytes
    assert binary.get_output("predict")["datatype"] == "BYTES"
    assert labels == expected.tolist()
    outputs = [tritonclient.InferRequestedOutput("predict", binary_data=False)]
    as_json = client.infer("sizes", _columns(X), outputs=outputs)
    assert as_json.as_numpy("predict").tolist() == expected.tolist()


def test_a_bad_binary_tensor_is_a_clear_error(bundles, servers) -> None:
    from tritonclient.utils import InferenceServerException

    _, _, X = bundles["cancer"]
    tensor = tritonclient.InferInput("input-0", [2, X.shape[1]], "FP64")
    tensor.set_data_from_numpy(X.iloc[:2].to_numpy(dtype=np.float64))
    tensor._parameters["binary_data_size"] = 100  # lies about its size
    with pytest.raises(InferenceServerException, match="100 bytes"):
        _client(servers["cancer"]).infer("cancer", [tensor])
