"""Running an image: a container on 127.0.0.1, readiness, the smoke test, stop and logs.

A container is only called deployed once it answered ``/v2/health/ready`` and returned, for
the version's input example, the same predictions as the model loaded in this process; any
difference fails the deployment (and the container is stopped), because an image that
answers differently from the model that was validated must never take traffic.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.deploy.context import CONTAINER_PORT, IMAGE_USER
from app.core.deploy.daemon import docker_errors
from app.core.errors import Conflict, InvalidInput, ModelDeskError
from app.core.progress import NullProgress, Progress

LOG_MOUNT = "/var/log/modeldesk"
TLS_MOUNT = "/etc/modeldesk-tls"
LABEL_DEPLOYMENT = "io.modeldesk.deployment"


@dataclass(frozen=True)
class RunOptions:
    port: int | None = None
    token: str | None = None
    cpus: float | None = None
    memory: str | None = None  # "512m", "2g"
    log_dir: str | None = None  # host folder for the prediction log
    max_body_mb: float | None = None  # the server's body cap (413 above)
    bind: str = "127.0.0.1"  # the host address the port is published on
    tls_cert: str | None = None  # host path of a PEM certificate: the server speaks HTTPS
    tls_key: str | None = None  # host path of its key (mounted read-only, never copied)

    def public(self) -> dict[str, Any]:
        """What the store keeps (never the token itself)."""
        return {
            "cpus": self.cpus,
            "memory": self.memory,
            "log_dir": self.log_dir,
            "token": bool(self.token),
            "max_body_mb": self.max_body_mb,
            "bind": self.bind,
            "tls_cert": self.tls_cert,
            "tls_key": self.tls_key,
        }

    @classmethod
    def from_public(cls, public: dict[str, Any], *, port: int, token: str | None) -> RunOptions:
        """The options a deployment ran with (its stored ``public()``), to run it again."""
        return cls(
            port=port,
            token=token,
            cpus=public.get("cpus"),
            memory=public.get("memory"),
            log_dir=public.get("log_dir"),
            max_body_mb=public.get("max_body_mb"),
            bind=public.get("bind") or "127.0.0.1",
            tls_cert=public.get("tls_cert"),
            tls_key=public.get("tls_key"),
        )


#: How every model container runs: nothing on its root filesystem can change (the image is
#: what was validated), scratch space is a small tmpfs, no Linux capability and no way to
#: gain privileges (setuid binaries). The server needs none of it: it only reads its bundle,
#: listens on an unprivileged port and writes the prediction log to its own mount.
HARDENING: dict[str, Any] = {
    "read_only": True,
    "tmpfs": {"/tmp": "rw,noexec,nosuid,nodev,size=64m"},
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges:true"],
}


def check_bind(address: str, *, token: bool) -> None:
    """A bind address other than loopback publishes the model to the network: only with a
    token, and only an address of this machine (or 0.0.0.0 / :: for all of them)."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise InvalidInput(
            f"'{address}' is not an IP address to publish the container on.",
            hint="Give 127.0.0.1 (this machine only, the default), an address of this "
            "machine, or 0.0.0.0 for every interface.",
        ) from None
    if not ip.is_loopback and not token:
        raise InvalidInput(
            f"Publishing on {address} lets anyone who can reach this machine call the model, "
            "and no token is set.",
            hint="Add a token (--token), or keep the default address 127.0.0.1.",
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_port(port: int, address: str = "127.0.0.1") -> None:
    if not 1 <= port <= 65535:
        raise InvalidInput(f"Port {port} is not a TCP port (1–65535).")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((address, port))
        except OSError as exc:
            raise Conflict(
                f"Port {port} on {address} is already taken.",
                hint="Choose another port, or leave it empty to take a free one.",
            ) from exc


def private_log_folder(folder: Path) -> str | None:
    """Make the prediction-log folder writable by the container's user and nobody else's.

    The drift monitor trusts the rows in this folder, so it must never be writable by any
    local user (0777 was): it is made 0700, and the container writes as its owner. A folder
    of an ordinary user is written by a container run as that uid:gid (returned, for
    ``docker run --user``); a folder of root (ModelDesk run as root) is handed to the image's
    unprivileged user instead, so the server never runs as root.
    """
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        owner = folder.stat()
        if owner.st_uid == 0:
            uid, gid = (int(x) for x in IMAGE_USER.split(":"))
            os.chown(folder, uid, gid)
            user = None
        else:
            user = f"{owner.st_uid}:{owner.st_gid}"
        os.chmod(folder, 0o700)
    except OSError as exc:
        raise InvalidInput(
            f"The prediction-log folder {folder} cannot be made private to the deployment: "
            f"{exc.strerror or exc}.",
            hint="Choose a folder you own (the Log folder field, or --log-dir).",
        ) from exc
    return user


def tls_folder(cert: str, key: str, user: str) -> Path:
    """A private copy of the certificate and key that the container's ``user`` can read.

    The key stays 0600: the copy is made for the uid the container runs as (the key's own
    user, or the image's user when ModelDesk runs as root), in a folder named by the files'
    digest, so a restart finds it again and two deployments with one pair share it.
    """
    import hashlib
    import tempfile

    try:
        cert_bytes, key_bytes = (
            Path(cert).expanduser().read_bytes(),
            Path(key).expanduser().read_bytes(),
        )
    except OSError as exc:
        raise InvalidInput(f"The TLS file {exc.filename} cannot be read: {exc.strerror}.") from exc
    digest = hashlib.sha256(cert_bytes + b"\0" + key_bytes + user.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"modeldesk-tls-{os.geteuid()}-{digest}"
    folder.mkdir(mode=0o700, exist_ok=True)
    (folder / "cert.pem").write_bytes(cert_bytes)
    fd = os.open(folder / "key.pem", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_bytes)
    if os.geteuid() == 0:
        uid, gid = (int(x) for x in user.split(":"))
        for path in (folder, folder / "cert.pem", folder / "key.pem"):
            os.chown(path, uid, gid)
    return folder


def start_container(
    client: Any, image: str, *, name: str, options: RunOptions, labels: dict[str, str]
) -> tuple[Any, int]:
    check_bind(options.bind, token=bool(options.token))
    port = options.port or free_port()
    if options.port:
        check_port(port, options.bind)
    env = {"PYTHONUNBUFFERED": "1"}
    if options.token:
        env["MODELDESK_TOKEN"] = options.token
    if options.max_body_mb:
        env["MODELDESK_MAX_BODY_MB"] = str(options.max_body_mb)
    volumes = {}
    kwargs: dict[str, Any] = {}
    if options.log_dir:
        folder = Path(options.log_dir).expanduser().resolve()
        user = private_log_folder(folder)
        if user is not None:
            kwargs["user"] = user
        volumes[str(folder)] = {"bind": LOG_MOUNT, "mode": "rw"}
        env["MODELDESK_LOG_DIR"] = LOG_MOUNT
    if options.tls_cert and options.tls_key:
        if "user" not in kwargs and os.geteuid() != 0:
            kwargs["user"] = f"{os.getuid()}:{os.getgid()}"  # so it can read the user's key
        folder = tls_folder(options.tls_cert, options.tls_key, kwargs.get("user") or IMAGE_USER)
        volumes[str(folder)] = {"bind": TLS_MOUNT, "mode": "ro"}
        env["MODELDESK_TLS_CERT"] = f"{TLS_MOUNT}/cert.pem"
        env["MODELDESK_TLS_KEY"] = f"{TLS_MOUNT}/key.pem"
    if options.cpus:
        if options.cpus <= 0:
            raise InvalidInput(f"CPU limit {options.cpus} must be above 0.")
        kwargs["nano_cpus"] = int(options.cpus * 1e9)
    if options.memory:
        kwargs["mem_limit"] = options.memory
    with docker_errors(f"starting a container from {image}"):
        container = client.containers.run(
            image,
            detach=True,
            name=name,
            ports={f"{CONTAINER_PORT}/tcp": (options.bind, port)},
            environment=env,
            volumes=volumes,
            labels=labels,
            **HARDENING,
            **kwargs,
        )
    return container, port


def wait_ready(
    container: Any,
    port: int,
    *,
    timeout: float = 120.0,
    progress: Progress | None = None,
    tls_ca: str | None = None,
) -> float:
    """Seconds until ``/v2/health/ready`` answered 200; raises if the container died."""
    import httpx

    progress = progress or NullProgress()
    t0 = time.perf_counter()
    url = f"{base_url(port, tls_ca)}/v2/health/ready"
    while True:
        progress.check_cancelled()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0, verify=verify(tls_ca)).status_code == 200:
                return time.perf_counter() - t0
        with docker_errors("watching the container start"):
            container.reload()
            if container.status in ("exited", "dead"):
                tail = container.logs(tail=20).decode("utf-8", "replace").strip()
                code = container.attrs.get("State", {}).get("ExitCode")
                raise ModelDeskError(
                    f"The container stopped while starting (exit code {code}). Its last "
                    f"lines:\n  " + "\n  ".join(tail.splitlines()[-12:]),
                    hint="Read the lines above; the image was kept, the deployment failed.",
                )
        if time.perf_counter() - t0 > timeout:
            raise ModelDeskError(
                f"The container did not become ready within {timeout:.0f} s.",
                hint="Look at its logs (modeldesk deployments logs ID).",
            )
        time.sleep(0.25)


def base_url(port: int, tls_ca: str | None = None) -> str:
    """Where ModelDesk reaches a container: HTTPS when it serves with a certificate."""
    return f"{'https' if tls_ca else 'http'}://127.0.0.1:{port}"


def verify(tls_ca: str | None) -> Any:
    """httpx's ``verify``: the container's own certificate trusted, or the default."""
    if not tls_ca:
        return True
    import ssl

    return ssl.create_default_context(cafile=str(Path(tls_ca).expanduser()))


def request(
    port: int,
    method: str,
    path: str,
    *,
    token: str | None = None,
    tls_ca: str | None = None,
    json_body: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, Any, float]:
    """(status, JSON or text body, latency in ms) of one HTTP call to the container."""
    import httpx

    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    t0 = time.perf_counter()
    try:
        response = httpx.request(
            method,
            f"{base_url(port, tls_ca)}{path}",
            json=json_body,
            content=content,
            headers=headers,
            timeout=timeout,
            verify=verify(tls_ca),
        )
    except httpx.HTTPError as exc:
        raise ModelDeskError(
            f"The deployment on port {port} did not answer: {exc}.",
            hint="Check it is running (modeldesk deployments list) and look at its logs.",
        ) from exc
    latency = (time.perf_counter() - t0) * 1000
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return response.status_code, body, latency


def smoke_test(
    port: int,
    example: list[dict[str, Any]],
    expected: list[Any],
    *,
    token: str | None = None,
    path: str = "/invocations",
    tls_ca: str | None = None,
) -> dict[str, Any]:
    """Send the input example to ``path``; compare the predictions with ``expected``."""
    status, body, latency = request(
        port,
        "POST",
        path,
        token=token,
        tls_ca=tls_ca,
        json_body={"dataframe_records": example},
        headers={"X-Prediction-Log": "skip"},  # not traffic: keep it out of the drift log
    )
    result: dict[str, Any] = {
        "rows": len(example),
        "status": status,
        "latency_ms": round(latency, 2),
        "expected": expected,
    }
    if status != 200 or not isinstance(body, dict) or "predictions" not in body:
        result.update(ok=False, reason=f"HTTP {status}: {str(body)[:300]}")
        return result
    got = body["predictions"]
    result["predictions"] = got
    mismatches = [
        i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if not same_prediction(a, b)
    ]
    if len(got) != len(expected):
        result.update(ok=False, reason=f"{len(got)} predictions for {len(expected)} rows")
    elif mismatches:
        i = mismatches[0]
        result.update(
            ok=False,
            reason=f"{len(mismatches)} of {len(expected)} predictions differ from the model "
            f"in ModelDesk (row {i}: container {got[i]!r}, model {expected[i]!r})",
        )
    else:
        result["ok"] = True
    return result


def same_prediction(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_prediction(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_prediction(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return str(a) == str(b)


def stop_container(container: Any, timeout: int = 10) -> None:
    import docker.errors as de

    with docker_errors("stopping the container"), contextlib.suppress(de.NotFound):
        container.stop(timeout=timeout)
        container.remove()


def stream_logs(container: Any, *, tail: int = 200, follow: bool = False) -> Iterator[str]:
    """The container's log lines, the last ``tail`` of them, then (``follow``) new ones.

    A stop ends every container's log in one of three ways: the daemon closes the stream,
    answers 409 ("dead or marked for removal") while it removes the container, or 404 once
    it is gone. All three are the end of the log, not an error: the lines read so far are
    the log, and the reader (the Deploy panel, ``deployments logs --follow``) just stops.
    """
    import docker.errors as de
    import requests
    import urllib3

    with docker_errors("reading the container's logs"):
        try:
            if not follow:
                text = container.logs(tail=tail).decode("utf-8", "replace")
                yield from text.splitlines()
                return
            buffer = ""
            try:
                for chunk in container.logs(stream=True, follow=True, tail=tail):
                    buffer += chunk.decode("utf-8", "replace")
                    *lines, buffer = buffer.split("\n")
                    yield from lines
            except (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.HTTPError):
                pass  # the daemon cut the stream as the container went away
            if buffer:
                yield buffer
        except de.NotFound:
            return
        except de.APIError as exc:
            if exc.status_code != 409:
                raise
