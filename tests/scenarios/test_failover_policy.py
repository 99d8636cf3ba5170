"""Failover policy knobs an operator sets, checked on real sandboxes through the automation loop.

Server 0 is the master of the star (see test_master_failover.py for the data centers by index).
"""

from __future__ import annotations

from tests.scenarios.harness import Scenario

FAILED = 0


def _wait_on(scenario: Scenario, servers: list[int], master: int = FAILED) -> None:
    sb = scenario.sandbox
    position = sb.query(master, "SELECT @@GLOBAL.gtid_binlog_pos AS p")[0]["p"]
    for i in servers:
        assert sb.query(i, "SELECT MASTER_GTID_WAIT(%s, 30) AS w", (position,))[0]["w"] == 0


def test_master_failover_detach_replica_master_host_detaches_an_unreset_successor(scenario: Scenario) -> None:
    """ApplyMySQLPromotionAfterMasterFailover off and MasterFailoverDetachReplicaMasterHost on: the
    successor is left stopped for the hooks, and its master host is detached (`//host`), so a START
    SLAVE by mistake cannot reconnect it to the failed master when that one comes back (spec §3.7.9
    step 3)."""
    sb = scenario.sandbox
    scenario.reconfigure(ApplyMySQLPromotionAfterMasterFailover=False, MasterFailoverDetachReplicaMasterHost=True)
    scenario.discover_all()
    before = sb.write_row()
    sb.wait_replicated()
    sb.kill(FAILED)
    scenario.automate_until(lambda: scenario.recovered(FAILED))
    [record] = scenario.recoveries_of(FAILED)
    assert record["IsSuccessful"] is True, record
    successor = scenario.index(record["SuccessorKey"])
    assert successor == 1
    status = sb.replica_status(1)
    assert status is not None
    assert status["Master_Host"].startswith("//"), status["Master_Host"]
    assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("No", "No")
    scenario.assert_rows_everywhere(before, range(1, 4))
