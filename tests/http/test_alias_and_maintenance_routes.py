"""`set-cluster-alias/{c}?alias=` and `end-maintenance/{maintenanceKey}`: the original's routes, answered
over the original's fixture rows on both backends, and agreeing with what the CLI then reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.compat.fixtures import MASTER, OriginalFixture, deployed_for
from tests.http.conftest import make_client

REPLICA = "testhost:22294"


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def deployed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OriginalFixture]:
    with deployed_for(request, tmp_path_factory, "routes") as fixture:
        yield fixture


@pytest.fixture
def fx(deployed: OriginalFixture) -> OriginalFixture:
    deployed.create_per_test()
    for table in ("audit", "database_instance_maintenance", "cluster_alias_override", "cluster_alias"):
        deployed.execute(f"DELETE FROM {table}")
    return deployed


@pytest.fixture
def client(fx: OriginalFixture) -> Iterator[TestClient]:
    yield from make_client(fx.config)


def audit_rows(fx: OriginalFixture, audit_type: str) -> list[tuple[Any, ...]]:
    return fx.query(f"SELECT hostname, port, cluster_name, message FROM audit WHERE audit_type = '{audit_type}'")


def test_set_cluster_alias(fx: OriginalFixture, client: TestClient) -> None:
    answer = client.get(f"/api/set-cluster-alias/{MASTER}", params={"alias": "payments"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["Code"] == "OK"
    assert answer.json()["Message"] == f"Cluster {MASTER} now has alias 'payments'"
    # the CLI and the API read it at once
    assert fx.cli("-c", "clusters-alias").lines == [f"{MASTER}\tpayments"]
    assert fx.cli("-c", "which-cluster-alias", "-i", REPLICA).lines == ["payments"]
    assert fx.cli("-c", "which-cluster", "--alias", "payments").lines == [MASTER]
    assert client.get("/api/cluster-info/payments").json()["ClusterAlias"] == "payments"
    assert audit_rows(fx, "set-cluster-alias") == [("", 0, MASTER, "alias: payments")]
    # a member key or the alias itself names the cluster too
    assert client.get(f"/api/set-cluster-alias/{REPLICA}", params={"alias": "billing"}).json()["Code"] == "OK"
    assert fx.cli("-c", "which-cluster-alias", "-i", REPLICA).lines == ["billing"]
    # an empty alias removes the override: the cluster answers to its name again
    removed = client.get("/api/set-cluster-alias/billing", params={"alias": ""})
    assert removed.json()["Code"] == "OK", removed.text
    assert fx.cli("-c", "clusters-alias").lines == [f"{MASTER}\t{MASTER}"]
    assert fx.query("SELECT COUNT(*) FROM cluster_alias_override") == [(0,)]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/api/set-cluster-alias/nosuchcluster", {"alias": "x"}, "unknown cluster: nosuchcluster"),
        (f"/api/set-cluster-alias/{MASTER}", {"alias": "other:3306"}, "already names cluster other:3306"),
        (f"/api/set-cluster-alias/{MASTER}", {"alias": "a" * 129}, "longer than 128"),
        ("/api/end-maintenance/abc", {}, "invalid maintenance key 'abc'"),
        ("/api/end-maintenance/424242", {}, "no active maintenance with key 424242"),
    ],
)
def test_refusals_change_nothing(
    fx: OriginalFixture, client: TestClient, path: str, params: dict[str, str], message: str
) -> None:
    # a second cluster (re-created before each test)
    fx.execute("UPDATE database_instance SET cluster_name = 'other:3306' WHERE port = 22297")
    before = fx.table_counts()
    answer = client.get(path, params=params)
    assert answer.status_code == 500, answer.text
    assert answer.json()["Code"] == "ERROR"
    assert message in answer.json()["Message"]
    assert fx.table_counts() == before


def test_end_maintenance_by_key(fx: OriginalFixture, client: TestClient) -> None:
    assert fx.cli("-c", "begin-maintenance", "-i", REPLICA, "--reason", "upgrade", "--owner", "ops").code == 0
    (lock,) = client.get("/api/maintenance").json()
    assert (lock["Key"], lock["Owner"], lock["Reason"], lock["ExplicitlyBounded"]) == (
        {"Hostname": "testhost", "Port": 22294},
        "ops",
        "upgrade",
        True,
    )
    answer = client.get(f"/api/end-maintenance/{lock['MaintenanceId']}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["Details"] == {"Hostname": "testhost", "Port": 22294}
    assert fx.cli("-c", "in-maintenance", "-i", REPLICA).lines == []
    assert client.get("/api/maintenance").json() == []
    assert audit_rows(fx, "end-maintenance") == [
        ("testhost", 22294, MASTER, f"maintenanceToken: {lock['MaintenanceId']}")
    ]
    again = client.get(f"/api/end-maintenance/{lock['MaintenanceId']}")
    assert again.status_code == 500


@pytest.mark.parametrize("host", ["::1", "[::1]", "fe80::1:2"])
def test_ipv6_hosts_in_instance_paths(fx: OriginalFixture, client: TestClient, host: str) -> None:
    """`H/P` with an IPv6 host: the path's host and port used to be joined as `::1:3307`, which parses as
    a bare IPv6 host on the default port; the answer's key was then parsed from the printed key once
    more (`::1:3307:3306`). The row written and the key answered are now the CLI's for `-i [::1]:3307`."""
    bare = host.strip("[]")
    answer = client.get(f"/api/begin-downtime/{host}/3307/ops/maintenance/1h")
    assert answer.status_code == 200, answer.text
    assert answer.json()["Details"] == {"Hostname": bare, "Port": 3307}
    assert client.get(f"/api/register-candidate/{host}/3307/prefer_not").json()["Details"] == {
        "Hostname": bare,
        "Port": 3307,
    }
    tagged = client.get(f"/api/tag/{host}/3307", params={"tag": "role=backup"}).json()
    assert tagged["Details"] == {"Hostname": bare, "Port": 3307}
    assert fx.query("SELECT hostname, port FROM database_instance_downtime") == [(bare, 3307)]
    assert fx.query("SELECT hostname, port, promotion_rule FROM candidate_database_instance") == [
        (bare, 3307, "prefer_not")
    ]
    assert client.get("/api/tagged", params={"tag": "role=backup"}).json() == [{"Hostname": bare, "Port": 3307}]
    assert fx.cli("-c", "end-downtime", "-i", f"[{bare}]:3307").lines == [f"{bare}:3307"]


def test_forget_cluster_with_an_ipv6_member(fx: OriginalFixture, client: TestClient) -> None:
    fx.execute("UPDATE database_instance SET hostname = '::1' WHERE port = 22297")
    answer = client.get(f"/api/forget-cluster/{MASTER}")
    assert answer.status_code == 200, answer.text
    assert {"Hostname": "::1", "Port": 22297} in answer.json()["Details"]
    assert fx.query("SELECT COUNT(*) FROM database_instance") == [(0,)]
