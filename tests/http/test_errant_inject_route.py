"""`gtid-errant-inject-empty/H/P`, the orchestrator-client command: served, and refused on MariaDB GTID."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.http.conftest import ApiStar


def test_served_and_refused_on_mariadb_gtid(api_star: ApiStar, changing_client: TestClient) -> None:
    audit_before = changing_client.get("/api/audit").json()
    response = changing_client.get(f"/api/gtid-errant-inject-empty/{api_star.path(1)}")
    assert response.status_code == 500, response.text
    body = response.json()
    assert body["Code"] == "ERROR"
    assert "not supported on MariaDB GTID" in body["Message"], body
    assert changing_client.get("/api/audit").json() == audit_before
    unknown = changing_client.get("/api/gtid-errant-inject-empty/no.such.host/3306").json()
    assert unknown["Code"] == "ERROR" and "no.such.host" in unknown["Message"]
