"""Read routes of the API on the discovered sandbox star: every read row of cli-catalog §5.2 and the §5.3
families, JSON shapes checked field by field (http-api.md), on SQLite and on the shared MySQL backend."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.conftest import ApiStar

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


KEY = {"Hostname": str, "Port": int}
COORDINATES = {"LogFile": str, "LogPos": int, "Type": int}
NULL_INT = {"Int64": int, "Valid": bool}
INSTANCE_STRINGS = [
    "InstanceAlias",
    "ServerUUID",
    "Version",
    "VersionComment",
    "FlavorName",
    "Binlog_format",
    "BinlogRowImage",
    "MasterUUID",
    "AncestryUUID",
    "GTIDMode",
    "LastSQLError",
    "LastIOError",
    "ExecutedGtidSet",
    "GtidPurged",
    "GtidErrant",
    "ClusterName",
    "SuggestedClusterAlias",
    "DataCenter",
    "Region",
    "PhysicalEnvironment",
    "LastSeenTimestamp",
    "DowntimeReason",
    "DowntimeOwner",
    "DowntimeEndTimestamp",
    "UnresolvedHostname",
    "PromotionRule",
    "ReplicationGroupName",
    "ReplicationGroupMemberState",
    "ReplicationGroupMemberRole",
]
INSTANCE_INTS = [
    "Uptime",
    "ServerID",
    "SQLDelay",
    "ReplicationDepth",
    "SemiSyncPriority",
    "SemiSyncMasterWaitForReplicaCount",
    "SemiSyncMasterClients",
    "SemiSyncMasterTimeout",
    "CountMySQLSnapshots",
    "ReplicationSQLThreadState",
    "ReplicationIOThreadState",
    "ElapsedDowntime",
    "LastDiscoveryLatency",
]
INSTANCE_BOOLS = [
    "ReadOnly",
    "LogBinEnabled",
    "LogSlaveUpdatesEnabled",
    "LogReplicationUpdatesEnabled",
    "IsDetachedMaster",
    "Slave_SQL_Running",
    "ReplicationSQLThreadRuning",
    "Slave_IO_Running",
    "ReplicationIOThreadRuning",
    "HasReplicationFilters",
    "SupportsOracleGTID",
    "UsingOracleGTID",
    "UsingMariaDBGTID",
    "UsingPseudoGTID",
    "IsDetached",
    "IsCoMaster",
    "HasReplicationCredentials",
    "ReplicationCredentialsAvailable",
    "SemiSyncAvailable",
    "SemiSyncMasterEnabled",
    "SemiSyncReplicaEnabled",
    "SemiSyncMasterStatus",
    "SemiSyncReplicaStatus",
    "IsLastCheckValid",
    "IsUpToDate",
    "IsRecentlyChecked",
    "IsCandidate",
    "IsDowntimed",
    "AllowTLS",
    "ReplicationGroupIsSinglePrimary",
]
INSTANCE_KEYS = ("Key", "MasterKey", "ReplicationGroupPrimaryInstanceKey")
INSTANCE_COORDINATES = (
    "SelfBinlogCoordinates",
    "ReadBinlogCoordinates",
    "ExecBinlogCoordinates",
    "RelaylogCoordinates",
)
INSTANCE_NULL_INTS = ("SecondsBehindMaster", "SlaveLagSeconds", "ReplicationLagSeconds", "SecondsSinceLastSeen")
INSTANCE_KEY_LISTS = ("Replicas", "SlaveHosts", "ReplicationGroupMembers")
CLUSTER_INFO = {
    "ClusterName": str, "ClusterAlias": str, "ClusterDomain": str, "CountInstances": int, "HeuristicLag": int,
    "HasAutomatedMasterRecovery": bool, "HasAutomatedIntermediateMasterRecovery": bool,
}  # fmt: skip


def check_object(value: Any, fields: dict[str, type]) -> None:
    assert isinstance(value, dict), value
    for name, kind in fields.items():
        assert name in value, f"missing {name}"
        assert type(value[name]) is kind, f"{name}: {value[name]!r} is not {kind.__name__}"


def check_instance(value: dict[str, Any]) -> None:
    """Every field of http-api.md's Instance table, with its JSON type."""
    for name in INSTANCE_STRINGS:
        assert type(value[name]) is str, f"{name}: {value[name]!r}"
    for name in INSTANCE_INTS:
        assert type(value[name]) is int, f"{name}: {value[name]!r}"
    for name in INSTANCE_BOOLS:
        assert type(value[name]) is bool, f"{name}: {value[name]!r}"
    for name in INSTANCE_KEYS:
        check_object(value[name], KEY)
    for name in INSTANCE_COORDINATES:
        check_object(value[name], COORDINATES)
    for name in INSTANCE_NULL_INTS:
        check_object(value[name], NULL_INT)
    for name in INSTANCE_KEY_LISTS:
        for key in value[name]:
            check_object(key, KEY)
    assert all(type(p) is str for p in value["Problems"])
    assert value["Slave_SQL_Running"] == value["ReplicationSQLThreadRuning"]
    assert value["Slave_IO_Running"] == value["ReplicationIOThreadRuning"]
    assert value["SlaveHosts"] == value["Replicas"]
    assert value["SlaveLagSeconds"] == value["ReplicationLagSeconds"]
    assert value["LogSlaveUpdatesEnabled"] == value["LogReplicationUpdatesEnabled"]


def key_text(key: dict[str, Any]) -> str:
    return f"{key['Hostname']}:{key['Port']}"


def get(client: TestClient, path: str, status: int = 200) -> Any:
    response = client.get(f"/api/{path}")
    assert response.status_code == status, (path, response.text)
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_instance_shape_of_master_and_replica(client: TestClient, api_star: ApiStar) -> None:
    master = get(client, f"instance/{api_star.path(0)}")
    replica = get(client, f"instance/{api_star.path(1)}")
    check_instance(master)
    check_instance(replica)
    assert key_text(master["Key"]) == api_star.master
    assert master["MasterKey"] == {"Hostname": "", "Port": 0}  # the client's which-master prints ":0"
    assert master["ReadOnly"] is False and replica["ReadOnly"] is True
    assert sorted(key_text(k) for k in master["Replicas"]) == api_star.replicas
    assert master["ReplicationSQLThreadState"] == -1 and master["ReplicationIOThreadState"] == -1
    assert key_text(replica["MasterKey"]) == api_star.master
    assert replica["ReplicationSQLThreadRuning"] is True and replica["ReplicationIOThreadRuning"] is True
    assert replica["ReplicationSQLThreadState"] == 1 and replica["ReplicationIOThreadState"] == 1
    assert replica["SecondsBehindMaster"] == {"Int64": 0, "Valid": True}
    assert master["SecondsBehindMaster"]["Valid"] is False
    assert replica["UsingMariaDBGTID"] is True and replica["FlavorName"] == "MariaDB"
    assert replica["ClusterName"] == master["ClusterName"] == api_star.master
    assert replica["ReplicationDepth"] == 1 and master["ReplicationDepth"] == 0
    assert replica["IsLastCheckValid"] is True and replica["IsRecentlyChecked"] is True
    assert replica["Problems"] == [] and replica["IsDowntimed"] is False
    assert replica["PromotionRule"] == "neutral"
    assert replica["ExecBinlogCoordinates"]["Type"] == 0 and replica["RelaylogCoordinates"]["Type"] == 1
    assert master["SelfBinlogCoordinates"]["LogFile"] != ""


def test_cluster_info_shapes(client: TestClient, api_star: ApiStar) -> None:
    infos = get(client, "clusters-info")
    assert len(infos) == 1
    check_object(infos[0], CLUSTER_INFO)
    assert infos[0]["ClusterName"] == infos[0]["ClusterAlias"] == api_star.master
    assert infos[0]["CountInstances"] == 4
    for hint in (api_star.master, api_star.replicas[0], f"alias/{api_star.master}", f"instance/{api_star.path(2)}"):
        info = get(client, f"cluster-info/{hint}")
        check_object(info, CLUSTER_INFO)
        assert info["ClusterName"] == api_star.master


# (path, what the answer is) for the read rows of §5.2 and the §5.3 read families.
def _instance_list(expected: str) -> Any:
    def check(value: Any, star: ApiStar) -> None:
        assert isinstance(value, list)
        for item in value:
            check_instance(item)
        keys = sorted(key_text(i["Key"]) for i in value)
        wanted = {"all": sorted([star.master, *star.replicas]), "replicas": star.replicas, "master": [star.master]}
        assert keys == sorted(wanted.get(expected, [])), (expected, keys)

    return check


def _same_as_cli(*argv: str) -> Any:
    """The instances the CLI command lists, in the same order."""

    def check(value: Any, star: ApiStar) -> None:
        from tests.support import run_cli

        for item in value:
            check_instance(item)
        cli = run_cli(*(a.format(c=star.master) for a in argv), config=star.config)
        assert cli.code == 0, cli.err
        assert [key_text(i["Key"]) for i in value] == cli.lines

    return check


READ_ROWS = [
    ("cluster/{c}", _instance_list("all")),
    ("cluster/alias/{c}", _instance_list("all")),
    ("cluster/instance/{r1}", _instance_list("all")),
    ("all-instances", _instance_list("all")),
    ("masters", _instance_list("master")),
    ("instance-replicas/{m}", _instance_list("replicas")),
    ("cluster-osc-replicas/{c}", _same_as_cli("-c", "which-cluster-osc-replicas", "-alias", "{c}")),
    ("cluster-osc-slaves/{c}", _same_as_cli("-c", "which-cluster-osc-replicas", "-alias", "{c}")),
    ("search?s=127.0.0.1", _instance_list("all")),
    ("downtimed", _instance_list("none")),
    ("downtimed/", _instance_list("none")),
    ("downtimed/{c}", _instance_list("none")),
    ("problems", _instance_list("none")),
    ("problems/{c}", _instance_list("none")),
]


@pytest.mark.parametrize(("template", "check"), READ_ROWS, ids=[r[0] for r in READ_ROWS])
def test_instance_list_routes(client: TestClient, api_star: ApiStar, template: str, check: Any) -> None:
    path = template.format(c=api_star.master, m=api_star.path(0), r1=api_star.path(1))
    check(get(client, path), api_star)


def test_master_and_cluster_names(client: TestClient, api_star: ApiStar) -> None:
    master = get(client, f"master/{api_star.replicas[1]}")
    check_instance(master)
    assert key_text(master["Key"]) == api_star.master and master["ClusterName"] == api_star.master
    assert get(client, "clusters") == [api_star.master]
    assert get(client, "bulk-instances") == sorted(
        [{"Hostname": k.rsplit(":", 1)[0], "Port": int(k.rsplit(":", 1)[1])} for k in api_star.sandbox.keys],
        key=lambda k: f"{k['Hostname']}:{k['Port']}",
    )


def test_topology_routes_answer_the_cli_text(client: TestClient, api_star: ApiStar) -> None:
    from tests.support import run_cli

    cli = run_cli("-c", "topology", "-i", api_star.master, config=api_star.config)
    for path in (f"topology/{api_star.master}", f"topology/{api_star.path(1)}"):
        answer = get(client, path)
        assert answer["Code"] == "OK"
        assert answer["Details"] == cli.out.rstrip("\n")
    tabulated = get(client, f"topology-tabulated/{api_star.master}")["Details"]
    assert tabulated.splitlines()[0].startswith(api_star.master)
    tagged = get(client, f"topology-tags/{api_star.master}")["Details"]
    assert len(tagged.splitlines()) == 4


def test_replication_analysis_routes(client: TestClient, api_star: ApiStar) -> None:
    for path in ("replication-analysis", f"replication-analysis/{api_star.master}",
                 f"replication-analysis/instance/{api_star.path(0)}"):  # fmt: skip
        answer = get(client, path)
        assert answer["Code"] == "OK" and answer["Details"] == []  # a healthy star: nothing to report


def test_recovery_reads(client: TestClient, api_star: ApiStar) -> None:
    assert get(client, "check-global-recoveries") == {
        "Code": "OK",
        "Message": "Global recoveries enabled",
        "Details": "enabled",
    }
    assert get(client, "audit-recovery") == []
    assert get(client, f"audit-recovery/{api_star.master}") == []
    assert get(client, f"audit-recovery/instance/{api_star.path(0)}") == []
    assert get(client, "blocked-recoveries") == []
    assert isinstance(get(client, "audit-failure-detection"), list)
    filters = get(client, "automated-recovery-filters")
    assert filters["Code"] == "OK" and set(filters["Details"]) >= {"RecoverMasterClusterFilters"}
    assert get(client, "audit-recovery/id/12345", 500)["Message"] == "no recovery with id or uid 12345"


def test_audit_log_is_paged(client: TestClient, api_star: ApiStar) -> None:
    first = get(client, "audit")
    assert first and len(first) <= 20
    check_object(first[0], {"AuditId": int, "AuditType": str, "Message": str})
    check_object(first[0]["AuditInstanceKey"], KEY)
    assert [e["AuditType"] for e in first].count("discover") == 1
    assert get(client, "audit/1000") == []
    mine = get(client, f"audit/instance/{api_star.path(1)}")
    assert all(key_text(e["AuditInstanceKey"]) == api_star.sandbox.key(1) for e in mine) and mine


def test_tags_and_pools_reads(client: TestClient, api_star: ApiStar) -> None:
    assert get(client, f"tags/{api_star.path(1)}") == []
    assert get(client, "tagged?tag=nothing") == []
    assert get(client, f"tag-value/{api_star.path(1)}?tag=nothing", 500)["Code"] == "ERROR"
    assert get(client, f"heuristic-cluster-pool-instances/{api_star.master}") == {
        "Code": "OK",
        "Message": "Heuristic cluster pool instances",
        "Details": [],
    }
    assert get(client, f"heuristic-cluster-pool-instances/{api_star.master}/") == get(
        client, f"heuristic-cluster-pool-instances/{api_star.master}"
    )
    assert get(client, "maintenance") == []
    assert get(client, f"in-maintenance/{api_star.path(1)}")["Details"] is False


def test_can_replicate_from_says_true_or_false(client: TestClient, api_star: ApiStar) -> None:
    yes = get(client, f"can-replicate-from/{api_star.path(1)}/{api_star.path(0)}")
    assert yes == {
        "Code": "OK",
        "Message": "true",
        "Details": {"Hostname": "127.0.0.1", "Port": api_star.sandbox.ports[0]},
    }
    from tests.support import run_cli

    no = get(client, f"can-replicate-from/{api_star.path(1)}/{api_star.path(1)}")
    cli = run_cli("-c", "can-replicate-from", "-i", api_star.sandbox.key(1), "-d", api_star.sandbox.key(1),
                  config=api_star.config)  # fmt: skip
    assert no["Message"] == ("true" if cli.out.strip() else "false") == "false"


def test_openapi_documents_every_route(client: TestClient) -> None:
    schema = get(client, "openapi.json")
    paths = schema["paths"]
    for path in ("/api/instance/{hostname}/{port}", "/api/relocate/{hostname}/{port}/{belowHost}/{belowPort}",
                 "/api/stop-slave/{hostname}/{port}", "/api/enslave-master/{hostname}/{port}",
                 "/api/cluster-osc-slaves/{clusterHint}", "/api/raft-state"):  # fmt: skip
        assert path in paths, path
    health = (
        "/api/health",
        "/api/lb-check",
        "/api/_ping",
        "/api/leader-check",
        "/api/routed-leader-check",
        "/api/grab-election",
        "/api/reelect",
        "/api/status",
    )  # fmt: skip  (their own answer forms)
    for path, item in paths.items():
        if path.startswith("/api/") and not path.startswith(health):
            assert "500" in item["get"]["responses"], path
