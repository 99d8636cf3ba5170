"""Which sibling adopts a dead intermediate master's replicas (spec §3.9 step 2): pure over backend snapshots."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator_cli.backend.instance_rows import instance_from_row
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.recovery.intermediate import candidate_sibling, sibling_refusal

DEAD = instance_from_row({
    "hostname": "im", "port": 3306, "data_center": "dc1", "physical_environment": "prod",
    "relay_master_log_file": "bin.000003", "exec_master_log_pos": 500, "has_replication_filters": 0,
    "binlog_server": 0, "is_last_check_valid": 1,
})  # fmt: skip


def sibling(host: str, dc: str = "dc1", **overrides: Any) -> Instance:
    row = {
        "hostname": host, "port": 3306, "data_center": dc, "physical_environment": "prod",
        "relay_master_log_file": "bin.000003", "exec_master_log_pos": 600, "log_bin": 1, "log_slave_updates": 1,
        "slave_io_running": 1, "slave_sql_running": 1, "is_last_check_valid": 1, "promotion_rule": "neutral",
        "has_replication_filters": 0, "binlog_server": 0, "num_slave_hosts": 0,
    }  # fmt: skip
    row.update(overrides)
    return instance_from_row(row)


def chosen(*siblings: Instance, **config: Any) -> str | None:
    found = candidate_sibling(DEAD, [DEAD, *siblings], config)
    return None if found is None else found.key.hostname


def test_a_candidate_in_the_same_data_center_wins() -> None:
    assert chosen(sibling("remote-candidate", "dc2", promotion_rule="prefer"), sibling("local"),
                  sibling("local-candidate", promotion_rule="must")) == "local-candidate"  # fmt: skip


def test_a_candidate_anywhere_beats_a_plain_local_sibling() -> None:
    assert chosen(sibling("local"), sibling("remote-candidate", "dc2", promotion_rule="prefer")) == "remote-candidate"


def test_a_local_sibling_beats_a_plain_remote_one() -> None:
    assert chosen(sibling("a-remote", "dc2"), sibling("z-local")) == "z-local"


def test_same_data_center_means_same_environment_too() -> None:
    assert chosen(sibling("a-local-staging", physical_environment="staging"), sibling("b-remote", "dc2")) == (
        "a-local-staging"
    )
    assert chosen(sibling("b-local-staging", physical_environment="staging"), sibling("a-remote", "dc2")) == "a-remote"


def test_any_valid_sibling_when_nothing_better() -> None:
    assert chosen(sibling("remote", "dc2")) == "remote"


def test_more_replicas_first_then_lower_exec_coordinates() -> None:
    assert chosen(sibling("few", num_slave_hosts=1), sibling("many", num_slave_hosts=3)) == "many"
    # the original's order on a tie: the less advanced sibling first (both executed at least as much as the IM)
    assert chosen(sibling("ahead", exec_master_log_pos=900), sibling("behind", exec_master_log_pos=600)) == "behind"


def test_no_sibling_but_the_dead_one() -> None:
    assert candidate_sibling(DEAD, [DEAD], {}) is None


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"log_slave_updates": 0}, "log_slave_updates"),
        ({"log_bin": 0}, "log_slave_updates"),
        ({"slave_io_running": 0}, "not replicating"),
        ({"slave_sql_running": 0}, "not replicating"),
        ({"is_last_check_valid": 0}, "last check"),
        ({"promotion_rule": "must_not"}, "banned"),
        ({"has_replication_filters": 1}, "filters"),
        ({"binlog_server": 1}, "binlog-server"),
        ({"exec_master_log_pos": 499}, "executed less"),
        ({"relay_master_log_file": "bin.000002", "exec_master_log_pos": 9000}, "executed less"),
    ],
)
def test_invalid_siblings_are_never_chosen(overrides: dict[str, Any], why: str) -> None:
    bad = sibling("bad", **overrides)
    refusal = sibling_refusal(DEAD, bad, {})
    assert refusal is not None and why in refusal
    assert chosen(bad) is None
    assert chosen(bad, sibling("good", "dc2")) == "good"


def test_promotion_ignore_hostname_filters_ban_a_sibling() -> None:
    assert chosen(sibling("db-backup-1"), PromotionIgnoreHostnameFilters=["backup"]) is None
    assert chosen(sibling("db-backup-1"), sibling("db-2", "dc2"), PromotionIgnoreHostnameFilters=["backup"]) == "db-2"


def test_equal_exec_coordinates_are_enough() -> None:
    assert sibling_refusal(DEAD, sibling("same", exec_master_log_pos=500), {}) is None
