"""`orchestrator -c discover` end to end against real MariaDB sandboxes, on the SQLite backend.

What is checked: the crawl reaches the whole topology from any member, the backend rows carry the
cluster facts (name = master key, depth, replicas), dead servers are recorded as such without
failing the run, and the config keys that steer discovery (Detect*Query, patterns, filters) land
in the backend.  The read commands used to look at the result are covered in test_cli_commands.py.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import run_cli

# Long enough that rows written at the start of a module still count as recently checked at its end.
STABLE_POLL_SECONDS = 600


def _sqlite_rows(config: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Read the backend file directly, to check what a command stored (not what it printed)."""
    path = json.loads(config.read_text())["SQLite3DataFile"]
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def _instance_rows(config: Path) -> dict[str, dict[str, Any]]:
    """Rows of database_instance by key; empty when the command never even created the backend."""
    path = Path(json.loads(config.read_text())["SQLite3DataFile"])
    if not path.exists() or not _sqlite_rows(config, "SELECT name FROM sqlite_master WHERE name = 'database_instance'"):
        return {}
    rows = _sqlite_rows(
        config,
        """SELECT *, CASE WHEN last_seen IS NOT NULL AND last_checked <= last_seen THEN 1 ELSE 0 END AS valid
           FROM database_instance""",
    )
    return {f"{r['hostname']}:{r['port']}": r for r in rows}


def _version(sandbox: Sandbox) -> str:
    return str(sandbox.query(0, "SELECT @@GLOBAL.version AS v")[0]["v"])


def _tree(entries: list[tuple[str, str]]) -> list[str]:
    """Expected `topology` lines: heads padded so every `[` lines up one space after the longest head."""
    width = max(len(head) for head, _ in entries)
    return [f"{head.ljust(width)} [{tokens}]" for head, tokens in entries]


def _by_port(keys: list[str]) -> list[str]:
    """Instances as the backend orders them: host, then numeric port."""
    return sorted(keys, key=lambda k: (k.rsplit(":", 1)[0], int(k.rsplit(":", 1)[1])))


def _next_second() -> None:
    """Backend timestamps have one-second resolution: a failed check in the same second as the last
    good one cannot be told apart from it (last_checked <= last_seen still holds)."""
    time.sleep(1.02 - (time.time() % 1.0))


def _config(sandbox: Sandbox, directory: Path, **overrides: Any) -> Path:
    overrides.setdefault("InstancePollSeconds", STABLE_POLL_SECONDS)
    return sandbox.write_config(directory / "orchestrator.conf.json", directory / "orchestrator.sqlite3", **overrides)


@pytest.fixture(scope="module")
def star(sandbox: Sandbox) -> Sandbox:
    """The session sandbox as the default star, whatever an earlier module left behind."""
    sandbox.reset_replication()
    return sandbox


@pytest.fixture(scope="module")
def discovered_from_replica(star: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """One discovery per module: a fresh backend crawled from replica 1."""
    config = _config(star, tmp_path_factory.mktemp("discover-replica"))
    return config, run_cli("-c", "discover", "-i", star.key(1), config=config)


# ---------------------------------------------------------------- the crawl


def test_discover_from_a_replica_crawls_the_whole_star(
    star: Sandbox, discovered_from_replica: tuple[Path, Any]
) -> None:
    config, result = discovered_from_replica
    assert result.code == 0, result.err
    assert result.out == f"{star.key(1)}\n"
    assert result.err == ""
    rows = _instance_rows(config)
    assert set(rows) == set(star.keys)
    master = star.key(0)
    for i, key in enumerate(star.keys):
        row = rows[key]
        assert row["cluster_name"] == master
        assert row["replication_depth"] == (0 if i == 0 else 1)
        assert row["valid"] == 1
        assert row["server_id"] == star.servers[i].server_id
        assert row["is_co_master"] == 0
    assert rows[master]["master_host"] == ""
    assert rows[master]["num_slave_hosts"] == 3
    listed = {f"{h['Hostname']}:{h['Port']}" for h in json.loads(rows[master]["slave_hosts"])}
    assert listed == set(star.keys[1:])
    for key in star.keys[1:]:
        assert (rows[key]["master_host"], rows[key]["master_port"]) == ("127.0.0.1", star.ports[0])
        assert rows[key]["slave_io_running"] == rows[key]["slave_sql_running"] == 1
        assert rows[key]["mariadb_gtid"] == 1
        assert rows[key]["num_slave_hosts"] == 0


def test_discover_audits_the_crawl(star: Sandbox, discovered_from_replica: tuple[Path, Any]) -> None:
    config, _ = discovered_from_replica
    audits = _sqlite_rows(config, "SELECT * FROM audit WHERE audit_type = 'discover'")
    assert len(audits) == 1
    assert (audits[0]["hostname"], audits[0]["port"]) == ("127.0.0.1", star.ports[1])
    assert audits[0]["cluster_name"] == star.key(0)
    assert audits[0]["message"] == "crawled 4 instances"


def test_topology_after_discovery_from_a_replica(star: Sandbox, discovered_from_replica: tuple[Path, Any]) -> None:
    config, _ = discovered_from_replica
    version = _version(star)
    result = run_cli("-c", "topology", "-i", star.key(3), config=config)
    assert result.code == 0, result.err
    assert result.lines == _tree(
        [(star.key(0), f"0s,ok,{version},rw,ROW,>>")]
        + [(f"+ {key}", f"0s,ok,{version},ro,ROW,>>,GTID") for key in _by_port(star.keys[1:])]
    )


def test_discover_from_the_master_gives_the_same_cluster(
    star: Sandbox, discovered_from_replica: tuple[Path, Any], tmp_path: Path
) -> None:
    config = _config(star, tmp_path)
    result = run_cli("-c", "discover", "-i", star.key(0), config=config)
    assert (result.code, result.out) == (0, f"{star.key(0)}\n"), result.err
    from_master = _instance_rows(config)
    from_replica = _instance_rows(discovered_from_replica[0])
    columns = ("cluster_name", "replication_depth", "master_host", "master_port", "num_slave_hosts", "server_id")
    assert {k: [r[c] for c in columns] for k, r in from_master.items()} == {
        k: [r[c] for c in columns] for k, r in from_replica.items()
    }


def test_discover_twice_updates_in_place(star: Sandbox, tmp_path: Path) -> None:
    config = _config(star, tmp_path)
    for _ in range(2):
        result = run_cli("-c", "discover", "-i", star.key(2), config=config)
        assert result.code == 0, result.err
    assert len(_instance_rows(config)) == 4
    assert len(_sqlite_rows(config, "SELECT * FROM audit WHERE audit_type = 'discover'")) == 2


def test_discover_json_format(star: Sandbox, tmp_path: Path) -> None:
    config = _config(star, tmp_path)
    result = run_cli("--format", "json", "-c", "discover", "-i", star.key(0), config=config)
    assert result.code == 0, result.err
    assert result.json() == {
        "Key": star.key(0),
        "Discovered": sorted(star.keys),
        "Unreachable": {},
        "Clusters": [star.key(0)],
    }


def test_discover_several_instances_in_one_run(star: Sandbox, tmp_path: Path) -> None:
    config = _config(star, tmp_path)
    result = run_cli("-c", "discover", "-i", f"{star.key(3)},{star.key(2)}", config=config)
    assert result.code == 0, result.err
    assert result.lines == [star.key(3), star.key(2)]
    assert set(_instance_rows(config)) == set(star.keys)


def test_discover_an_unreachable_seed_fails_and_writes_nothing(star: Sandbox, tmp_path: Path) -> None:
    from orchestrator_cli.sandbox.topology import _free_ports

    config = _config(star, tmp_path)
    dead = f"127.0.0.1:{_free_ports(1)[0]}"
    result = run_cli("-c", "discover", "-i", dead, config=config)
    assert result.code != 0
    assert result.out == ""
    assert result.err.startswith(f"orchestrator: discover: cannot discover {dead}: ")
    assert len(result.err.splitlines()) == 1
    assert _instance_rows(config) == {}


def test_discover_refuses_an_unparsable_instance(star: Sandbox, tmp_path: Path) -> None:
    config = _config(star, tmp_path)
    result = run_cli("-c", "discover", "-i", "127.0.0.1:33o6", config=config)
    assert result.code != 0
    assert result.err.startswith("orchestrator: discover: invalid instance")
    assert _instance_rows(config) == {}


# ---------------------------------------------------------------- intermediate masters


@pytest.mark.parametrize("gtid", [True, False], ids=["gtid", "file-pos"])
def test_chain_layout_has_an_intermediate_master(
    reusable_sandbox: Callable[..., Sandbox], tmp_path: Path, gtid: bool
) -> None:
    chain = reusable_sandbox(servers=3, layout="chain", gtid=gtid)
    replica_extras = ",GTID" if gtid else ""
    config = _config(chain, tmp_path)
    root, middle, leaf = chain.keys
    result = run_cli("-c", "discover", "-i", leaf, config=config)
    assert (result.code, result.out) == (0, f"{leaf}\n"), result.err

    rows = _instance_rows(config)
    assert {k: (r["cluster_name"], r["replication_depth"]) for k, r in rows.items()} == {
        root: (root, 0),
        middle: (root, 1),
        leaf: (root, 2),
    }
    assert rows[middle]["num_slave_hosts"] == 1
    assert rows[middle]["ancestry_uuid"] == ""  # MariaDB has no server_uuid to chain

    version = _version(chain)
    topology = run_cli("-c", "topology", "-i", middle, config=config)
    assert topology.lines == _tree(
        [
            (root, f"0s,ok,{version},rw,ROW,>>"),
            (f"+ {middle}", f"0s,ok,{version},ro,ROW,>>{replica_extras}"),
            (f"  + {leaf}", f"0s,ok,{version},ro,ROW,>>{replica_extras}"),
        ]
    )
    assert {k: r["mariadb_gtid"] for k, r in rows.items()} == {root: 0, middle: int(gtid), leaf: int(gtid)}
    assert topology.lines[2].startswith(f"  + {leaf} [")
    assert run_cli("-c", "which-replicas", "-i", middle, config=config).lines == [leaf]
    assert run_cli("-c", "which-master", "-i", leaf, config=config).lines == [middle]
    assert run_cli("-c", "which-cluster-master", "-i", leaf, config=config).lines == [root]
    assert run_cli("-c", "all-instances", config=config).lines == [root, middle, leaf]


# ---------------------------------------------------------------- config-driven discovery


def test_patterns_lag_query_promotion_query_and_replica_filter(star: Sandbox, tmp_path: Path) -> None:
    ignored = star.key(3)
    config = _config(
        star,
        tmp_path,
        ClusterNameToAlias={"^nomatch$": "wrong", r"^127\.0\.0\.1:": "sandbox-by-name"},
        DataCenterPattern=r"^(\d+)\.",
        ReplicationLagQuery="SELECT 7",
        DetectPromotionRuleQuery=(
            "SELECT CASE @@server_id WHEN 101 THEN 'must' WHEN 102 THEN 'prefer'"
            " WHEN 103 THEN 'prefer_not' ELSE 'must_not' END"
        ),
        DetectInstanceAliasQuery="SELECT CONCAT('node', @@server_id)",
        DiscoveryIgnoreReplicaHostnameFilters=[f":{star.ports[3]}$"],
    )
    result = run_cli("-c", "discover", "-i", star.key(0), config=config)
    assert result.code == 0, result.err

    rows = _instance_rows(config)
    assert set(rows) == set(star.keys[:3])  # the filtered replica is never crawled
    assert ignored not in rows
    assert rows[star.key(0)]["num_slave_hosts"] == 2
    assert {r["data_center"] for r in rows.values()} == {"127"}
    assert {r["slave_lag_seconds"] for r in rows.values()} == {7}
    assert {r["suggested_cluster_alias"] for r in rows.values()} == {"sandbox-by-name"}
    assert {k: r["instance_alias"] for k, r in rows.items()} == {
        star.key(i): f"node{star.servers[i].server_id}" for i in range(3)
    }
    # `must` is not a rule a server may claim for itself; the others are registered as candidates.
    assert sorted(run_cli("-c", "bulk-promotion-rules", config=config).lines) == sorted(
        [f"{star.key(1)} prefer", f"{star.key(2)} prefer_not"]
    )
    assert run_cli("-c", "clusters-alias", config=config).lines == [f"{star.key(0)}\tsandbox-by-name"]
    assert run_cli("-c", "which-cluster", "--alias", "sandbox-by-name", config=config).lines == [star.key(0)]
    version = _version(star)
    assert run_cli("-c", "instance-status", "-i", star.key(1), config=config).lines == [
        f"[7s,ok,{version},ro,ROW,>>,GTID]"
    ]
    assert run_cli("-c", "topology", "--alias", "sandbox-by-name", config=config).lines == _tree(
        [(f"{star.key(0)} (node101)", f"7s,ok,{version},rw,ROW,>>")]
        + [
            (f"+ {star.key(i)} (node{star.servers[i].server_id})", f"7s,ok,{version},ro,ROW,>>,GTID")
            for i in sorted((1, 2), key=lambda i: star.ports[i])
        ]
    )


@pytest.mark.parametrize("lag_query", ["SELECT SLEEP(3) + 100", "SELECT 'abc'"], ids=["timeout", "not-a-number"])
def test_a_failing_lag_query_falls_back_and_the_probe_goes_on(star: Sandbox, tmp_path: Path, lag_query: str) -> None:
    """A lag query that fails leaves Seconds_Behind_Master as the lag. On a read timeout the driver
    drops the connection: the rest of the probe (replica listing, Detect queries) must reconnect
    rather than fail on the dead handle."""
    config = _config(
        star,
        tmp_path,
        ReplicationLagQuery=lag_query,
        MySQLDiscoveryReadTimeoutSeconds=1,
        DetectInstanceAliasQuery="SELECT CONCAT('node', @@server_id)",
    )
    result = run_cli("-c", "discover", "-i", star.key(0), config=config)
    assert result.code == 0, result.err
    rows = _instance_rows(config)
    assert set(rows) == set(star.keys)
    assert {r["slave_lag_seconds"] for k, r in rows.items() if k != star.key(0)} == {0}  # Seconds_Behind_Master
    assert {k: r["instance_alias"] for k, r in rows.items()} == {
        star.key(i): f"node{star.servers[i].server_id}" for i in range(4)
    }


def test_detect_queries_win_over_name_maps_and_patterns(star: Sandbox, tmp_path: Path) -> None:
    config = _config(
        star,
        tmp_path,
        DetectClusterAliasQuery="SELECT 'shop'",
        ClusterNameToAlias={".*": "by-name"},
        DataCenterPattern=r"^(\d+)\.",
        DetectDataCenterQuery="SELECT CONCAT('dc', @@server_id % 2)",
        DetectClusterDomainQuery="SELECT 'shop.example.com'",
    )
    result = run_cli("-c", "discover", "-i", star.key(2), config=config)
    assert result.code == 0, result.err
    rows = _instance_rows(config)
    assert {k: r["data_center"] for k, r in rows.items()} == {
        star.key(i): f"dc{star.servers[i].server_id % 2}" for i in range(4)
    }
    assert {r["suggested_cluster_alias"] for r in rows.values()} == {"shop"}
    assert _sqlite_rows(config, "SELECT cluster_name, alias FROM cluster_alias") == [
        {"cluster_name": star.key(0), "alias": "shop"}
    ]
    assert run_cli("-c", "which-cluster-alias", "-i", star.key(3), config=config).lines == ["shop"]
    assert run_cli("-c", "which-cluster-domain", "--alias", "shop", config=config).lines == ["shop.example.com"]
    assert run_cli("-c", "which-cluster-instances", "--alias", "shop", config=config).lines == _by_port(star.keys)


def test_processlist_replica_discovery_assumes_the_masters_port(star: Sandbox, tmp_path: Path) -> None:
    """Without SHOW SLAVE HOSTS, replicas are the processlist's binlog-dump hosts on the master's own
    port (the original's documented assumption). Here every server shares one host, so that guess
    names the master itself, which must not become its own replica."""
    config = _config(star, tmp_path, DiscoverByShowSlaveHosts=False)
    result = run_cli("-c", "discover", "-i", star.key(1), config=config)
    assert result.code == 0, result.err
    rows = _instance_rows(config)
    assert set(rows) == {star.key(0), star.key(1)}
    assert rows[star.key(0)]["num_slave_hosts"] == 0
    assert json.loads(rows[star.key(0)]["slave_hosts"]) == []
    assert run_cli("-c", "which-replicas", "-i", star.key(0), config=config).lines == [star.key(1)]


def test_hostname_resolve_method_names_rows_by_hostname(star: Sandbox, tmp_path: Path) -> None:
    """With MySQLHostnameResolveMethod @@hostname, servers reached as 127.0.0.1 are stored under
    their own @@hostname, and so are the references to them (Master_Host, SHOW SLAVE HOSTS)."""
    hostname = str(star.query(0, "SELECT @@GLOBAL.hostname AS h")[0]["h"])
    if hostname in ("", "127.0.0.1"):
        pytest.skip("the servers report no host name different from the address used to reach them")
    config = _config(star, tmp_path, MySQLHostnameResolveMethod="@@hostname")
    result = run_cli("-c", "discover", "-i", star.key(1), config=config)
    named = {i: f"{hostname}:{port}" for i, port in enumerate(star.ports)}
    assert (result.code, result.out) == (0, f"{named[1]}\n"), result.err
    rows = _instance_rows(config)
    assert set(rows) == set(named.values())
    for i in (1, 2, 3):
        assert (rows[named[i]]["master_host"], rows[named[i]]["master_port"]) == (hostname, star.ports[0])
        assert rows[named[i]]["cluster_name"] == named[0]
    listed = {f"{h['Hostname']}:{h['Port']}" for h in json.loads(rows[named[0]]["slave_hosts"])}
    assert listed == {named[1], named[2], named[3]}
    assert _sqlite_rows(config, "SELECT hostname, resolved_hostname FROM hostname_resolve") == [
        {"hostname": "127.0.0.1", "resolved_hostname": hostname}
    ]
    assert run_cli("-c", "which-replicas", "-i", named[0], config=config).lines == _by_port(
        [named[1], named[2], named[3]]
    )
    topology = run_cli("-c", "topology", "-i", named[2], config=config).lines
    assert [line.split()[-2] for line in topology[1:]] == _by_port([named[1], named[2], named[3]])
    assert topology[0].startswith(f"{named[0]} ")


def test_ignore_hostname_filters_skip_any_instance(star: Sandbox, tmp_path: Path) -> None:
    ignored = star.key(2)
    config = _config(star, tmp_path, DiscoveryIgnoreHostnameFilters=[f":{star.ports[2]}$"])
    result = run_cli("-c", "discover", "-i", star.key(0), config=config)
    assert result.code == 0, result.err
    assert set(_instance_rows(config)) == set(star.keys) - {ignored}
    direct = run_cli("-c", "discover", "-i", ignored, config=config)
    assert direct.code != 0
    assert (
        direct.err
        == f"orchestrator: discover: cannot discover {ignored}: ignored, matches DiscoveryIgnoreHostnameFilters\n"
    )
    assert ignored not in _instance_rows(config)


@pytest.mark.parametrize(
    "key, value",
    [
        ("DataCenterPattern", "(("),
        ("DiscoveryIgnoreReplicaHostnameFilters", ["(("]),
        ("ClusterNameToAlias", {"((": "x"}),
    ],
)
def test_an_invalid_pattern_is_named_and_nothing_is_discovered(
    star: Sandbox, tmp_path: Path, key: str, value: Any
) -> None:
    config = _config(star, tmp_path, **{key: value})
    result = run_cli("-c", "discover", "-i", star.key(0), config=config)
    assert result.code != 0
    assert result.err.startswith(f"orchestrator: discover: {key}: invalid regular expression '((': ")
    assert len(result.err.splitlines()) == 1
    assert _instance_rows(config) == {}


def test_ignore_hostname_filters_skip_the_master(star: Sandbox, tmp_path: Path) -> None:
    config = _config(star, tmp_path, DiscoveryIgnoreMasterHostnameFilters=[f":{star.ports[0]}$"])
    result = run_cli("-c", "discover", "-i", star.key(1), config=config)
    assert result.code == 0, result.err
    rows = _instance_rows(config)
    assert set(rows) == {star.key(0), star.key(1)}  # the master only as the replica's unseen parent
    assert rows[star.key(0)]["version"] == "Unknown"
    assert rows[star.key(1)]["cluster_name"] == star.key(0)


# ---------------------------------------------------------------- dead servers


@pytest.fixture
def restart_killed(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The session sandbox; servers a test kills or pauses are brought back and the star rewired
    afterwards, so that later tests see every replica registered with the master again."""
    try:
        yield fresh_sandbox
    finally:
        if not all(fresh_sandbox.is_alive(i) for i in range(fresh_sandbox.size)):
            fresh_sandbox.reset_replication()


def test_killed_replica_is_recorded_invalid_and_the_run_succeeds(restart_killed: Sandbox, tmp_path: Path) -> None:
    sandbox = restart_killed
    config = _config(sandbox, tmp_path)
    assert run_cli("-c", "discover", "-i", sandbox.key(0), config=config).code == 0
    dead = sandbox.key(3)
    sandbox.kill(3)
    _next_second()

    result = run_cli("--format", "json", "-c", "discover", "-i", sandbox.key(0), config=config)
    assert result.code == 0, result.err
    report = result.json()
    assert report["Discovered"] == sorted(sandbox.keys[:3])
    assert list(report["Unreachable"]) == [dead]

    rows = _instance_rows(config)
    assert rows[dead]["valid"] == 0
    assert all(rows[k]["valid"] == 1 for k in sandbox.keys[:3])
    version = _version(sandbox)
    assert run_cli("-c", "topology", "-i", sandbox.key(1), config=config).lines == _tree(
        [(sandbox.key(0), f"0s,ok,{version},rw,ROW,>>")]
        + [
            (f"- {key}", f"unknown,invalid,{version},ro,ROW,>>,GTID")
            if key == dead
            else (f"+ {key}", f"0s,ok,{version},ro,ROW,>>,GTID")
            for key in _by_port(sandbox.keys[1:])
        ]
    )
    status = run_cli("-c", "instance-status", "-i", dead, config=config)
    assert status.lines == [f"[unknown,invalid,{version},ro,ROW,>>,GTID]"]

    direct = run_cli("-c", "discover", "-i", dead, config=config)
    assert direct.code != 0
    assert direct.err.startswith(f"orchestrator: discover: cannot discover {dead}")

    sandbox.restart(3)
    _next_second()
    assert run_cli("-c", "discover", "-i", sandbox.key(0), config=config).code == 0
    assert _instance_rows(config)[dead]["valid"] == 1


def test_hung_replica_times_out_and_is_recorded_invalid(restart_killed: Sandbox, tmp_path: Path) -> None:
    sandbox = restart_killed
    config = _config(sandbox, tmp_path, MySQLConnectTimeoutSeconds=1)
    assert run_cli("-c", "discover", "-i", sandbox.key(0), config=config).code == 0
    hung = sandbox.key(2)
    sandbox.pause(2)  # the port still accepts connections, but nothing answers
    _next_second()

    result = run_cli("--format", "json", "-c", "discover", "-i", sandbox.key(0), config=config)
    assert result.code == 0, result.err
    assert list(result.json()["Unreachable"]) == [hung]
    assert "timed out" in result.json()["Unreachable"][hung]
    assert _instance_rows(config)[hung]["valid"] == 0

    direct = run_cli("-c", "discover", "-i", hung, config=config)
    assert direct.code != 0
    # The driver's multi-line timeout text is cut to one line, as every CLI error is.
    assert len(direct.err.splitlines()) == 1, direct.err
    assert direct.err.startswith(f"orchestrator: discover: cannot discover {hung}: ")
    assert "timed out" in direct.err


def test_killed_master_is_recorded_invalid_from_a_replica(
    restart_killed: Sandbox, tmp_path: Path, wait_until: Callable[..., object]
) -> None:
    sandbox = restart_killed
    config = _config(sandbox, tmp_path)
    assert run_cli("-c", "discover", "-i", sandbox.key(1), config=config).code == 0
    master = sandbox.key(0)
    sandbox.kill(0)
    wait_until(
        lambda: all((sandbox.replica_status(i) or {}).get("Slave_IO_Running") != "Yes" for i in (1, 2, 3)),
        timeout=15,
        message="replica IO threads to notice the dead master",
    )
    _next_second()

    result = run_cli("-c", "discover", "-i", sandbox.key(1), config=config)
    assert (result.code, result.out) == (0, f"{sandbox.key(1)}\n"), result.err
    rows = _instance_rows(config)
    assert rows[master]["valid"] == 0
    assert {r["cluster_name"] for r in rows.values()} == {master}
    lines = run_cli("-c", "topology", "-i", sandbox.key(2), config=config).lines
    assert lines[0].startswith(master) and "[unknown,invalid," in lines[0]
    # Replicas of a dead master are not replicating: `-` marker, null lag.
    assert all(line.startswith("- ") and "[null,nonreplicating," in line for line in lines[1:])
    assert len(lines) == 4


def test_unseen_dead_master_gets_no_row_and_no_analysis(
    restart_killed: Sandbox, tmp_path: Path, wait_until: Callable[..., object]
) -> None:
    """A master that died before orchestrator ever saw it: its replica retries it (IO thread not
    running), nothing proves the server exists, so, as in the original (unseen masters are injected
    only for replicas whose IO thread runs), it gets no row and the replica heads its own cluster.
    A placeholder row used to be written: analysis called it a DeadMaster and recovery failed over."""
    sandbox = restart_killed
    config = _config(sandbox, tmp_path)
    master = sandbox.key(0)
    sandbox.kill(0)
    wait_until(
        lambda: (sandbox.replica_status(2) or {}).get("Slave_IO_Running") != "Yes",
        timeout=15,
        message="replica 2 to notice the dead master",
    )
    result = run_cli("-c", "discover", "-i", sandbox.key(2), config=config)
    assert result.code == 0, result.err
    rows = _instance_rows(config)
    assert set(rows) == {sandbox.key(2)}
    assert rows[sandbox.key(2)]["master_port"] == sandbox.ports[0]
    assert (rows[sandbox.key(2)]["cluster_name"], rows[sandbox.key(2)]["replication_depth"]) == (sandbox.key(2), 0)
    assert run_cli("-c", "clusters", config=config).lines == [sandbox.key(2)]
    analysis = run_cli("-c", "replication-analysis", config=config)
    assert (analysis.code, analysis.out) == (0, ""), analysis.err
    assert run_cli("-c", "recover", "-i", master, config=config).code != 0


def test_replica_of_a_misspelt_master_gives_no_dead_master(
    fresh_sandbox: Sandbox, tmp_path: Path, wait_until: Callable[..., object]
) -> None:
    """A replica pointed at a host that does not exist (its IO thread retries, `Connecting`): the
    unknown name gets no row, so no DeadMaster for it and no failover promoting the stray replica."""
    from orchestrator_cli.sandbox.topology import REPL_PASSWORD, REPL_USER

    sandbox = fresh_sandbox
    stray, ghost = sandbox.key(3), "db-gone.invalid:3306"
    try:
        sandbox.execute(
            3,
            "STOP SLAVE",
            f"CHANGE MASTER TO MASTER_HOST='db-gone.invalid', MASTER_PORT=3306, MASTER_USER='{REPL_USER}',"
            f" MASTER_PASSWORD='{REPL_PASSWORD}', MASTER_CONNECT_RETRY=1",
            "START SLAVE",
        )
        wait_until(
            lambda: "db-gone.invalid" in str((sandbox.replica_status(3) or {}).get("Last_IO_Error")),
            timeout=15,
            message="replica 3 to fail connecting to the unknown host",
        )
        config = _config(sandbox, tmp_path)
        for seed in (sandbox.key(0), stray):
            assert run_cli("-c", "discover", "-i", seed, config=config).code == 0
        rows = _instance_rows(config)
        assert ghost not in rows
        assert rows[stray]["cluster_name"] == stray
        analysis = run_cli("-c", "replication-analysis", config=config)
        assert analysis.code == 0 and "DeadMaster" not in analysis.out, analysis.out
        recover = run_cli("-c", "recover", "-i", ghost, config=config)
        assert recover.code != 0
        assert sandbox.query(3, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"] == 1  # not promoted
    finally:
        sandbox.reset_replication()


def test_co_masters(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    """Server 0 also replicating from its replica 1: two co-masters, the smaller key names the cluster."""
    from orchestrator_cli.sandbox.topology import REPL_PASSWORD, REPL_USER

    sandbox = fresh_sandbox
    sandbox.execute(
        0,
        f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={sandbox.ports[1]}, MASTER_USER='{REPL_USER}',"
        f" MASTER_PASSWORD='{REPL_PASSWORD}', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos",
        "START SLAVE",
    )
    try:
        sandbox.wait_replicated(timeout=15)
        config = _config(sandbox, tmp_path)
        result = run_cli("-c", "discover", "-i", sandbox.key(3), config=config)
        assert result.code == 0, result.err
        rows = _instance_rows(config)
        first, second = _by_port([sandbox.key(0), sandbox.key(1)])
        assert {r["cluster_name"] for r in rows.values()} == {first}
        assert {k: (r["is_co_master"], r["replication_depth"]) for k, r in rows.items() if k in (first, second)} == {
            first: (1, 0),
            second: (1, 1),
        }
        version = _version(sandbox)
        others = _by_port([sandbox.key(2), sandbox.key(3)])
        # No single root: each co-master starts its own branch at depth 1; the old master's replicas hang below it.
        expected = []
        for co_master in (first, second):
            ro = "rw" if co_master == sandbox.key(0) else "ro"  # the old master was never made read-only
            expected.append((f"+ {co_master}", f"0s,ok,{version},{ro},ROW,>>,GTID"))
            if co_master == sandbox.key(0):
                expected += [(f"  + {k}", f"0s,ok,{version},ro,ROW,>>,GTID") for k in others]
        assert run_cli("-c", "topology", "-i", sandbox.key(2), config=config).lines == _tree(expected)
        assert run_cli("-c", "clusters", config=config).lines == [first]
        # the writeable co-master (the sandbox's replica 1 is read-only)
        assert run_cli("-c", "all-clusters-masters", config=config).lines == [sandbox.key(0)]
    finally:
        sandbox.reset_replication()
