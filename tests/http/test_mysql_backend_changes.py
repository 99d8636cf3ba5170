"""Changing routes on the shared MySQL backend (127.0.0.1:3306, a private database): the crontab rows and
a relocation write the same rows and audit entries as on SQLite."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.conftest import ApiStar

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def backend_kind() -> str:
    return "mysql"


def backend_query(star: ApiStar, sql: str) -> list[dict[str, Any]]:
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config

    backend = Backend(load_config(str(star.config)))
    try:
        return backend.query(sql)
    finally:
        backend.close()


def ok(client: TestClient, path: str) -> Any:
    body = client.get(f"/api/{path}").json()
    assert body["Code"] == "OK", (path, body)
    return body["Details"]


def test_crontab_rows_and_a_relocation_on_mysql(api_star: ApiStar, client: TestClient) -> None:
    r1, r2, m = api_star.path(1), api_star.path(2), api_star.path(0)
    try:
        ok(client, f"register-candidate/{r2}/prefer")
        ok(client, f"begin-downtime/{r2}/cron/patching/15m")
        assert client.get(f"/api/instance/{r2}").json()["IsDowntimed"] is True
        moved = ok(client, f"relocate/{r1}/{r2}")
        assert moved["MasterKey"]["Port"] == api_star.sandbox.ports[2]
        assert api_star.sandbox.replication_parents()[1] == 2
    finally:
        ok(client, f"relocate/{r1}/{m}")
        ok(client, f"end-downtime/{r2}")
    assert api_star.sandbox.replication_parents() == {0: None, 1: 0, 2: 0, 3: 0}
    rules = backend_query(api_star, "SELECT port, promotion_rule FROM candidate_database_instance")
    assert [(r["port"], r["promotion_rule"]) for r in rules] == [(api_star.sandbox.ports[2], "prefer")]
    types = [r["audit_type"] for r in backend_query(api_star, "SELECT audit_type FROM audit ORDER BY audit_id")]
    for expected in ("register-candidate", "begin-downtime", "relocate", "end-downtime"):
        assert expected in types, (expected, types)
