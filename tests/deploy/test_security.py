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
