"""Where artifacts live when they are not only on this disk: anything fsspec reaches.

``MODELDESK_ARTIFACTS=s3://bucket/prefix`` (or ``gs://…``, ``file:///mnt/share/…``) puts the
content-addressed objects there, at ``<prefix>/<sha[:2]>/<sha>`` as in the local folder. The
endpoint and credentials come from botocore's own variables (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``…) and are never written to
the database or the audit log: only the location without credentials is ever shown.

An upload is atomic: on an object store one PUT, or a multipart upload that the store makes
visible only when it is completed (s3fs completes it after the last part), so a process
killed half-way leaves no object; elsewhere (a shared folder) the bytes go to a temporary
name first and are renamed. A download lands in a temporary file of the local cache and is
hashed before it takes the cached name, so a changed object is refused, never cached.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from app.core.errors import StoreUnavailable

#: protocols whose PUT (and completed multipart upload) is atomic: no temporary key needed
_ATOMIC_PUT = {"s3", "s3a", "gs", "gcs", "abfs", "az"}
#: part size of a multipart upload (s3fs' own default is 50 MiB)
CHUNK = 8 << 20


class ObjectBackend(Protocol):
    """The one small interface ``ArtifactStore`` keeps its objects behind (besides its cache)."""

    location: str

    def has(self, sha256: str) -> bool: ...

    def put(self, local: Path, sha256: str) -> None: ...

    def get(self, sha256: str, local: Path) -> bool: ...

    def delete(self, sha256: str) -> None: ...


def is_remote(location: str | os.PathLike[str] | None) -> bool:
    """True for a URL fsspec opens (``s3://…``), False for a plain folder path."""
    return isinstance(location, str) and "://" in location


def storage_options(protocol: str) -> dict[str, Any]:
    """Options from the environment botocore itself reads (never from the store)."""
    if protocol in ("s3", "s3a"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        return {"client_kwargs": {"endpoint_url": endpoint}} if endpoint else {}
    return {}


class FsspecBackend:
    """Objects at ``location`` through fsspec (s3fs for ``s3://``)."""

    def __init__(self, location: str) -> None:
        import fsspec

        self.location = location.rstrip("/")
        protocol = location.split("://", 1)[0]
        try:
            self.fs, self.root = fsspec.url_to_fs(self.location, **storage_options(protocol))
        except (ImportError, ValueError) as exc:
            raise StoreUnavailable(
                f"Cannot open the artifact location {self.location}: {exc}.",
                hint="For s3:// install ModelDesk's s3 extra (pip install 'modeldesk[s3]').",
            ) from exc
        self.atomic_put = protocol in _ATOMIC_PUT

    def key(self, sha256: str) -> str:
        return f"{self.root}/{sha256[:2]}/{sha256}"

    def url(self, sha256: str) -> str:
        return f"{self.location}/{sha256[:2]}/{sha256}"

    def has(self, sha256: str) -> bool:
        try:
            return bool(self.fs.exists(self.key(sha256)))
        except OSError as exc:
            raise self._failed("reach", exc) from exc

    def put(self, local: Path, sha256: str) -> None:
        key = self.key(sha256)
        try:
            if self.atomic_put:
                self.fs.put_file(str(local), key, chunksize=CHUNK)
            else:
                tmp = f"{self.root}/tmp/{local.name}"
                self.fs.makedirs(f"{self.root}/tmp", exist_ok=True)
                self.fs.makedirs(f"{self.root}/{sha256[:2]}", exist_ok=True)
                self.fs.put_file(str(local), tmp)
                self.fs.mv(tmp, key)
        except OSError as exc:
            raise self._failed("write to", exc) from exc

    def get(self, sha256: str, local: Path) -> bool:
        """Download into ``local``; False when there is no such object."""
        try:
            self.fs.get_file(self.key(sha256), str(local))
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._failed("read from", exc) from exc
        return True

    def delete(self, sha256: str) -> None:
        try:
            self.fs.rm_file(self.key(sha256))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise self._failed("delete from", exc) from exc

    def _failed(self, what: str, exc: OSError) -> StoreUnavailable:
        return StoreUnavailable(
            f"Could not {what} the artifact location {self.location}: {exc}. Nothing was "
            "stored half-way.",
            hint="Check the endpoint and credentials (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and that the bucket exists.",
        )


def open_backend(location: str | None) -> ObjectBackend | None:
    """The backend of a remote location; None when artifacts live in the local folder."""
    return FsspecBackend(location) if is_remote(location) else None
