"""Security of deployments: hardened containers on 127.0.0.1, tokens stored only as digests
and rotated in place, and TLS on the model server (a certificate given, or a self-signed one).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from app.core.deploy import RunOptions
from app.core.errors import InvalidInput
from tests.deploy.conftest import docker_or_fail


def _store_bytes(services) -> bytes:
    db = Path(str(services.store.url).removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())


def _post(port: int, rows, token: str | None) -> httpx.Response:
    headers = {"X-Prediction-Log": "skip"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(
        f"http://127.0.0.1:{port}/invocations",
        json={"dataframe_records": rows},
        headers=headers,
        timeout=30,
    )


@pytest.mark.docker
def test_container_is_hardened_token_hashed_and_rotated(deploy_env, built, capsys) -> None:
    from app.cli import main

    docker_or_fail()
    services, deploy, _ = deploy_env
    image, _ = built
    secret = "old-secret-" + "x" * 20
    dep = deploy.run(image.id, RunOptions(token=secret))
    try:
        host = deploy._container(dep).attrs["HostConfig"]
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"]
        assert "no-new-privileges:true" in host["SecurityOpt"]
        assert "/tmp" in host["Tmpfs"]
        assert {b["HostIp"] for b in host["PortBindings"]["8080/tcp"]} == {"127.0.0.1"}

        # the store has the digest, never the token
        from app.core.deploy import tokens

        assert (
            tokens.stored_digest(services.store, dep.id)
            == hashlib.sha256(secret.encode()).hexdigest()
        )
        assert secret.encode() not in _store_bytes(services)
        assert tokens.matches(services.store, dep.id, secret)

        rows = image.example["rows"]
        store = str(services.store.url)
        assert main(["deployments", "token", str(dep.id), "--rotate", "--store", store,
                     "--json"]) == 0  # fmt: skip
        new = json.loads(capsys.readouterr().out)["token"]
        assert new and new != secret
        after = deploy.deployment(dep.id)
        assert after.status == "running" and after.port == dep.port
        assert after.container_id != dep.container_id
        assert _post(dep.port, rows, secret).status_code == 401
        ok = _post(dep.port, rows, new)
        assert ok.status_code == 200 and ok.json()["predictions"] == image.example["predictions"]
        assert new.encode() not in _store_bytes(services)
        assert not tokens.matches(services.store, dep.id, secret)
        assert tokens.matches(services.store, dep.id, new)
        entry = services.registry.audit_log(action="deployment.token_rotated")[-1]
        assert entry.details["deployment"] == dep.id and new not in json.dumps(entry.details)

        assert main(["deployments", "token", str(dep.id), "--store", store, "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["token"] is True and shown["fingerprint"] == tokens.token_digest(new)[:12]
        # the hardened container still rolls back with its token: test_request reads it
        assert deploy.test_request(dep.id, rows).status == 200
    finally:
        deploy.stop(dep.id)


def test_publishing_beyond_loopback_needs_a_token_and_an_address() -> None:
    from app.core.deploy.containers import check_bind

    check_bind("127.0.0.1", token=False)
    check_bind("0.0.0.0", token=True)
    with pytest.raises(InvalidInput, match="no token is set"):
        check_bind("0.0.0.0", token=False)
    with pytest.raises(InvalidInput, match="not an IP address"):
        check_bind("my-laptop", token=True)


@pytest.mark.docker
def test_rotating_a_stopped_deployment_is_refused(deploy_env, built) -> None:
    from app.core.deploy import tokens
    from app.core.errors import Conflict

    docker_or_fail()
    _, deploy, _ = deploy_env
    image, _ = built
    dep = deploy.run(image.id)
    deploy.stop(dep.id)
    with pytest.raises(Conflict, match="only a running deployment"):
        tokens.rotate(deploy, dep.id)


@pytest.fixture(scope="module")
def small_bundle(tmp_path_factory) -> tuple[Path, list[dict]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from tests.serving.conftest import cancer_data, make_bundle, records

    X, y = cancer_data()
    X = X.iloc[:, :4]
    pipe = Pipeline([("s", StandardScaler()), ("m", LogisticRegression())]).fit(X, y)
    plans = [{"name": c, "role": "numeric", "treatment": "numeric"} for c in X.columns]
    bundle = make_bundle(
        tmp_path_factory.mktemp("tls") / "bundle",
        pipe,
        X,
        name="cancer",
        task="binary",
        plans=plans,
    )
    return bundle, records(X.head(3))


def test_server_speaks_tls_with_a_self_signed_certificate(small_bundle, tmp_path) -> None:
    import ssl
    import time

    from app.core.deploy import tls
    from tests.serving.conftest import running

    bundle, rows = small_bundle
    cert, key = tls.self_signed(tmp_path / "tls", ["127.0.0.1"])
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert tls.self_signed(tmp_path / "tls", ["127.0.0.1"]) == (cert, key)  # reused
    assert tls.check_pair(cert, key) == (cert, key)
    with running(bundle, tmp_path / "logs", "--tls-cert", str(cert), "--tls-key", str(key),
                 wait=False) as server:  # fmt: skip
        url = server.url.replace("http://", "https://")
        trust = ssl.create_default_context(cafile=str(cert))
        deadline = time.monotonic() + 90
        while True:
            assert server.proc.poll() is None, server.stderr()
            try:
                r = httpx.get(url + "/v2/health/ready", verify=trust, timeout=2)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, server.stderr()
            time.sleep(0.2)
        answer = httpx.post(
            url + "/invocations", json={"dataframe_records": rows}, verify=trust, timeout=30
        )
        assert answer.status_code == 200 and len(answer.json()["predictions"]) == 3
        with pytest.raises(httpx.ConnectError) as caught:  # not trusted without the certificate
            httpx.get(url + "/v2/health/ready", timeout=5)
        assert isinstance(caught.value.__context__, ssl.SSLError) or "CERTIFICATE" in str(
            caught.value
        )
        with pytest.raises(httpx.HTTPError):  # and no plain HTTP on that port
            httpx.get(server.url + "/v2/health/ready", timeout=5).raise_for_status()


def test_a_key_of_another_certificate_is_refused(small_bundle, tmp_path) -> None:
    import subprocess
    import sys

    from app.core.deploy import tls
    from tests.serving.conftest import free_port

    bundle, _ = small_bundle
    cert, _ = tls.self_signed(tmp_path / "a", ["127.0.0.1"])
    _, other = tls.self_signed(tmp_path / "b", ["127.0.0.1", "localhost", "10.0.0.1"])
    with pytest.raises(InvalidInput, match="does not belong"):
        tls.check_pair(cert, other)
    with pytest.raises(InvalidInput, match="cannot be read"):
        tls.check_pair(tmp_path / "none.crt", other)
    proc = subprocess.run(
        [sys.executable, "-m", "app.serving", "--bundle", str(bundle), "--port",
         str(free_port()), "--tls-cert", str(cert), "--tls-key", str(other)],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: the TLS")


@pytest.mark.docker
def test_a_container_serves_https_with_its_certificate(deploy_env, built, tmp_path) -> None:
    import ssl

    from app.core.deploy import tls

    docker_or_fail()
    _, deploy, _ = deploy_env
    image, _ = built
    cert, key = tls.self_signed(tmp_path / "tls", ["127.0.0.1"])
    dep = deploy.run(image.id, RunOptions(tls_cert=str(cert), tls_key=str(key)))
    try:
        assert dep.url.startswith("https://127.0.0.1:")
        trust = ssl.create_default_context(cafile=str(cert))
        r = httpx.post(
            dep.url + "/invocations",
            json={"dataframe_records": image.example["rows"]},
            headers={"X-Prediction-Log": "skip"},
            verify=trust,
            timeout=30,
        )
        assert r.status_code == 200 and r.json()["predictions"] == image.example["predictions"]
        assert deploy.test_request(dep.id, image.example["rows"]).status == 200
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{dep.port}/v2/health/ready", timeout=5).raise_for_status()
    finally:
        deploy.stop(dep.id)
