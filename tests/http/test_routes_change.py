"""Changing routes on the sandbox star: each §5.2 row answers what the client prints from, changes the
backend or the servers as the CLI command does, and leaves the CLI's audit rows.

Each test gets a private copy of the discovered backend (`changing_client`); tests that move servers
put them back, and the module ends by rewiring the star.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.conftest import ApiStar, make_client, sqlite_file
from tests.support import run_cli

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module", autouse=True)
def rewire_at_end(api_star: ApiStar) -> Iterator[None]:
    yield
    api_star.sandbox.reset_replication()


def rows(config: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = sqlite3.connect(sqlite_file(config))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def audit_rows(config: Path) -> list[tuple[str, str, int, str]]:
    found = rows(config, "SELECT audit_type, hostname, port, message FROM audit ORDER BY audit_id")
    return [(r["audit_type"], r["hostname"], int(r["port"]), r["message"]) for r in found]


def ok(client: TestClient, path: str) -> Any:
    response = client.get(f"/api/{path}")
    body = response.json()
    assert response.status_code == 200 and body["Code"] == "OK", (path, response.text)
    return body["Details"]


def refused(client: TestClient, path: str) -> str:
    response = client.get(f"/api/{path}")
    body = response.json()
    assert response.status_code == 500 and body["Code"] == "ERROR", (path, response.text)
    message: str = body["Message"]
    assert "\n" not in message
    return message


def key_of(star: ApiStar, i: int) -> dict[str, Any]:
    host, port = star.sandbox.key(i).rsplit(":", 1)
    return {"Hostname": host, "Port": int(port)}


def text(key: dict[str, Any]) -> str:
    return f"{key['Hostname']}:{key['Port']}"


# ------------------------------------------------------------------ instance management (backend only)


MANAGEMENT_ROWS = [
    ("begin-downtime/{r1}/ops/patching/30m", "begin-downtime", "database_instance_downtime"),
    ("begin-downtime/{r1}/ops/patching", "begin-downtime", "database_instance_downtime"),
    ("begin-maintenance/{r1}/ops/patching", "begin-maintenance", "database_instance_maintenance"),
    ("register-candidate/{r1}/prefer", "register-candidate", "candidate_database_instance"),
    ("register-hostname-unresolve/{r1}/vip.example", "register-hostname-unresolve", "hostname_unresolve"),
]


@pytest.mark.parametrize(("template", "audit_type", "table"), MANAGEMENT_ROWS, ids=[r[0] for r in MANAGEMENT_ROWS])
def test_management_rows_answer_the_key_and_write_as_the_cli(
    api_star: ApiStar, copy_config: Path, changing_client: TestClient, template: str, audit_type: str, table: str
) -> None:
    before = len(audit_rows(copy_config))
    details = ok(changing_client, template.format(r1=api_star.path(1)))
    assert details == key_of(api_star, 1)  # the client prints Details as host:port
    assert rows(copy_config, f"SELECT * FROM {table}")
    new = audit_rows(copy_config)[before:]
    assert [(t, f"{h}:{p}") for t, h, p, _ in new] == [(audit_type, api_star.sandbox.key(1))]


def test_downtime_audit_rows_match_the_cli(api_star: ApiStar, copy_config: Path, changing_client: TestClient) -> None:
    ok(changing_client, f"begin-downtime/{api_star.path(1)}/ops/patching/30m")
    cli = run_cli("-c", "begin-downtime", "-i", api_star.sandbox.key(2), "--owner", "ops", "--reason", "patching",
                  "--duration", "30m", config=copy_config)  # fmt: skip
    assert cli.code == 0, cli.err
    api_row, cli_row = audit_rows(copy_config)[-2:]
    assert api_row[0] == cli_row[0] == "begin-downtime"
    assert api_row[3] == cli_row[3] == "owner: ops, reason: patching, duration: 30m"
    downtimed = changing_client.get("/api/downtimed").json()
    assert sorted(text(i["Key"]) for i in downtimed) == sorted([api_star.sandbox.key(1), api_star.sandbox.key(2)])
    assert {i["DowntimeOwner"] for i in downtimed} == {"ops"} and all(i["IsDowntimed"] for i in downtimed)
    assert ok(changing_client, f"end-downtime/{api_star.path(1)}") == key_of(api_star, 1)
    assert [text(i["Key"]) for i in changing_client.get("/api/downtimed").json()] == [api_star.sandbox.key(2)]


def test_maintenance_round_trip(api_star: ApiStar, copy_config: Path, changing_client: TestClient) -> None:
    ok(changing_client, f"begin-maintenance/{api_star.path(2)}/ops/disk")
    assert changing_client.get(f"/api/in-maintenance/{api_star.path(2)}").json()["Details"] is True
    locks = changing_client.get("/api/maintenance").json()
    assert [(text(lock["Key"]), lock["Owner"], lock["Reason"]) for lock in locks] == [
        (api_star.sandbox.key(2), "ops", "disk")
    ]
    assert "already in maintenance" in refused(changing_client, f"begin-maintenance/{api_star.path(2)}/ops/disk")
    assert ok(changing_client, f"end-maintenance/{api_star.path(2)}") == key_of(api_star, 2)
    assert changing_client.get("/api/maintenance").json() == []


def test_candidate_and_unresolve(api_star: ApiStar, copy_config: Path, changing_client: TestClient) -> None:
    ok(changing_client, f"register-candidate/{api_star.path(3)}/prefer_not")
    instance = changing_client.get(f"/api/instance/{api_star.path(3)}").json()
    assert instance["PromotionRule"] == "prefer_not"
    rules = changing_client.get("/api/bulk-promotion-rules").json()
    assert rules == [{"Key": key_of(api_star, 3), "PromotionRule": "prefer_not"}]
    ok(changing_client, f"register-hostname-unresolve/{api_star.path(3)}/vip3")
    assert changing_client.get(f"/api/instance/{api_star.path(3)}").json()["UnresolvedHostname"] == "vip3"
    assert ok(changing_client, f"deregister-hostname-unresolve/{api_star.path(3)}") == key_of(api_star, 3)
    assert changing_client.get(f"/api/instance/{api_star.path(3)}").json()["UnresolvedHostname"] == ""


def test_tags_pools_and_kv(api_star: ApiStar, copy_config: Path, changing_client: TestClient) -> None:
    r1, r2 = api_star.path(1), api_star.path(2)
    assert ok(changing_client, f"tag/{r1}?tag=role%3Dbackup") == key_of(api_star, 1)
    ok(changing_client, f"tag/{r2}?tag=role=backup")
    assert changing_client.get(f"/api/tags/{r1}").json() == ["role=backup"]
    assert changing_client.get(f"/api/tag-value/{r1}?tag=role").json() == "backup"
    tagged = changing_client.get("/api/tagged?tag=role=backup").json()
    assert sorted(text(k) for k in tagged) == sorted([api_star.sandbox.key(1), api_star.sandbox.key(2)])
    assert ok(changing_client, f"untag/{r1}?tag=role") == [key_of(api_star, 1)]
    assert ok(changing_client, "untag-all?tag=role=backup") == [key_of(api_star, 2)]
    assert changing_client.get("/api/tagged/?tag=role").json() == []
    assert [t for t, *_ in audit_rows(copy_config)][-4:] == ["tag", "tag", "untag", "untag-all"]

    pool = f"{api_star.sandbox.key(1)},{api_star.sandbox.key(2)}"
    assert ok(changing_client, f"submit-pool-instances/reporting?instances={pool}") == pool
    pooled = ok(changing_client, f"heuristic-cluster-pool-instances/{api_star.master}/reporting")
    assert sorted(text(i["Key"]) for i in pooled) == sorted(pool.split(","))
    assert ok(changing_client, f"heuristic-cluster-pool-instances/{api_star.master}/other") == []

    pairs = ok(changing_client, "submit-masters-to-kv-stores/")
    assert {"Key": f"mysql/master/{api_star.master}", "Value": api_star.master} in pairs


def test_discover_forget_and_snapshot(api_star: ApiStar, copy_config: Path, changing_client: TestClient) -> None:
    assert text(ok(changing_client, f"forget/{api_star.path(3)}")) == api_star.sandbox.key(3)
    assert "Cannot read instance" in refused(changing_client, f"instance/{api_star.path(3)}")
    discovered = ok(changing_client, f"discover/{api_star.path(3)}")
    assert text(discovered["Key"]) == api_star.sandbox.key(3)
    assert text(discovered["MasterKey"]) == api_star.master
    assert audit_rows(copy_config)[-1][0] == "discover"
    assert ok(changing_client, "snapshot-topologies") == {"Instances": 4}
    forgotten = ok(changing_client, f"forget-cluster/{api_star.master}")
    assert len(forgotten) == 4
    assert changing_client.get("/api/clusters-info").json() == []
    answer = ok(changing_client, f"async-discover/{api_star.path(0)}")
    assert answer == key_of(api_star, 0)


def test_global_recovery_switches_and_acks(api_star: ApiStar, copy_config: Path, changing_client: TestClient) -> None:
    assert ok(changing_client, "disable-global-recoveries") == "disabled"
    assert ok(changing_client, "check-global-recoveries") == "disabled"
    assert rows(copy_config, "SELECT * FROM global_recovery_disable")
    assert ok(changing_client, "enable-global-recoveries") == "enabled"
    assert ok(changing_client, "ack-all-recoveries?comment=checked") == 0
    assert ok(changing_client, f"ack-recovery/cluster/{api_star.master}?comment=checked") == 0
    assert ok(changing_client, f"ack-recovery/instance/{api_star.path(0)}?comment=checked") == 0
    assert "--reason is required" in refused(changing_client, "ack-all-recoveries")
    types = [t for t, *_ in audit_rows(copy_config)]
    assert types[-5:] == [
        "disable-global-recoveries",
        "enable-global-recoveries",
        "ack-all-recoveries",
        "ack-cluster-recoveries",
        "ack-instance-recoveries",
    ]
    message = refused(changing_client, f"recover/{api_star.path(0)}")
    assert message.startswith("Recovery not attempted")


# ------------------------------------------------------------------ live changes on the servers


def wait_fetched(api_star: ApiStar, i: int, seconds: float = 20) -> None:
    """Wait until replica `i`'s IO thread has read everything the master has written so far."""
    master = api_star.sandbox.query(0, "SHOW MASTER STATUS")[0]
    deadline = time.monotonic() + seconds
    while True:
        status = api_star.sandbox.replica_status(i) or {}
        fetched = (status.get("Master_Log_File"), int(status.get("Read_Master_Log_Pos") or 0))
        if fetched[0] == master["File"] and fetched[1] >= int(master["Position"]):
            return
        assert time.monotonic() < deadline, f"replica {i} did not fetch {master} (at {fetched})"
        time.sleep(0.05)


def test_replication_rows_on_a_replica(api_star: ApiStar, copy_config: Path, changing_client: TestClient) -> None:
    r1 = api_star.path(1)
    stopped = ok(changing_client, f"stop-replica/{r1}")
    assert text(stopped["Key"]) == api_star.sandbox.key(1)
    assert stopped["ReplicationSQLThreadState"] == 0 and stopped["ReplicationIOThreadState"] == 0
    assert api_star.sandbox.replicating(1)["Slave_SQL_Running"] == "No"
    started = ok(changing_client, f"start-slave/{r1}")  # the legacy name
    assert started["ReplicationSQLThreadState"] == 1 and started["ReplicationIOThreadState"] == 1
    assert ok(changing_client, f"restart-replica/{r1}")["ReplicationSQLThreadRuning"] is True
    assert ok(changing_client, f"set-writeable/{r1}")["ReadOnly"] is False
    assert ok(changing_client, f"set-read-only/{r1}")["ReadOnly"] is True
    detached = ok(changing_client, f"detach-replica/{r1}")
    assert detached["IsDetachedMaster"] is True
    assert ok(changing_client, f"reattach-replica/{r1}")["IsDetachedMaster"] is False
    assert ok(changing_client, f"flush-binary-logs/{r1}")["Key"] == key_of(api_star, 1)
    statements = ok(changing_client, f"restart-replica-statements/{r1}?q=SET%20GLOBAL%20x%3D1")
    cli = run_cli("-c", "restart-replica-statements", "-i", api_star.sandbox.key(1), "--statement", "SET GLOBAL x=1",
                  config=copy_config)  # fmt: skip
    assert statements == cli.lines and "SET GLOBAL x=1;" in statements
    delayed = ok(changing_client, f"delay-replication/{r1}/7")
    assert delayed["SQLDelay"] == 7 and delayed["ReplicationSQLThreadRuning"] is True  # threads as they were
    assert api_star.sandbox.replicating(1)["SQL_Delay"] == 7
    assert ok(changing_client, f"delay-replication/{r1}/0")["SQLDelay"] == 0
    assert refused(changing_client, f"delay-replication/{r1}/soon").startswith("invalid delay 'soon'")
    api_star.sandbox.write_row("before the nice stop")
    wait_fetched(api_star, 1)  # the nice stop applies what was fetched: make sure the row was
    nicely = ok(changing_client, f"stop-replica-nice/{r1}")
    assert nicely["ReplicationSQLThreadState"] == 0 and nicely["ReplicationIOThreadState"] == 0
    assert nicely["ExecBinlogCoordinates"] == nicely["ReadBinlogCoordinates"]  # everything fetched was applied
    assert api_star.sandbox.count_rows(1, "before the nice stop") == 1
    assert ok(changing_client, f"start-replica/{r1}")["ReplicationSQLThreadRuning"] is True
    gtid = changing_client.get(f"/api/can-replicate-from-gtid/{r1}/{api_star.path(0)}").json()
    assert gtid["Message"] == "true" and gtid["Details"] == key_of(api_star, 0)
    types = [t for t, *_ in audit_rows(copy_config)]
    assert "delay-replication" in types and "stop-replica-nice" in types
    for expected in ("stop-replica", "start-replica", "restart-replica", "read-only", "topology-statement",
                     "detach-replica-master-host", "reattach-replica-master-host", "flush-binary-logs"):  # fmt: skip
        assert expected in types, (expected, types)
    replica = changing_client.get(f"/api/instance/{r1}").json()
    assert (
        replica["ReplicationSQLThreadRuning"] and replica["ReadOnly"] and text(replica["MasterKey"]) == api_star.master
    )


def test_relocation_rows(api_star: ApiStar, copy_config: Path, changing_client: TestClient) -> None:
    r1, r2, m = api_star.path(1), api_star.path(2), api_star.path(0)
    moved = ok(changing_client, f"relocate/{r1}/{r2}")
    assert text(moved["Key"]) == api_star.sandbox.key(1) and text(moved["MasterKey"]) == api_star.sandbox.key(2)
    assert api_star.sandbox.replication_parents()[1] == 2
    up = ok(changing_client, f"move-up/{r1}")
    assert text(up["MasterKey"]) == api_star.master
    below = ok(changing_client, f"move-below/{r1}/{r2}")
    assert text(below["MasterKey"]) == api_star.sandbox.key(2)
    back = ok(changing_client, f"relocate-replicas/{r2}/{m}")
    assert [text(i["Key"]) for i in back] == [api_star.sandbox.key(1)]
    assert all(text(i["MasterKey"]) == api_star.master for i in back)
    gtid = ok(changing_client, f"move-below-gtid/{r1}/{r2}")
    assert text(gtid["MasterKey"]) == api_star.sandbox.key(2)
    ups = ok(changing_client, f"move-up-replicas/{r2}/")
    assert [text(i["Key"]) for i in ups] == [api_star.sandbox.key(1)]
    repointed = ok(changing_client, f"repoint/{r1}/{m}")
    assert text(repointed["MasterKey"]) == api_star.master
    assert api_star.sandbox.replication_parents() == {0: None, 1: 0, 2: 0, 3: 0}
    types = [t for t, *_ in audit_rows(copy_config)]
    assert "relocate" in types and "move-up" in types and "move-below" in types
    unknown = changing_client.get(f"/api/move-gtid/{r1}/{r2}")  # not a path of the original either
    assert unknown.status_code == 404 and unknown.json()["Code"] == "ERROR"


def test_restructuring_rows(api_star: ApiStar, copy_config: Path, changing_client: TestClient) -> None:
    r1, r2, r3, m = (api_star.path(i) for i in (1, 2, 3, 0))
    siblings = ok(changing_client, f"take-siblings/{r1}")
    assert text(siblings["Key"]) == api_star.sandbox.key(1)
    assert api_star.sandbox.replication_parents() == {0: None, 1: 0, 2: 1, 3: 1}
    swapped = ok(changing_client, f"take-master/{r2}")  # r2 and its master r1 trade places
    assert text(swapped["Key"]) == api_star.sandbox.key(2) and text(swapped["MasterKey"]) == api_star.master
    assert api_star.sandbox.replication_parents()[1] == 2
    for replica in (r1, r3):
        assert text(ok(changing_client, f"relocate/{replica}/{m}")["MasterKey"]) == api_star.master
    assert api_star.sandbox.replication_parents() == {0: None, 1: 0, 2: 0, 3: 0}
    assert ok(changing_client, f"enable-semi-sync-replica/{r1}")["SemiSyncReplicaEnabled"] is True
    assert ok(changing_client, f"disable-semi-sync-replica/{r1}")["SemiSyncReplicaEnabled"] is False
    flushed = ok(changing_client, f"flush-binary-logs/{r1}")
    current = flushed["SelfBinlogCoordinates"]["LogFile"]
    for _ in range(50):  # MariaDB keeps a just-rotated log until its crash-recovery checkpoint moves on
        answer = changing_client.get(f"/api/purge-binary-logs/{r1}/{current}").json()
        if answer["Code"] == "OK" or "retry in a moment" not in answer["Message"]:
            break
        time.sleep(0.1)
    assert answer["Code"] == "OK", answer["Message"]
    assert answer["Details"]["Key"] == key_of(api_star, 1)
    logs = [r["Log_name"] for r in api_star.sandbox.query(1, "SHOW BINARY LOGS")]
    assert logs[0] == current
    types = [t for t, *_ in audit_rows(copy_config)]
    assert {"take-siblings", "take-master", "relocate", "purge-binary-logs"} <= set(types)


def test_takeover_rows(api_star: ApiStar, copy_config: Path, changing_client: TestClient) -> None:
    """Last: the graceful takeover promotes a replica; the module's finalizer rewires the star."""
    r1 = api_star.path(1)
    answer = ok(changing_client, f"graceful-master-takeover/{api_star.master}/{r1}")
    assert answer["SuccessorKey"] == key_of(api_star, 1)
    assert api_star.sandbox.current_master() == 1
    assert rows(copy_config, "SELECT * FROM topology_recovery")
    recoveries = changing_client.get("/api/audit-recovery").json()
    assert recoveries and recoveries[0]["SuccessorKey"] == key_of(api_star, 1)
    steps = changing_client.get(f"/api/audit-recovery-steps/{recoveries[0]['UID']}").json()
    assert steps and all(set(s) == {"AuditAt", "Message"} for s in steps)
    forced = ok(changing_client, f"force-master-takeover/{api_star.sandbox.key(1)}/{api_star.path(2)}")
    assert forced["SuccessorKey"] == key_of(api_star, 2)
    assert api_star.sandbox.current_master() == 2


def test_the_api_and_the_cli_share_one_backend(api_star: ApiStar, copy_config: Path) -> None:
    """A change made through the API is what the CLI reads next (and the reverse), on the same file."""
    for client in make_client(copy_config):
        ok(client, f"register-candidate/{api_star.path(2)}/must_not")
        cli = run_cli("-c", "bulk-promotion-rules", config=copy_config)
        assert cli.lines == [f"{api_star.sandbox.key(2)} must_not"]
        assert run_cli("-c", "begin-downtime", "-i", api_star.sandbox.key(2), "--reason", "x",
                       config=copy_config).code == 0  # fmt: skip
        assert client.get(f"/api/instance/{api_star.path(2)}").json()["IsDowntimed"] is True
