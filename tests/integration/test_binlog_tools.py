"""Binary log tools on a file:pos sandbox (star) whose master carries injected Pseudo-GTID entries."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from orchestrator_cli.topology.binlog_search import SKIPPED_EVENT_TYPES
from tests.integration.test_refactoring_helpers import Cluster

PSEUDO_GTID_CONFIG: dict[str, Any] = {
    "PseudoGTIDPattern": "drop view if exists `_pseudo_gtid_`",
    "PseudoGTIDPatternIsFixedSubstring": True,
    "PseudoGTIDMonotonicHint": "asc:",
    "DetectPseudoGTIDQuery": "select 1",
    "BinlogEventsChunkSize": 7,  # small pages: every search crosses chunk boundaries
}
ENTRY = re.compile(r"^drop view if exists `_pseudo_gtid_`\.`_asc:[0-9a-f]{8}:[0-9a-f]{8}:[0-9a-f]{16}`$")


_last_stamp = [0]


def inject_pseudo_gtid(sandbox: Sandbox, i: int = 0) -> str:
    """What AutoPseudoGTID writes: a no-op statement that lands in the binary log.

    The original injects every 5 s, so the hex timestamps ascend strictly; tests inject faster and
    keep them ascending by counting on from the last one.
    """
    stamp = _last_stamp[0] = max(int(time.time()), _last_stamp[0] + 1)
    server_id = int(sandbox.query(i, "SELECT @@server_id AS id")[0]["id"])
    entry = f"drop view if exists `_pseudo_gtid_`.`_asc:{stamp:08x}:{server_id:08x}:{secrets.token_hex(8)}`"
    sandbox.execute(i, entry)
    return entry


def write_with_entries(sandbox: Sandbox, rounds: int) -> str:
    """Rows and Pseudo-GTID entries in turn; returns the last entry (followed by two rows)."""
    entry = ""
    for _ in range(rounds):
        entry = inject_pseudo_gtid(sandbox)
        sandbox.write_row()
        sandbox.write_row()
    sandbox.wait_replicated()
    return entry


@pytest.fixture
def star(reusable_sandbox: Callable[..., Sandbox], tmp_path: Path) -> Cluster:
    cluster = Cluster(reusable_sandbox(servers=3, gtid=False), tmp_path, **PSEUDO_GTID_CONFIG)
    cluster.discover()
    return cluster


def test_searching_binary_and_relay_logs(star: Cluster) -> None:
    sandbox, k = star.sandbox, star.key
    entry = write_with_entries(sandbox, rounds=3)
    (relay,) = star.ok("-c", "last-pseudo-gtid", "-i", k(1), "--skip-binlog-search", "--strict").lines
    assert relay.startswith("relay-bin.") and relay.endswith(f":{entry}")
    # The newest binary log holds no entry: the search goes back a file (executed relay logs are purged).
    sandbox.execute(0, "FLUSH BINARY LOGS")
    sandbox.write_row()
    sandbox.wait_replicated()
    for i in (0, 1):
        (found,) = star.ok("-c", "last-pseudo-gtid", "-i", k(i)).lines
        file, pos, text = found.split(":", 2)
        assert file == "mysql-bin.000001" and text == entry and ENTRY.match(text)
        assert star.ok("-c", "find-binlog-entry", "-i", k(i), "--pattern", entry).lines == [f"{file}:{pos}"]
        rows = sandbox.query(i, f"SHOW BINLOG EVENTS IN '{file}' FROM {pos} LIMIT 1")
        assert rows[0]["Info"] == entry

    # The replica may still be taking in events that carry no data (the checkpoint, a relay-log
    # rotation): read its position on both sides of the command until it stood still meanwhile.
    for _ in range(50):
        before = sandbox.replica_status(1)
        (executed,) = star.ok("-c", "last-executed-relay-entry", "-i", k(1)).lines
        status = sandbox.replica_status(1)
        assert before is not None and status is not None
        if (before["Relay_Log_File"], before["Relay_Log_Pos"]) == (status["Relay_Log_File"], status["Relay_Log_Pos"]):
            break
        time.sleep(0.2)
    assert status is not None
    relay_file, relay_pos = status["Relay_Log_File"], int(status["Relay_Log_Pos"])
    assert executed.startswith(f"{{Coordinates:{relay_file}:")
    assert " EventType:Xid Info:COMMIT /* xid=" in executed
    next_pos = int(executed.rsplit("}:", 1)[1])
    assert f"NextEventPos:{next_pos} " in executed and next_pos <= relay_pos
    # Between the entry and the executed position there may only be events that carry no data (MariaDB
    # writes its Binlog_checkpoint after the transaction, asynchronously, so it can land after the row).
    between = (
        sandbox.query(1, f"SHOW RELAYLOG EVENTS IN '{relay_file}' FROM {next_pos}") if next_pos < relay_pos else []
    )
    assert all(row["Event_type"] in SKIPPED_EVENT_TYPES for row in between if int(row["Pos"]) < relay_pos), between

    # Replicas 1 and 2 logged the same stream: replica 1's end maps to replica 2's end.
    (mapped,) = star.ok("-c", "correlate-binlog-pos", "-i", k(1), "-d", k(2)).lines
    file, pos = sandbox.query(2, "SHOW MASTER STATUS")[0]["File"], sandbox.query(2, "SHOW MASTER STATUS")[0]["Position"]
    assert mapped == f"{file}:{pos}"
    (on_master,) = star.ok("-c", "correlate-binlog-pos", "-i", k(1), "-d", k(0), "--binlog", mapped).lines
    master_file, master_pos = on_master.rsplit(":", 1)
    assert master_file == "mysql-bin.000002"
    # The master's end, give or take events that carry no data: MariaDB writes the Binlog_checkpoint of
    # the FLUSH asynchronously, so it can land after the last row, and the search skips it.
    trailing = sandbox.query(0, f"SHOW BINLOG EVENTS IN '{master_file}' FROM {master_pos}")
    assert all(row["Event_type"] in SKIPPED_EVENT_TYPES for row in trailing), trailing
    last = sandbox.query(0, f"SHOW BINLOG EVENTS IN '{master_file}'")
    assert any(int(row["End_log_pos"]) == int(master_pos) and row["Event_type"] == "Xid" for row in last), last

    # Replicas 1 and 2 relay the same master events: the last one 1 executed is the last one 2 executed.
    (relays,) = star.ok("-c", "correlate-relaylog-pos", "-i", k(1), "-d", k(2)).lines
    mine, theirs, following = relays.split(";")
    events = []
    for i, coords in ((1, mine), (2, theirs)):
        file, pos = coords.rsplit(":", 1)
        events.append(sandbox.query(i, f"SHOW RELAYLOG EVENTS IN '{file}' FROM {pos} LIMIT 1")[0])
    assert events[0]["End_log_pos"] == events[1]["End_log_pos"] and events[0]["Event_type"] == "Xid"
    # What follows in 2's relay log is where 2 stands, give or take events that carry no data (the
    # master's asynchronous Binlog_checkpoint may arrive after the last row).
    status = sandbox.replica_status(2)
    assert status is not None
    following_file, following_pos = following.rsplit(":", 1)
    assert following_file == status["Relay_Log_File"] and int(following_pos) <= int(status["Relay_Log_Pos"])
    skipped = sandbox.query(2, f"SHOW RELAYLOG EVENTS IN '{following_file}' FROM {following_pos}")
    relay_end = int(status["Relay_Log_Pos"])
    assert all(row["Event_type"] in SKIPPED_EVENT_TYPES for row in skipped if int(row["Pos"]) < relay_end), skipped
    assert star.ok("-c", "correlate-relaylog-pos", "-i", k(1), "-d", k(2), "--binlog", mine).lines == [relays]
    assert "requires sibling instances" in star.refused("-c", "correlate-relaylog-pos", "-i", k(1), "-d", k(0)).err

    assert "No pattern given" in star.refused("-c", "find-binlog-entry", "-i", k(0)).err
    assert "not found" in star.refused("-c", "find-binlog-entry", "-i", k(0), "--pattern", "no such entry").err
    assert "not a replica" in star.refused("-c", "last-executed-relay-entry", "-i", k(0)).err
    assert "does not use Oracle GTID" in star.refused("-c", "locate-gtid-errant", "-i", k(1)).err
    bare = Cluster(sandbox, star.config.parent / "bare")
    for args in (("last-pseudo-gtid",), ("correlate-binlog-pos", "-d", k(2))):
        err = bare.refused("-c", args[0], "-i", k(1), *args[1:]).err
        assert "PseudoGTIDPattern not configured; cannot use Pseudo-GTID" in err


def test_auto_pseudo_gtid_injection_is_found_by_the_forced_pattern(star: Cluster) -> None:
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config
    from orchestrator_cli.errors import TopologyError
    from orchestrator_cli.model.keys import InstanceKey
    from orchestrator_cli.mysql.access import TopologyAccess
    from orchestrator_cli.topology.env import make_env
    from orchestrator_cli.topology.pseudo_gtid import inject_pseudo_gtid

    sandbox = star.sandbox
    auto = Cluster(sandbox, star.config.parent / "auto", AutoPseudoGTID=True)  # no PseudoGTIDPattern at all
    config = load_config(str(auto.config))
    backend, access = Backend(config), TopologyAccess(config)
    try:
        env = make_env(backend, access, config, "test")
        statement = inject_pseudo_gtid(env, InstanceKey("127.0.0.1", sandbox.ports[0]))
        sandbox.execute(1, "SET GLOBAL read_only = 1")
        with pytest.raises(TopologyError, match="read-only"):
            inject_pseudo_gtid(env, InstanceKey("127.0.0.1", sandbox.ports[1]))
    finally:
        sandbox.execute(1, "SET GLOBAL read_only = 1")  # the sandbox's replicas are read-only
        access.close()
        backend.close()
    assert ENTRY.match(statement)
    sandbox.write_row()
    sandbox.wait_replicated()
    for i in (0, 1):
        (found,) = auto.ok("-c", "last-pseudo-gtid", "-i", sandbox.key(i)).lines
        assert found.endswith(f":{statement}")
