"""A local certificate authority per stack, so the endpoint serves `https://` and `wss://` as AppSync does.

Amplify v6 always opens subscriptions on `wss://<graphql host>/<path>/realtime`, so a local endpoint
without TLS cannot serve them. `trustme` makes a fresh CA and a server certificate for the loopback
names; clients trust exactly that CA (requests `verify=`, curl `--cacert`, Node `NODE_EXTRA_CA_CERTS`)
or, for Chromium, exactly that server key (`--ignore-certificate-errors-spki-list`), never every
certificate.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class LocalTLS:
    """The files of one stack's TLS set-up."""

    ca_file: Path  # the CA certificate (PEM): what clients trust
    cert_file: Path  # the server certificate (PEM), the CA appended so clients see the whole chain
    key_file: Path  # the server's private key (PEM)

    @property
    def spki_sha256(self) -> str:
        """Base64 SHA-256 of the server certificate's public key: Chromium's `--ignore-certificate-errors-
        spki-list` value, which trusts this key only."""
        return spki_sha256(self.cert_file.read_bytes())


def spki_sha256(cert_pem: bytes) -> str:
    """Base64 SHA-256 of the SubjectPublicKeyInfo of the first certificate in `cert_pem`."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def create_local_tls(directory: Path) -> LocalTLS:
    """Make a new CA and a server certificate for the loopback names in `directory` (replacing any)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="appsync-cqrs local stack")
    leaf = ca.issue_cert(*LOOPBACK_NAMES, common_name="appsync-cqrs local endpoint")
    tls = LocalTLS(directory / "ca.pem", directory / "server-cert.pem", directory / "server-key.pem")
    tls.ca_file.write_bytes(ca.cert_pem.bytes())
    chain = b"".join(pem.bytes() for pem in leaf.cert_chain_pems) + ca.cert_pem.bytes()
    tls.cert_file.write_bytes(chain)
    tls.key_file.write_bytes(leaf.private_key_pem.bytes())
    tls.key_file.chmod(0o600)
    return tls
