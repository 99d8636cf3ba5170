"""A synthetic fleet written into a backend through the project's own schema and writers.

The fleet the scale benchmarks (and issue 11) are measured on: `instances` servers in clusters of five,
each cluster a master with two replicas and an intermediate master that has one replica of its own::

    fleet-00000-m            master (read-write, depth 0)
    +- fleet-00000-r1        replica
    +- fleet-00000-r2        replica
    +- fleet-00000-im        intermediate master (logs its replicas' updates)
       +- fleet-00000-im-r1  replica of the intermediate master (depth 2)

Every 50th master (clusters 49, 99, ...) is dead: its last check failed (checked, not seen) and its
three direct replicas report an IO thread that keeps failing to reconnect, so `replication-analysis`
finds one `DeadMaster` per 50 clusters (40 at 10,000 instances). A size that is not a multiple of five
ends with a partial cluster (the master first). The output is deterministic: the same size gives the
same rows (timestamps aside, which the backend sets).

The schema is deployed by `Backend` and rows are written by `backend.instances.write_instances` (the
probe's own upsert) and `record_failed_check` (the dead masters), so the fleet is exactly what the
project reads after discovering such servers.

    .venv/bin/python bench/fleet_backend.py --instances 10000 --dir /tmp/fleet10k
    # writes /tmp/fleet10k/orchestrator.db and /tmp/fleet10k/orchestrator.conf.json
    .venv/bin/python bench/fleet_backend.py --instances 1000 --mysql-database fleet_bench
    # the same fleet in a MySQL backend at 127.0.0.1:3306 (the database is emptied first)

From Python: `write_fleet(backend, 10_000)` into an open `Backend`, or `sqlite_fleet(directory, 10_000)`,
which returns the config path.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from orchestrator_cli.backend import instances  # noqa: E402  (needs the sys.path entry above)
from orchestrator_cli.backend.connection import Backend  # noqa: E402
from orchestrator_cli.model.keys import InstanceKey  # noqa: E402

CLUSTER_SIZE = 5
DEAD_EVERY = 50  # every 50th cluster's master is dead
PORT = 3306
MEMBERS = ("m", "r1", "r2", "im", "im-r1")
BATCH = 2000  # rows per write transaction
FAILING_IO_ERROR = "error reconnecting to master 'repl@{master}:3306' - retry-time: 60  maximum-retries: 86400"


@dataclass(frozen=True)
class Fleet:
    """What was written: sizes and the names a benchmark or test needs."""

    instances: int
    clusters: list[str]  # cluster names (the master's host:port), in cluster order
    dead_masters: list[InstanceKey]

    @property
    def first_cluster(self) -> str:
        return self.clusters[0]


def host(cluster: int, member: str) -> str:
    return f"fleet-{cluster:05d}-{member}"


def is_dead(cluster: int) -> bool:
    return cluster % DEAD_EVERY == DEAD_EVERY - 1


def fleet_rows(count: int) -> Iterator[dict[str, Any]]:
    """The probe rows of a fleet of `count` instances, master before its replicas."""
    for i in range(count):
        cluster, position = divmod(i, CLUSTER_SIZE)
        yield member_row(cluster, MEMBERS[position], server_id=i + 1)


def member_row(cluster: int, member: str, server_id: int) -> dict[str, Any]:
    master = host(cluster, "m")
    name = host(cluster, member)
    is_master = member == "m"
    upstream = "" if is_master else host(cluster, "im") if member == "im-r1" else master
    orphaned = is_dead(cluster) and upstream == master  # the dead master's direct replicas
    replicating = not is_master
    replicas = {"m": ["r1", "r2", "im"], "im": ["im-r1"]}.get(member, [])
    lag = 0 if replicating and not orphaned else None
    return {
        "hostname": name,
        "port": PORT,
        "server_id": server_id,
        "server_uuid": f"00000000-0000-0000-0000-{server_id:012d}",
        "version": "10.11.6-MariaDB-log",
        "major_version": "10.11",
        "version_comment": "MariaDB Server",
        "read_only": 0 if is_master else 1,
        "log_bin": 1,
        "log_slave_updates": 1,
        "binlog_format": "ROW",
        "binlog_row_image": "FULL",
        "binary_log_file": "mysql-bin.000042",
        "binary_log_pos": 4 + 1000 * server_id,
        "master_host": upstream,
        "master_port": PORT if upstream else 0,
        "slave_sql_running": int(replicating),
        "slave_io_running": int(replicating and not orphaned),
        "replication_sql_thread_state": 1 if replicating else -1,
        "replication_io_thread_state": (2 if orphaned else 1) if replicating else -1,
        "last_io_error": FAILING_IO_ERROR.format(master=master) if orphaned else "",
        "master_log_file": "mysql-bin.000042" if replicating else "",
        "read_master_log_pos": 4 if replicating else 0,
        "relay_master_log_file": "mysql-bin.000042" if replicating else "",
        "exec_master_log_pos": 4 if replicating else 0,
        "relay_log_file": "relay-bin.000002" if replicating else "",
        "relay_log_pos": 4 if replicating else 0,
        "seconds_behind_master": lag,
        "slave_lag_seconds": lag,
        "mariadb_gtid": 1,
        "gtid_mode": "OFF",
        "num_slave_hosts": len(replicas),
        "slave_hosts": [{"Hostname": host(cluster, r), "Port": PORT} for r in replicas],
        "replication_group_members": [],
        "replication_group_is_single_primary_mode": 1,
        "cluster_name": f"{master}:{PORT}",
        "suggested_cluster_alias": master,
        "data_center": f"dc{cluster % 3}",
        "region": "eu",
        "physical_environment": "prod",
        "replication_depth": {"m": 0, "im-r1": 2}.get(member, 1),
        "allow_tls": 1,
        "last_discovery_latency": 1_000_000,
    }


def write_fleet(backend: Backend, count: int) -> Fleet:
    """Write a fleet of `count` instances into `backend` (which must hold no other instances of these names)."""
    batch: list[dict[str, Any]] = []
    for row in fleet_rows(count):
        batch.append(row)
        if len(batch) >= BATCH:
            instances.write_instances(backend, batch)
            batch = []
    instances.write_instances(backend, batch)
    cluster_count = (count + CLUSTER_SIZE - 1) // CLUSTER_SIZE
    dead = [InstanceKey(host(c, "m"), PORT) for c in range(cluster_count) if is_dead(c)]
    with backend.transaction():
        for key in dead:
            # checked now, last seen a second ago: the same failed check a probe records
            backend.execute(
                f"UPDATE database_instance SET last_seen = {backend.dialect.seconds_ago('60')}"
                " WHERE hostname = ? AND port = ?",
                (key.hostname, key.port),
            )
            instances.record_failed_check(backend, key, partial=False)
    return Fleet(count, [f"{host(c, 'm')}:{PORT}" for c in range(cluster_count)], dead)


def sqlite_config(directory: Path, extra: Mapping[str, Any] | None = None) -> Path:
    """Write `orchestrator.conf.json` for a SQLite backend in `directory`; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "orchestrator.conf.json"
    config = {"BackendDB": "sqlite", "SQLite3DataFile": str(directory / "orchestrator.db"), **(extra or {})}
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def sqlite_fleet(directory: Path, count: int, extra: Mapping[str, Any] | None = None) -> tuple[Path, Fleet]:
    """A fresh SQLite backend in `directory` holding a fleet of `count`; returns (config path, fleet)."""
    from orchestrator_cli.config import load_config

    config_path = sqlite_config(directory, extra)
    database = directory / "orchestrator.db"
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    backend = Backend(load_config(str(config_path)))
    try:
        return config_path, write_fleet(backend, count)
    finally:
        backend.close()


def mysql_fleet(
    directory: Path, count: int, database: str, extra: Mapping[str, Any] | None = None
) -> tuple[Path, Fleet]:
    """The same fleet in a MySQL backend at 127.0.0.1:3306 (root, no password), database emptied first."""
    from orchestrator_cli.config import load_config

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "orchestrator.conf.json"
    config = {
        "BackendDB": "mysql",
        "MySQLOrchestratorHost": "127.0.0.1",
        "MySQLOrchestratorPort": 3306,
        "MySQLOrchestratorUser": "root",
        "MySQLOrchestratorPassword": "",
        "MySQLOrchestratorDatabase": database,
        **(extra or {}),
    }
    path.write_text(json.dumps(config, indent=2) + "\n")
    backend = Backend(load_config(str(path)))
    try:
        backend.execute("DELETE FROM database_instance")
        return path, write_fleet(backend, count)
    finally:
        backend.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=10_000, help="fleet size (default 10000)")
    parser.add_argument("--dir", type=Path, required=True, help="directory for the config (and the SQLite file)")
    parser.add_argument("--mysql-database", help="write into this database on 127.0.0.1:3306 instead of SQLite")
    args = parser.parse_args()
    if args.instances < 1:
        parser.error("--instances must be at least 1")
    if args.mysql_database:
        config_path, fleet = mysql_fleet(args.dir, args.instances, args.mysql_database)
    else:
        config_path, fleet = sqlite_fleet(args.dir, args.instances)
    print(
        f"{fleet.instances} instances in {len(fleet.clusters)} clusters, {len(fleet.dead_masters)} dead masters;"
        f" config {config_path}; first cluster {fleet.first_cluster}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
