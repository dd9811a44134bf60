"""Exports to Compose, Kubernetes and KServe: every one validates offline, a broken one does
not, and the Compose export of a real deployment runs under docker compose and answers."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from app.core.deploy.export import FORMATS, ExportSpec, ExportVariant, render
from app.core.deploy.export_validate import (
    compose_command,
    validate_compose,
    validate_files,
    validate_kserve,
    validate_kubernetes,
)
from app.core.errors import InvalidInput
from tests.deploy.conftest import docker_or_fail

SINGLE = ExportSpec("churn-3", (ExportVariant("primary", "modeldesk/churn:v1", "churn", "1"),))
CANARY = ExportSpec(
    "churn-7",
    (
        ExportVariant("primary", "modeldesk/churn:v1", "churn", "1", weight=90, replicas=2),
        ExportVariant("canary", "modeldesk/churn:v2", "churn", "2", weight=10),
        ExportVariant("shadow", "modeldesk/churn:v3", "churn", "3", weight=0),
    ),
    port=18080,
    token=True,
    cpus=1.5,
    memory="512m",
    sticky="X-User",
)


TLS = dataclasses.replace(CANARY, tls=True)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", [SINGLE, CANARY, TLS], ids=["single", "canary", "tls"])
def test_every_export_validates(spec: ExportSpec, fmt: str) -> None:
    files = render(spec, fmt)
    checks = validate_files(files, fmt)
    assert set(checks) == {f for f in files if f.endswith(".yaml")} and checks
    if fmt == "compose" and compose_command() is not None:
        assert all("config" in c for c in checks.values())  # the CLI read it too
    assert "README.md" in files


def test_compose_export_has_services_limits_health_and_balancer() -> None:
    doc = yaml.safe_load(render(CANARY, "compose")["compose.yaml"])
    services = doc["services"]
    primary = services["churn-7-primary-v1"]
    assert primary["deploy"]["replicas"] == 2
    assert primary["deploy"]["resources"]["limits"] == {"cpus": "1.5", "memory": "512m"}
    assert "/v2/health/ready" in " ".join(primary["healthcheck"]["test"])
    assert primary["read_only"] is True and primary["cap_drop"] == ["ALL"]
    assert "ports" not in primary  # only the balancer publishes
    assert primary["environment"]["MODELDESK_TOKEN"].startswith("${MODELDESK_TOKEN:?")
    assert services["balancer"]["ports"] == ["127.0.0.1:18080:8080"]
    cfg = render(CANARY, "compose")["haproxy.cfg"]
    assert "balance hdr(X-User)" in cfg
    assert "server-template canary- 1 churn-7-canary-v2:8080" in cfg and "weight 10 " in cfg
    single = yaml.safe_load(render(SINGLE, "compose")["compose.yaml"])["services"]
    assert list(single) == ["churn-3-primary-v1"]
    assert single["churn-3-primary-v1"]["ports"] == ["127.0.0.1:8080:8080"]


def test_kubernetes_export_has_probes_secret_hpa_and_non_root() -> None:
    docs = list(yaml.safe_load_all(render(CANARY, "kubernetes")["kubernetes.yaml"]))
    kinds = [d["kind"] for d in docs]
    assert kinds.count("Deployment") == 3 and kinds.count("Service") == 1
    assert kinds.count("HorizontalPodAutoscaler") == 2  # not for the shadow
    dep = next(d for d in docs if d["metadata"]["name"] == "churn-7-primary-v1")
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert c["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert c["resources"]["limits"] == {"cpu": "1500m", "memory": "512Mi"}
    token = next(e for e in c["env"] if e["name"] == "MODELDESK_TOKEN")
    assert token["valueFrom"]["secretKeyRef"] == {"name": "churn-7-token", "key": "token"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert dep["spec"]["replicas"] == 2
    service = next(d for d in docs if d["kind"] == "Service")
    assert service["spec"]["selector"]["modeldesk.io/serving"] == "true"


def test_kserve_export_is_protocol_v2_with_the_canary_percent() -> None:
    files = render(CANARY, "kserve")
    primary = yaml.safe_load(files["inferenceservice.yaml"])
    canary = yaml.safe_load(files["inferenceservice-canary.yaml"])
    assert primary["spec"]["predictor"]["model"]["protocolVersion"] == "v2"
    assert "canaryTrafficPercent" not in primary["spec"]["predictor"]
    assert canary["spec"]["predictor"]["canaryTrafficPercent"] == 10
    assert canary["spec"]["predictor"]["model"]["runtime"] == "churn-7-canary-v2"
    assert primary["metadata"]["name"] == canary["metadata"]["name"]  # one service, rolled
    runtimes = list(yaml.safe_load_all(files["servingruntimes.yaml"]))
    assert [r["spec"]["protocolVersions"] for r in runtimes] == [["v2"], ["v2"]]
    assert "inferenceservice-canary.yaml" not in render(SINGLE, "kserve")


def test_tls_exports_probe_https_and_mount_the_pair() -> None:
    docs = list(yaml.safe_load_all(render(TLS, "kubernetes")["kubernetes.yaml"]))
    dep = next(d for d in docs if d["kind"] == "Deployment")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert c["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert {"name": "tls", "secret": {"secretName": "churn-7-tls"}} in dep["spec"]["template"][
        "spec"
    ]["volumes"]
    assert {e["name"] for e in c["env"]} >= {"MODELDESK_TLS_CERT", "MODELDESK_TLS_KEY"}
    compose = yaml.safe_load(render(TLS, "compose")["compose.yaml"])["services"]
    primary = compose["churn-7-primary-v1"]
    assert primary["volumes"] == ["./tls:/etc/modeldesk-tls:ro"]
    assert "https://127.0.0.1:8080" in " ".join(primary["healthcheck"]["test"])
    assert "ssl verify none" in render(TLS, "compose")["haproxy.cfg"]
    runtime = next(yaml.safe_load_all(render(TLS, "kserve")["servingruntimes.yaml"]))
    env = runtime["spec"]["containers"][0]["env"]
    assert "MODELDESK_TLS_CERT" not in {e["name"] for e in env}


def test_broken_exports_fail_validation_with_the_field_named() -> None:
    doc = yaml.safe_load(render(SINGLE, "compose")["compose.yaml"])
    doc["services"]["churn-3-primary-v1"]["healthchek"] = doc["services"]["churn-3-primary-v1"].pop(
        "healthcheck"
    )
    with pytest.raises(InvalidInput, match="healthchek"):
        validate_compose(yaml.safe_dump(doc))
    docs = list(yaml.safe_load_all(render(SINGLE, "kubernetes")["kubernetes.yaml"]))
    docs[1]["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(InvalidInput, match="readinesProbe"):
        validate_kubernetes(docs, file="kubernetes.yaml")
    isvc = yaml.safe_load(render(SINGLE, "kserve")["inferenceservice.yaml"])
    isvc["spec"]["predictor"]["canaryTraficPercent"] = 5
    with pytest.raises(InvalidInput, match="canaryTraficPercent"):
        validate_kserve([isvc], file="inferenceservice.yaml")
    isvc = yaml.safe_load(render(SINGLE, "kserve")["inferenceservice.yaml"])
    isvc["spec"]["predictor"]["minReplicas"] = "two"
    with pytest.raises(InvalidInput, match="minReplicas"):
        validate_kserve([isvc], file="inferenceservice.yaml")


@pytest.mark.docker
def test_compose_export_of_a_deployment_runs_and_answers(deploy_env, built, tmp_path) -> None:
    """Deploy, export through the CLI, stop; then docker compose up the export on the same
    port and get the version's own predictions back."""
    from app.cli import main

    docker_or_fail()
    command = compose_command()
    if command is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true but neither `docker compose` nor `docker-compose` is installed")
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    services, deploy, _ = deploy_env
    image, _ = built
    dep = deploy.run(image.id)
    out = tmp_path / "export"
    store = str(services.store.url)
    code = main(["deployments", "export", str(dep.id), "--format", "compose", "-o", str(out),
                 "--store", store, "--json"])  # fmt: skip
    assert code == 0
    deploy.stop(dep.id)
    project = f"modeldesk-export-{uuid.uuid4().hex[:6]}"
    up = [*command, "-p", project, "-f", str(out / "compose.yaml")]
    try:
        subprocess.run([*up, "up", "-d"], check=True, capture_output=True, timeout=300)
        rows = image.example["rows"]
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.post(
                    f"http://127.0.0.1:{dep.port}/invocations",
                    json={"dataframe_records": rows},
                    headers={"X-Prediction-Log": "skip"},
                    timeout=5,
                )
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the compose export never answered"
            time.sleep(0.5)
        assert r.json()["predictions"] == image.example["predictions"]
        ps = subprocess.run([*up, "ps", "-q"], check=True, capture_output=True, text=True)
        cid = ps.stdout.split()[0]

        def inspect() -> dict:
            out = subprocess.run(["docker", "inspect", cid], check=True, capture_output=True)
            return json.loads(out.stdout)[0]

        info = inspect()["HostConfig"]
        assert info["ReadonlyRootfs"] is True and info["CapDrop"] == ["ALL"]
        deadline = time.monotonic() + 120  # the exported health check itself passes
        while inspect()["State"]["Health"]["Status"] != "healthy":
            assert time.monotonic() < deadline, inspect()["State"]["Health"]
            time.sleep(1)
    finally:
        subprocess.run([*up, "down", "-t", "5"], capture_output=True, timeout=300, check=False)


def test_cli_export_errors(deploy_env, tmp_path: Path, capsys) -> None:
    from app.cli import main

    services, _, _ = deploy_env
    store = str(services.store.url)
    code = main(["deployments", "export", "999999", "--format", "compose", "-o",
                 str(tmp_path / "x"), "--store", store])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("error:") and "999999" in err[0]
    code = main(["deployments", "export", "1", "--format", "compose", "-o",
                 str(tmp_path / "no" / "such"), "--store", store])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "does not exist" in err and not (tmp_path / "no").exists()
