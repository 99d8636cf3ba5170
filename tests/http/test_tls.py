"""HTTPS and mutual TLS on a live uvicorn on 127.0.0.1, with a CA and certificates made in the test."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cryptography")
pytest.importorskip("uvicorn")

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from orchestrator_cli.errors import ConfigError  # noqa: E402
from orchestrator_cli.http.tls import uvicorn_ssl_options  # noqa: E402


@dataclass
class Pki:
    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path
    other_client_cert: Path  # signed by another CA
    other_client_key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(
    subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool = False, san: bool = False
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate | None = None, key: Any = None) -> Path:
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        os.chmod(path, 0o600)
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca_key, other_ca_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _issue("test CA", ca_key, "test CA", ca_key, ca=True)
    server_key, client_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    return Pki(
        ca=_write(d / "ca.pem", ca),
        cert=_write(d / "server.pem", _issue("127.0.0.1", server_key, "test CA", ca_key, san=True)),
        key=_write(d / "server.key", key=server_key),
        client_cert=_write(d / "client.pem", _issue("client", client_key, "test CA", ca_key)),
        client_key=_write(d / "client.key", key=client_key),
        other_client_cert=_write(d / "other.pem", _issue("intruder", other_key, "other CA", other_ca_key)),
        other_client_key=_write(d / "other.key", key=other_key),
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(config: dict[str, Any]) -> str:
        app = FastAPI()

        @app.get("/api/lb-check")
        def lb_check() -> str:
            return "OK"

        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **uvicorn_ssl_options(config))
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        servers.append((server, thread))
        return f"https://127.0.0.1:{port}" if config.get("UseSSL") else f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def _context(pki: Pki, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if cert is not None:
        context.load_cert_chain(str(cert), str(key))
    return context


def _get(url: str, context: ssl.SSLContext) -> httpx.Response:
    with httpx.Client(verify=context, timeout=5) as client:
        return client.get(url + "/api/lb-check")


def _tls(pki: Pki, **more: Any) -> dict[str, Any]:
    return {"UseSSL": True, "SSLCertFile": str(pki.cert), "SSLPrivateKeyFile": str(pki.key), **more}


def test_https(pki: Pki, serve: Any) -> None:
    url = serve(_tls(pki))
    assert url.startswith("https://")
    assert _get(url, _context(pki)).json() == "OK"
    with pytest.raises(httpx.TransportError):  # plain HTTP clients get no answer
        httpx.get(url.replace("https", "http") + "/api/lb-check", timeout=5)


def test_mutual_tls_refuses_clients_without_a_valid_certificate(pki: Pki, serve: Any) -> None:
    url = serve(_tls(pki, SSLCAFile=str(pki.ca), UseMutualTLS=True))
    assert _get(url, _context(pki, pki.client_cert, pki.client_key)).json() == "OK"
    with pytest.raises(httpx.TransportError):
        _get(url, _context(pki))
    with pytest.raises(httpx.TransportError):
        _get(url, _context(pki, pki.other_client_cert, pki.other_client_key))


def test_mutual_tls_with_skip_verify_lets_certificate_less_clients_in(pki: Pki, serve: Any) -> None:
    url = serve(_tls(pki, SSLCAFile=str(pki.ca), UseMutualTLS=True, SSLSkipVerify=True))
    assert _get(url, _context(pki)).json() == "OK"
    with pytest.raises(httpx.TransportError):
        _get(url, _context(pki, pki.other_client_cert, pki.other_client_key))


def test_options(pki: Pki) -> None:
    assert uvicorn_ssl_options({}) == {}
    assert uvicorn_ssl_options(_tls(pki)) == {"ssl_certfile": str(pki.cert), "ssl_keyfile": str(pki.key)}
    assert uvicorn_ssl_options(_tls(pki, SSLCAFile=str(pki.ca), UseMutualTLS=True)) == {
        "ssl_certfile": str(pki.cert),
        "ssl_keyfile": str(pki.key),
        "ssl_ca_certs": str(pki.ca),
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
    }


def test_clear_errors(pki: Pki, tmp_path: Path) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"UseSSL": True}, "UseSSL is set but SSLCertFile is empty"),
        (_tls(pki, SSLCertFile=str(tmp_path / "missing.pem")), f"SSLCertFile {tmp_path}/missing.pem: no such file"),
        (_tls(pki, SSLPrivateKeyFile=""), "UseSSL is set but SSLPrivateKeyFile is empty"),
        (_tls(pki, SSLPrivateKeyFile=str(pki.client_key)), "cannot be used together"),
        (_tls(pki, SSLCAFile=str(tmp_path)), f"SSLCAFile {tmp_path}: no such file"),
        (_tls(pki, UseMutualTLS=True), "UseMutualTLS is set but SSLCAFile is empty"),
        ({"UseMutualTLS": True}, "UseMutualTLS is set but UseSSL is not"),
    ]
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    cases.append((_tls(pki, SSLCAFile=str(garbage)), f"SSLCAFile {garbage}: no certificate in it"))
    for config, message in cases:
        with pytest.raises(ConfigError) as error:
            uvicorn_ssl_options(config)
        assert message in str(error.value)
        assert "\n" not in str(error.value)


def test_encrypted_key_refused(pki: Pki, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(pki.key.read_bytes(), None)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(ConfigError, match="SSLPrivateKeyFile is encrypted"):
        uvicorn_ssl_options(_tls(pki, SSLPrivateKeyFile=str(encrypted)))


def test_unreadable_file(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    """(As root every file is readable: the permission check itself is what is tested.)"""
    monkeypatch.setattr(os, "access", lambda path, mode: path != str(pki.key))
    with pytest.raises(ConfigError, match=f"SSLPrivateKeyFile {pki.key}: not readable by this user"):
        uvicorn_ssl_options(_tls(pki))
