"""TLS to Postgres through the public code path (shared.db), against a cluster that only accepts TLS.

A private cluster with ssl=on and a pg_hba.conf of `hostssl` lines only (as RDS with rds.force_ssl=1), a CA
and a server certificate for `localhost` made here. DB_SSL_MODE / DB_SSL_ROOT_CERT are set as the template
sets them on AWS; every failure must be a counted 503 (ServiceUnavailable), never a 500 or a wait.
"""

from __future__ import annotations

import datetime
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Connection, text

from local.postgres import PostgresCluster, ServerTls, free_port
from shared import db
from shared.dependencies import dependencies, reset
from shared.errors import ServiceUnavailable
from shared.pgconnect import sqlstate

SERVER_NAME = "localhost"


@dataclass(frozen=True)
class Pki:
    ca: Path          # the CA that signed the server certificate
    other_ca: Path    # a CA that did not
    server_cert: Path
    server_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, issuer: str, key: Any, issuer_key: Any, *, ca: bool,
                 dns: list[str] | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                      content_commitment=False, key_encipherment=False,
                                                      data_encipherment=False, key_agreement=False,
                                                      encipher_only=False, decipher_only=False), critical=True)
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_pki(folder: Path) -> Pki:
    ca_key, other_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _certificate("Test RDS Root CA", "Test RDS Root CA", ca_key, ca_key, ca=True)
    other = _certificate("Some Other CA", "Some Other CA", other_key, other_key, ca=True)
    server = _certificate(SERVER_NAME, "Test RDS Root CA", server_key, ca_key, ca=False, dns=[SERVER_NAME])
    pki = Pki(folder / "ca.pem", folder / "other-ca.pem", folder / "server.crt", folder / "server.key")
    pki.ca.write_bytes(_pem(ca))
    pki.other_ca.write_bytes(_pem(other))
    pki.server_cert.write_bytes(_pem(server))
    pki.server_key.write_bytes(server_key.private_bytes(serialization.Encoding.PEM,
                                                        serialization.PrivateFormat.TraditionalOpenSSL,
                                                        serialization.NoEncryption()))
    return pki


@pytest.fixture(scope="module")
def tls_cluster() -> Iterator[tuple[PostgresCluster, Pki]]:
    root = Path(tempfile.mkdtemp(prefix="uoapi-pg-tls-", dir="/tmp"))
    root.chmod(0o755)
    pki = make_pki(root)
    cluster = PostgresCluster(data_dir=root / "data", port=free_port(),
                              tls=ServerTls(pki.server_cert, pki.server_key, required=True))
    try:
        cluster.start()
        yield cluster, pki
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def connect_with(tls_cluster: tuple[PostgresCluster, Pki], dynamodb: object, dynamodb_endpoint: str,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Sets the orders function's database environment (host, DB_SSL_MODE, DB_SSL_ROOT_CERT) for shared.db."""
    cluster, _ = tls_cluster

    def configure(mode: str, root_cert: Path | str = "", host: str = SERVER_NAME) -> None:
        for name, value in {"DATABASE_URL": f"postgresql+pg8000://postgres@{host}:{cluster.port}/app",
                            "DB_SSL_MODE": mode, "DB_SSL_ROOT_CERT": str(root_cert),
                            "DYNAMODB_ENDPOINT_URL": dynamodb_endpoint, "POWERTOOLS_SERVICE_NAME": "orders",
                            "DB_CONNECT_TIMEOUT_SECONDS": "2", "DB_CONNECT_RETRY_SECONDS": "0"}.items():
            monkeypatch.setenv(name, value)
        reset()

    yield configure
    reset()


def session_ssl(connection: Connection) -> tuple[bool, str]:
    row = connection.execute(text("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).one()
    return bool(row[0]), str(row[1])


def failures() -> int:
    return dependencies().breaker("orders").state(fresh=True).failures


def causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 20:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def test_verify_full_with_the_right_ca_connects_encrypted(connect_with: Any, tls_cluster: Any) -> None:
    # Given verify-full, the CA that signed the server's certificate, and the name the certificate carries
    _, pki = tls_cluster
    connect_with("verify-full", pki.ca)
    # When a unit of work reads through the read engine, and another writes through the transactional one
    encrypted, version = db.read(session_ssl)
    written = db.write(session_ssl)
    # Then both sessions are encrypted (pg_stat_ssl), with a current protocol
    assert encrypted and written[0]
    assert version in {"TLSv1.2", "TLSv1.3"}
    assert failures() == 0


def test_verify_full_with_another_ca_is_a_counted_503(connect_with: Any, tls_cluster: Any) -> None:
    _, pki = tls_cluster
    connect_with("verify-full", pki.other_ca)
    with pytest.raises(ServiceUnavailable) as caught:
        db.read(session_ssl)
    assert caught.value.status == 503
    assert any(isinstance(c, ssl.SSLCertVerificationError) for c in causes(caught.value))
    assert failures() == 1


def test_verify_full_to_a_name_the_certificate_does_not_carry_is_a_counted_503(connect_with: Any,
                                                                             tls_cluster: Any) -> None:
    # Right CA, but the client asked for 127.0.0.1 and the certificate only names localhost
    _, pki = tls_cluster
    connect_with("verify-full", pki.ca, host="127.0.0.1")
    with pytest.raises(ServiceUnavailable) as caught:
        db.write(session_ssl)
    verification = [c for c in causes(caught.value) if isinstance(c, ssl.SSLCertVerificationError)]
    assert verification and "127.0.0.1" in str(verification[0])
    assert failures() == 1


def test_require_encrypts_without_verifying(connect_with: Any, tls_cluster: Any) -> None:
    # A CA that signed nothing here, and an address the certificate does not name: require does not look
    _, pki = tls_cluster
    connect_with("require", pki.other_ca, host="127.0.0.1")
    encrypted, _ = db.read(session_ssl)
    assert encrypted
    assert failures() == 0


def test_disable_against_a_tls_only_server_is_refused_cleanly(connect_with: Any) -> None:
    # pg_hba.conf has hostssl lines only: a clear-text session matches none (28000), answered at once
    connect_with("disable")
    with pytest.raises(ServiceUnavailable) as caught:
        db.read(session_ssl)
    assert caught.value.status == 503
    assert any(sqlstate(c) == "28000" for c in causes(caught.value))
    assert failures() == 1


def test_a_missing_ca_bundle_fails_at_cold_start_naming_the_path(connect_with: Any) -> None:
    # A configuration error, not an outage: the settings (validated at cold start) refuse it, naming the file
    from pydantic import ValidationError

    from shared.settings import get_settings

    connect_with("verify-full", "/opt/certs/not-there.pem")
    with pytest.raises(ValidationError, match=r"DB_SSL_ROOT_CERT '/opt/certs/not-there.pem' does not exist"):
        get_settings()


def test_a_file_that_is_no_ca_bundle_fails_the_first_connection_naming_the_path(connect_with: Any,
                                                                              tmp_path: Any) -> None:
    bogus = tmp_path / "bundle.pem"
    bogus.write_text("not a certificate")
    connect_with("verify-full", str(bogus))
    with pytest.raises(RuntimeError, match=r"DB_SSL_ROOT_CERT .*bundle.pem' cannot be loaded as a CA bundle"):
        db.read(session_ssl)
    assert failures() == 0
