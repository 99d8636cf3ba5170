"""Bad input through the API: the CLI's one-line message in an ERROR envelope (HTTP 500), 404 JSON for
an unknown path, raft paths refused, and nothing written to the backend by a refused request."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.http.conftest import ApiStar, sqlite_file
from tests.support import run_cli

pytestmark = pytest.mark.sandbox


def snapshot(config: Path) -> dict[str, int]:
    """Row counts of the tables a change writes: a refused request must leave them as they were."""
    conn = sqlite3.connect(sqlite_file(config))
    try:
        tables = (
            "audit", "database_instance", "database_instance_downtime", "database_instance_maintenance",
            "candidate_database_instance", "database_instance_tags", "hostname_unresolve", "node_health",
        )  # fmt: skip
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        conn.close()


def cli_message(config: Path, *argv: str) -> str:
    """What the CLI prints for the same mistake, without its `orchestrator: <command>: ` prefix."""
    result = run_cli(*argv, config=config)
    assert result.code != 0
    command = argv[argv.index("-c") + 1]
    return result.err.strip().removeprefix(f"orchestrator: {command}: ")


CASES = [
    # (path, the CLI invocation that makes the same mistake)
    ("instance/127.0.0.1/notaport", ("-c", "which-instance", "-i", "127.0.0.1:notaport")),
    (
        "begin-downtime/{r1}/ops/why/soon",
        ("-c", "begin-downtime", "-i", "{k1}", "--reason", "why", "--duration", "soon"),
    ),
    ("begin-downtime/{r1}/ops/why/-5m", ("-c", "begin-downtime", "-i", "{k1}", "--reason", "why", "--duration", "-5m")),
    ("begin-maintenance/{r1}/ops/why/extra", None),
    ("relocate/{r1}/127.0.0.1/0", ("-c", "relocate", "-i", "{k1}", "-d", "127.0.0.1:0")),
    ("tag/{r1}?tag=", ("-c", "tag", "-i", "{k1}")),
    ("tagged?tag=%3Dx", ("-c", "tagged", "--tag", "=x")),
    ("register-candidate/{r1}/always", ("-c", "register-candidate", "-i", "{k1}", "--promotion-rule", "always")),
    ("cluster/no.such.cluster", ("-c", "which-cluster-instances", "--alias", "no.such.cluster")),
    ("untag-all?tag=role", ("-c", "untag-all", "--tag", "role")),
    ("audit/notapage", None),
]


@pytest.mark.parametrize(("template", "argv"), CASES, ids=[c[0] for c in CASES])
def test_refusals_carry_the_cli_message_and_change_nothing(
    api_star: ApiStar, copy_config: Path, changing_client: TestClient, template: str, argv: tuple[str, ...] | None
) -> None:
    before = snapshot(copy_config)
    path = template.format(r1=api_star.path(1))
    response = changing_client.get(f"/api/{path}")
    body = response.json()
    if argv is None:  # no such route: 404 JSON, or a bad path segment refused by the route
        assert response.status_code in (404, 500) and body["Code"] == "ERROR", response.text
    else:
        assert response.status_code == 500 and body["Code"] == "ERROR", response.text
        expected = cli_message(copy_config, *(a.format(k1=api_star.sandbox.key(1)) for a in argv))
        assert body["Message"] == expected
    assert "\n" not in body["Message"]
    assert snapshot(copy_config) == before


def test_unknown_instance(client: TestClient) -> None:
    response = client.get("/api/instance/no.such.host/3306")
    assert response.status_code == 500
    assert response.json() == {"Code": "ERROR", "Message": "Cannot read instance: no.such.host:3306", "Details": None}


def test_unknown_path_is_404_json(client: TestClient) -> None:
    for path in ("/api/no-such-route", "/api/instance", "/api/relocate/a/1"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["Code"] == "ERROR" and path in response.json()["Message"]


def test_raft_paths_answer_a_clear_error(client: TestClient) -> None:
    for path in ("raft-state", "raft-leader", "raft-health", "raft-peers", "raft-yield-hint/h1", "raft-status"):
        response = client.get(f"/api/{path}")
        assert response.status_code == 500
        assert response.json()["Message"].startswith("raft is not supported"), path


def test_changing_routes_only_answer_get(client: TestClient, api_star: ApiStar) -> None:
    response = client.post(f"/api/begin-downtime/{api_star.path(1)}/ops/why/5m")
    assert response.status_code == 405 and response.json()["Code"] == "ERROR"
