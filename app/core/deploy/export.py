"""A deployment written out for another runtime: Docker Compose, Kubernetes or KServe.

The export describes what runs here, not a new design: the same images, the same limits, the
same health endpoints (``/v2/health/live`` and ``/ready``) and the same hardening as
ModelDesk's own containers (non-root user 10001, read-only root filesystem with a tmpfs for
scratch, every capability dropped, no privilege escalation). The token is never written: a
Compose file reads it from the environment (``${MODELDESK_TOKEN}``), Kubernetes and KServe
from a Secret that the README tells how to create.

Traffic splits follow each runtime's own means. Compose: ModelDesk's HAProxy image in front
of the variants with the same weights. Kubernetes: one Deployment per variant behind one
Service, so the split is the ratio of replicas (the README says so; a mesh does weights).
KServe: the primary ``InferenceService`` and, for a canary, the same service rolled to the
canary with ``canaryTrafficPercent``, which is how KServe itself runs a canary. Every file
is validated before it is written (``export_validate``); nothing is written on a failure.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.deploy.context import CONTAINER_PORT, IMAGE_USER
from app.core.errors import InvalidInput

FORMATS = ("compose", "kubernetes", "kserve")
LB_IMAGE = "modeldesk/haproxy"  # ModelDesk's balancer image (tag: ``deployments list``)
SECRET_KEY = "token"
READY, LIVE = "/v2/health/ready", "/v2/health/live"


@dataclass(frozen=True)
class ExportVariant:
    role: str  # primary, canary, shadow
    image: str  # tag of the image ModelDesk built
    model: str
    version: str
    weight: int = 100
    replicas: int = 1


@dataclass(frozen=True)
class ExportSpec:
    """What an export needs to know of one deployment."""

    name: str  # DNS-safe: a-z, 0-9 and '-'
    variants: tuple[ExportVariant, ...]
    port: int = 8080  # the host port (Compose)
    bind: str = "127.0.0.1"
    token: bool = False
    cpus: float | None = None
    memory: str | None = None
    max_body_mb: float | None = None
    sticky: str | None = None
    tls: bool = False  # the servers speak HTTPS (the pair comes from ./tls or a Secret)
    lb_image: str = LB_IMAGE
    notes: list[str] = field(default_factory=list)

    @property
    def serving(self) -> list[ExportVariant]:
        """The variants that take traffic (a shadow only receives copies)."""
        return [v for v in self.variants if v.role != "shadow"]

    @property
    def balanced(self) -> bool:
        return len(self.serving) > 1 or any(v.replicas > 1 for v in self.serving)


def dns_name(text: str) -> str:
    """A Kubernetes/Compose object name: lower case, digits and '-', at most 50 characters."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:50].strip("-")
    return name or "model"


def _uid() -> int:
    return int(IMAGE_USER.split(":")[0])


def _variant_name(spec: ExportSpec, v: ExportVariant) -> str:
    return dns_name(f"{spec.name}-{v.role}-v{v.version}")


TLS_MOUNT = "/etc/modeldesk-tls"


def _env(spec: ExportSpec) -> dict[str, str]:
    env = {"PYTHONUNBUFFERED": "1"}
    if spec.max_body_mb:
        env["MODELDESK_MAX_BODY_MB"] = str(spec.max_body_mb)
    if spec.tls:  # Kubernetes' TLS Secret names; the Compose export mounts ./tls the same way
        env["MODELDESK_TLS_CERT"] = f"{TLS_MOUNT}/tls.crt"
        env["MODELDESK_TLS_KEY"] = f"{TLS_MOUNT}/tls.key"
    return env


def _memory_k8s(memory: str | None) -> str | None:
    """Docker's ``512m``/``2g`` as Kubernetes' ``512Mi``/``2Gi``."""
    if not memory:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([bkmg]?)b?", memory.strip().lower())
    if not m:
        raise InvalidInput(f"The memory limit '{memory}' is not like 512m or 2g.")
    unit = {"": "", "b": "", "k": "Ki", "m": "Mi", "g": "Gi"}[m.group(2)]
    return f"{m.group(1)}{unit}"


# -- Compose ------------------------------------------------------------------------------------


def compose(spec: ExportSpec) -> dict[str, Any]:
    """``compose.yaml`` as a mapping (Compose Specification; ``docker compose up``)."""
    scheme, context = (
        ("https", ", context=ssl._create_unverified_context()")
        if spec.tls
        else (
            "http",
            "",
        )
    )  # the check asks its own server on 127.0.0.1: whether it is up, not who it is
    health = {
        "test": [
            "CMD",
            "/opt/venv/bin/python",
            "-c",
            "import ssl, sys, urllib.request; sys.exit(0 if urllib.request.urlopen("
            f"'{scheme}://127.0.0.1:{CONTAINER_PORT}{READY}', timeout=2{context}).status == 200 "
            "else 1)",
        ],
        "interval": "5s",
        "timeout": "3s",
        "retries": 3,
        "start_period": "60s",
    }
    services: dict[str, Any] = {}
    for v in spec.variants:
        env = _env(spec)
        if spec.token:
            env["MODELDESK_TOKEN"] = "${MODELDESK_TOKEN:?set MODELDESK_TOKEN to the token}"
        limits: dict[str, Any] = {}
        if spec.cpus:
            limits["cpus"] = str(spec.cpus)
        if spec.memory:
            limits["memory"] = spec.memory
        service: dict[str, Any] = {
            "image": v.image,
            "environment": env,
            "healthcheck": health,
            "restart": "unless-stopped",
            "read_only": True,
            "tmpfs": ["/tmp"],
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"],
            "user": IMAGE_USER,
            "labels": {"io.modeldesk.role": v.role, "io.modeldesk.model": f"{v.model}@{v.version}"},
            "expose": [str(CONTAINER_PORT)],
            "deploy": {"replicas": v.replicas},
        }
        if limits:
            service["deploy"]["resources"] = {"limits": limits}
        if spec.tls:
            service["volumes"] = [f"./tls:{TLS_MOUNT}:ro"]
        if not spec.balanced and v.role != "shadow":
            service["ports"] = [f"{spec.bind}:{spec.port}:{CONTAINER_PORT}"]
        services[_variant_name(spec, v)] = service
    if spec.balanced:
        services["balancer"] = {
            "image": spec.lb_image,
            "command": ["haproxy", "-W", "-db", "-f", "/etc/modeldesk-lb/haproxy.cfg"],
            "volumes": ["./haproxy.cfg:/etc/modeldesk-lb/haproxy.cfg:ro"],
            "ports": [f"{spec.bind}:{spec.port}:{CONTAINER_PORT}"],
            "read_only": True,
            "tmpfs": ["/tmp", "/run"],
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"],
            "restart": "unless-stopped",
            "depends_on": {
                _variant_name(spec, v): {"condition": "service_healthy"} for v in spec.serving
            },
        }
    # no top-level ``name``: Debian's docker-compose 1.29 refuses it; the README passes -p
    return {"services": services}


def haproxy_cfg(spec: ExportSpec) -> str:
    """The balancer's configuration for Compose: Docker's DNS gives each replica's address."""
    lines = [
        "global",
        "    maxconn 4096",
        "defaults",
        "    mode http",
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    option redispatch",
        "    retries 2",
        "resolvers docker",
        "    nameserver dns 127.0.0.11:53",
        "    hold valid 5s",
        "frontend api",
        f"    bind :{CONTAINER_PORT}",
        "    default_backend variants",
        "backend variants",
    ]
    lines.append(f"    balance hdr({spec.sticky})" if spec.sticky else "    balance roundrobin")
    if spec.sticky:
        lines.append("    hash-type consistent")
    lines.append(f"    option httpchk GET {READY}")
    for v in spec.serving:
        per_replica = max(1, round(v.weight / max(1, v.replicas)))
        lines.append(
            f"    server-template {v.role}- {v.replicas} {_variant_name(spec, v)}:{CONTAINER_PORT}"
            f" check inter 1s fall 2 rise 1 weight {per_replica} resolvers docker"
            " init-addr libc,none" + (" ssl verify none" if spec.tls else "")
        )
    return "\n".join(lines) + "\n"


# -- Kubernetes -----------------------------------------------------------------------------------


def _container(spec: ExportSpec, v: ExportVariant, *, name: str) -> dict[str, Any]:
    env = [{"name": k, "value": val} for k, val in _env(spec).items()]
    if spec.token:
        env.append(
            {
                "name": "MODELDESK_TOKEN",
                "valueFrom": {
                    "secretKeyRef": {"name": dns_name(f"{spec.name}-token"), "key": SECRET_KEY}
                },
            }
        )
    limits: dict[str, str] = {}
    requests: dict[str, str] = {"cpu": "100m", "memory": "256Mi"}
    if spec.cpus:
        limits["cpu"] = f"{int(spec.cpus * 1000)}m"
        requests["cpu"] = f"{max(10, int(spec.cpus * 500))}m"
    memory = _memory_k8s(spec.memory)
    if memory:
        limits["memory"] = requests["memory"] = memory
    scheme = "HTTPS" if spec.tls else "HTTP"
    probe = {
        "httpGet": {"path": READY, "port": CONTAINER_PORT, "scheme": scheme},
        "periodSeconds": 5,
    }
    container: dict[str, Any] = {
        "name": name,
        "image": v.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": CONTAINER_PORT, "name": "http", "protocol": "TCP"}],
        "env": env,
        "resources": {"requests": requests, **({"limits": limits} if limits else {})},
        "startupProbe": {**probe, "failureThreshold": 24},
        "readinessProbe": {**probe, "failureThreshold": 2},
        "livenessProbe": {
            "httpGet": {"path": LIVE, "port": CONTAINER_PORT, "scheme": scheme},
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": _uid(),
            "runAsGroup": _uid(),
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": "scratch", "mountPath": "/tmp"}],
    }
    if spec.tls:
        container["volumeMounts"].append({"name": "tls", "mountPath": TLS_MOUNT, "readOnly": True})
    return container


def _tls_secret(spec: ExportSpec) -> str:
    return dns_name(f"{spec.name}-tls")


def _pod_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": _uid(),
        "runAsGroup": _uid(),
        "fsGroup": _uid(),
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def kubernetes(spec: ExportSpec) -> list[dict[str, Any]]:
    """Deployments (one per variant), one Service and an HPA per serving variant."""
    app = dns_name(spec.name)
    docs: list[dict[str, Any]] = []
    for v in spec.variants:
        name = _variant_name(spec, v)
        labels = {
            "app.kubernetes.io/name": app,
            "app.kubernetes.io/managed-by": "modeldesk",
            "modeldesk.io/role": v.role,
            "modeldesk.io/version": str(v.version),
            "modeldesk.io/serving": "false" if v.role == "shadow" else "true",
        }
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "labels": labels},
                "spec": {
                    "replicas": v.replicas,
                    "selector": {
                        "matchLabels": {"app.kubernetes.io/name": app, "modeldesk.io/role": v.role}
                    },
                    "strategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
                    },
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "securityContext": _pod_security(),
                            "automountServiceAccountToken": False,
                            "terminationGracePeriodSeconds": 35,
                            "containers": [_container(spec, v, name="model")],
                            "volumes": [
                                {
                                    "name": "scratch",
                                    "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"},
                                },
                                *(
                                    [{"name": "tls", "secret": {"secretName": _tls_secret(spec)}}]
                                    if spec.tls
                                    else []
                                ),
                            ],
                        },
                    },
                },
            }
        )
        if v.role != "shadow":
            docs.append(
                {
                    "apiVersion": "autoscaling/v2",
                    "kind": "HorizontalPodAutoscaler",
                    "metadata": {"name": name, "labels": labels},
                    "spec": {
                        "scaleTargetRef": {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": name,
                        },
                        "minReplicas": v.replicas,
                        "maxReplicas": max(4, v.replicas * 4),
                        "metrics": [
                            {
                                "type": "Resource",
                                "resource": {
                                    "name": "cpu",
                                    "target": {"type": "Utilization", "averageUtilization": 70},
                                },
                            }
                        ],
                    },
                }
            )
    docs.insert(
        0,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": app, "labels": {"app.kubernetes.io/name": app}},
            "spec": {
                "type": "ClusterIP",
                "selector": {"app.kubernetes.io/name": app, "modeldesk.io/serving": "true"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
                **(
                    {"sessionAffinity": "ClientIP"} if spec.sticky else {}
                ),  # a header is a mesh's job; a client's address is the Service's
            },
        },
    )
    return docs


# -- KServe ---------------------------------------------------------------------------------------


def kserve(spec: ExportSpec) -> list[dict[str, Any]]:
    """A ServingRuntime per image and the InferenceService (protocol v2); with a canary, the
    same InferenceService rolled to it with ``canaryTrafficPercent`` (apply in order)."""
    app = dns_name(spec.name)
    docs: list[dict[str, Any]] = []
    spec = dataclasses.replace(spec, tls=False)  # KServe's ingress terminates TLS
    primary = next((v for v in spec.variants if v.role == "primary"), spec.variants[0])
    canary = next((v for v in spec.variants if v.role == "canary"), None)
    for v in [primary, *([canary] if canary else [])]:
        runtime = _variant_name(spec, v)
        container = _container(spec, v, name="kserve-container")
        container.pop("volumeMounts")  # a runtime's pods get KServe's own volumes
        container["securityContext"]["readOnlyRootFilesystem"] = False  # KServe's agent writes
        docs.append(
            {
                "apiVersion": "serving.kserve.io/v1alpha1",
                "kind": "ServingRuntime",
                "metadata": {"name": runtime, "labels": {"app.kubernetes.io/name": app}},
                "spec": {
                    "supportedModelFormats": [
                        {
                            "name": f"modeldesk-{dns_name(v.model)}",
                            "version": str(v.version),
                            "autoSelect": False,
                        }
                    ],
                    "protocolVersions": ["v2"],
                    "containers": [container],
                },
            }
        )

    def service(v: ExportVariant, percent: int | None) -> dict[str, Any]:
        predictor: dict[str, Any] = {
            "minReplicas": v.replicas,
            "maxReplicas": max(4, v.replicas * 4),
            "model": {
                "modelFormat": {
                    "name": f"modeldesk-{dns_name(v.model)}",
                    "version": str(v.version),
                },
                "protocolVersion": "v2",
                "runtime": _variant_name(spec, v),
            },
        }
        if percent is not None:
            predictor["canaryTrafficPercent"] = percent
        return {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": app, "labels": {"app.kubernetes.io/name": app}},
            "spec": {"predictor": predictor},
        }

    docs.append(service(primary, None))
    if canary is not None:
        docs.append(service(canary, int(canary.weight)))
    return docs


def readme(spec: ExportSpec, fmt: str, files: list[str]) -> str:
    """How to run the export, and what it cannot say by itself."""
    token = dns_name(f"{spec.name}-token")
    lines = [f"# {spec.name}: exported by ModelDesk ({fmt})", ""]
    images = sorted({v.image for v in spec.variants})
    lines += ["Images (push them where the target can pull them: `modeldesk package --push`):"]
    lines += [f"- {i}" for i in images] + [""]
    if fmt == "compose":
        if spec.token:
            lines += ["The server needs its token: `export MODELDESK_TOKEN=...` (or a `.env`).", ""]
        project = dns_name(f"modeldesk-{spec.name}")
        lines += [
            f"Run: `docker compose -p {project} up -d` in this folder; stop: "
            f"`docker compose -p {project} down`."
        ]
        if spec.balanced:
            lines += [f"The balancer needs the image {spec.lb_image} (ModelDesk builds it)."]
        if spec.tls:
            lines += ["Put the certificate and its key in ./tls as tls.crt and tls.key."]
            if spec.balanced:
                lines += ["The balancer speaks HTTPS to the servers but plain HTTP to clients."]
    else:
        if spec.token:
            lines += [
                "Create the token's Secret first:",
                f"`kubectl create secret generic {token} --from-literal={SECRET_KEY}=...`",
                "",
            ]
        if spec.tls and fmt == "kubernetes":
            lines += [
                "And the certificate's: `kubectl create secret tls "
                f"{_tls_secret(spec)} --cert=CERT.pem --key=KEY.pem`.",
                "",
            ]
        if spec.tls and fmt == "kserve":
            lines += ["TLS is KServe's ingress's job there: the runtime serves plain HTTP.", ""]
        order = " then ".join(files)
        lines += [f"Apply in this order: {order} (`kubectl apply -f FILE`)."]
        if fmt == "kubernetes" and len(spec.serving) > 1:
            lines += [
                "",
                "A plain Service shares traffic by the number of ready pods, so the canary's "
                "share is its replicas over all replicas, not its weight; use a mesh or the "
                "KServe export for weighted traffic.",
            ]
    if any(v.role == "shadow" for v in spec.variants):
        lines += ["", "The shadow variant is exported, but no runtime here mirrors traffic to it."]
    lines += [*spec.notes]
    return "\n".join(lines) + "\n"


def render(spec: ExportSpec, fmt: str) -> dict[str, str]:
    """File name → text of the export in ``fmt``."""
    import yaml

    if fmt not in FORMATS:
        raise InvalidInput(
            f"Unknown export format '{fmt}'.", hint="Use compose, kubernetes or kserve."
        )
    if not spec.variants:
        raise InvalidInput(f"Deployment {spec.name} has no model to export.")

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:  # no &id001 anchors: plain, diffable text
            return True

    def dump(docs: Any) -> str:
        items = docs if isinstance(docs, list) else [docs]
        return yaml.dump_all(items, Dumper=Dumper, sort_keys=False, width=100)

    files: dict[str, str] = {}
    if fmt == "compose":
        files["compose.yaml"] = dump(compose(spec))
        if spec.balanced:
            files["haproxy.cfg"] = haproxy_cfg(spec)
    elif fmt == "kubernetes":
        files["kubernetes.yaml"] = dump(kubernetes(spec))
    else:
        docs = kserve(spec)
        files["servingruntimes.yaml"] = dump([d for d in docs if d["kind"] == "ServingRuntime"])
        services = [d for d in docs if d["kind"] == "InferenceService"]
        files["inferenceservice.yaml"] = dump(services[0])
        if len(services) > 1:
            files["inferenceservice-canary.yaml"] = dump(services[1])
    files["README.md"] = readme(spec, fmt, [f for f in files if f.endswith(".yaml")])
    return files


def write_export(files: dict[str, str], dest: Path) -> list[Path]:
    """Write the (already validated) files into ``dest``, each atomically."""
    from app.core.fsutil import atomic_write

    dest.mkdir(exist_ok=True)  # its parent exists: checked before any work
    written = []
    for name, text in files.items():
        path = dest / name
        with atomic_write(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        written.append(path)
    return written
