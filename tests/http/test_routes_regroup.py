"""The regroup routes (`regroup-replicas`, `-gtid`, `-pgtid`, `-bls`, each also under its `slave` name)
on the sandbox star: they run the CLI's commands, answer the promoted replica's key as Details and
the counts in the Message, as the original does, and refuse in one line, changing nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator_cli.sandbox.topology import Sandbox
from tests.http.conftest import make_client, write_config
from tests.support import run_cli

pytestmark = pytest.mark.sandbox


def discovered_client(sb: Sandbox, tmp_path: Path, **overrides: Any) -> Iterator[TestClient]:
    config = write_config(sb, tmp_path, tmp_path / "orchestrator.sqlite3", **overrides)
    assert run_cli("-c", "discover", "-i", sb.key(1), config=config).code == 0
    yield from make_client(config)


@pytest.fixture
def star(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield fresh_sandbox
    fresh_sandbox.reset_replication()


def path(sb: Sandbox, i: int) -> str:
    return sb.key(i).replace(":", "/")


def regrouped(client: TestClient, route: str, sb: Sandbox) -> tuple[int, str]:
    """Call the route on the master; returns the promoted server's index and the Message."""
    response = client.get(f"/api/{route}/{path(sb, 0)}")
    body = response.json()
    assert response.status_code == 200 and body["Code"] == "OK", response.text
    promoted = f"{body['Details']['Hostname']}:{body['Details']['Port']}"
    assert set(body["Details"]) == {"Hostname", "Port"}
    return sb.keys.index(promoted), body["Message"]


def assert_regrouped_below(sb: Sandbox, promoted: int) -> None:
    """The promoted replica still replicates from the master; its former siblings from it."""
    expected = {i: (None if i == 0 else 0 if i == promoted else promoted) for i in range(4)}
    assert sb.replication_parents() == expected


@pytest.mark.parametrize("route", ["regroup-replicas-gtid", "regroup-slaves-gtid"])
def test_regroup_gtid_answers_the_promoted_key_and_counts(star: Sandbox, tmp_path: Path, route: str) -> None:
    for client in discovered_client(star, tmp_path):
        promoted, message = regrouped(client, route, star)
        assert promoted in (1, 2, 3)
        assert message == f"promoted replica: {star.key(promoted)}, lost: 0, moved: 2"
    assert_regrouped_below(star, promoted)


@pytest.mark.parametrize("route", ["regroup-replicas", "regroup-slaves"])
def test_regroup_answers_the_promoted_key_and_counts(star: Sandbox, tmp_path: Path, route: str) -> None:
    for client in discovered_client(star, tmp_path):
        promoted, message = regrouped(client, route, star)
        found = re.fullmatch(
            rf"promoted replica: {re.escape(star.key(promoted))}, lost: 0, trivial: (\d), pseudo-gtid: (\d)", message
        )
        assert found and int(found[1]) + int(found[2]) == 2, message
    assert_regrouped_below(star, promoted)


def test_regroup_pgtid_on_file_pos(star: Sandbox, tmp_path: Path) -> None:
    from tests.integration.test_binlog_tools import PSEUDO_GTID_CONFIG, write_with_entries

    star.reset_replication(gtid=False)
    write_with_entries(star, rounds=3)
    for client in discovered_client(star, tmp_path, **PSEUDO_GTID_CONFIG):
        promoted, message = regrouped(client, "regroup-slaves-pgtid", star)
        found = re.fullmatch(
            rf"promoted replica: {re.escape(star.key(promoted))}, lost: 0, trivial: (\d), pseudo-gtid: (\d)", message
        )
        assert found and int(found[1]) + int(found[2]) == 2, message
    assert_regrouped_below(star, promoted)


@pytest.mark.parametrize("route", ["regroup-replicas-bls", "regroup-slaves-bls"])
def test_regroup_bls_without_binlog_servers_is_refused_in_one_line(star: Sandbox, tmp_path: Path, route: str) -> None:
    for client in discovered_client(star, tmp_path):
        response = client.get(f"/api/{route}/{path(star, 0)}")
        body = response.json()
        assert response.status_code == 500 and body["Code"] == "ERROR", response.text
        assert body["Message"] and "\n" not in body["Message"]
        unknown = client.get("/api/regroup-replicas/127.0.0.1/1")
        assert unknown.status_code == 500 and unknown.json()["Code"] == "ERROR", unknown.text
    assert star.replication_parents() == {0: None, 1: 0, 2: 0, 3: 0}
