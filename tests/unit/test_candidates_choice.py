"""Candidate choice: promotion rules first, then freshness, never must_not, location and lag guards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.topology.candidates import MasterHints, ReplicaFacts, choose_candidate, most_advanced, rank
from tests.compat.fixtures import original_fixture

MASTER = MasterHints(InstanceKey("m", 3306), data_center="dc1", region="r1")


def replica(name: str, pos: int, rule: str = "neutral", **kwargs: Any) -> ReplicaFacts:
    return ReplicaFacts(
        key=InstanceKey(name, 3306),
        exec_coordinates=BinlogCoordinates("mysql-bin.000007", pos),
        version=kwargs.pop("version", "10.11.6-MariaDB"),
        data_center=kwargs.pop("data_center", "dc1"),
        region=kwargs.pop("region", "r1"),
        promotion_rule=rule,
        **kwargs,
    )


def chosen(replicas: list[ReplicaFacts], config: dict[str, Any] | None = None, **kw: Any) -> str | None:
    choice = choose_candidate(replicas, MASTER, config or {}, **kw)
    return choice.candidate.key.hostname if choice.candidate else None


def test_freshest_wins_among_equal_rules() -> None:
    assert chosen([replica("a", 100), replica("b", 300), replica("c", 200)]) == "b"


def test_prefer_beats_a_more_advanced_neutral() -> None:
    replicas = [replica("fresh", 900), replica("preferred", 100, "prefer")]
    choice = choose_candidate(replicas, MASTER, {})
    assert choice.candidate is not None and choice.candidate.key.hostname == "preferred"
    assert choice.most_advanced is not None and choice.most_advanced.key.hostname == "fresh"


def test_neutral_beats_a_more_advanced_prefer_not() -> None:
    assert chosen([replica("avoid", 900, "prefer_not"), replica("plain", 100)]) == "plain"


def test_prefer_not_is_used_when_it_is_the_only_choice() -> None:
    assert chosen([replica("avoid", 900, "prefer_not"), replica("never", 950, "must_not")]) == "avoid"


def test_must_not_is_never_chosen_even_alone() -> None:
    choice = choose_candidate([replica("never", 900, "must_not")], MASTER, {})
    assert choice.candidate is None
    assert "must_not" in choice.refused[InstanceKey("never", 3306)]
    assert "must_not" in choice.why_none()
    # it still serves as the data source others catch up from
    assert choice.most_advanced is not None and choice.most_advanced.key.hostname == "never"


def test_explicit_candidate() -> None:
    replicas = [replica("a", 900), replica("b", 100)]
    assert chosen(replicas, explicit=InstanceKey("b", 3306)) == "b"
    never = [replica("a", 900), replica("n", 100, "must_not")]
    assert chosen(never, explicit=InstanceKey("n", 3306)) is None
    assert chosen(replicas, explicit=InstanceKey("elsewhere", 3306)) is None


@pytest.mark.parametrize(
    ("facts", "config", "reason"),
    [
        ({"valid": False}, {}, "invalid"),
        ({"log_bin": False}, {}, "binary log"),
        ({"log_slave_updates": False}, {}, "log_slave_updates"),
        ({"binlog_server": True}, {}, "binlog server"),
        ({"sql_error": "Duplicate entry"}, {}, "SQL thread failed"),
        ({}, {"PromotionIgnoreHostnameFilters": ["^bad"]}, "PromotionIgnoreHostnameFilters"),
        ({"data_center": "dc2"}, {"PreventCrossDataCenterMasterFailover": True}, "data center"),
        ({"region": "r2"}, {"PreventCrossRegionMasterFailover": True}, "region"),
        ({"lag_seconds": 600}, {"FailMasterPromotionOnLagMinutes": 5}, "lags"),
    ],
)
def test_refusals(facts: dict[str, Any], config: dict[str, Any], reason: str) -> None:
    bad = replica("bad", 900, "prefer", **facts)
    good = replica("good", 100)
    choice = choose_candidate([bad, good], MASTER, config)
    assert choice.candidate is not None and choice.candidate.key.hostname == "good"
    assert reason in choice.refused[bad.key]


def test_location_guards_allow_local_candidates() -> None:
    config = {"PreventCrossDataCenterMasterFailover": True, "PreventCrossRegionMasterFailover": True}
    assert chosen([replica("far", 900, data_center="dc2"), replica("near", 100)], config) == "near"
    assert chosen([replica("far", 900, data_center="dc2")], config) is None


def test_newer_major_version_than_most_siblings_is_refused() -> None:
    replicas = [replica("new", 900, version="11.4.2-MariaDB"), replica("a", 100), replica("b", 50)]
    assert chosen(replicas) == "a"


def test_tie_breaks_prefer_master_data_center_then_no_errant_gtid() -> None:
    far = replica("far", 500, data_center="dc2")
    near = replica("near", 500)
    assert [r.key.hostname for r in rank([far, near], MASTER)] == ["near", "far"]
    errant = replica("errant", 500, gtid_errant="uuid:1-3")
    assert [r.key.hostname for r in rank([errant, near], MASTER)] == ["near", "errant"]


def test_tie_breaks_compare_major_version_before_binlog_format() -> None:
    """Spec §3.7.3 step 4: a lower major version wins before a lower binlog format is looked at."""
    older_row = replica("older", 500, version="10.6.16-MariaDB", binlog_format="ROW")
    newer_statement = replica("newer", 500, version="10.11.6-MariaDB", binlog_format="STATEMENT")
    assert [r.key.hostname for r in rank([newer_statement, older_row], MASTER)] == ["older", "newer"]
    same_version_statement = replica("statement", 500, binlog_format="STATEMENT")
    same_version_row = replica("row", 500, binlog_format="ROW")
    assert [r.key.hostname for r in rank([same_version_row, same_version_statement], MASTER)] == ["statement", "row"]


def test_unknown_coordinates_rank_last() -> None:
    unknown = ReplicaFacts(key=InstanceKey("u", 3306), promotion_rule="neutral")
    assert chosen([unknown, replica("k", 4)]) == "k"
    assert most_advanced([unknown, replica("k", 4)]).key.hostname == "k"  # type: ignore[union-attr]


def test_from_row_reads_backend_columns() -> None:
    facts = ReplicaFacts.from_row(
        {
            "hostname": "h", "port": 3307, "is_last_check_valid": 0, "relay_master_log_file": "b.000002",
            "exec_master_log_pos": 77, "log_bin": 1, "log_slave_updates": 1, "promotion_rule": "prefer",
            "last_sql_error": '\\"\\"', "slave_lag_seconds": None, "data_center": "ny",
        }
    )  # fmt: skip
    assert facts.key == InstanceKey("h", 3307)
    assert not facts.valid
    assert facts.exec_coordinates == BinlogCoordinates("b.000002", 77)
    assert facts.sql_error == ""  # the SQLite fixture's escaped empty quotes
    assert facts.lag_seconds is None


# -- get-candidate-replica on the original's fixture rows ---------------------------------------------------


def test_get_candidate_replica_on_fixture_rows(tmp_path: Path) -> None:
    with original_fixture("sqlite", tmp_path) as fx:
        assert fx.cli("-c", "get-candidate-replica", "-i", "testhost:22293").lines == ["testhost:22294"]
        assert fx.cli("-c", "get-candidate-slave", "-i", "testhost:22293").lines == ["testhost:22294"]
        insert = "INSERT INTO candidate_database_instance (hostname, port, promotion_rule) VALUES ('testhost', ?, ?)"
        fx.execute(insert, (22297, "prefer"))
        assert fx.cli("-c", "get-candidate-replica", "-i", "testhost:22293").lines == ["testhost:22297"]
        fx.execute("UPDATE candidate_database_instance SET promotion_rule = 'must_not'")
        fx.execute(insert, (22294, "must_not"))
        none = fx.cli("-c", "get-candidate-replica", "-i", "testhost:22293")
        assert none.code == 1 and "no candidate replica found" in none.err
        leaf = fx.cli("-c", "get-candidate-replica", "-i", "testhost:22295")
        assert leaf.code == 1 and "No replicas found" in leaf.err


def test_strict_mode_conflicts_of_an_errant_mariadb_replica() -> None:
    """A local write logged as 0-104-6 on a replica at 0-101-5: a source at 0-101-5 logs 0-10x-6 next,
    which strict mode refuses. Behind, equal, or a domain only the replica has: no conflict."""
    from orchestrator_cli.topology.candidates import strict_mode_conflicts

    assert strict_mode_conflicts("0-104-6", "0-101-5")
    assert strict_mode_conflicts("0-104-5", "0-101-5")  # same sequence number from another server
    assert strict_mode_conflicts("0-101-3", "0-101-5") == ()
    assert strict_mode_conflicts("0-101-5", "0-101-5") == ()
    assert strict_mode_conflicts("0-101-5,7-104-40", "0-101-5") == ()
    assert strict_mode_conflicts("", "0-101-5") == ()
    assert strict_mode_conflicts("0-101-5", "") == ()
