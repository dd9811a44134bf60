"""Packaging model versions as Docker images and running them on the local daemon.

requirements  exact package pins from the run's recorded environment
wheels        the wheel cache that lets builds run with the network off
context       the build context (Dockerfile from app/resources/docker, wheels, server, model)
builder       the streaming, cancellable, offline image build
containers    run on 127.0.0.1, readiness, smoke test, stop, logs
bundles       the bundle an image is built from, and its in-process answers
daemon        the Docker client and the daemon's failures as sentences
images        the image rows: build, export, push
deployments   the deployment rows: run, deploy, stop, rollback, logs, test requests
recovery      rows of dead owners failed, rows matched with the daemon
variants      balanced deployments: canary, replicas, promote, abort, scale, fallback
balancer      the HAProxy image (built offline), its configuration, reload, statistics
service       DeployService, composed of the three above
"""

from app.core.deploy.containers import RunOptions
from app.core.deploy.entities import Deployment, ExportedContext, Image, TestResponse
from app.core.deploy.service import DeployService, default_base_image, reconcile_at_startup

__all__ = [
    "DeployService",
    "Deployment",
    "ExportedContext",
    "Image",
    "RunOptions",
    "TestResponse",
    "default_base_image",
    "reconcile_at_startup",
]
