"""The same commands on a shared MySQL backend (the MariaDB at 127.0.0.1:3306, never a topology member).

Deploying the 47-table schema on MySQL takes seconds, so the module shares one backend database
for the read and instance-management commands; the schema test gets its own empty database from
`mysql_backend_db`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import Result, run_cli

STABLE_POLL_SECONDS = 600

ORIGINAL_TABLES = frozenset(
    {
        "access_token", "active_node", "agent_seed", "agent_seed_state", "async_request", "audit",
        "blocked_topology_recovery", "candidate_database_instance", "cluster_alias", "cluster_alias_override",
        "cluster_domain_name", "cluster_injected_pseudo_gtid", "database_instance",
        "database_instance_analysis_changelog", "database_instance_binlog_files_history",
        "database_instance_coordinates_history", "database_instance_downtime", "database_instance_last_analysis",
        "database_instance_long_running_queries", "database_instance_maintenance",
        "database_instance_peer_analysis", "database_instance_pool", "database_instance_recent_relaylog_history",
        "database_instance_stale_binlog_coordinates", "database_instance_tags", "database_instance_tls",
        "database_instance_topology_history", "global_recovery_disable", "host_agent", "host_attributes",
        "hostname_ips", "hostname_resolve", "hostname_resolve_history", "hostname_unresolve",
        "hostname_unresolve_history", "kv_store", "master_position_equivalence", "node_health",
        "node_health_history", "orchestrator_db_deployments", "orchestrator_metadata", "raft_log",
        "raft_snapshot", "raft_store", "topology_failure_detection", "topology_recovery",
        "topology_recovery_steps",
    }
)  # fmt: skip

# Primary keys of the tables a shared-backend CLI deployment writes (spec §1.3).
CORE_PRIMARY_KEYS = {
    "database_instance": ["hostname", "port"],
    "database_instance_maintenance": ["database_instance_maintenance_id"],
    "database_instance_downtime": ["hostname", "port"],
    "candidate_database_instance": ["hostname", "port"],
    "database_instance_tags": ["hostname", "port", "tag_name"],
    "cluster_alias": ["cluster_name"],
    "cluster_alias_override": ["cluster_name"],
    "cluster_domain_name": ["cluster_name"],
    "hostname_resolve": ["hostname"],
    "hostname_unresolve": ["hostname"],
    "audit": ["audit_id"],
    "node_health": ["hostname", "token"],
    "active_node": ["anchor"],
    "database_instance_pool": ["hostname", "port", "pool"],
    "database_instance_topology_history": ["snapshot_unix_timestamp", "hostname", "port"],
}


def _connect(db: dict[str, Any]) -> Any:
    import mysql.connector

    return mysql.connector.connect(
        host=db["MySQLOrchestratorHost"],
        port=db["MySQLOrchestratorPort"],
        user=db["MySQLOrchestratorUser"],
        password=db["MySQLOrchestratorPassword"],
        database=db["MySQLOrchestratorDatabase"],
        autocommit=True,
    )


def backend_rows(db: dict[str, Any], sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """What the MySQL backend holds, read behind the CLI's back."""
    conn = _connect(db)
    try:
        cursor = conn.cursor(dictionary=True)
        cursor.execute(sql, params)
        found = cursor.fetchall()
        cursor.close()
        return [dict(r) for r in found]
    finally:
        conn.close()


def fails(result: Result, command: str, why: str = "") -> None:
    assert result.code != 0, result.out
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith(f"orchestrator: {command}: {why}"), result.err


@dataclass(frozen=True)
class SharedStar:
    sandbox: Sandbox
    config: Path
    db: dict[str, Any]
    version: str

    @property
    def master(self) -> str:
        return self.sandbox.key(0)

    @property
    def replicas(self) -> list[str]:
        return sorted(self.sandbox.keys[1:], key=lambda k: int(k.rsplit(":", 1)[1]))

    @property
    def all_keys(self) -> list[str]:
        return [self.master, *self.replicas]

    @property
    def by_port(self) -> list[str]:
        """Instances of one cluster ordered as host, port: where the master falls depends on its port."""
        return sorted(self.sandbox.keys, key=lambda k: int(k.rsplit(":", 1)[1]))

    def run(self, *args: str) -> Result:
        return run_cli(*args, config=self.config)


@pytest.fixture(scope="module")
def module_backend_db(mysql_backend_db_module: dict[str, Any]) -> dict[str, Any]:
    return mysql_backend_db_module


@pytest.fixture(scope="module")
def shared(sandbox: Sandbox, module_backend_db: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> SharedStar:
    """The star discovered once into the module's MySQL backend."""
    sandbox.reset_replication()
    directory = tmp_path_factory.mktemp("mysql-backend")
    config = sandbox.write_config(
        directory / "orchestrator.conf.json",
        directory / "unused.sqlite3",
        InstancePollSeconds=STABLE_POLL_SECONDS,
        **module_backend_db,
    )
    result = run_cli("-c", "discover", "-i", sandbox.key(1), config=config)
    assert (result.code, result.out) == (0, f"{sandbox.key(1)}\n"), result.err
    assert not (directory / "unused.sqlite3").exists()
    version = str(sandbox.query(0, "SELECT @@GLOBAL.version AS v")[0]["v"])
    return SharedStar(sandbox, config, module_backend_db, version)


# ---------------------------------------------------------------- schema


def test_schema_is_the_originals_47_tables(
    sandbox: Sandbox, mysql_backend_db: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestrator_cli.backend import deploy

    config = sandbox.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "unused.sqlite3", **mysql_backend_db)
    deployments: list[str] = []
    original = deploy._create_all

    def counting(backend: Any) -> None:
        deployments.append(backend.description)
        original(backend)

    monkeypatch.setattr(deploy, "_create_all", counting)
    first = run_cli("-c", "clusters", config=config)
    assert (first.code, first.err) == (0, "")
    assert len(deployments) == 1

    name = mysql_backend_db["MySQLOrchestratorDatabase"]
    tables = backend_rows(
        mysql_backend_db,
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = %s",
        (name,),
    )
    assert {r["t"] for r in tables} == ORIGINAL_TABLES
    assert len(tables) == 47
    keys = backend_rows(
        mysql_backend_db,
        """SELECT table_name AS t, column_name AS c FROM information_schema.key_column_usage
           WHERE table_schema = %s AND constraint_name = 'PRIMARY' ORDER BY table_name, ordinal_position""",
        (name,),
    )
    primary: dict[str, list[str]] = {}
    for row in keys:
        primary.setdefault(row["t"], []).append(row["c"])
    for table, columns in CORE_PRIMARY_KEYS.items():
        assert primary.get(table) == columns, table

    # Once current, later runs check the version and deploy nothing.
    again = run_cli("-c", "clusters", config=config)
    assert again.code == 0
    assert len(deployments) == 1
    assert backend_rows(mysql_backend_db, "SELECT COUNT(*) AS n FROM orchestrator_db_deployments") == [{"n": 1}]


# ---------------------------------------------------------------- discovery and reads


def test_discover_writes_the_star(shared: SharedStar) -> None:
    found = backend_rows(
        shared.db, "SELECT hostname, port, cluster_name, replication_depth, num_slave_hosts FROM database_instance"
    )
    by_key = {f"{r['hostname']}:{r['port']}": r for r in found}
    assert set(by_key) == set(shared.all_keys)
    assert {r["cluster_name"] for r in found} == {shared.master}
    assert by_key[shared.master]["replication_depth"] == 0
    assert by_key[shared.master]["num_slave_hosts"] == 3
    assert {by_key[r]["replication_depth"] for r in shared.replicas} == {1}
    audit = backend_rows(shared.db, "SELECT audit_type, cluster_name FROM audit WHERE audit_type = 'discover'")
    assert audit == [{"audit_type": "discover", "cluster_name": shared.master}]


def test_read_commands(shared: SharedStar) -> None:
    master, replicas, v = shared.master, shared.replicas, shared.version
    one = replicas[0]
    expected = {
        ("clusters",): [master],
        ("clusters-alias",): [f"{master}\t{master}"],
        ("all-clusters-masters",): [master],
        ("all-instances",): shared.all_keys,
        ("bulk-instances",): sorted(shared.all_keys),
        ("find", "--pattern", f":{one.rsplit(':', 1)[1]}$"): [one],
        ("search", "--pattern", one.rsplit(":", 1)[1]): [one],
        ("which-instance", "-i", one): [one],
        ("which-cluster", "-i", one): [master],
        ("which-cluster-alias", "-i", one): [master],
        ("which-cluster-master", "-i", one): [master],
        ("which-cluster-instances", "--alias", master): shared.by_port,
        ("which-master", "-i", one): [master],
        ("which-master", "-i", master): [],
        ("which-replicas", "-i", master): replicas,
        ("which-slaves", "-i", master): replicas,
        ("which-downtimed-instances",): [],
        ("which-lost-in-recovery",): [],
        ("instance-status", "-i", one): [f"[0s,ok,{v},ro,ROW,>>,GTID]"],
        ("is-replicating", "-i", one): [one],
        ("is-replicating", "-i", master): [],
        ("is-replication-stopped", "-i", one): [],
        ("can-replicate-from", "-i", one, "-d", replicas[1]): [replicas[1]],
        ("topology-tabulated", "-i", one): [f"{master}  |0s|ok|{v}|rw|ROW|>>     "]
        + [f"+ {r}|0s|ok|{v}|ro|ROW|>>,GTID" for r in replicas],
        ("topology", "--alias", master): [f"{master}   [0s,ok,{v},rw,ROW,>>]"]
        + [f"+ {r} [0s,ok,{v},ro,ROW,>>,GTID]" for r in replicas],
    }
    for args, lines in expected.items():
        result = shared.run("-c", *args)
        assert (result.code, result.err) == (0, ""), args
        assert result.lines == lines, args
    fails(shared.run("-c", "which-instance", "-i", "127.0.0.1:1"), "which-instance", "instance not found")


# ---------------------------------------------------------------- instance management


@pytest.fixture
def cleanup(shared: SharedStar) -> Iterator[Callable[[str], None]]:
    """Tables a test writes are emptied afterwards, so the module's other tests see the plain star."""
    tables: list[str] = []
    yield tables.append
    conn = _connect(shared.db)
    try:
        cursor = conn.cursor()
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")
        cursor.close()
    finally:
        conn.close()


def test_candidates(shared: SharedStar, cleanup: Callable[[str], None]) -> None:
    cleanup("candidate_database_instance")
    first, second = shared.replicas[:2]
    assert shared.run("-c", "register-candidate", "-i", first).lines == [first]
    assert shared.run("-c", "register-candidate", "-i", second, "--promotion-rule", "prefer_not").lines == [second]
    # The original's query fails on SQLite; ours works on both backends.
    assert shared.run("-c", "bulk-promotion-rules").lines == [f"{first} prefer", f"{second} prefer_not"]
    assert backend_rows(shared.db, "SELECT COUNT(*) AS n FROM audit WHERE audit_type = 'register-candidate'") == [
        {"n": 2}
    ]


def test_downtime(shared: SharedStar, cleanup: Callable[[str], None]) -> None:
    cleanup("database_instance_downtime")
    target = shared.replicas[2]
    begun = shared.run("-c", "begin-downtime", "-i", target, "--reason", "disk", "--duration", "90m")
    assert begun.lines == [target]
    stored = backend_rows(
        shared.db,
        "SELECT reason, TIMESTAMPDIFF(SECOND, begin_timestamp, end_timestamp) AS seconds"
        " FROM database_instance_downtime",
    )
    assert stored == [{"reason": "disk", "seconds": 5400}]
    assert shared.run("-c", "which-downtimed-instances").lines == [target]
    assert shared.run("-c", "which-downtimed-instances", "--alias", shared.master).lines == [target]
    assert shared.run("-c", "instance-status", "-i", target).lines == [
        f"[0s,ok,{shared.version},ro,ROW,>>,GTID,downtimed]"
    ]
    assert shared.run("-c", "end-downtime", "-i", target).lines == [target]
    assert shared.run("-c", "which-downtimed-instances").out == ""
    shared.run("-c", "begin-downtime", "-i", target, "--reason", "lost-in-recovery", "--duration", "1h")
    assert shared.run("-c", "which-lost-in-recovery").lines == [target]


def test_maintenance(shared: SharedStar, cleanup: Callable[[str], None]) -> None:
    cleanup("database_instance_maintenance")
    target = shared.replicas[0]
    assert shared.run("-c", "begin-maintenance", "-i", target, "--reason", "backup").lines == [target]
    fails(
        shared.run("-c", "begin-maintenance", "-i", target, "--reason", "again"),
        "begin-maintenance",
        f"cannot begin maintenance on {target}: already in maintenance",
    )
    assert shared.run("-c", "in-maintenance", "-i", target).lines == [target]
    assert shared.run("-c", "end-maintenance", "-i", target).lines == [target]
    assert shared.run("-c", "in-maintenance", "-i", target).out == ""
    assert backend_rows(
        shared.db, "SELECT COUNT(*) AS n FROM database_instance_maintenance WHERE maintenance_active = 1"
    ) == [{"n": 0}]


def test_tags(shared: SharedStar, cleanup: Callable[[str], None]) -> None:
    cleanup("database_instance_tags")
    first, second = shared.replicas[:2]
    shared.run("-c", "tag", "-i", first, "--tag", "role=backup")
    shared.run("-c", "tag", "-i", first, "--tag", "in_service")
    shared.run("-c", "tag", "-i", second, "--tag", "role=web")
    assert shared.run("-c", "tags", "-i", first).lines == ["in_service=", "role=backup"]
    assert shared.run("-c", "tag-value", "-i", first, "--tag", "role").lines == ["backup"]
    assert shared.run("-c", "tagged", "--tag", "role,~in_service").lines == [second]
    assert shared.run("-c", "tagged", "--tag", "role").lines == [first, second]
    tags_column = [line.rsplit(" ", 1)[1] for line in shared.run("-c", "topology-tags", "-i", shared.master).lines]
    assert tags_column == ["[]", "[in_service,role=backup]", "[role=web]", "[]"]
    assert shared.run("-c", "untag", "-i", first, "--tag", "in_service").lines == [first]
    assert shared.run("-c", "untag-all", "--tag", "role=web").lines == [second]
    stored = backend_rows(shared.db, "SELECT port, tag_name, tag_value FROM database_instance_tags")
    assert stored == [{"port": int(first.rsplit(":", 1)[1]), "tag_name": "role", "tag_value": "backup"}]


def test_pools(shared: SharedStar, cleanup: Callable[[str], None]) -> None:
    cleanup("database_instance_pool")
    first, second, third = shared.replicas
    assert shared.run("-c", "submit-pool-instances", "--pool", "web", "-i", f"{first},{second}").out == ""
    fields = [line.split("\t") for line in shared.run("-c", "cluster-pool-instances").lines]
    assert [(f[0], f[2], f[3]) for f in fields] == [(shared.master, "web", first), (shared.master, "web", second)]
    heuristic = ("-c", "which-heuristic-cluster-pool-instances", "-i", shared.master)
    assert shared.run(*heuristic, "--pool", "web").lines == [first, second]
    assert shared.run(*heuristic, "--pool", "other").out == ""
    shared.run("-c", "submit-pool-instances", "--pool", "web", "-i", third)
    assert shared.run(*heuristic, "--pool", "web").lines == [third]


def test_hostname_unresolve(shared: SharedStar, cleanup: Callable[[str], None]) -> None:
    cleanup("hostname_unresolve")
    target = shared.replicas[0]
    assert shared.run("-c", "register-hostname-unresolve", "-i", target, "--hostname", "vip").lines == [target]
    assert backend_rows(shared.db, "SELECT hostname, unresolved_hostname FROM hostname_unresolve") == [
        {"hostname": "127.0.0.1", "unresolved_hostname": "vip"}
    ]
    assert shared.run("-c", "deregister-hostname-unresolve", "-i", target).lines == [target]
    assert backend_rows(shared.db, "SELECT * FROM hostname_unresolve") == []


def test_snapshot_and_forget(shared: SharedStar, cleanup: Callable[[str], None]) -> None:
    cleanup("database_instance_topology_history")
    assert shared.run("-c", "snapshot-topologies").out == ""
    history = backend_rows(shared.db, "SELECT hostname, port FROM database_instance_topology_history")
    assert sorted(f"{r['hostname']}:{r['port']}" for r in history) == sorted(shared.all_keys)

    gone = shared.replicas[2]
    assert shared.run("-c", "forget", "-i", gone).lines == [gone]
    assert gone not in shared.run("-c", "all-instances").lines
    fails(shared.run("-c", "forget", "-i", gone), "forget", f"instance {gone} not found")
    # Rediscovery restores it, so later tests still see the whole star.
    assert shared.run("-c", "discover", "-i", shared.master).code == 0
    assert shared.run("-c", "all-instances").lines == shared.all_keys
