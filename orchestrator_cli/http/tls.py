"""HTTPS for the service: `UseSSL`, `SSLCertFile`, `SSLPrivateKeyFile`, `SSLCAFile`, `UseMutualTLS`,
`SSLSkipVerify`, turned into uvicorn's ssl options.

Every file is checked before the server starts (exists, readable, parses, the key matches the
certificate), so a mistake is one line at start-up rather than a failed handshake per client later.

* `UseMutualTLS`: every client must present a certificate signed by `SSLCAFile` (the handshake
  fails otherwise). With `SSLSkipVerify` as well, a client without a certificate is let in, and one
  that presents a certificate must still present a valid one.
* An encrypted private key is refused: the original prompts for its password on the terminal, which
  a service started by systemd does not have.
* `SSLValidOUs` (the original's check of the client certificate's OU) is not applied: uvicorn does
  not hand the peer certificate to the application. Restrict who gets a certificate from the CA.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from typing import Any

from orchestrator_cli.errors import ConfigError


def _readable(key: str, path: str) -> str:
    if not path:
        raise ConfigError(f"UseSSL is set but {key} is empty")
    if not os.path.isfile(path):
        raise ConfigError(f"{key} {path}: no such file")
    if not os.access(path, os.R_OK):
        raise ConfigError(f"{key} {path}: not readable by this user")
    return path


def _no_password() -> str:
    raise ConfigError("SSLPrivateKeyFile is encrypted: give the service an unencrypted key (mode 0600)")


def _check_pair(cert: str, key: str) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key, password=_no_password)
    except ssl.SSLError as e:
        raise ConfigError(f"SSLCertFile {cert} / SSLPrivateKeyFile {key}: cannot be used together: {e.reason}") from e


def _check_ca(ca: str) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_verify_locations(cafile=ca)
    except ssl.SSLError as e:
        raise ConfigError(f"SSLCAFile {ca}: no certificate in it: {e.reason}") from e


def uvicorn_ssl_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.Config` (empty when `UseSSL` is off), or a one-line ConfigError.

    >>> uvicorn_ssl_options({"UseSSL": False})
    {}
    >>> uvicorn_ssl_options({"UseSSL": True, "SSLCertFile": "/nonexistent.pem"})
    Traceback (most recent call last):
    ...
    orchestrator_cli.errors.ConfigError: SSLCertFile /nonexistent.pem: no such file
    """
    if not config.get("UseSSL"):
        if config.get("UseMutualTLS"):
            raise ConfigError("UseMutualTLS is set but UseSSL is not: mutual TLS needs HTTPS")
        return {}
    cert = _readable("SSLCertFile", str(config.get("SSLCertFile") or ""))
    key = _readable("SSLPrivateKeyFile", str(config.get("SSLPrivateKeyFile") or ""))
    _check_pair(cert, key)
    options: dict[str, Any] = {"ssl_certfile": cert, "ssl_keyfile": key}
    ca = str(config.get("SSLCAFile") or "")
    if ca:
        _check_ca(_readable("SSLCAFile", ca))
        options["ssl_ca_certs"] = ca
    if config.get("UseMutualTLS"):
        if not ca:
            raise ConfigError("UseMutualTLS is set but SSLCAFile is empty: client certificates cannot be verified")
        options["ssl_cert_reqs"] = ssl.CERT_OPTIONAL if config.get("SSLSkipVerify") else ssl.CERT_REQUIRED
    return options


def scheme(config: Mapping[str, Any]) -> str:
    return "https" if config.get("UseSSL") else "http"
