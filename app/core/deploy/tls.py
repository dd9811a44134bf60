"""TLS for the model server: the user's certificate, or a self-signed one made here.

A self-signed certificate (``cryptography``; ECDSA P-256, one year, the host names and
addresses the server answers on as subject alternative names) is kept in the user's data
folder and reused while it is valid, so a client that trusted it once (``curl --cacert``,
``httpx.Client(verify=PATH)``) keeps working across restarts. The key file is 0600.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.core.errors import InvalidInput

VALID_DAYS = 365


def check_pair(cert: str | Path, key: str | Path) -> tuple[Path, Path]:
    """The certificate and key paths, refused with a sentence when one cannot be read or
    they do not belong together."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert, key = Path(cert).expanduser(), Path(key).expanduser()
    try:
        loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    except OSError as exc:
        raise InvalidInput(f"The TLS certificate {cert} cannot be read: {exc.strerror}.") from exc
    except ValueError as exc:
        raise InvalidInput(f"{cert} is not a PEM certificate ({exc}).") from exc
    try:
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except OSError as exc:
        raise InvalidInput(f"The TLS key {key} cannot be read: {exc.strerror}.") from exc
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            f"{key} is not an unencrypted PEM private key ({exc}).",
            hint="The server starts unattended, so its key cannot ask for a passphrase.",
        ) from exc
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.PEM
    if private.public_key().public_bytes(enc, pub) != loaded.public_key().public_bytes(enc, pub):
        raise InvalidInput(f"The key {key} does not belong to the certificate {cert}.")
    return cert, key


def self_signed(folder: Path, hosts: list[str]) -> tuple[Path, Path]:
    """A certificate for ``hosts`` in ``folder`` (made, or reused while valid)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    names = sorted({"localhost", "127.0.0.1", *[h for h in hosts if h and h != "0.0.0.0"]})
    slug = "-".join(n.replace(":", "_") for n in names)[:80]
    cert_path, key_path = folder / f"selfsigned-{slug}.crt", folder / f"selfsigned-{slug}.key"
    now = datetime.now(UTC)
    if cert_path.exists() and key_path.exists():
        try:
            old = x509.load_pem_x509_certificate(cert_path.read_bytes())
            if old.not_valid_after_utc > now + timedelta(days=7):
                return cert_path, key_path
        except ValueError:
            pass  # unreadable: make a new one
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ModelDesk model server")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_bytes)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
