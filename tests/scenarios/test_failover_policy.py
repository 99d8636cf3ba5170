"""Failover policy knobs an operator sets, checked on real sandboxes through the automation loop.

Server 0 is the master of the star (see test_master_failover.py for the data centers by index).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.scenarios.harness import Scenario, prepare_servers, production_settings

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


# ------------------------------------------------------------------------------------------ file:pos clusters


@pytest.fixture
def filepos_scenario(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> Scenario:
    """The 4-server star replicating by file:pos (MASTER_USE_GTID=no), under the production config."""
    sb = sandbox_factory(servers=4, gtid=False)
    for i in range(1, len(sb.ports)):
        sb.execute(i, "SET GLOBAL read_only = 1")
    prepare_servers(sb)
    hooks_log = tmp_path / "hooks.log"
    config = sb.write_config(
        tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3", **production_settings(sb, hooks_log)
    )
    return Scenario(sb, config, hooks_log)


def _using_gtid(sb: Sandbox, i: int) -> str:
    status = sb.replica_status(i)
    assert status is not None, i
    return str(status["Using_Gtid"])


def test_graceful_takeover_keeps_file_pos_siblings_on_file_pos(filepos_scenario: Scenario) -> None:
    """On MariaDB replicating by file:pos, a graceful takeover moves the siblings below the designated
    replica at its own binlog position: every replica executed the same position of the read-only
    master, so they need no GTID, and the original (which has no file:pos relocation but never forces
    GTID on a replica that does not use it) would not change how they replicate. The demoted master
    joins the same way (spec §3.13 step 12: neutral unless the failover used GTID)."""
    scenario = filepos_scenario
    sb = scenario.sandbox
    scenario.discover_all()
    assert [_using_gtid(sb, i) for i in (1, 2, 3)] == ["No", "No", "No"]
    before = sb.write_row()
    sb.wait_replicated()
    result = scenario.ok("-c", "graceful-master-takeover-auto", "-i", sb.key(0), "-d", sb.key(1))
    assert result.lines[0] == sb.key(1), result.lines
    assert scenario.tree() == {0: 1, 1: None, 2: 1, 3: 1}
    assert scenario.read_only() == {0: 1, 1: 0, 2: 1, 3: 1}
    assert {i: _using_gtid(sb, i) for i in (0, 2, 3)} == {0: "No", 2: "No", 3: "No"}
    scenario.assert_rows_everywhere(before, range(4))
    after = sb.write_row(i=1)
    sb.wait_replicated()
    scenario.assert_rows_everywhere(after, range(4))
    # and back: the old master, now a file:pos replica, is designated
    result = scenario.ok("-c", "graceful-master-takeover-auto", "-i", sb.key(1), "-d", sb.key(0))
    assert result.lines[0] == sb.key(0), result.lines
    assert scenario.tree() == {0: None, 1: 0, 2: 0, 3: 0}
    assert {i: _using_gtid(sb, i) for i in (1, 2, 3)} == {1: "No", 2: "No", 3: "No"}
    back = sb.write_row()
    sb.wait_replicated()
    scenario.assert_rows_everywhere(back, range(4))
