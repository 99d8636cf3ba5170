"""OSC replica picks (over snapshots built from plain rows) and cluster-master key-value pairs."""

from __future__ import annotations

import doctest
from typing import Any

from orchestrator_cli.backend.instance_rows import instance_from_row
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.topology import kv, osc


def _row(port: int, master: int | None, depth: int, lag: int | None = 0, **extra: Any) -> Instance:
    row: dict[str, Any] = {
        "hostname": "h", "port": port, "master_host": "h" if master else "", "master_port": master or 0,
        "master_log_file": "bin.000001" if master else "", "replication_depth": depth,
        "replication_io_thread_state": 1 if master else -1, "replication_sql_thread_state": 1 if master else -1,
        "slave_io_running": 1 if master else 0, "slave_sql_running": 1 if master else 0,
        "is_last_check_valid": 1, "is_recently_checked": 1, "slave_lag_seconds": lag, "is_downtimed": 0,
        "log_bin": 1, "log_slave_updates": 1,
    }  # fmt: skip
    row.update(extra)
    return instance_from_row(row)


TREE = [
    _row(1, None, 0),
    _row(2, 1, 1, lag=3),  # intermediate master with two replicas
    _row(3, 2, 2, lag=9),
    _row(4, 2, 2, lag=1),
    _row(5, 1, 1, lag=7),  # leaves
    _row(6, 1, 1, lag=2),
    _row(7, 1, 1, lag=4),
    _row(8, 1, 1, lag=0, is_downtimed=1),
]


def test_osc_replicas_sample_intermediates_their_replicas_and_leaves() -> None:
    picked = [v.key.port for v in osc.osc_replicas(TREE, {})]
    assert picked == [2, 3, 4, 5, 6]


def test_osc_replicas_skip_ignored_hosts_and_broken_replicas() -> None:
    rows = [*TREE, _row(9, 1, 1, slave_io_running=0, replication_io_thread_state=0)]
    assert 9 not in [v.key.port for v in osc.osc_replicas(rows, {})]
    assert osc.osc_replicas(rows, {"OSCIgnoreHostnameFilters": ["^h$"]}) == []


def test_heuristic_lag_is_the_worst_lag_of_the_sample() -> None:
    assert osc.heuristic_lag(TREE, {}) == 9
    assert osc.heuristic_lag(TREE[:1], {}) == 0


def test_gh_ost_replicas_are_logging_first_level_replicas_least_lag_first() -> None:
    rows = [*TREE, _row(10, 1, 1, lag=1, log_slave_updates=0)]
    assert [v.key.port for v in osc.gh_ost_replicas(rows, {})] == [6, 2, 7, 5]


def test_master_pairs_use_literal_addresses_without_lookups() -> None:
    pairs = dict(kv.master_pairs("mysql/master/", "shop", InstanceKey("::1", 3307)))
    assert pairs == {
        "mysql/master/shop": "::1:3307",
        "mysql/master/shop/hostname": "::1",
        "mysql/master/shop/port": "3307",
        "mysql/master/shop/ipv4": "",
        "mysql/master/shop/ipv6": "::1",
    }


def test_kv_doctests() -> None:
    assert doctest.testmod(kv).failed == 0
