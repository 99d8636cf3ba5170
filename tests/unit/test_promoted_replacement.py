"""The replacement rules after a promotion (§3.7.7), over rows shaped like the original's fixtures:
dead master 22293; promoted 22294 with 22295 below it; 22296 and 22297 elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend.instance_rows import instances_from_rows
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.recovery.replacement import suggest_replacement
from tests.compat.fixtures import OriginalFixture, original_fixture

DEAD, PROMOTED, BELOW = (InstanceKey("testhost", p) for p in (22293, 22294, 22295))


def _row(port: int, master: int | None, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "hostname": "testhost", "port": port, "master_host": "testhost" if master else "",
        "master_port": master or 0, "master_log_file": "mysql-bin.000167" if master else "",
        "is_last_check_valid": 1, "log_bin": 1, "log_slave_updates": 1, "binlog_server": 0,
        "binlog_format": "STATEMENT", "version": "5.6.28-log", "server_id": port, "server_uuid": "",
        "sql_delay": 0, "has_replication_filters": 0, "promotion_rule": "neutral",
        "data_center": "ny", "physical_environment": "prod", "region": "us",
    }  # fmt: skip
    row.update(extra)
    return row


def rows(**changes: dict[str, Any]) -> list[Instance]:
    base = {22293: None, 22294: 22293, 22295: 22294, 22296: 22293, 22297: 22293}
    return instances_from_rows(_row(port, master, **changes.get(f"p{port}", {})) for port, master in base.items())


def test_a_preferred_promoted_replica_in_the_dead_masters_place_stays() -> None:
    assert suggest_replacement(rows(p22294={"promotion_rule": "prefer"}), PROMOTED, DEAD, {}) == PROMOTED


def test_a_preferred_replica_below_the_promoted_one_takes_over() -> None:
    assert suggest_replacement(rows(p22295={"promotion_rule": "prefer"}), PROMOTED, DEAD, {}) == BELOW


def test_only_direct_replicas_of_the_promoted_one_can_take_over() -> None:
    assert suggest_replacement(rows(p22296={"promotion_rule": "prefer"}), PROMOTED, DEAD, {}) == PROMOTED


def test_cross_data_center_prevention_brings_the_master_home() -> None:
    data = rows(p22294={"data_center": "sf"}, p22295={"promotion_rule": "prefer"})
    config = {"PreventCrossDataCenterMasterFailover": True}
    assert suggest_replacement(data, PROMOTED, DEAD, config) == BELOW


def test_prefer_not_promoted_gives_way_to_a_neutral_below_it() -> None:
    assert suggest_replacement(rows(p22294={"promotion_rule": "prefer_not"}), PROMOTED, DEAD, {}) == BELOW
    assert suggest_replacement(rows(), PROMOTED, DEAD, {}) == PROMOTED


@pytest.mark.parametrize(
    "below",
    [
        {"promotion_rule": "must_not"},
        {"promotion_rule": "prefer", "log_slave_updates": 0},
        {"promotion_rule": "prefer", "is_last_check_valid": 0},
        {"promotion_rule": "prefer", "version": "5.7.30-log"},  # the promoted one could not replicate from it
    ],
)
def test_unfit_candidates_never_take_over(below: dict[str, Any]) -> None:
    assert suggest_replacement(rows(p22295=below), PROMOTED, DEAD, {}) == PROMOTED


def test_banned_hosts_never_take_over() -> None:
    config = {"PromotionIgnoreHostnameFilters": ["^testhost$"]}
    assert suggest_replacement(rows(p22295={"promotion_rule": "prefer"}), PROMOTED, DEAD, config) == PROMOTED


@pytest.fixture
def fixture(tmp_path: Path) -> Iterator[OriginalFixture]:
    with original_fixture("sqlite", tmp_path) as f:
        yield f


def test_the_cli_reads_the_original_fixture_rows(fixture: OriginalFixture) -> None:
    fixture.execute(
        "INSERT INTO candidate_database_instance (hostname, port, promotion_rule) VALUES ('testhost', 22295, 'prefer')"
    )
    fixture.execute("UPDATE database_instance SET last_seen = NULL WHERE port = 22295")
    result = fixture.cli("-c", "internal-suggest-promoted-replacement", "-i", "testhost:22293", "-d", "testhost:22294")
    assert result.code == 0, result.err
    assert result.lines == ["testhost:22294"]  # its last check is not valid: it cannot take over
    fixture.execute("UPDATE database_instance SET last_seen = last_checked")
    result = fixture.cli("-c", "internal-suggest-promoted-replacement", "-i", "testhost:22293", "-d", "testhost:22294")
    assert result.lines == ["testhost:22295"]
    unknown = fixture.cli("-c", "internal-suggest-promoted-replacement", "-i", "testhost:22293", "-d", "nohost:1")
    assert unknown.code == 1 and "instance not found: nohost:1" in unknown.err
