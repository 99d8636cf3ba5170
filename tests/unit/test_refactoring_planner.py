"""Pure refactoring decisions: the relocate planner and the MariaDB GTID mode and blockers."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator_cli.errors import UnsafeOperationError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.mysql.facts import GtidFacts, ReplicaStatus
from orchestrator_cli.topology.ancestry import Hop
from orchestrator_cli.topology.gtid_moves import GtidPlan, incompatibility, mariadb_blockers, mariadb_plan
from orchestrator_cli.topology.primitives import Live
from orchestrator_cli.topology.relocate import BELOW, UP, RelocationPlan, Step, plan_relocation

MARIADB = fl.MariaDB("10.11.6-MariaDB-log")


def key(name: str) -> InstanceKey:
    return InstanceKey(name, 3306)


def hop(name: str, server_id: int | None = None) -> Hop:
    return Hop(key(name), server_id if server_id is not None else _ids[name])


_ids = {name: i + 1 for i, name in enumerate(["m", "g", "gg", "s", "n", "u", "c", "x", "i", "t"])}


def live(
    name: str,
    master: str | None,
    *,
    gtid: str = "No",
    binlog_server: int = 0,
    server_id: int = 0,
    threads: tuple[str, str] = ("Yes", "Yes"),
    master_server_id: int | None = None,
) -> Live:
    row: dict[str, Any] = {
        "hostname": name,
        "port": 3306,
        "server_id": server_id or _ids.get(name, 99),
        "binlog_server": binlog_server,
    }
    status = ReplicaStatus.none()
    if master is not None:
        status = ReplicaStatus.from_row(
            {
                "Master_Host": master,
                "Master_Port": 3306,
                "Slave_IO_Running": threads[0],
                "Slave_SQL_Running": threads[1],
                "Relay_Master_Log_File": "mysql-bin.000003",
                "Exec_Master_Log_Pos": 1200,
                "Using_Gtid": gtid,
                "Master_Server_Id": _ids.get(master, 0) if master_server_id is None else master_server_id,
            }
        )
    return Live(key(name), row, status, MARIADB, GtidFacts())


def steps(*pairs: tuple[str, str]) -> tuple[Step, ...]:
    return tuple(Step(kind, key(via)) for kind, via in pairs)


# Tree used below (i is the instance being moved):
#
#              gg
#              |
#              g --------- u
#              |           |
#              m           c
#            /   \
#           i     s
#                 |
#                 n


@pytest.mark.parametrize(
    ("target", "target_chain", "expected"),
    [
        ("s", ["m", "g", "gg"], steps((BELOW, "s"))),
        ("n", ["s", "m", "g", "gg"], steps((BELOW, "s"), (BELOW, "n"))),
        ("g", ["gg"], steps((UP, "g"))),
        ("gg", [], steps((UP, "g"), (UP, "gg"))),
        ("u", ["g", "gg"], steps((UP, "g"), (BELOW, "u"))),
        ("c", ["u", "g", "gg"], steps((UP, "g"), (BELOW, "u"), (BELOW, "c"))),
    ],
)
def test_file_pos_paths_go_up_to_the_common_ancestor_then_down(
    target: str, target_chain: list[str], expected: tuple[Step, ...]
) -> None:
    instance = live("i", "m")
    plan = plan_relocation(
        instance, live(target, None), [hop("m"), hop("g"), hop("gg")], [hop(n) for n in target_chain]
    )
    assert plan == RelocationPlan("file:pos", expected)
    assert plan.describe().startswith("file:pos (")


def test_target_already_master_needs_nothing_even_under_another_name() -> None:
    instance = live("i", "m")
    assert plan_relocation(instance, live("m", "g"), [hop("m"), hop("g")], [hop("g")]).method == "none"
    alias = live("db-m.alias", "g", server_id=_ids["m"])
    assert plan_relocation(instance, alias, [hop("m"), hop("g")], [hop("g")]).method == "none"


def test_stopped_replica_below_the_target_only_needs_starting() -> None:
    for threads in [("No", "No"), ("No", "Yes"), ("Connecting", "Yes"), ("Yes", "No")]:
        instance = live("i", "m", threads=threads, gtid="Slave_Pos")
        assert plan_relocation(instance, live("m", "g"), [hop("m")], [hop("g")]).method == "start", threads


def test_stale_master_server_id_of_a_stopped_replica_does_not_say_already_there() -> None:
    """Issue 8 item 6: CHANGE MASTER TO a sibling without reconnecting keeps the old master's id."""
    for threads in [("No", "No"), ("Connecting", "Yes")]:
        instance = live("i", "s", threads=threads, gtid="Slave_Pos", master_server_id=_ids["m"])
        assert plan_relocation(instance, live("m", "g"), [hop("s")], [hop("g")]).method == "gtid", threads
    # connected, the id is the master's own: the same server under another name
    alias = live("i", "db-m.alias", gtid="Slave_Pos", master_server_id=_ids["m"])
    assert plan_relocation(alias, live("m", "g"), [hop("m")], [hop("g")]).method == "none"


def test_siblings_by_server_id_need_connected_io_threads() -> None:
    from orchestrator_cli.topology.moves import same_master

    sibling = live("s", "m")
    assert same_master(live("i", "db-m.alias", master_server_id=_ids["m"]), sibling)
    stale = live("i", "db-other", threads=("No", "No"), master_server_id=_ids["m"])
    assert not same_master(stale, sibling)
    assert not same_master(sibling, stale)


AT_9_4 = BinlogCoordinates("mysql-bin.000009", 4)


def test_gtid_is_preferred_then_equivalence_then_file_pos() -> None:
    chain = [hop("m"), hop("g")]
    gtid_replica = live("i", "m", gtid="Slave_Pos")
    assert plan_relocation(gtid_replica, live("s", "g"), chain, [hop("g")], AT_9_4).method == "gtid"
    equivalent = plan_relocation(live("i", "m"), live("s", "g"), chain, [hop("g")], AT_9_4)
    assert equivalent == RelocationPlan("equivalence", coords=AT_9_4)


def test_unrelated_target_is_too_complex_without_gtid() -> None:
    with pytest.raises(UnsafeOperationError, match="too complex"):
        plan_relocation(live("i", "m"), live("x", None), [hop("m")], [])


def test_binlog_server_sibling_is_a_repoint_and_elsewhere_too_complex() -> None:
    server = live("s", "m", binlog_server=1)
    assert plan_relocation(live("i", "m"), server, [hop("m")], [hop("m")]).method == "binlog-server"
    with pytest.raises(UnsafeOperationError, match="too complex"):
        plan_relocation(live("i", "m"), live("c", "u", binlog_server=1), [hop("m"), hop("g")], [hop("u"), hop("g")])


# -- MariaDB GTID mode ------------------------------------------------------------------------------


def status(using: str) -> ReplicaStatus:
    return ReplicaStatus.from_row(
        {
            "Master_Host": "m",
            "Master_Port": 3306,
            "Slave_IO_Running": "No",
            "Slave_SQL_Running": "No",
            "Using_Gtid": using,
        }
    )


def facts(binlog: str, slave: str, current: str) -> GtidFacts:
    return GtidFacts(gtid_binlog_pos=binlog, gtid_slave_pos=slave, gtid_current_pos=current, gtid_strict_mode=True)


def test_replica_keeps_slave_pos_when_its_binlog_holds_nothing_more() -> None:
    assert mariadb_plan(status("Slave_Pos"), facts("0-1-9", "0-1-9", "0-1-9"), True) == GtidPlan(None, "0-1-9")
    assert mariadb_plan(status("Current_Pos"), facts("0-1-9", "0-1-8", "0-1-9"), True) == GtidPlan(None, "0-1-9")
    assert mariadb_plan(status("No"), facts("0-1-9", "0-1-9", "0-1-9"), True).mode == "slave_pos"


def test_former_master_with_own_transactions_uses_current_pos() -> None:
    plan = mariadb_plan(status("Slave_Pos"), facts("0-7-42", "", "0-7-42"), True)
    assert (plan.mode, plan.position, plan.repair) == ("current_pos", "0-7-42", "")


def test_wiped_slave_position_is_repaired_from_the_binlog() -> None:
    plan = mariadb_plan(status("Slave_Pos"), facts("0-1-42,1-3-5", "1-3-5", "1-3-5"), True)
    assert (plan.mode, plan.position, plan.repair) == (None, "0-1-42,1-3-5", "0-1-42,1-3-5")
    with pytest.raises(UnsafeOperationError, match="log_slave_updates"):
        mariadb_plan(status("Slave_Pos"), facts("0-1-42", "", ""), False)


def test_blockers_tell_lag_from_missing_history() -> None:
    assert mariadb_blockers("0-1-9", "0-1-9") == ([], False)
    assert mariadb_blockers("0-1-9", "0-1-12") == ([], False)
    blockers, lag_only = mariadb_blockers("0-1-9", "0-1-7")
    assert lag_only and "ahead of source" in blockers[0]
    assert mariadb_blockers("0-5-9", "0-1-7", own_server_id=5)[1] is False  # the replica's own write: errant
    assert mariadb_blockers("0-1-9,2-1-3", "0-1-9")[1] is False  # the source never had domain 2
    blockers, lag_only = mariadb_blockers("0-1-9", "0-2-9")
    assert not lag_only and "diverged" in blockers[0]


def test_gtid_compatibility_by_flavor() -> None:
    assert incompatibility(live("i", "m", gtid="Slave_Pos"), live("s", "m")) is None
    assert "MASTER_USE_GTID=no" in str(incompatibility(live("i", "m"), live("s", "m")))
    oracle_source = Live(key("s"), {}, ReplicaStatus.none(), fl.MySQL80("8.0.36"), GtidFacts(gtid_mode="ON"))
    assert "is not MariaDB" in str(incompatibility(live("i", "m", gtid="Slave_Pos"), oracle_source))
