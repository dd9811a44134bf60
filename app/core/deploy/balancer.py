"""The load balancer in front of a deployment's variants: HAProxy in a locally built image.

Why HAProxy (Debian's 2.6 package) rather than nginx: weighted round robin, consistent
hashing on a header (``balance hdr(NAME)``), active health checks, passive error budgets
(``observe layer7 … on-error mark-down``), retries with redispatch and ``backup`` servers
are all in the free build, and master-worker mode (``-W``) reloads the configuration on
SIGUSR2 without closing a listening socket; ``option idle-close-on-response`` keeps idle
keep-alive connections of the old worker until their next answer, so a reload drops no
request. nginx's free build has no active health checks.

No image can be pulled here, so the image is built on the local base image (the one model
images use) from Debian's .deb files: ``apt-get download`` fetches them on the host into a
cache folder once, the build copies them in and ``dpkg -i`` installs them with the network
off. The balancer runs on the host's network (it publishes only on 127.0.0.1) so that it
reaches the variants' containers on their own 127.0.0.1 ports; ModelDesk writes
``haproxy.cfg`` into a folder mounted read-only and sends SIGUSR2.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.deploy.daemon import docker_errors
from app.core.errors import InvalidInput, ModelDeskError

DEBS = ("haproxy", "liblua5.3-0", "libopentracing-c-wrapper0", "libopentracing1", "lsb-base")
CONFIG_MOUNT = "/etc/modeldesk-lb"
LABEL_BALANCER = "io.modeldesk.balancer"
MAX_WEIGHT = 256

DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY debs/ /tmp/debs/
RUN printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \\
 && dpkg -i /tmp/debs/*.deb && rm -rf /tmp/debs /usr/sbin/policy-rc.d && haproxy -v
LABEL io.modeldesk.balancer="haproxy"
USER 65534:65534
CMD ["haproxy", "-W", "-db", "-f", "/etc/modeldesk-lb/haproxy.cfg"]
"""


@dataclass(frozen=True)
class Server:
    """One replica behind the balancer."""

    name: str  # unique in the backend, e.g. ``v2-r1``
    port: int
    weight: int  # 0..256; 0 takes no new traffic
    version: str  # sent back as X-Model-Version
    backup: bool = False


@dataclass(frozen=True)
class Budget:
    """When a server is taken out of the rotation (the health and error budget)."""

    check_interval_ms: int = 500
    fall: int = 2  # failed health checks in a row → down
    rise: int = 2
    error_limit: int = 5  # 5xx answers or failed connections in a row → down


def image_tag(base_image: str) -> str:
    digest = hashlib.sha256((base_image + DOCKERFILE + ",".join(DEBS)).encode()).hexdigest()
    return f"modeldesk/haproxy:2.6-{digest[:12]}"


def deb_cache() -> Path:
    folder = os.environ.get("MODELDESK_DEB_CACHE")
    return Path(folder) if folder else Path(tempfile.gettempdir()) / "modeldesk-debs"


def download_debs(folder: Path) -> list[Path]:
    """HAProxy and the libraries the base image lacks, as .deb files (fetched once)."""
    folder.mkdir(parents=True, exist_ok=True)
    have = {p.name.split("_")[0]: p for p in folder.glob("*.deb")}
    missing = [name for name in DEBS if name not in have]
    if missing:
        if shutil.which("apt-get") is None:
            raise InvalidInput(
                "The load balancer image needs Debian's haproxy package, and apt-get is not "
                "available here to download it.",
                hint=f"Put the .deb files of {', '.join(DEBS)} into {folder} "
                "(MODELDESK_DEB_CACHE), then try again.",
            )
        done = subprocess.run(
            ["apt-get", "download", *missing], cwd=folder, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise ModelDeskError(
                f"Downloading {', '.join(missing)} with apt-get failed: "
                f"{done.stderr.strip()[-300:]}",
                hint="Run `apt-get update` (the package lists may be missing), or put the "
                f".deb files into {folder}.",
            )
    return sorted(folder.glob("*.deb"))


def ensure_image(client: Any, base_image: str) -> str:
    """The balancer image's tag, built offline on ``base_image`` if the daemon lacks it."""
    import docker.errors as de

    tag = image_tag(base_image)
    with (
        docker_errors("looking for the load balancer image"),
        contextlib.suppress(de.ImageNotFound),
    ):
        client.images.get(tag)
        return tag
    debs = download_debs(deb_cache())
    with tempfile.TemporaryDirectory(prefix="modeldesk-lb-context-") as tmp:
        context = Path(tmp)
        (context / "debs").mkdir()
        for deb in debs:
            shutil.copy2(deb, context / "debs" / deb.name)
        (context / "Dockerfile").write_text(DOCKERFILE)
        with docker_errors("building the load balancer image"):
            try:
                client.images.build(
                    path=str(context),
                    tag=tag,
                    network_mode="none",
                    buildargs={"BASE_IMAGE": base_image},
                    rm=True,
                    forcerm=True,
                    pull=False,
                )
            except de.BuildError as exc:
                lines = [str(c.get("stream") or c.get("error") or "") for c in exc.build_log]
                raise ModelDeskError(
                    "Building the load balancer image failed:\n  "
                    + "\n  ".join(x.strip() for x in lines[-8:] if x.strip()),
                    hint="The base image must be Debian bookworm (ci/base-image.sh builds it).",
                ) from exc
    return tag


def render_config(
    *,
    port: int,
    stats_port: int,
    servers: list[Server],
    sticky: str | None = None,
    budget: Budget | None = None,
) -> str:
    """``haproxy.cfg`` for one deployment: one frontend, one backend of all its replicas."""
    budget = budget or Budget()
    balance = f"balance hdr({sticky})\n    hash-type consistent" if sticky else "balance roundrobin"
    check = (
        f"check inter {budget.check_interval_ms} fall {budget.fall} rise {budget.rise} "
        f"observe layer7 error-limit {budget.error_limit} on-error mark-down"
    )
    lines = [
        f"    server {s.name} 127.0.0.1:{s.port} weight {s.weight} {check}"
        + (" backup" if s.backup else "")
        for s in servers
    ]
    versions = "\n".join(
        f"    http-response set-header X-Model-Version {s.version} if {{ srv_name {s.name} }}"
        for s in servers
    )
    return f"""\
global
    log stdout format raw local0 warning
    hard-stop-after 30s

defaults
    mode http
    option idle-close-on-response
    option redispatch
    retries 3
    retry-on conn-failure empty-response
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 30s

frontend stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats
    stats refresh 5s

frontend endpoint
    bind 127.0.0.1:{port}
    default_backend variants

backend variants
    {balance}
    option httpchk GET /v2/health/ready
    http-check expect status 200
{versions}
{chr(10).join(lines)}
"""


def write_config(folder: Path, text: str) -> None:
    """Atomically: the worker reads the whole old or the whole new file, never half."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    tmp = folder / ".haproxy.cfg.tmp"
    tmp.write_text(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, folder / "haproxy.cfg")


def start(client: Any, tag: str, *, name: str, folder: Path, labels: dict[str, str]) -> Any:
    with docker_errors("starting the load balancer"):
        return client.containers.run(
            tag,
            detach=True,
            name=name,
            network_mode="host",
            volumes={str(folder): {"bind": CONFIG_MOUNT, "mode": "ro"}},
            labels={LABEL_BALANCER: "haproxy", **labels},
        )


def reload(container: Any) -> None:
    """Master-worker reload: new worker on the new file, the old one finishes its requests."""
    with docker_errors("reloading the load balancer"):
        container.kill(signal="SIGUSR2")


def stats(stats_port: int, *, timeout: float = 2.0) -> list[dict[str, str]]:
    """The servers' rows of HAProxy's CSV statistics (status, check_status, hrsp_5xx …)."""
    import httpx

    try:
        text = httpx.get(f"http://127.0.0.1:{stats_port}/stats;csv", timeout=timeout).text
    except httpx.HTTPError as exc:
        raise ModelDeskError(
            f"The load balancer's statistics on port {stats_port} did not answer: {exc}.",
            hint="Check it runs (modeldesk deployments list) and look at its logs.",
        ) from exc
    rows = list(csv.DictReader(io.StringIO(text.lstrip("# "))))
    return [
        r
        for r in rows
        if r.get("pxname") == "variants"
        and r.get("svname")
        not in (
            "FRONTEND",
            "BACKEND",
        )
    ]


def wait_serving(port: int, *, timeout: float = 30.0) -> None:
    """Until the frontend answers ``/v2/health/ready`` through a backend that is up."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/v2/health/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise ModelDeskError(
        f"The load balancer on port {port} did not answer within {timeout:.0f} s.",
        hint="Look at its log (docker logs) and the variants' logs.",
    )


def server_weights(variants: list[tuple[int, int]]) -> list[int]:
    """Per-replica HAProxy weights from (variant weight %, replicas) so shares stay exact."""
    per = [w / max(1, n) for w, n in variants]
    top = max(per, default=0) or 1
    return [round(p * MAX_WEIGHT / top) if p else 0 for p in per]
