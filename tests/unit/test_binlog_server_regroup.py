"""`regroup-replicas-bls`: the choice among binlog servers (pure, on typed values) and the whole
operation driven by recorded server output standing in for MaxScale binlog routers (no binlog
server can run here), in --noop mode so the statements it would send are compared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_cli.backend import instances
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.errors import TopologyError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.topology.env import TopologyEnv, make_env
from orchestrator_cli.topology.primitives import read_live
from orchestrator_cli.topology.regroup import choose_binlog_server, regroup_binlog_servers
from tests.support import sqlite_config
from tests.unit.test_refactoring_recorded import RecordedAccess, server


def bls(host: str, pos: int, *, file: str = "mysql-bin.000007", valid: bool = True) -> Instance:
    return Instance(
        InstanceKey(host, 3306),
        binlog_server=True,
        last_check_valid=valid,
        exec_coordinates=BinlogCoordinates(file, pos),
    )


def names(instances_: tuple[Instance, ...]) -> list[str]:
    return [i.key.hostname for i in instances_]


def test_the_binlog_server_that_executed_the_most_is_promoted_and_the_others_go_below_it() -> None:
    choice = choose_binlog_server([bls("bls-a", 9000, file="mysql-bin.000006"), bls("bls-b", 120), bls("bls-c", 4000)])
    assert choice.promoted is not None and choice.promoted.key.hostname == "bls-c"
    assert names(choice.to_repoint) == ["bls-a", "bls-b"]
    assert choice.unusable == () and choice.why_none == ""


def test_a_tie_promotes_the_first_in_the_given_order() -> None:
    choice = choose_binlog_server([bls("bls-b", 500), bls("bls-a", 500)])
    assert choice.promoted is not None and choice.promoted.key.hostname == "bls-b"
    assert names(choice.to_repoint) == ["bls-a"]


def test_unreachable_binlog_servers_are_neither_promoted_nor_moved_but_reported() -> None:
    choice = choose_binlog_server([bls("bls-a", 9999, valid=False), bls("bls-b", 10)])
    assert choice.promoted is not None and choice.promoted.key.hostname == "bls-b"
    assert choice.to_repoint == ()
    assert choice.unusable == ((InstanceKey("bls-a", 3306), "unreachable"),)


def test_replicas_that_are_not_binlog_servers_are_ignored() -> None:
    ordinary = Instance(
        InstanceKey("db-2", 3306), last_check_valid=True, exec_coordinates=BinlogCoordinates("mysql-bin.000099", 4)
    )
    choice = choose_binlog_server([ordinary, bls("bls-a", 10)])
    assert choice.promoted is not None and choice.promoted.key.hostname == "bls-a"
    assert choice.to_repoint == ()


@pytest.mark.parametrize(
    ("replicas", "why"),
    [
        ([], "it has no binlog server replicas"),
        ([Instance(InstanceKey("db-2", 3306), last_check_valid=True)], "it has no binlog server replicas"),
        ([bls("bls-a", 1, valid=False)], "none of its binlog server replicas is reachable"),
    ],
)
def test_nothing_to_promote(replicas: list[Instance], why: str) -> None:
    choice = choose_binlog_server(replicas)
    assert (choice.promoted, choice.to_repoint, choice.why_none) == (None, (), why)


@given(st.lists(st.tuples(st.integers(1, 3), st.integers(4, 10_000), st.booleans()), max_size=8))
def test_the_promoted_is_never_behind_a_valid_sibling_and_every_valid_one_is_placed(
    specs: list[tuple[int, int, bool]],
) -> None:
    replicas = [bls(f"bls-{n}", pos, file=f"mysql-bin.00000{f}", valid=v) for n, (f, pos, v) in enumerate(specs)]
    choice = choose_binlog_server(replicas)
    valid = [r for r in replicas if r.last_check_valid]
    if not valid:
        assert choice.promoted is None
        return
    assert choice.promoted is not None
    assert all(r.exec_coordinates <= choice.promoted.exec_coordinates for r in valid)
    placed = [choice.promoted.key, *(r.key for r in choice.to_repoint)]
    assert sorted(placed, key=str) == sorted((r.key for r in valid), key=str)
    assert len(choice.unusable) == len(replicas) - len(valid)


# -- the operation, on recorded servers ---------------------------------------------------------------

MASTER = "mdb-1.example.net:3306"
MAXSCALE = [{"Variable_name": "MAXSCALE_VERSION", "Value": "2.4.17"}]


def recorded_bls(host: str, exec_pos: int, self_pos: int, server_id: int) -> dict[str, Any]:
    """A recorded MariaDB replica of mdb-1 turned into a file:pos binlog router: it answers the MaxScale check."""
    data = server(
        "mariadb_10_11_gtid_replica",
        host,
        server_id=server_id,
        exec_coords=("mysql-bin.000001", exec_pos),
        self_coords=("mysql-bin.000001", self_pos),
    )
    for row in data["replica_status"]:
        row["Using_Gtid"] = "No"
        row["Read_Master_Log_Pos"] = exec_pos
    data["maxscale"] = MAXSCALE
    return data


@pytest.fixture
def env_of(tmp_path: Path) -> Any:
    config = load_config(str(sqlite_config(tmp_path, MySQLHostnameResolveMethod="none")))
    backend = Backend(config)

    def build(**servers: dict[str, Any]) -> TopologyEnv:
        access = RecordedAccess(config, {k.replace("_", "-") + ".example.net:3306": d for k, d in servers.items()})
        for fake, data in zip(access.fakes.values(), servers.values(), strict=True):
            fake.answers[fl.binlog_server_check_sql()] = data.get("maxscale", [])
        env = make_env(backend, access, config, "tester")
        instances.write_instances(backend, [read_live(env, k).row for k in access.fakes])
        return env

    return build


def statements(env: TopologyEnv) -> list[str]:
    return [f"{key.hostname.split('.')[0]}: {sql}" for key, sql in env.access.noop_statements]


def test_the_most_advanced_binlog_server_is_promoted_and_its_siblings_repointed_at_their_coordinates(
    env_of: Any,
) -> None:
    env = env_of(
        bls_a=recorded_bls("bls-a.example.net", exec_pos=1500, self_pos=1500, server_id=101),
        bls_b=recorded_bls("bls-b.example.net", exec_pos=1833, self_pos=1833, server_id=102),
        mdb_3=server("mariadb_10_11_gtid_replica", "mdb-3.example.net", server_id=3),
    )
    result = regroup_binlog_servers(env, InstanceKey.parse(MASTER))
    assert str(result.promoted) == "bls-b.example.net:3306"
    assert [str(k) for k in result.repointed] == ["bls-a.example.net:3306"]
    assert result.failed == {}
    sent = statements(env)
    assert all(s.startswith("bls-a: ") for s in sent), sent  # neither the promoted one nor mdb-3 is touched
    (change,) = [s for s in sent if "CHANGE MASTER" in s]
    assert "MASTER_HOST='bls-b.example.net', MASTER_PORT=3306" in change
    assert "MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=1500" in change
    assert sent[0] == "bls-a: STOP SLAVE" and sent[-1] == "bls-a: START SLAVE"


def test_a_sibling_ahead_of_what_the_promoted_server_received_is_refused(env_of: Any) -> None:
    env = env_of(
        bls_a=recorded_bls("bls-a.example.net", exec_pos=1500, self_pos=1500, server_id=101),
        # executed the most, yet its own binary log (what it serves) ends before bls-a's position
        bls_b=recorded_bls("bls-b.example.net", exec_pos=1833, self_pos=900, server_id=102),
    )
    with pytest.raises(TopologyError, match=r"Could not regroup binlog server replicas of .*not up to date"):
        regroup_binlog_servers(env, InstanceKey.parse(MASTER))
    assert not any("CHANGE MASTER" in s for s in statements(env))


def test_without_binlog_server_replicas_nothing_is_sent(env_of: Any) -> None:
    env = env_of(
        mdb_2=server("mariadb_10_11_gtid_replica", "mdb-2.example.net"),
        mdb_3=server("mariadb_10_11_gtid_replica", "mdb-3.example.net", server_id=3),
    )
    with pytest.raises(TopologyError, match="Could not regroup binlog server replicas of .*: it has no binlog server"):
        regroup_binlog_servers(env, InstanceKey.parse(MASTER))
    assert statements(env) == []


def test_an_unreachable_binlog_server_is_reported_and_the_others_still_regroup(env_of: Any) -> None:
    env = env_of(
        bls_a=recorded_bls("bls-a.example.net", exec_pos=1500, self_pos=1500, server_id=101),
        bls_b=recorded_bls("bls-b.example.net", exec_pos=1833, self_pos=1833, server_id=102),
    )
    # known to the backend as a binlog server (the original's discovery recorded it), now unreachable
    gone = {**read_live(env, InstanceKey.parse("bls-a.example.net:3306")).row}
    gone.update(hostname="bls-c.example.net", binlog_server=1, server_id=103)
    instances.write_instances(env.backend, [gone])
    result = regroup_binlog_servers(env, InstanceKey.parse(MASTER))
    assert str(result.promoted) == "bls-b.example.net:3306"
    assert [str(k) for k in result.repointed] == ["bls-a.example.net:3306"]
    assert {str(k): why for k, why in result.failed.items()} == {"bls-c.example.net:3306": "unreachable"}
    assert not any(s.startswith("bls-c") for s in statements(env))
