"""MySQLConnectionLifetimeSeconds on the backend's connections (one `Backend`, and the service's
`BackendPool`), against the MariaDB at 127.0.0.1:3306 (a private database); and a TLS backend that,
like a plain one, sends no ping per statement but still replaces a connection the server closed.

The shared server runs without TLS (`have_ssl` DISABLED), so the TLS tests start a standalone
MariaDB sandbox with a CA and server certificate made in the test.
"""

from __future__ import annotations

import datetime
import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mysql.connector
import pytest

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.backend.connection_pool import BackendPool
from orchestrator_cli.config import load_config
from tests.support import cloned_mysql_database, throwaway_mysql_database

LIFETIME = 1
PREFIX = "orch_cleanups"


@pytest.fixture
def lifetime_keys(deployed_mysql_backend_db: dict[str, Any]) -> dict[str, Any]:
    return {**deployed_mysql_backend_db, "MySQLConnectionLifetimeSeconds": LIFETIME}


def _past_lifetime() -> None:
    time.sleep(LIFETIME + 0.2)


def _server_has(keys: dict[str, Any], connection_id: int) -> bool:
    """Whether the server still lists the connection (a closed one leaves the processlist soon after QUIT)."""
    admin = mysql.connector.connect(
        host=keys["MySQLOrchestratorHost"], port=int(keys["MySQLOrchestratorPort"]), user="root", password=""
    )
    try:
        for _ in range(50):
            cur = admin.cursor()
            cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %s", (connection_id,))
            row = cur.fetchone()
            cur.close()
            if row is None or not row[0]:  # type: ignore[index]
                return False
            time.sleep(0.05)
        return True
    finally:
        admin.close()


class Pings:
    """Every COM_PING the driver sends."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import mysql.connector.connection as driver

        self.count = 0
        real = driver.MySQLConnection.cmd_ping

        def counting(conn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(conn, *args, **kwargs)

        monkeypatch.setattr(driver.MySQLConnection, "cmd_ping", counting)


def test_a_connection_older_than_the_lifetime_is_closed_and_replaced(lifetime_keys: dict[str, Any]) -> None:
    backend = Backend(load_config(overrides=lifetime_keys))
    try:
        first = backend.scalar("SELECT CONNECTION_ID()")
        assert backend.scalar("SELECT CONNECTION_ID()") == first  # young: kept
        _past_lifetime()
        second = backend.scalar("SELECT CONNECTION_ID()")
        assert second != first
        assert not _server_has(lifetime_keys, first)  # closed, not leaked
        assert backend.execute("INSERT INTO kv_store (store_key, store_value, last_updated) VALUES ('a', 'b', NOW())")
        assert backend.scalar("SELECT CONNECTION_ID()") == second
    finally:
        backend.close()


def test_a_transaction_keeps_its_connection_past_the_lifetime(lifetime_keys: dict[str, Any]) -> None:
    backend = Backend(load_config(overrides=lifetime_keys))
    try:
        backend.connection()
        with backend.transaction():
            first = backend.scalar("SELECT CONNECTION_ID()")
            backend.execute("INSERT INTO kv_store (store_key, store_value, last_updated) VALUES ('a', 'b', NOW())")
            _past_lifetime()
            assert backend.scalar("SELECT CONNECTION_ID()") == first
            backend.execute("UPDATE kv_store SET store_value = 'c' WHERE store_key = 'a'")
        assert backend.query("SELECT store_value FROM kv_store") == [{"store_value": "c"}]
        assert backend.scalar("SELECT CONNECTION_ID()") != first  # replaced after the commit
    finally:
        backend.close()


def test_unlimited_by_default(deployed_mysql_backend_db: dict[str, Any]) -> None:
    backend = Backend(load_config(overrides=deployed_mysql_backend_db))
    try:
        assert backend.lifetime_seconds == 0
        first = backend.scalar("SELECT CONNECTION_ID()")
        _past_lifetime()
        assert backend.scalar("SELECT CONNECTION_ID()") == first
    finally:
        backend.close()


def test_the_service_pool_replaces_its_old_connections(lifetime_keys: dict[str, Any]) -> None:
    pool = BackendPool(load_config(overrides=lifetime_keys), size=2)
    try:
        with pool.lease() as a:
            with_a = a.scalar("SELECT CONNECTION_ID()")
        with pool.lease() as again:
            assert again is a and again.scalar("SELECT CONNECTION_ID()") == with_a
        _past_lifetime()
        assert pool.scalar("SELECT CONNECTION_ID()") != with_a
        assert not _server_has(lifetime_keys, with_a)
        assert pool.query("SELECT COUNT(*) AS n FROM kv_store") == [{"n": 0}]
    finally:
        pool.close()


# ---------------------------------------------------------------- TLS


def _pki(directory: Path) -> dict[str, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = datetime.datetime.now(datetime.UTC)

    def issue(subject: str, key: Any, issuer: str, issuer_key: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    def write_key(path: Path, key: Any) -> Path:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
            )
        )
        return path

    def write_cert(path: Path, cert: x509.Certificate) -> Path:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path

    ca_key, server_key, client_key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3))
    ca = "backend test CA"
    return {
        "ca": write_cert(directory / "ca.pem", issue(ca, ca_key, ca, ca_key, True)),
        "server_cert": write_cert(directory / "server.pem", issue("127.0.0.1", server_key, ca, ca_key, False)),
        "server_key": write_key(directory / "server.key", server_key),
        "client_cert": write_cert(directory / "client.pem", issue("orchestrator", client_key, ca, ca_key, False)),
        "client_key": write_key(directory / "client.key", client_key),
    }


def _tls_keys(keys: dict[str, Any], pki: dict[str, Path]) -> dict[str, Any]:
    return {
        **keys,
        "MySQLOrchestratorUseMutualTLS": True,
        "MySQLOrchestratorSSLCAFile": str(pki["ca"]),
        "MySQLOrchestratorSSLCertFile": str(pki["client_cert"]),
        "MySQLOrchestratorSSLPrivateKeyFile": str(pki["client_key"]),
        "MySQLOrchestratorSSLSkipVerify": False,
    }


@pytest.fixture(scope="module")
def tls_server(
    tmp_path_factory: pytest.TempPathFactory, _sandbox_pool: Any
) -> Iterator[tuple[int, dict[str, Path], str]]:
    """A standalone MariaDB that speaks TLS, shared by this module's tests (each has its own database
    on it): its port, the PKI, and a database on it orchestrator deployed once, over TLS, to copy."""
    pytest.importorskip("cryptography")
    pki = _pki(tmp_path_factory.mktemp("pki"))
    server = _sandbox_pool.start(
        1,
        [None],
        True,
        extra_args=(f"--ssl-ca={pki['ca']}", f"--ssl-cert={pki['server_cert']}", f"--ssl-key={pki['server_key']}"),
    )
    try:
        with throwaway_mysql_database("127.0.0.1", server.ports[0], prefix=PREFIX) as keys:
            backend = Backend(load_config(overrides=_tls_keys(keys, pki)))
            try:
                backend.connection()  # deploys the schema, over TLS
            finally:
                backend.close()
            yield server.ports[0], pki, str(keys["MySQLOrchestratorDatabase"])
    finally:
        _sandbox_pool.discard(server)


@pytest.fixture
def tls_backend_keys(tls_server: tuple[int, dict[str, Path], str]) -> Iterator[dict[str, Any]]:
    """The `MySQLOrchestrator*` keys of a new database, with the deployed schema, on the TLS server."""
    port, pki, template = tls_server
    with cloned_mysql_database("127.0.0.1", port, template, prefix=PREFIX) as keys:
        yield _tls_keys(keys, pki)


def test_tls_statements_do_not_ping(tls_backend_keys: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    backend = Backend(load_config(overrides=tls_backend_keys))
    try:
        cipher = backend.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        assert cipher and cipher[0]["Value"], "the backend connection is not encrypted"
        pings = Pings(monkeypatch)
        for n in range(5):
            backend.execute(
                "INSERT INTO kv_store (store_key, store_value, last_updated) VALUES (?, ?, NOW())", (f"k{n}", "v")
            )
            assert backend.query_one("SELECT store_value FROM kv_store WHERE store_key = ?", (f"k{n}",)) == {
                "store_value": "v"
            }
        with backend.transaction():
            backend.execute("DELETE FROM kv_store WHERE store_key = ?", ("k0",))
        assert backend.scalar("SELECT COUNT(*) FROM kv_store") == 4
        assert pings.count == 0
    finally:
        backend.close()


def test_tls_connection_closed_by_server_is_replaced(
    tls_backend_keys: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = Backend(load_config(overrides=tls_backend_keys))
    try:
        first = backend.scalar("SELECT CONNECTION_ID()")
        admin = mysql.connector.connect(
            host="127.0.0.1", port=int(tls_backend_keys["MySQLOrchestratorPort"]), user="root", password=""
        )
        try:
            cur = admin.cursor()
            cur.execute(f"KILL {int(first)}")
            cur.close()
        finally:
            admin.close()
        assert not _server_has(tls_backend_keys, first)
        time.sleep(0.1)  # the close reaches the client's socket
        pings = Pings(monkeypatch)
        assert backend.scalar("SELECT CONNECTION_ID()") != first
        # one ping asked the readable socket, one the driver sent making the new connection's cursor
        assert pings.count == 2
        pings.count = 0
        for _ in range(3):
            assert backend.scalar("SELECT 41 + 1") == 42
        assert pings.count == 0
    finally:
        backend.close()


def test_tls_lifetime(tls_backend_keys: dict[str, Any]) -> None:
    backend = Backend(load_config(overrides={**tls_backend_keys, "MySQLConnectionLifetimeSeconds": LIFETIME}))
    try:
        first = backend.scalar("SELECT CONNECTION_ID()")
        _past_lifetime()
        assert backend.scalar("SELECT CONNECTION_ID()") != first
    finally:
        backend.close()
