"""What a cron job pays per run: the schema is deployed once, then checked with one query, and the
cheap commands never load SQLAlchemy, rich or the MySQL driver they do not need."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import ROOT, run_cli, run_cli_process, sqlite_config

# Runs one CLI invocation in a fresh interpreter and reports which heavy modules it imported.
_PROBE_IMPORTS = """
import contextlib, io, sys
from orchestrator_cli.cli.main import main
out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = main(sys.argv[1:])
heavy = ("sqlalchemy", "rich", "mysql.connector", "tenacity")
# standard modules a cron run does not need: each costs milliseconds to import
startup = ("logging", "dataclasses", "inspect", "typing", "threading", "decimal", "re", "json", "enum", "datetime")
report = {"code": code, "out": out.getvalue(), "err": err.getvalue(),
          "loaded": sorted(m for m in heavy if m in sys.modules),
          "startup": sorted(m for m in startup if m in sys.modules),
          "commands": sorted(m for m in sys.modules if m.startswith("orchestrator_cli.commands.")),
          "model": sorted(m for m in sys.modules if m.startswith(("orchestrator_cli.model.",
                                                                 "orchestrator_cli.backend.")))}
import json  # after the look at sys.modules
print(json.dumps(report))
"""


def _fresh_process(*args: str) -> dict[str, Any]:
    """One run in a fresh interpreter without site-packages (`-S`, the tree from the working directory):
    `site` and `.pth` files import `re` and `enum` before any code of ours runs. The commands probed
    need no third-party library: one that tried to import one would fail here."""
    proc = subprocess.run(
        [sys.executable, "-S", "-c", _PROBE_IMPORTS, *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def test_schema_is_deployed_once_then_checked_with_one_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator_cli.backend import deploy
    from orchestrator_cli.backend.connection import Backend

    config = sqlite_config(tmp_path)
    deployments: list[str] = []
    statements: list[str] = []
    create_all = deploy._create_all
    query = Backend.query
    query_values = Backend.query_values

    def counting_create_all(backend: Backend) -> None:
        deployments.append(backend.description)
        create_all(backend)

    def recording_query(self: Backend, sql: str, params: Any = ()) -> Any:
        statements.append(" ".join(sql.split()))
        return query(self, sql, params)

    def recording_query_values(self: Backend, sql: str, params: Any = ()) -> Any:
        statements.append(" ".join(sql.split()))
        return query_values(self, sql, params)

    monkeypatch.setattr(deploy, "_create_all", counting_create_all)
    monkeypatch.setattr(Backend, "query", recording_query)
    monkeypatch.setattr(Backend, "query_values", recording_query_values)

    first = run_cli("-c", "clusters", config=config)
    assert (first.code, first.err) == (0, "")
    assert len(deployments) == 1

    for command in ("clusters", "all-instances", "which-downtimed-instances"):
        statements.clear()
        result = run_cli("-c", command, config=config)
        assert (result.code, result.err) == (0, ""), command
        schema_checks = [s for s in statements if "orchestrator_db_deployments" in s]
        assert len(schema_checks) == 1, command
        assert len(statements) == 2, statements  # the version check and the command's own read
    assert len(deployments) == 1


def test_cron_commands_do_not_load_what_they_do_not_need(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox = fresh_sandbox
    config = sandbox.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3")
    assert run_cli("-c", "discover", "-i", sandbox.key(0), config=config).code == 0

    candidate = _fresh_process(f"--config={config}", "-c", "register-candidate", "-i", sandbox.key(1))
    assert (candidate["code"], candidate["out"], candidate["err"]) == (0, f"{sandbox.key(1)}\n", "")
    assert candidate["loaded"] == []  # backend on sqlite3 only: no ORM, no driver, no terminal library

    lookup = _fresh_process(f"--config={config}", "-c", "which-cluster-master", "-i", sandbox.key(2))
    assert (lookup["code"], lookup["out"]) == (0, f"{sandbox.key(0)}\n")
    assert lookup["loaded"] == []

    version = _fresh_process("--version")
    assert version["code"] == 0 and version["loaded"] == []
    listing = _fresh_process("-c", "help")
    assert listing["code"] == 0 and listing["loaded"] == []


def test_cron_writes_import_only_what_they_use(tmp_path: Path) -> None:
    """register-candidate and begin-downtime on SQLite: no logging, dataclasses, typing, re, json (about
    15 ms of imports together), and one command module, not all of them."""
    from orchestrator_cli.backend import instances
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config

    config = sqlite_config(tmp_path)
    backend = Backend(load_config(str(config)))
    instances.write_instances(backend, [{"hostname": "db1", "port": 3306, "cluster_name": "db1:3306"}])
    backend.close()
    for args in (
        ("-c", "register-candidate", "-i", "db1:3306", "--promotion-rule", "prefer"),
        ("-c", "begin-downtime", "-i", "db1:3306", "--reason", "test", "--duration", "1m"),
    ):
        report = _fresh_process(f"--config={config}", *args)
        assert (report["code"], report["out"], report["err"]) == (0, "db1:3306\n", ""), args
        assert report["loaded"] == [], args
        assert report["startup"] == [], args
        assert report["commands"] == [
            "orchestrator_cli.commands.context",
            "orchestrator_cli.commands.instance_management",
            "orchestrator_cli.commands.output",
            "orchestrator_cli.commands.registry",
        ], args


# The full instance snapshot and what it is built from: `topology*` reads `backend.tree_rows` instead.
SNAPSHOT_MODULES = (
    "orchestrator_cli.backend.instance_rows",
    "orchestrator_cli.model.instance",
    "orchestrator_cli.model.coordinates",
    "orchestrator_cli.model.threads",
    "orchestrator_cli.model.gtid",
)


def test_topology_reads_import_no_snapshot_model(tmp_path: Path) -> None:
    """`topology`, `topology-tabulated`, `topology-tags` and `clusters` build no `Instance`: no
    dataclasses, inspect, typing or decimal (about 12 ms of imports), no snapshot model modules, and
    read the config file without `json` and `re` and open SQLite without `datetime` (4 ms more); the
    JSON form imports `json` to write."""
    from orchestrator_cli.backend import instances, tags
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config
    from orchestrator_cli.model.keys import InstanceKey
    from orchestrator_cli.model.tags import Tag

    config = sqlite_config(tmp_path, InstancePollSeconds=3600)  # "recently checked" for an hour
    backend = Backend(load_config(str(config)))
    replica = {"master_host": "db1", "master_port": 3306, "master_log_file": "mysql-bin.000001",
               "replication_sql_thread_state": 1, "replication_io_thread_state": 1,
               "seconds_behind_master": 0, "slave_lag_seconds": 0, "read_only": 1}  # fmt: skip
    common = {"cluster_name": "db1:3306", "version": "10.11.6-MariaDB-log", "log_bin": 1, "binlog_format": "ROW"}
    instances.write_instances(
        backend,
        [
            {"hostname": "db1", "port": 3306, "replication_depth": 0, **common},
            {"hostname": "db2", "port": 3306, "replication_depth": 1, **common, **replica},
            {"hostname": "other", "port": 3306, **common, "cluster_name": "other:3306"},
        ],
    )
    tags.put(backend, InstanceKey("db2", 3306), Tag("role", "backup", has_value=True))
    tags.put(backend, InstanceKey("other", 3306), Tag("elsewhere"))
    backend.close()
    expected = {
        "topology": "db1:3306   [0s,ok,10.11.6-MariaDB-log,rw,ROW]\n+ db2:3306 [0s,ok,10.11.6-MariaDB-log,ro,ROW]\n",
        "topology-tabulated": "db1:3306  |0s|ok|10.11.6-MariaDB-log|rw|ROW|\n"
        "+ db2:3306|0s|ok|10.11.6-MariaDB-log|ro|ROW|\n",
        "topology-tags": "db1:3306   [0s,ok,10.11.6-MariaDB-log,rw,ROW] []\n"
        "+ db2:3306 [0s,ok,10.11.6-MariaDB-log,ro,ROW] [role=backup]\n",
    }
    for command, out in expected.items():
        report = _fresh_process(f"--config={config}", "-c", command, "-i", "db2:3306")
        assert (report["code"], report["out"], report["err"]) == (0, out, ""), command
        assert (report["loaded"], report["startup"]) == ([], []), command
        assert not set(SNAPSHOT_MODULES) & set(report["model"]), command
    report = _fresh_process(f"--config={config}", "--format=json", "-c", "topology", "-i", "db1:3306")
    assert report["code"] == 0 and (report["loaded"], report["startup"]) == ([], ["enum", "json", "re"])
    assert not set(SNAPSHOT_MODULES) & set(report["model"])
    data = json.loads(report["out"])
    assert [(d["Key"], d["MasterKey"], d["Depth"], d["ReplicationRunning"]) for d in data] == [
        ("db1:3306", "", 0, False),
        ("db2:3306", "db1:3306", 1, True),
    ]
    assert data[1]["Description"] == ["0s", "ok", "10.11.6-MariaDB-log", "ro", "ROW"]
    listing = _fresh_process(f"--config={config}", "-c", "clusters")
    assert (listing["code"], listing["out"], listing["err"]) == (0, "db1:3306\nother:3306\n", "")
    assert (listing["loaded"], listing["startup"]) == ([], [])
    names_only = {"orchestrator_cli.backend.instances", "orchestrator_cli.backend.tree_rows",
                  "orchestrator_cli.backend.probe_context", *SNAPSHOT_MODULES}  # fmt: skip
    assert not names_only & set(listing["model"])  # names only: no instance, tree or probe modules


def test_help_and_version_need_no_config_or_backend(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "orchestrator.conf.json"
    for args in (("--version",), ("help", "discover"), ("-c", "help")):
        result = run_cli_process(*args, config=missing)
        assert result.code == 0, (args, result.err)
    assert not missing.parent.exists()


def test_live_commands_register_the_process_unless_told_not_to(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox = fresh_sandbox
    config = sandbox.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3")
    path = tmp_path / "orchestrator.sqlite3"

    def health_rows() -> list[tuple[str, str]]:
        conn = sqlite3.connect(path)
        try:
            return [(str(r[0]), str(r[1])) for r in conn.execute("SELECT command, extra_info FROM node_health")]
        finally:
            conn.close()

    quiet = run_cli_process("--skip-continuous-registration", "-c", "discover", "-i", sandbox.key(0), config=config)
    assert quiet.code == 0, quiet.err
    assert health_rows() == []
    registered = run_cli_process("-c", "discover", "-i", sandbox.key(0), config=config)
    assert registered.code == 0, registered.err
    assert health_rows() == [("discover", "CLIMode")]
    # Backend-only commands from cron leave no trace in node_health.
    assert run_cli_process("-c", "register-candidate", "-i", sandbox.key(1), config=config).code == 0
    assert health_rows() == [("discover", "CLIMode")]


def test_entry_exits_with_the_command_s_code_and_all_its_output(tmp_path: Path) -> None:
    """`entry` skips the interpreter's teardown: every line still arrives, through a pipe or into a
    file, exit codes are the command's, and a run that loaded `logging` (--debug) exits as usual."""
    from orchestrator_cli import __version__
    from orchestrator_cli.backend import instances
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config

    config = sqlite_config(tmp_path)
    backend = Backend(load_config(str(config)))
    count = 3000  # far more output than a pipe's buffer holds
    instances.write_instances(
        backend, [{"hostname": f"db{i:04d}", "port": 3306, "cluster_name": f"db{i:04d}:3306"} for i in range(count)]
    )
    backend.close()
    expected = "".join(f"db{i:04d}:3306\n" for i in range(count))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # block-buffered, as under cron

    def run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        entry = "from orchestrator_cli.cli.main import entry; entry()"
        argv = [sys.executable, "-S", "-c", entry, f"--config={config}", *args]
        return subprocess.run(argv, text=True, timeout=120, cwd=ROOT, env=env, **kwargs)

    piped = run("-c", "clusters", capture_output=True)
    assert (piped.returncode, piped.stdout, piped.stderr) == (0, expected, "")
    with open(tmp_path / "out.txt", "w") as out:
        assert run("-c", "all-instances", stdout=out).returncode == 0
    assert (tmp_path / "out.txt").read_text() == expected
    unknown = run("-c", "topology", "-i", "nosuch:3306", capture_output=True)
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert unknown.stderr == "orchestrator: topology: cannot determine cluster: instance nosuch:3306 is unknown\n"
    version = run("--version", capture_output=True)  # print(): flushed by nobody but the exit
    assert version.returncode == 0 and version.stdout.startswith(__version__ + "\n")
    debug = run("--debug", "-c", "clusters", capture_output=True)
    assert debug.returncode == 0 and debug.stdout == expected and "clusters done in" in debug.stderr
