"""Connections to topology servers: credentials and timeouts from config, one connection per server.

`TopologyAccess` hands out `TopologyServer`s (mysql/protocol.py; a `ConnectedServer` of
mysql/server.py); every statement that changes a server goes through `TopologyServer.change`, which
logs it, reports it to the audit hook, and in `--noop` mode records it instead of running it. A
`guard` (an automated recovery's lease fence) is asked before each change is logged and sent; it
refuses by raising.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from orchestrator_cli.errors import TopologyError, TopologyTimeoutError
from orchestrator_cli.model.frozen import Frozen, set_fields
from orchestrator_cli.model.keys import InstanceKey

if TYPE_CHECKING:
    from orchestrator_cli.mysql.protocol import TopologyServer
    from orchestrator_cli.mysql.server import ConnectedServer

log = logging.getLogger("orchestrator.mysql")

ChangeHook = Callable[[InstanceKey, str], None]

# mysql.connector's CLIENT_CONNECT_ATTRS (1 << 20), cleared: without it the driver does not build its
# default connection attributes, whose `_os` value it finds by running `lsb_release -a` in a child
# process on the first connection (~10 ms of a cron run's CPU where /etc/lsb-release is absent, as on
# Debian). The original's Go driver sent no connection attributes either.
NO_CONNECT_ATTRS = [-(1 << 20)]


class TimeoutLimit(Frozen):
    """The setting a topology connection's timeout came from, for the error when it expires."""

    __slots__ = ("key", "seconds", "connecting")
    key: str  # the config key: MySQLConnectTimeoutSeconds, MySQL{Discovery,Topology}ReadTimeoutSeconds
    seconds: int
    connecting: bool

    def __init__(self, key: str, seconds: int, connecting: bool) -> None:
        set_fields(self, locals())

    @property
    def phrase(self) -> str:
        when = "while connecting " if self.connecting else ""
        return f"{when}after {self.seconds}s ({self.key})"


class Unresponsive:
    """A thread-safe record of servers whose probe has been hanging: key -> since (monotonic).

    Continuous mode's discovery marks a server while a probe of it runs past InstancePollSeconds plus
    ReasonableInstanceCheckSeconds, or once a probe of it failed on a timeout, and clears the mark
    as soon as a probe of it is answered, so a server that is back is never treated as unreachable
    on old news. Meanwhile recoveries treat it as
    unreachable at once, as the analysis does, instead of paying a timeout per statement.
    """

    def __init__(self) -> None:
        self._since: dict[InstanceKey, float] = {}
        self._lock = threading.Lock()

    def mark(self, key: InstanceKey, since: float) -> None:
        with self._lock:
            self._since.setdefault(key, since)

    def clear(self, key: InstanceKey) -> None:
        with self._lock:
            self._since.pop(key, None)

    def since(self, key: InstanceKey) -> float | None:
        with self._lock:
            return self._since.get(key)

    def marked(self) -> set[InstanceKey]:
        with self._lock:
            return set(self._since)


class TopologyAccess:
    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        noop: bool = False,
        on_change: ChangeHook | None = None,
        unresponsive: Unresponsive | None = None,
    ) -> None:
        self.config = config
        self.noop = noop
        self.on_change = on_change
        # Servers known (by continuous mode's discovery) to accept connections yet answer nothing:
        # a new connection to one fails at once instead of waiting out MySQLConnectTimeoutSeconds.
        self.unresponsive = unresponsive
        self.guard: ChangeHook | None = None  # asked before each change is sent; raises to refuse it
        self.noop_statements: list[tuple[InstanceKey, str]] = []
        self._servers: dict[InstanceKey, ConnectedServer] = {}
        self._lock = threading.Lock()

    def server(self, key: InstanceKey, *, discovery: bool = False) -> TopologyServer:
        """A (cached) handle; the connection opens on first use."""
        from orchestrator_cli.mysql.server import ConnectedServer

        with self._lock:
            srv = self._servers.get(key)
            if srv is None:
                srv = ConnectedServer(key, self, discovery=discovery)
                self._servers[key] = srv
            return srv

    def forget(self, key: InstanceKey) -> None:
        """Drop a cached handle (after a server was killed or restarted)."""
        with self._lock:
            srv = self._servers.pop(key, None)
        if srv is not None:
            srv.close()

    def timeout_limit(self, *, discovery: bool, connecting: bool) -> TimeoutLimit:
        """Which timeout applies (as `connect_params` sets them): MySQLConnectTimeoutSeconds to open a
        connection (the driver applies it to the handshake too), then the read timeout of the
        connection's kind: MySQLDiscoveryReadTimeoutSeconds for a discovery (polling) connection,
        MySQLTopologyReadTimeoutSeconds for every other one."""
        if connecting:
            name = "MySQLConnectTimeoutSeconds"
        else:
            name = "MySQLDiscoveryReadTimeoutSeconds" if discovery else "MySQLTopologyReadTimeoutSeconds"
        return TimeoutLimit(name, int(self.config[name]), connecting)

    def connect_params(self, key: InstanceKey, *, discovery: bool) -> dict[str, Any]:
        c = self.config
        read_timeout = self.timeout_limit(discovery=discovery, connecting=False).seconds
        params: dict[str, Any] = {
            "host": key.hostname,
            "port": key.port,
            "user": c["MySQLTopologyUser"],
            "password": c["MySQLTopologyPassword"],
            "connection_timeout": self.timeout_limit(discovery=discovery, connecting=True).seconds,
            "read_timeout": read_timeout,
            "autocommit": True,
            "use_pure": True,
            "charset": "utf8mb4",
            "client_flags": NO_CONNECT_ATTRS,
        }
        if c.get("MySQLTopologyUseMutualTLS"):
            params.update(
                ssl_ca=c["MySQLTopologySSLCAFile"] or None,
                ssl_cert=c["MySQLTopologySSLCertFile"] or None,
                ssl_key=c["MySQLTopologySSLPrivateKeyFile"] or None,
                ssl_verify_cert=not c["MySQLTopologySSLSkipVerify"],
            )
        else:
            params["ssl_disabled"] = True
        return params

    def report_change(self, key: InstanceKey, statement: str) -> None:
        """Called right before a changing statement is sent: the guard first, then the log and audit."""
        if self.guard is not None:
            self.guard(key, statement)
        log.info("%s: %s", key, statement)
        if self.on_change is not None:
            self.on_change(key, statement)

    def abort(self) -> None:
        """Unblock every statement waiting on a server (at shutdown): the sockets are shut down from
        this thread, so a probe stuck on a hung server fails now instead of at its read timeout."""
        with self._lock:
            servers = list(self._servers.values())
        for srv in servers:
            srv.abort()

    def abort_server(self, key: InstanceKey) -> None:
        """`abort` for one server: a statement waiting on it fails now (nothing when it has no handle)."""
        with self._lock:
            srv = self._servers.get(key)
        if srv is not None:
            srv.abort()

    def close(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for srv in servers:
            srv.close()


def topology_error(key: InstanceKey, error: Exception, limit: TimeoutLimit | None = None) -> TopologyError:
    """One line, as the CLI prints errors: the driver's timeout text spans lines and advises
    calling reconnect(), which means nothing to an operator, so only its first sentence is kept.

    A timeout (read, write, or the handshake of a new connection: what a hung server gives) is a
    `TopologyTimeoutError`, so that discovery can tell "does not answer" from "answered with an
    error" (a server refusing a login is alive, and may be writable). `limit` is the setting that
    expired (`TopologyAccess.timeout_limit`), named in the text: the driver's own words do not say
    whether the handshake or a statement ran out, nor which of our keys to raise."""
    text = " ".join(str(getattr(error, "msg", None) or error).split())
    if "timed out" in text.lower():
        text = text.split(". ", 1)[0].rstrip(".")
    if _timed_out(error):
        if limit is not None:
            text += f" {limit.phrase}"
        return TopologyTimeoutError(f"{key}: {text}")
    return TopologyError(f"{key}: {text}")


def _timed_out(error: Exception) -> bool:
    from mysql.connector import errors

    return isinstance(error, (errors.ReadTimeoutError, errors.WriteTimeoutError, errors.ConnectionTimeoutError))
