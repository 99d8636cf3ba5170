"""Refactoring commands on the MariaDB GTID sandbox (star: server 0 master of 1, 2, 3)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.integration.test_refactoring_helpers import Cluster, changes_of, general_log, using_gtid, writes_during

STAR = {0: None, 1: 0, 2: 0, 3: 0}


@pytest.fixture
def cluster(fresh_sandbox: Sandbox, tmp_path: Path) -> Cluster:
    c = Cluster(fresh_sandbox, tmp_path, ReplicationCredentialsQuery="SELECT 'repl', 'repl_pass'")
    c.discover()
    return c


def test_relocate_there_and_back_by_gtid(cluster: Cluster) -> None:
    k = cluster.key
    result = cluster.ok("-c", "relocate", "-i", k(1), "-d", k(2))
    assert result.lines == [f"{k(1)}<{k(2)}"]
    cluster.assert_topology({0: None, 1: 2, 2: 0, 3: 0})
    audit = cluster.audit("relocate")
    assert audit[0]["message"] == f"relocated {k(1)} below {k(2)} via gtid"
    assert audit[0]["port"] == cluster.sandbox.ports[1]
    assert cluster.ok("-c", "relocate-below", "-i", k(1), "-d", k(0)).lines == [f"{k(1)}<{k(0)}"]
    cluster.assert_topology(STAR)
    assert cluster.maintenance_rows() == []


def test_relocate_refuses_itself_descendants_and_maintenance(cluster: Cluster) -> None:
    k = cluster.key
    cluster.ok("-c", "relocate", "-i", k(2), "-d", k(1))
    cluster.ok("-c", "relocate", "-i", k(3), "-d", k(2))
    chain = {0: None, 1: 0, 2: 1, 3: 2}
    err = cluster.refused("-c", "relocate", "-i", k(1), "-d", k(3)).err
    assert f"{k(3)} is a descendant of {k(1)}" in err
    assert (
        cluster.refused("-c", "relocate", "-i", k(1), "-d", k(1))
        .err.strip()
        .endswith(f"cannot move {k(1)} below itself")
    )
    assert f"{k(3)} is a descendant of {k(1)}" in cluster.refused("-c", "move-gtid", "-i", k(1), "-d", k(3)).err
    assert "is not a replica" in cluster.refused("-c", "move-gtid", "-i", k(0), "-d", k(2)).err
    cluster.ok("-c", "begin-maintenance", "-i", k(0), "--reason", "kernel upgrade")
    err = cluster.refused("-c", "relocate", "-i", k(3), "-d", k(0)).err
    assert f"cannot begin maintenance on {k(0)}" in err and "kernel upgrade" in err
    cluster.ok("-c", "end-maintenance", "-i", k(0))
    cluster.ok("-c", "begin-maintenance", "-i", k(3), "--reason", "backup")
    assert f"cannot begin maintenance on {k(3)}" in cluster.refused("-c", "relocate", "-i", k(3), "-d", k(0)).err
    cluster.ok("-c", "end-maintenance", "-i", k(3))
    cluster.assert_topology(chain)
    assert all(r["message"].startswith("failed") for r in cluster.audit("relocate")[:4])


def test_relocate_refuses_a_server_id_clash(cluster: Cluster) -> None:
    sandbox, k = cluster.sandbox, cluster.key
    own = sandbox.query(2, "SELECT @@server_id AS id")[0]["id"]
    clash = sandbox.query(1, "SELECT @@server_id AS id")[0]["id"]
    sandbox.execute(2, f"SET GLOBAL server_id = {clash}")
    try:
        err = cluster.refused("-c", "relocate", "-i", k(1), "-d", k(2)).err
    finally:
        sandbox.execute(2, f"SET GLOBAL server_id = {own}")
    assert f"{k(1)} cannot replicate from {k(2)}. Reason:" in err and "same server_id" in err
    cluster.assert_topology(STAR)


def test_noop_prints_statements_and_changes_nothing(cluster: Cluster) -> None:
    k = cluster.key
    audit_before = cluster.audit("topology-statement")
    result = cluster.ok("-c", "relocate", "-i", k(1), "-d", k(2), "--noop")
    assert result.lines == [
        f"{k(1)}: STOP SLAVE",
        f"{k(1)}: CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={cluster.sandbox.ports[2]}, "
        "MASTER_USE_GTID=slave_pos",
        f"{k(1)}: START SLAVE",
    ]
    assert cluster.audit("topology-statement") == audit_before
    assert cluster.audit("relocate") == []
    assert cluster.maintenance_rows() == []
    cluster.assert_topology(STAR)


CHANGING = re.compile(r"^\s*(STOP|START|CHANGE|RESET|SET GLOBAL|FLUSH|PURGE)\b", re.IGNORECASE)


def test_noop_prints_the_statements_the_real_run_sends(cluster: Cluster) -> None:
    """The dry run of a GTID relocate (CLI `--noop`, the web UI's plan) is what the server then receives."""
    k, sandbox = cluster.key, cluster.sandbox
    dry = cluster.ok("-c", "relocate", "-i", k(1), "-d", k(2), "--noop").lines
    quiet = "SET SESSION sql_log_bin = 0"  # the test's own statements must not become errant transactions
    sandbox.execute(
        1, quiet, "SET GLOBAL log_output = 'TABLE'", "TRUNCATE mysql.general_log", "SET GLOBAL general_log = 1"
    )
    try:
        cluster.ok("-c", "relocate", "-i", k(1), "-d", k(2))
    finally:
        sandbox.execute(1, "SET GLOBAL general_log = 0")
    logged = sandbox.query(1, "SELECT argument FROM mysql.general_log WHERE command_type = 'Query' ORDER BY event_time")
    sandbox.execute(1, quiet, "TRUNCATE mysql.general_log", "SET GLOBAL log_output = 'FILE'")
    texts = [r["argument"].decode() if isinstance(r["argument"], bytes) else str(r["argument"]) for r in logged]
    sent = [t for t in texts if CHANGING.match(t) and "general_log" not in t]
    assert dry == [f"{k(1)}: {statement}" for statement in sent]
    assert any("MASTER_USE_GTID=slave_pos" in line for line in dry), dry
    cluster.assert_topology({0: None, 1: 2, 2: 0, 3: 0})


def test_relocate_replicas_take_siblings_and_move_up_replicas(cluster: Cluster) -> None:
    k = cluster.key
    result = cluster.ok(
        "-c", "relocate-replicas", "-i", k(0), "-d", k(1), "--pattern", f":({cluster.sandbox.ports[3]})$"
    )
    assert result.lines == [k(3)]
    cluster.assert_topology({0: None, 1: 0, 2: 0, 3: 1})
    assert cluster.ok("-c", "take-siblings", "-i", k(2)).lines == [k(2)]
    cluster.assert_topology({0: None, 1: 2, 2: 0, 3: 1})
    assert sorted(cluster.ok("-c", "move-up-replicas", "-i", k(2)).lines) == [k(1)]
    cluster.assert_topology({0: None, 1: 0, 2: 0, 3: 1})
    assert cluster.ok("-c", "relocate-slaves", "-i", k(1), "-d", k(0)).lines == [k(3)]
    cluster.assert_topology(STAR)


def test_move_below_move_up_and_gtid_commands(cluster: Cluster) -> None:
    k = cluster.key
    assert cluster.ok("-c", "move-below", "-i", k(3), "-d", k(2)).lines == [f"{k(3)}<{k(2)}"]
    cluster.assert_topology({0: None, 1: 0, 2: 0, 3: 2})
    assert cluster.ok("-c", "move-up", "-i", k(3)).lines == [f"{k(3)}<{k(0)}"]
    assert "instances are not siblings" in cluster.refused("-c", "move-below", "-i", k(3), "-d", k(0)).err
    assert "is not a replica itself" in cluster.refused("-c", "move-up", "-i", k(3)).err
    assert cluster.ok("-c", "move-gtid", "-i", k(1), "-d", k(3)).lines == [f"{k(1)}<{k(3)}"]
    cluster.assert_topology({0: None, 1: 3, 2: 0, 3: 0})
    assert sorted(cluster.ok("-c", "move-slaves-gtid", "-i", k(0), "-d", k(2)).lines) == [k(3)]
    cluster.assert_topology({0: None, 1: 3, 2: 0, 3: 2})


def test_repoint_and_repoint_replicas(cluster: Cluster) -> None:
    k = cluster.key
    assert cluster.ok("-c", "repoint", "-i", k(1)).lines == [f"{k(1)}<{k(0)}"]
    assert cluster.ok("-c", "repoint", "-i", k(1), "-d", k(2)).lines == [f"{k(1)}<{k(2)}"]
    cluster.assert_topology({0: None, 1: 2, 2: 0, 3: 0})
    assert cluster.ok(
        "-c", "repoint-replicas", "-i", k(0), "-d", k(2), "--pattern", str(cluster.sandbox.ports[3])
    ).lines == [f"{k(3)}<{k(0)}"]
    cluster.assert_topology({0: None, 1: 2, 2: 0, 3: 2})
    assert sorted(cluster.ok("-c", "repoint-slaves", "-i", k(2)).lines) == sorted([f"{k(1)}<{k(2)}", f"{k(3)}<{k(2)}"])
    cluster.assert_topology({0: None, 1: 2, 2: 0, 3: 2})


def test_take_master_swaps_an_intermediate_master(cluster: Cluster) -> None:
    k = cluster.key
    cluster.ok("-c", "relocate", "-i", k(2), "-d", k(1))
    assert "is not a replica" in cluster.refused("-c", "take-master", "-i", k(1)).err
    assert cluster.ok("-c", "enslave-master", "-i", k(2)).lines == [k(2)]
    cluster.assert_topology({0: None, 1: 2, 2: 0, 3: 0})
    assert cluster.audit("take-master")[0]["message"].endswith("(gtid)")


def change_to(port: int, mode: str) -> str:
    return f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={port}, MASTER_USE_GTID={mode}"


def test_repoint_names_the_gtid_mode_each_replica_keeps(cluster: Cluster) -> None:
    """slave_pos stays slave_pos and current_pos stays current_pos; the statement (and --noop) says which."""
    sandbox, k, ports = cluster.sandbox, cluster.key, cluster.sandbox.ports
    sandbox.execute(1, "STOP SLAVE", "CHANGE MASTER TO MASTER_USE_GTID=current_pos", "START SLAVE")
    before = using_gtid(sandbox, 1, 3)
    assert before == {1: "Current_Pos", 3: "Slave_Pos"}
    dry = cluster.ok("-c", "repoint", "-i", k(1), "-d", k(2), "--noop").lines
    with general_log(sandbox, 1, 3) as received:
        cluster.ok("-c", "repoint", "-i", k(1), "-d", k(2))
        cluster.ok("-c", "repoint", "-i", k(3))
    assert changes_of(received[1]) == [change_to(ports[2], "current_pos")]
    assert changes_of(dry) == changes_of(received[1])
    assert changes_of(received[3]) == [change_to(ports[0], "slave_pos")]
    assert using_gtid(sandbox, 1, 3) == before
    cluster.assert_topology({0: None, 1: 2, 2: 0, 3: 0})


def test_take_master_by_gtid_names_the_mode_both_keep(cluster: Cluster) -> None:
    sandbox, k, ports = cluster.sandbox, cluster.key, cluster.sandbox.ports
    cluster.ok("-c", "relocate", "-i", k(2), "-d", k(1))
    sandbox.execute(2, "STOP SLAVE", "CHANGE MASTER TO MASTER_USE_GTID=current_pos", "START SLAVE")
    before = using_gtid(sandbox, 1, 2)
    assert before == {1: "Slave_Pos", 2: "Current_Pos"}
    with general_log(sandbox, 1, 2) as received:
        cluster.ok("-c", "take-master", "-i", k(2))
    assert changes_of(received[2]) == [change_to(ports[0], "current_pos")]
    assert changes_of(received[1]) == [change_to(ports[2], "slave_pos")]
    assert using_gtid(sandbox, 1, 2) == before
    cluster.assert_topology({0: None, 1: 2, 2: 0, 3: 0})


def test_make_co_master_then_rows_flow_both_ways(cluster: Cluster, wait_until: Callable[..., object]) -> None:
    sandbox, k = cluster.sandbox, cluster.key
    sandbox.execute(1, "SET GLOBAL read_only = 0")  # the sandbox's replicas are read-only: make one writeable
    assert "not read-only" in cluster.refused("-c", "make-co-master", "-i", k(1)).err
    sandbox.execute(1, "SET GLOBAL read_only = 1")
    assert cluster.ok("-c", "make-co-master", "-i", k(1)).lines == [k(1)]
    ring = {0: 1, 1: 0, 2: 0, 3: 0}
    assert sandbox.replication_parents() == ring
    assert cluster.backend_parents() == ring
    assert "already co master" in cluster.refused("-c", "make-co-master", "-i", k(1)).err
    assert f"{k(2)} is a descendant of {k(0)}" in cluster.refused("-c", "relocate", "-i", k(0), "-d", k(2)).err
    for writer in (0, 1):
        value = sandbox.write_row(i=writer)
        for i in range(4):
            wait_until(lambda i=i, value=value: sandbox.count_rows(i, value) == 1, timeout=10, message=f"row on {i}")


def test_former_master_is_attached_with_current_pos(cluster: Cluster) -> None:
    """A demoted master whose own writes are in its binary log but not in gtid_slave_pos."""
    sandbox, k = cluster.sandbox, cluster.key
    sandbox.write_row()
    sandbox.wait_replicated()
    sandbox.execute(1, "STOP SLAVE", "RESET SLAVE ALL")
    for i in (2, 3):
        sandbox.execute(i, "STOP SLAVE", f"CHANGE MASTER TO MASTER_PORT={sandbox.ports[1]}", "START SLAVE")
    sandbox.execute(
        0,
        f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={sandbox.ports[1]}, MASTER_USER='repl', "
        "MASTER_PASSWORD='repl_pass', MASTER_USE_GTID=slave_pos",
    )
    cluster.ok("-c", "discover", "-i", k(1))
    assert cluster.ok("-c", "relocate", "-i", k(0), "-d", k(2)).lines == [f"{k(0)}<{k(2)}"]
    status = sandbox.replica_status(0)
    assert status is not None and status["Using_Gtid"] == "Current_Pos"
    cluster.assert_topology({0: 2, 1: None, 2: 1, 3: 1})


def test_wiped_slave_position_is_repaired_from_the_binary_log(cluster: Cluster) -> None:
    sandbox, k = cluster.sandbox, cluster.key
    sandbox.write_row()
    sandbox.wait_replicated()
    sandbox.execute(3, "STOP SLAVE", "SET GLOBAL gtid_slave_pos = ''")
    cluster.ok("-c", "relocate", "-i", k(3), "-d", k(2))
    statements = [r["message"] for r in cluster.audit("topology-statement") if r["port"] == sandbox.ports[3]]
    assert any(s.startswith("SET GLOBAL gtid_slave_pos = '0-") for s in statements), statements
    cluster.assert_topology({0: None, 1: 0, 2: 0, 3: 2})


@pytest.mark.mysql_backend
def test_relocate_with_the_mysql_backend(
    fresh_sandbox: Sandbox, tmp_path: Path, deployed_mysql_backend_db: dict[str, Any]
) -> None:
    cluster = Cluster(fresh_sandbox, tmp_path, **deployed_mysql_backend_db)
    cluster.discover()
    k = cluster.key
    assert cluster.ok("-c", "relocate", "-i", k(3), "-d", k(1)).lines == [f"{k(3)}<{k(1)}"]
    cluster.assert_topology({0: None, 1: 0, 2: 0, 3: 1})
    assert cluster.ok("-c", "relocate", "-i", k(3), "-d", k(0)).lines == [f"{k(3)}<{k(0)}"]
    assert cluster.audit("relocate")[0]["message"] == f"relocated {k(3)} below {k(0)} via gtid"
    assert cluster.maintenance_rows() == []
    cluster.assert_topology(STAR)


def test_gtid_moves_under_writes_lose_and_repeat_nothing(cluster: Cluster) -> None:
    sandbox, k = cluster.sandbox, cluster.key
    with writes_during(sandbox) as written:
        cluster.ok("-c", "relocate", "-i", k(1), "-d", k(2))
        cluster.ok("-c", "relocate", "-i", k(3), "-d", k(1))
        cluster.ok("-c", "take-master", "-i", k(3))
        cluster.ok("-c", "relocate-replicas", "-i", k(2), "-d", k(0))
        cluster.ok("-c", "relocate-replicas", "-i", k(3), "-d", k(0))
    assert len(written) > 20
    cluster.assert_topology(STAR)
    total = sandbox.count_rows(0)
    assert [sandbox.count_rows(i) for i in range(4)] == [total] * 4
