"""Every foundation command end to end: the CLI against the MariaDB sandbox on the SQLite backend.

One discovery per module builds the backend; read commands use it as is, and each test that changes
the backend works on its own copy of that file, so tests stay independent and fast.  Outputs are
compared with the original's formats (cli-catalog.md) line by line, and each change is checked in
the backend itself, audit row included.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.sandbox.topology import TOPOLOGY_PASSWORD, Sandbox
from tests.support import Result, run_cli, run_cli_process

# Rows written at module start must still count as recently checked (5 x poll) at module end.
STABLE_POLL_SECONDS = 600


@dataclass(frozen=True)
class Star:
    """The discovered star: keys as the CLI prints them, and the backend config that knows them."""

    sandbox: Sandbox
    config: Path
    version: str

    @property
    def master(self) -> str:
        return self.sandbox.key(0)

    @property
    def replicas(self) -> list[str]:
        """Replica keys in the backend's order (host, then numeric port)."""
        return sorted(self.sandbox.keys[1:], key=lambda k: int(k.rsplit(":", 1)[1]))

    @property
    def all_keys(self) -> list[str]:
        """Master first, then replicas: the order of `all-instances` and of the topology tree."""
        return [self.master, *self.replicas]

    @property
    def by_port(self) -> list[str]:
        """Instances of one cluster ordered as host, port: where the master falls depends on its port."""
        return sorted(self.sandbox.keys, key=lambda k: int(k.rsplit(":", 1)[1]))

    def replica(self, i: int) -> str:
        return self.sandbox.key(i)

    def master_tokens(self, lag: str = "0s", status: str = "ok", extras: str = "") -> str:
        return f"{lag},{status},{self.version},rw,ROW,>>{extras}"

    def replica_tokens(self, lag: str = "0s", status: str = "ok", extras: str = "") -> str:
        return f"{lag},{status},{self.version},ro,ROW,>>,GTID{extras}"


def _write_config(sandbox: Sandbox, directory: Path, sqlite_file: Path, **overrides: Any) -> Path:
    overrides.setdefault("InstancePollSeconds", STABLE_POLL_SECONDS)
    return sandbox.write_config(directory / "orchestrator.conf.json", sqlite_file, **overrides)


def _sqlite_file(config: Path) -> Path:
    return Path(json.loads(config.read_text())["SQLite3DataFile"])


def rows(config: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """What the backend holds, read behind the CLI's back."""
    conn = sqlite3.connect(_sqlite_file(config))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def audit_types(config: Path) -> list[str]:
    return [r["audit_type"] for r in rows(config, "SELECT audit_type FROM audit ORDER BY audit_id")]


def tree(entries: list[tuple[str, str]], tags: list[str] | None = None) -> list[str]:
    """`topology` lines: heads padded so that every `[` is one space after the longest head."""
    width = max(len(head) for head, _ in entries)
    out = [f"{head.ljust(width)} [{tokens}]" for head, tokens in entries]
    if tags is not None:
        out = [f"{line} [{t}]" for line, t in zip(out, tags, strict=True)]
    return out


def fails(result: Result, command: str, why: str = "") -> None:
    """The CLI's error contract: non-zero exit, one stderr line `orchestrator: <command>: <why>`."""
    assert result.code != 0, result.out
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith(f"orchestrator: {command}: {why}"), result.err


@pytest.fixture(scope="module")
def star(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Star:
    """The session sandbox reset to the star and discovered once, from replica 1."""
    sandbox.reset_replication()
    directory = tmp_path_factory.mktemp("cli-commands")
    config = _write_config(sandbox, directory, directory / "orchestrator.sqlite3")
    result = run_cli("-c", "discover", "-i", sandbox.key(1), config=config)
    assert result.code == 0, result.err
    version = str(sandbox.query(0, "SELECT @@GLOBAL.version AS v")[0]["v"])
    return Star(sandbox, config, version)


@pytest.fixture
def copy(star: Star, tmp_path: Path) -> Path:
    """A config over a private copy of the discovered backend, for tests that change it."""
    source = _sqlite_file(star.config)
    target = tmp_path / "orchestrator.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return _write_config(star.sandbox, tmp_path, target)


# ================================================================ information (read-only backend)


def test_clusters_and_cluster_lookups(star: Star) -> None:
    c = star.config
    assert run_cli("-c", "clusters", config=c).out == f"{star.master}\n"
    assert run_cli("-c", "clusters-alias", config=c).lines == [f"{star.master}\t{star.master}"]
    assert run_cli("-c", "all-clusters-masters", config=c).lines == [star.master]
    for target in (["-i", star.replica(2)], ["-i", star.master], ["--alias", star.master]):
        assert run_cli("-c", "which-cluster", *target, config=c).lines == [star.master], target
        assert run_cli("-c", "which-cluster-alias", *target, config=c).lines == [star.master], target
        assert run_cli("-c", "which-cluster-master", *target, config=c).lines == [star.master], target
        assert run_cli("-c", "which-cluster-instances", *target, config=c).lines == star.by_port, target


def test_topology(star: Star) -> None:
    expected = tree([(star.master, star.master_tokens())] + [(f"+ {r}", star.replica_tokens()) for r in star.replicas])
    for target in (["-i", star.replica(3)], ["-i", star.master], ["--alias", star.master]):
        result = run_cli("-c", "topology", *target, config=star.config)
        assert (result.code, result.err) == (0, "")
        assert result.lines == expected, target
    # Spelled out: the root has no marker, and two spaces of padding bring its `[` in line.
    assert expected[0] == f"{star.master}   [{star.master_tokens()}]"
    assert expected[1] == f"+ {star.replicas[0]} [{star.replica_tokens()}]"


def test_topology_tabulated(star: Star) -> None:
    result = run_cli("-c", "topology-tabulated", "-i", star.replica(1), config=star.config)
    assert result.code == 0, result.err
    v = star.version
    assert result.lines == [f"{star.master}  |0s|ok|{v}|rw|ROW|>>     "] + [
        f"+ {r}|0s|ok|{v}|ro|ROW|>>,GTID" for r in star.replicas
    ]


def test_topology_tags_without_tags(star: Star) -> None:
    result = run_cli("-c", "topology-tags", "--alias", star.master, config=star.config)
    assert result.lines == tree(
        [(star.master, star.master_tokens())] + [(f"+ {r}", star.replica_tokens()) for r in star.replicas],
        tags=["", "", "", ""],
    )


def test_topology_refuses_history_pattern(star: Star) -> None:
    fails(run_cli("-c", "topology", "-i", star.master, "--pattern", "2025", config=star.config), "topology")


def test_topology_of_an_unknown_cluster_fails(star: Star) -> None:
    fails(run_cli("-c", "topology", "--alias", "no-such-cluster", config=star.config), "topology")
    fails(run_cli("-c", "which-cluster", "-i", "127.0.0.1:1", config=star.config), "which-cluster")


def test_instance_lists(star: Star) -> None:
    c = star.config
    # Depth first, then most replicas: not alphabetical.
    assert run_cli("-c", "all-instances", config=c).lines == star.all_keys
    assert run_cli("-c", "bulk-instances", config=c).lines == sorted(star.all_keys)
    assert run_cli("-c", "which-replicas", "-i", star.master, config=c).lines == star.replicas
    assert run_cli("-c", "which-slaves", "-i", star.master, config=c).lines == star.replicas
    empty = run_cli("-c", "which-replicas", "-i", star.replica(1), config=c)
    assert (empty.code, empty.out) == (0, "")
    assert run_cli("-c", "which-downtimed-instances", config=c).out == ""
    assert run_cli("-c", "which-lost-in-recovery", config=c).out == ""


def test_which_instance_and_which_master(star: Star) -> None:
    c = star.config
    assert run_cli("-c", "which-instance", "-i", star.replica(2), config=c).lines == [star.replica(2)]
    assert run_cli("-c", "which-master", "-i", star.replica(2), config=c).lines == [star.master]
    on_master = run_cli("-c", "which-master", "-i", star.master, config=c)
    assert (on_master.code, on_master.out) == (0, "")
    fails(run_cli("-c", "which-instance", "-i", "127.0.0.1:1", config=c), "which-instance", "instance not found")
    fails(run_cli("-c", "which-instance", "-i", "127.0.0.1:33o6", config=c), "which-instance", "invalid instance")


def test_find_and_search(star: Star) -> None:
    c = star.config
    port = star.replica(2).rsplit(":", 1)[1]
    assert run_cli("-c", "find", "--pattern", f":{port}$", config=c).lines == [star.replica(2)]
    assert run_cli("-c", "find", "--pattern", r"^127\.0\.0\.1:", config=c).lines == star.all_keys
    assert run_cli("-c", "find", "--pattern", "no-such-host", config=c).out == ""
    fails(run_cli("-c", "find", config=c), "find", "--pattern is required")
    fails(run_cli("-c", "find", "--pattern", "([", config=c), "find", "invalid --pattern")
    assert run_cli("-c", "search", "--pattern", port, config=c).lines == [star.replica(2)]
    server_id = str(star.sandbox.servers[3].server_id)
    assert run_cli("-c", "search", "--pattern", server_id, config=c).lines == [star.replica(3)]
    assert run_cli("-c", "search", "--pattern", "MariaDB", config=c).lines == star.all_keys
    fails(run_cli("-c", "search", config=c), "search", "--pattern is required")


def test_find_and_search_list_instances_like_all_instances(star: Star, copy: Path) -> None:
    # Give the highest-port replica replicas of its own, so the two orders cannot coincide.
    busiest = star.replicas[-1]
    conn = sqlite3.connect(_sqlite_file(copy))
    conn.execute("UPDATE database_instance SET num_slave_hosts = 5 WHERE port = ?", (int(busiest.rsplit(":", 1)[1]),))
    conn.commit()
    conn.close()
    listed = run_cli("-c", "all-instances", config=copy).lines
    assert listed[:2] == [star.master, busiest]
    assert run_cli("-c", "find", "--pattern", r"^127\.0\.0\.1:", config=copy).lines == listed
    assert run_cli("-c", "search", "--pattern", "MariaDB", config=copy).lines == listed


def test_instance_status_and_replication_information(star: Star) -> None:
    c = star.config
    assert run_cli("-c", "instance-status", "-i", star.master, config=c).lines == [f"[{star.master_tokens()}]"]
    assert run_cli("-c", "instance-status", "-i", star.replica(1), config=c).lines == [f"[{star.replica_tokens()}]"]
    assert run_cli("-c", "is-replicating", "-i", star.replica(1), config=c).lines == [star.replica(1)]
    for command, target in (
        ("is-replicating", star.master),
        ("is-replication-stopped", star.replica(1)),
        ("is-replication-stopped", star.master),
    ):
        negative = run_cli("-c", command, "-i", target, config=c)
        assert (negative.code, negative.out, negative.err) == (0, "", ""), command
    fails(run_cli("-c", "instance-status", "-i", "127.0.0.1:1", config=c), "instance-status", "instance not found")


def test_can_replicate_from(star: Star) -> None:
    c = star.config
    yes = run_cli("-c", "can-replicate-from", "-i", star.replica(1), "-d", star.replica(2), config=c)
    assert (yes.code, yes.lines) == (0, [star.replica(2)])
    itself = run_cli("-c", "can-replicate-from", "-i", star.replica(1), "-d", star.replica(1), config=c)
    assert (itself.code, itself.out) == (0, "")
    fails(run_cli("-c", "can-replicate-from", "-i", star.replica(1), config=c), "can-replicate-from", "-d is required")
    fails(
        run_cli("-c", "can-replicate-from", "-i", star.replica(1), "-d", "127.0.0.1:1", config=c),
        "can-replicate-from",
        "instance not found",
    )


def test_can_replicate_from_source_without_binary_logs(star: Star, copy: Path) -> None:
    host, port = star.replica(2).rsplit(":", 1)
    conn = sqlite3.connect(_sqlite_file(copy))
    conn.execute("UPDATE database_instance SET log_bin = 0 WHERE hostname = ? AND port = ?", (host, int(port)))
    conn.commit()
    conn.close()
    no = run_cli("-c", "can-replicate-from", "-i", star.replica(1), "-d", star.replica(2), config=copy)
    assert (no.code, no.out) == (0, "")
    data = run_cli(
        "--format", "json", "-c", "can-replicate-from", "-i", star.replica(1), "-d", star.replica(2), config=copy
    )
    assert data.json()["CanReplicate"] is False
    assert "binary logs" in data.json()["Reason"]


def test_several_instance_tokens(star: Star) -> None:
    c = star.config
    tokens = f"{star.replica(1)},{star.replica(2)} {star.replica(3)}"
    assert run_cli("-c", "which-master", "-i", tokens, config=c).lines == [star.master] * 3
    # The first failing token stops the run; what earlier tokens printed stays on stdout.
    partial = run_cli("-c", "which-instance", "-i", f"{star.replica(1)},127.0.0.1:1,{star.replica(2)}", config=c)
    assert partial.lines == [star.replica(1)]
    fails(partial, "which-instance", "instance not found: 127.0.0.1:1")


def test_json_format(star: Star) -> None:
    c = star.config
    assert run_cli("--format", "json", "-c", "clusters", config=c).json() == [star.master]
    status = run_cli("--format", "json", "-c", "instance-status", "-i", star.replica(1), config=c).json()
    assert status == star.replica_tokens().split(",")
    nodes = run_cli("--format", "json", "-c", "topology", "-i", star.master, config=c).json()
    assert [(n["Key"], n["MasterKey"], n["Depth"]) for n in nodes] == [(star.master, "", 0)] + [
        (r, star.master, 1) for r in star.replicas
    ]
    aliases = run_cli("--format", "json", "-c", "clusters-alias", config=c).json()
    assert aliases == [{"ClusterName": star.master, "ClusterAlias": star.master}]
    bad = run_cli("--format", "yaml", "-c", "clusters", config=c)
    fails(bad, "clusters", "unknown --format")


def test_topology_is_plain_when_piped_and_rich_on_a_terminal(star: Star) -> None:
    piped = run_cli_process("-c", "topology", "-i", star.master, config=star.config)
    assert piped.code == 0, piped.err
    assert piped.lines == run_cli("-c", "topology", "-i", star.master, config=star.config).lines
    assert "\x1b[" not in piped.out

    from rich.console import Console

    from orchestrator_cli.commands import registry
    from orchestrator_cli.commands.context import Context, Options
    from orchestrator_cli.config import load_config

    command = registry.lookup("topology")
    assert command is not None
    options = Options(command="topology", instance=star.master, config=str(star.config))
    context = Context(options, load_config(str(star.config)))
    try:
        output = command.func(context)
    finally:
        context.close()
    assert output.rich is not None
    screen = io.StringIO()
    Console(file=screen, force_terminal=True, width=200).print(output.rich())
    text = screen.getvalue()
    assert "\x1b[" in text  # coloured
    for key in star.all_keys:
        assert key in text


# ================================================================ instance management (private backend copies)


def test_forget(star: Star, copy: Path) -> None:
    gone = star.replica(3)
    result = run_cli("-c", "forget", "-i", gone, config=copy)
    assert (result.code, result.lines) == (0, [gone])
    assert gone not in run_cli("-c", "all-instances", config=copy).lines
    assert run_cli("-c", "which-replicas", "-i", star.master, config=copy).lines == [
        r for r in star.replicas if r != gone
    ]
    audit = rows(copy, "SELECT * FROM audit WHERE audit_type = 'forget'")
    assert [(a["hostname"], a["port"], a["cluster_name"]) for a in audit] == [
        ("127.0.0.1", int(gone.rsplit(":", 1)[1]), star.master)
    ]
    fails(run_cli("-c", "forget", "-i", gone, config=copy), "forget", f"instance {gone} not found")
    fails(run_cli("-c", "forget", config=copy), "forget", "-i is required")
    # A replica that still replicates comes back with the next discovery.
    assert run_cli("-c", "discover", "-i", star.master, config=copy).code == 0
    assert gone in run_cli("-c", "all-instances", config=copy).lines


def test_register_candidate_and_bulk_promotion_rules(star: Star, copy: Path) -> None:
    first, second = star.replica(1), star.replica(2)
    assert run_cli("-c", "register-candidate", "-i", first, config=copy).lines == [first]  # default: prefer
    assert run_cli("-c", "register-candidate", "-i", second, "--promotion-rule", "must_not", config=copy).lines == [
        second
    ]
    assert run_cli("-c", "bulk-promotion-rules", config=copy).lines == sorted([f"{first} prefer", f"{second} must_not"])
    stored = rows(copy, "SELECT hostname, port, promotion_rule FROM candidate_database_instance ORDER BY port")
    assert {f"{r['hostname']}:{r['port']}": r["promotion_rule"] for r in stored} == {
        first: "prefer",
        second: "must_not",
    }
    # Re-registering replaces the rule.
    run_cli("-c", "register-candidate", "-i", first, "--promotion-rule", "prefer_not", config=copy)
    assert f"{first} prefer_not" in run_cli("-c", "bulk-promotion-rules", config=copy).lines
    fails(
        run_cli("-c", "register-candidate", "-i", first, "--promotion-rule", "must", config=copy), "register-candidate"
    )
    assert f"{first} prefer_not" in run_cli("-c", "bulk-promotion-rules", config=copy).lines
    assert audit_types(copy).count("register-candidate") == 3


def test_downtime(star: Star, copy: Path) -> None:
    target = star.replica(3)
    begun = run_cli("-c", "begin-downtime", "-i", target, "--reason", "kernel upgrade", "--duration", "2h", config=copy)
    assert (begun.code, begun.lines) == (0, [target])
    assert run_cli("-c", "which-downtimed-instances", config=copy).lines == [target]
    assert run_cli("-c", "which-downtimed-instances", "-i", star.master, config=copy).lines == [target]
    assert run_cli("-c", "which-downtimed-instances", "--alias", star.master, config=copy).lines == [target]
    assert run_cli("-c", "instance-status", "-i", target, config=copy).lines == [
        f"[{star.replica_tokens(extras=',downtimed')}]"
    ]
    assert (
        tree(
            [(star.master, star.master_tokens())]
            + [(f"+ {r}", star.replica_tokens(extras=",downtimed" if r == target else "")) for r in star.replicas]
        )
        == run_cli("-c", "topology", "-i", star.master, config=copy).lines
    )
    stored = rows(
        copy,
        """SELECT owner, reason, downtime_active,
                  CAST(ROUND((julianday(end_timestamp) - julianday(begin_timestamp)) * 86400) AS INTEGER) AS seconds
           FROM database_instance_downtime""",
    )
    assert len(stored) == 1
    assert (stored[0]["reason"], stored[0]["downtime_active"], stored[0]["seconds"]) == ("kernel upgrade", 1, 7200)
    assert stored[0]["owner"]

    assert run_cli("-c", "end-downtime", "-i", target, config=copy).lines == [target]
    assert run_cli("-c", "which-downtimed-instances", config=copy).out == ""
    assert audit_types(copy)[-2:] == ["begin-downtime", "end-downtime"]


def test_downtime_defaults_and_refusals(star: Star, copy: Path) -> None:
    target = star.replica(2)
    fails(run_cli("-c", "begin-downtime", "-i", target, config=copy), "begin-downtime", "--reason is required")
    fails(
        run_cli("-c", "begin-downtime", "-i", target, "--reason", "x", "--duration", "3x", config=copy),
        "begin-downtime",
    )
    assert rows(copy, "SELECT * FROM database_instance_downtime") == []
    # Unlike the original, no --duration means the 10 minute default, really written.
    default = run_cli("-c", "begin-downtime", "-i", target, "--reason", "patching", "--owner", "ops", config=copy)
    assert default.lines == [target]
    stored = rows(
        copy,
        """SELECT owner, CAST(ROUND((julianday(end_timestamp) - julianday(begin_timestamp)) * 86400) AS INTEGER)
                  AS seconds FROM database_instance_downtime""",
    )
    assert stored == [{"owner": "ops", "seconds": 600}]
    assert run_cli("-c", "which-downtimed-instances", config=copy).lines == [target]


def test_lost_in_recovery(star: Star, copy: Path) -> None:
    lost = star.replica(1)
    run_cli("-c", "begin-downtime", "-i", lost, "--reason", "lost-in-recovery", "--duration", "1h", config=copy)
    assert run_cli("-c", "which-lost-in-recovery", config=copy).lines == [lost]
    assert run_cli("-c", "which-downtimed-instances", config=copy).lines == [lost]


def test_master_lost_in_a_failover_keeps_its_cluster_row(star: Star, copy: Path) -> None:
    """After a failover the dead master's row still names itself as its cluster: `clusters` lists that
    cluster (scripts loop over it with which-downtimed-instances), but its alias is not the dead master's
    suggestion, and the alias resolves to the new cluster."""
    dead, new = star.master, star.replica(1)
    conn = sqlite3.connect(_sqlite_file(copy))
    try:
        conn.execute("UPDATE database_instance SET suggested_cluster_alias = 'prod'")
        conn.execute("UPDATE database_instance SET cluster_name = ? WHERE cluster_name = ? AND port <> ?",
                     (new, dead, int(dead.rsplit(":", 1)[1])))  # fmt: skip
        conn.execute("UPDATE database_instance SET replication_depth = 0 WHERE port = ?", (int(new.rsplit(":", 1)[1]),))
        # as the recovery registers it for the successor's cluster (a suggestion alone is not an alias)
        conn.execute("INSERT INTO cluster_alias (cluster_name, alias, last_registered) VALUES (?, 'prod', '')", (new,))
        conn.commit()
    finally:
        conn.close()
    run_cli("-c", "begin-downtime", "-i", dead, "--reason", "lost-in-recovery", "--duration", "1h", config=copy)
    assert run_cli("-c", "clusters", config=copy).lines == sorted([dead, new])
    assert run_cli("-c", "which-downtimed-instances", "-i", dead, config=copy).lines == [dead]
    assert run_cli("-c", "which-downtimed-instances", "-i", new, config=copy).lines == []
    assert sorted(run_cli("-c", "clusters-alias", config=copy).lines) == sorted([f"{dead}\t{dead}", f"{new}\tprod"])
    assert run_cli("-c", "which-cluster", "--alias", "prod", config=copy).lines == [new]


def test_maintenance(star: Star, copy: Path) -> None:
    target = star.replica(1)
    begun = run_cli("-c", "begin-maintenance", "-i", target, "--reason", "backup", "--owner", "dba", config=copy)
    assert (begun.code, begun.lines) == (0, [target])
    assert run_cli("-c", "in-maintenance", "-i", target, config=copy).lines == [target]
    held = run_cli("-c", "begin-maintenance", "-i", target, "--reason", "other", config=copy)
    fails(held, "begin-maintenance", f"cannot begin maintenance on {target}: already in maintenance")
    assert "dba" in held.err and "backup" in held.err
    active = rows(copy, "SELECT owner, reason FROM database_instance_maintenance WHERE maintenance_active = 1")
    assert active == [{"owner": "dba", "reason": "backup"}]

    assert run_cli("-c", "end-maintenance", "-i", target, config=copy).lines == [target]
    not_held = run_cli("-c", "in-maintenance", "-i", target, config=copy)
    assert (not_held.code, not_held.out) == (0, "")
    # Ending a lock that is not held still answers with the key.
    assert run_cli("-c", "end-maintenance", "-i", target, config=copy).lines == [target]
    fails(run_cli("-c", "begin-maintenance", "-i", target, config=copy), "begin-maintenance", "--reason is required")
    assert [t for t in audit_types(copy) if "maintenance" in t] == ["begin-maintenance", "end-maintenance"]


def test_tags(star: Star, copy: Path) -> None:
    tagged_one, other = star.replica(1), star.replica(2)
    assert run_cli("-c", "tag", "-i", tagged_one, "--tag", "role=backup", config=copy).lines == [tagged_one]
    assert run_cli("-c", "tag", "-i", tagged_one, "--tag", "in_service", config=copy).lines == [tagged_one]
    assert run_cli("-c", "tag", "-i", other, "--tag", "role=web", config=copy).lines == [other]
    assert run_cli("-c", "tags", "-i", tagged_one, config=copy).lines == ["in_service=", "role=backup"]
    assert run_cli("-c", "tag-value", "-i", tagged_one, "--tag", "role", config=copy).out == "backup\n"
    assert run_cli("-c", "tag-value", "-i", tagged_one, "--tag", "in_service", config=copy).out == "\n"
    missing = run_cli("-c", "tag-value", "-i", other, "--tag", "in_service", config=copy)
    assert (missing.code, missing.out) == (0, "")
    assert run_cli("-c", "tagged", "--tag", "role", config=copy).lines == sorted([tagged_one, other])
    assert run_cli("-c", "tagged", "--tag", "role=backup", config=copy).lines == [tagged_one]
    assert run_cli("-c", "tagged", "--tag", "role,~in_service", config=copy).lines == [other]
    assert run_cli("-c", "tagged", "--tag", "!role", config=copy).lines == [
        k for k in star.by_port if k not in (tagged_one, other)
    ]
    tag_column = {tagged_one: "in_service,role=backup", other: "role=web"}
    assert run_cli("-c", "topology-tags", "-i", star.master, config=copy).lines == tree(
        [(star.master, star.master_tokens())] + [(f"+ {r}", star.replica_tokens()) for r in star.replicas],
        tags=[tag_column.get(k, "") for k in star.all_keys],
    )
    fails(run_cli("-c", "tag", "-i", other, config=copy), "tag", "--tag is required")
    fails(run_cli("-c", "tag", "-i", other, "--tag", "=x", config=copy), "tag", "invalid --tag")

    assert run_cli("-c", "untag", "-i", tagged_one, "--tag", "in_service", config=copy).lines == [tagged_one]
    assert run_cli("-c", "untag", "-i", tagged_one, "--tag", "in_service", config=copy).out == ""
    fails(run_cli("-c", "untag-all", "--tag", "role", config=copy), "untag-all")
    assert run_cli("-c", "untag-all", "--tag", "role=web", config=copy).lines == [other]
    assert run_cli("-c", "tags", "-i", other, config=copy).out == ""
    assert run_cli("-c", "tags", "-i", tagged_one, config=copy).lines == ["role=backup"]
    stored = rows(copy, "SELECT hostname, port, tag_name, tag_value FROM database_instance_tags")
    assert [(f"{r['hostname']}:{r['port']}", r["tag_name"], r["tag_value"]) for r in stored] == [
        (tagged_one, "role", "backup")
    ]
    assert [t for t in audit_types(copy) if "tag" in t] == ["tag", "tag", "tag", "untag", "untag-all"]


def test_pools(star: Star, copy: Path) -> None:
    first, second, third = star.replica(1), star.replica(2), star.replica(3)
    submitted = run_cli("-c", "submit-pool-instances", "--pool", "web", "-i", f"{first},{second}", config=copy)
    assert (submitted.code, submitted.out) == (0, "")
    run_cli("-c", "submit-pool-instances", "--pool", "batch", "-i", third, config=copy)
    pooled = run_cli("-c", "cluster-pool-instances", config=copy)
    assert pooled.code == 0
    fields = [line.split("\t") for line in pooled.lines]
    assert [(f[0], f[2], f[3]) for f in fields] == [(star.master, "batch", third)] + [
        (star.master, "web", k) for k in sorted([first, second], key=lambda k: int(k.rsplit(":", 1)[1]))
    ]
    web = sorted([first, second], key=lambda k: int(k.rsplit(":", 1)[1]))
    heuristic = ["-c", "which-heuristic-cluster-pool-instances", "-i", star.master]
    assert run_cli(*heuristic, "--pool", "web", config=copy).lines == web
    assert run_cli(*heuristic, config=copy).lines == star.replicas
    # Downtimed members are not expected to be healthy.
    run_cli("-c", "begin-downtime", "-i", first, "--reason", "x", "--duration", "1h", config=copy)
    assert run_cli(*heuristic, "--pool", "web", config=copy).lines == [second]
    # Submitting again replaces the membership.
    run_cli("-c", "submit-pool-instances", "--pool", "web", "-i", second, config=copy)
    assert rows(copy, "SELECT hostname, port FROM database_instance_pool WHERE pool = 'web'") == [
        {"hostname": "127.0.0.1", "port": int(second.rsplit(":", 1)[1])}
    ]
    fails(
        run_cli("-c", "submit-pool-instances", "-i", first, config=copy), "submit-pool-instances", "--pool is required"
    )
    assert audit_types(copy).count("submit-pool-instances") == 3


def test_pool_alias_column_falls_back_to_the_cluster_name(star: Star, copy: Path) -> None:
    run_cli("-c", "submit-pool-instances", "--pool", "web", "-i", star.replica(1), config=copy)
    assert run_cli("-c", "cluster-pool-instances", config=copy).lines == [
        f"{star.master}\t{star.master}\tweb\t{star.replica(1)}"
    ]


def test_hostname_unresolve(star: Star, copy: Path) -> None:
    target = star.replica(1)
    registered = run_cli("-c", "register-hostname-unresolve", "-i", target, "--hostname", "db-vip", config=copy)
    assert (registered.code, registered.lines) == (0, [target])
    assert rows(copy, "SELECT hostname, unresolved_hostname FROM hostname_unresolve") == [
        {"hostname": "127.0.0.1", "unresolved_hostname": "db-vip"}
    ]
    assert run_cli("-c", "show-unresolve-hosts", config=copy).lines == ["127.0.0.1 db-vip"]
    assert run_cli("-c", "deregister-hostname-unresolve", "-i", target, config=copy).lines == [target]
    assert rows(copy, "SELECT * FROM hostname_unresolve") == []
    fails(
        run_cli("-c", "register-hostname-unresolve", "-i", target, config=copy),
        "register-hostname-unresolve",
        "--hostname is required",
    )
    assert [t for t in audit_types(copy) if "unresolve" in t] == [
        "register-hostname-unresolve",
        "deregister-hostname-unresolve",
    ]


def test_snapshot_topologies(star: Star, copy: Path) -> None:
    result = run_cli("-c", "snapshot-topologies", config=copy)
    assert (result.code, result.out) == (0, "")
    history = rows(
        copy, "SELECT hostname, port, master_host, master_port, cluster_name FROM database_instance_topology_history"
    )
    assert sorted(f"{r['hostname']}:{r['port']}" for r in history) == sorted(star.all_keys)
    assert {r["cluster_name"] for r in history} == {star.master}


def test_changes_for_several_instances_in_one_run(star: Star, copy: Path) -> None:
    first, second = star.replica(1), star.replica(3)
    both = f"{first} {second}"
    result = run_cli("-c", "begin-downtime", "-i", both, "--reason", "rack move", "--duration", "1h", config=copy)
    assert (result.code, result.lines) == (0, [first, second])
    assert run_cli("-c", "which-downtimed-instances", config=copy).lines == sorted(
        [first, second], key=lambda k: int(k.rsplit(":", 1)[1])
    )
    assert run_cli("-c", "register-candidate", "-i", f"{first},{second}", config=copy).lines == [first, second]
    assert audit_types(copy).count("begin-downtime") == 2
    assert audit_types(copy).count("register-candidate") == 2


def test_audit_trail_names_the_instance_and_cluster(star: Star, copy: Path) -> None:
    target = star.replica(2)
    run_cli("-c", "register-candidate", "-i", target, config=copy)
    run_cli("-c", "tag", "-i", target, "--tag", "a=b", config=copy)
    run_cli("-c", "begin-downtime", "-i", target, "--reason", "r", "--duration", "5m", config=copy)
    run_cli("-c", "begin-maintenance", "-i", target, "--reason", "r", config=copy)
    entries = rows(copy, "SELECT audit_type, hostname, port, cluster_name FROM audit WHERE audit_type <> 'discover'")
    assert [e["audit_type"] for e in entries] == ["register-candidate", "tag", "begin-downtime", "begin-maintenance"]
    port = int(target.rsplit(":", 1)[1])
    assert {(e["hostname"], e["port"], e["cluster_name"]) for e in entries} == {("127.0.0.1", port, star.master)}


# ================================================================ live replication state


def test_is_replication_stopped_after_stop_slave(star: Star, tmp_path: Path) -> None:
    sandbox = star.sandbox
    stopped = sandbox.key(2)
    config = _write_config(sandbox, tmp_path, tmp_path / "orchestrator.sqlite3")
    sandbox.execute(2, "STOP SLAVE")
    try:
        assert run_cli("-c", "discover", "-i", stopped, config=config).code == 0
        assert run_cli("-c", "is-replication-stopped", "-i", stopped, config=config).lines == [stopped]
        assert run_cli("-c", "is-replicating", "-i", stopped, config=config).out == ""
        assert run_cli("-c", "instance-status", "-i", stopped, config=config).lines == [
            f"[{star.replica_tokens(lag='null', status='nonreplicating')}]"
        ]
        topology = run_cli("-c", "topology", "-i", star.master, config=config).lines
        assert f"- {stopped} " in "\n".join(topology)
    finally:
        sandbox.execute(2, "START SLAVE")
    sandbox.wait_replicated(timeout=15)
    assert run_cli("-c", "discover", "-i", stopped, config=config).code == 0
    assert run_cli("-c", "is-replicating", "-i", stopped, config=config).lines == [stopped]
    assert run_cli("-c", "is-replication-stopped", "-i", stopped, config=config).out == ""


# ================================================================ meta, help and version


def test_dump_config_redacts_secrets(star: Star) -> None:
    result = run_cli("-c", "dump-config", config=star.config)
    assert result.code == 0
    assert len(result.lines) == 1
    dumped = json.loads(result.out)
    assert dumped["MySQLTopologyUser"] == "orchestrator"
    assert dumped["MySQLTopologyPassword"] == "********"
    assert TOPOLOGY_PASSWORD not in result.out
    assert dumped["InstancePollSeconds"] == STABLE_POLL_SECONDS
    assert dumped["SQLite3DataFile"] == str(_sqlite_file(star.config))


def test_redeploy_internal_db_keeps_the_data(star: Star, copy: Path) -> None:
    result = run_cli("-c", "redeploy-internal-db", config=copy)
    assert (result.code, result.lines) == (0, ["Redeployed internal db"])
    assert run_cli("-c", "all-instances", config=copy).lines == star.all_keys


def test_help_listing_names_every_command(star: Star) -> None:
    from orchestrator_cli.commands import registry

    result = run_cli("-c", "help", config=star.config)
    assert (result.code, result.out) == (0, "")
    for command in registry.all_commands():
        assert f"\t{command.name:<40}{command.summary}" in result.err.splitlines(), command.name


def test_help_topic_for_every_registered_command() -> None:
    from orchestrator_cli.commands import registry

    for command in registry.all_commands():
        result = run_cli("help", command.name)
        assert (result.code, result.err) == (0, ""), command.name
        assert result.lines[0] == f"{command.name}: {command.summary}", command.name
    for synonym, canonical in registry.synonyms().items():
        result = run_cli("help", synonym)
        assert result.code == 0, synonym
        assert result.lines[0].startswith(f"{canonical}: "), synonym
        assert synonym in result.lines[-1] or synonym in result.out
    unknown = run_cli("help", "no-such-command")
    assert unknown.code != 0 and "no such command" in unknown.err


def test_legacy_synonyms_dispatch_to_the_canonical_command(star: Star) -> None:
    from orchestrator_cli.commands import registry

    assert registry.synonyms()["which-slaves"] == "which-replicas"
    legacy = run_cli("-c", "which-slaves", "-i", star.master, config=star.config)
    assert legacy.lines == run_cli("-c", "which-replicas", "-i", star.master, config=star.config).lines


def test_version_touches_no_backend(tmp_path: Path) -> None:
    from orchestrator_cli import GIT_COMMIT, __version__

    missing = tmp_path / "missing.conf.json"
    result = run_cli("--version", config=missing)
    assert (result.code, result.lines) == (0, [__version__, GIT_COMMIT])
    assert not missing.exists()
    unknown = run_cli("-c", "no-such-command", config=missing)
    assert unknown.code != 0 and "unknown command" in unknown.err
