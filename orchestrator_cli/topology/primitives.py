"""Building blocks shared by refactoring and recovery: locks, live reads, stop/start, CHANGE MASTER.

Each primitive sends its SQL through the flavor layer, so the same code drives MariaDB and Oracle
MySQL; each refreshes the backend view of what it changed.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from orchestrator_cli.errors import TopologyError, UnsafeOperationError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.topology.env import TopologyEnv

log = logging.getLogger("orchestrator.topology")
LOCK_SECONDS = 10 * 60


@dataclass
class Live:
    """A fresh read of one server: its backend-shaped row plus the flavor facts operations need."""

    key: InstanceKey
    row: dict[str, Any]
    status: fl.ReplicaStatus
    flavor: fl.Flavor
    gtid: fl.GtidFacts

    @property
    def master_key(self) -> InstanceKey | None:
        if not self.status.is_replica or self.status.is_detached:
            return None
        return InstanceKey(self.status.master_host, self.status.master_port)

    @property
    def self_coordinates(self) -> tuple[str, int]:
        return str(self.row["binary_log_file"]), int(self.row["binary_log_pos"])


def read_live(env: TopologyEnv, key: InstanceKey) -> Live:
    """Probe one server now (no backend write)."""
    from orchestrator_cli.discovery.probe import probe

    server = env.server(key)
    res = probe(server, env.config)
    status = server.replica_status()
    return Live(key=key, row=res.row, status=status, flavor=server.flavor, gtid=res.gtid or fl.GtidFacts())


def refresh(env: TopologyEnv, keys: Iterable[InstanceKey]) -> None:
    """Re-probe instances and rewrite their backend rows (cluster facts recomputed)."""
    from orchestrator_cli.discovery.crawl import crawl

    keys = list(keys)
    if not keys or env.noop:
        return
    result = crawl(keys, env.access, env.backend, env.config, follow=False)
    for key, why in result.failed.items():
        log.warning("%s: refresh failed: %s", key, why)


@contextlib.contextmanager
def maintenance_lock(env: TopologyEnv, keys: Iterable[InstanceKey], reason: str) -> Iterator[None]:
    """Exclusive locks on every instance an operation changes; released on every exit path."""
    from orchestrator_cli.backend import health, maintenance

    taken: list[int] = []
    try:
        for key in keys:
            token = maintenance.begin(
                env.backend, key, env.owner, reason, LOCK_SECONDS, node=health.identity(), explicitly_bounded=False
            )
            if token is None:
                held = maintenance.active(env.backend, key)
                detail = f" (held by {held['owner']}: {held['reason']})" if held else ""
                raise UnsafeOperationError(f"cannot begin maintenance on {key}{detail}")
            taken.append(token)
        yield
    finally:
        for token in taken:
            maintenance.end_by_id(env.backend, token)


def stop_replication(env: TopologyEnv, key: InstanceKey) -> None:
    server = env.server(key)
    server.change(server.flavor.stop_replica())


def start_replication(env: TopologyEnv, key: InstanceKey, timeout: float = 5.0) -> fl.ReplicaStatus:
    """START and wait (bounded) for both threads; a replica that does not come up is an error."""
    server = env.server(key)
    server.change(server.flavor.start_replica())
    if env.noop:
        return fl.ReplicaStatus.none()
    deadline = time.monotonic() + timeout
    while True:
        status = server.replica_status()
        if status.replication_running:
            return status
        if status.last_sql_error:
            raise TopologyError(f"{key}: replication did not start: {status.last_sql_error}")
        if time.monotonic() > deadline:
            raise TopologyError(f"{key}: replication did not start: {status.last_io_error or 'threads not running'}")
        time.sleep(0.1)


def change_master(
    env: TopologyEnv,
    key: InstanceKey,
    master: InstanceKey,
    *,
    log_file: str | None = None,
    log_pos: int | None = None,
    gtid: str | None = None,
) -> None:
    """CHANGE MASTER with the host unresolved when a virtual name is registered (unless skipped)."""
    from orchestrator_cli.backend import hostnames

    host = master.hostname
    if not env.config.get("_skip_unresolve"):
        host = hostnames.unresolved_name(env.backend, master.hostname) or host
    server = env.server(key)
    server.change(
        server.flavor.change_master(host=host, port=master.port, log_file=log_file, log_pos=log_pos, gtid=gtid)
    )
