"""`gtid-errant-inject-empty` on recorded Oracle servers: the statements the cluster's master would get.

The servers are stand-ins answering with tests/compat/recorded rows (see test_refactoring_recorded);
the access layer runs in --noop mode, so the operation runs end to end and records what it would send.
"""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator_cli.errors import TopologyError, UnsafeOperationError
from orchestrator_cli.topology import replication
from orchestrator_cli.topology.env import TopologyEnv
from tests.unit import test_refactoring_recorded as recorded
from tests.unit.test_refactoring_recorded import Topology, key, server, statements

topology = recorded.topology  # the fixture: a --noop access over recorded servers and a SQLite backend

SOURCE = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
OWN = "00000000-0000-0000-0000-000000000002"


def cluster(build: Topology, fixture: str, *, master_executed: str = f"{SOURCE}:1-500", **master: Any) -> TopologyEnv:
    """db-1 master of db-2, which wrote OWN:1-3 itself (errant), and db-3, which did not."""
    from orchestrator_cli.discovery.crawl import crawl

    env = build(
        db_1=server(
            fixture, "db-1.example.net", server_id=1, uuid=SOURCE, master="", executed=master_executed, **master
        ),
        db_2=server(
            fixture, "db-2.example.net", server_id=2, uuid=OWN, master="db-1.example.net",
            executed=f"{SOURCE}:1-500,{OWN}:1-3",
        ),
        db_3=server(
            fixture, "db-3.example.net", server_id=3, uuid="00000000-0000-0000-0000-000000000003",
            master="db-1.example.net", executed=f"{SOURCE}:1-500",
        ),
    )  # fmt: skip
    env.access.noop = False  # discovery writes the backend rows the operation finds the cluster master in
    crawl([key("db-1"), key("db-2"), key("db-3")], env.access, env.backend, env.config, follow=False)
    env.access.noop = True
    return env


def empty_transaction(session: str, gtid: str) -> list[str]:
    return [f"{session}: SET GTID_NEXT = '{gtid}'", f"{session}: BEGIN", f"{session}: COMMIT",
            f"{session}: SET GTID_NEXT = 'AUTOMATIC'"]  # fmt: skip


@pytest.mark.parametrize("fixture", ["mysql_5_7_gtid_replica", "mysql_8_0_30_gtid_replica"])
def test_one_empty_transaction_per_errant_gtid_on_the_cluster_master(topology: Topology, fixture: str) -> None:
    env = cluster(topology, fixture, read_only=0)
    master, count = replication.gtid_errant_inject_empty(env, key("db-2"))
    assert (str(master), count) == ("db-1.example.net:3306", 3)
    assert statements(env) == [line for n in (1, 2, 3) for line in empty_transaction("db-1", f"{OWN}:{n}")]


def test_gtids_the_master_already_has_are_not_injected_again(topology: Topology) -> None:
    env = cluster(topology, "mysql_8_0_30_gtid_replica", master_executed=f"{SOURCE}:1-500,{OWN}:2", read_only=0)
    assert replication.gtid_errant_inject_empty(env, key("db-2"))[1] == 2
    assert statements(env) == empty_transaction("db-1", f"{OWN}:1") + empty_transaction("db-1", f"{OWN}:3")


def test_refusals_change_nothing(topology: Topology) -> None:
    env = cluster(topology, "mysql_8_0_30_gtid_replica", read_only=0)
    with pytest.raises(TopologyError, match="no errant GTID is found"):
        replication.gtid_errant_inject_empty(env, key("db-3"))
    env = cluster(topology, "mysql_8_0_30_gtid_replica", read_only=1)
    with pytest.raises(UnsafeOperationError, match=r"cluster master db-1.example.net:3306 is read-only"):
        replication.gtid_errant_inject_empty(env, key("db-2"))
    assert statements(env) == []


def test_mariadb_is_not_supported(topology: Topology) -> None:
    env = topology(
        db_1=server("mariadb_10_11_master", "db-1.example.net"),
        db_2=server("mariadb_10_11_gtid_replica", "db-2.example.net", master="db-1.example.net"),
    )
    with pytest.raises(TopologyError, match="not supported on MariaDB GTID"):
        replication.gtid_errant_inject_empty(env, key("db-2"))
    assert statements(env) == []
