"""SIGHUP makes a running `continuous` apply its config file again: after the topology user's password
changed on the servers and in the file, its probes connect with the new one; a changed backend file
is not followed (it needs a restart, and the log says so)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.integration.test_recovery_continuous import stop
from tests.support import ROOT

USER = "orch_reload"


def _all_servers(sb: Sandbox, *statements: str) -> None:
    for i in range(len(sb.ports)):
        sb.execute(i, "SET SESSION sql_log_bin = 0", *statements)


@pytest.fixture
def sandbox_with_user(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The star, with a topology user of its own (password `one`) on every server, dropped after."""
    for host in ("%", "localhost"):
        _all_servers(
            fresh_sandbox,
            f"CREATE OR REPLACE USER '{USER}'@'{host}' IDENTIFIED BY 'one'",
            f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'{host}'",
        )
    yield fresh_sandbox
    _all_servers(fresh_sandbox, f"DROP USER IF EXISTS '{USER}'@'%'", f"DROP USER IF EXISTS '{USER}'@'localhost'")


def start_continuous(config: Path, log: Path) -> subprocess.Popen[str]:
    """`continuous` at --verbose (the reload is logged at INFO, the keys it cannot apply at WARNING),
    its stderr into a file (a pipe nobody reads while it runs could fill up and stop it)."""
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "--verbose", "-c", "continuous"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )


def _probe_state(backend: Path) -> dict[int, tuple[bool, str]]:
    """port -> (last check succeeded, last_seen) of every instance row."""
    try:
        with sqlite3.connect(backend) as conn:
            rows = conn.execute(
                "SELECT port, last_seen IS NOT NULL AND last_checked <= last_seen, COALESCE(last_seen, '')"
                " FROM database_instance"
            ).fetchall()
    except sqlite3.OperationalError:  # not deployed yet
        return {}
    return {int(port): (bool(valid), str(seen)) for port, valid, seen in rows}


def _now(backend: Path) -> str:
    with sqlite3.connect(backend) as conn:
        return str(conn.execute("SELECT datetime('now')").fetchone()[0])


def test_sighup_applies_a_new_topology_password(
    sandbox_with_user: Sandbox, tmp_path: Path, wait_until: Callable[..., object]
) -> None:
    sb = sandbox_with_user
    backend = tmp_path / "orchestrator.sqlite3"
    config = sb.write_config(
        tmp_path / "orchestrator.conf.json",
        backend,
        InstancePollSeconds=1,
        DiscoverySeeds=[sb.key(0)],
        MySQLTopologyUser=USER,
        MySQLTopologyPassword="one",
    )
    ports = set(sb.ports)
    log = tmp_path / "continuous.log"
    proc = start_continuous(config, log)
    try:
        wait_until(
            lambda: set(_probe_state(backend)) == ports and all(v for v, _ in _probe_state(backend).values()),
            timeout=60,
            message="every server probed with the first password",
        )
        # The password changes on the servers; the daemon's open connections are cut, so its next
        # probes must log in again: with the old password they fail.
        _all_servers(
            sb, f"ALTER USER '{USER}'@'%' IDENTIFIED BY 'two'", f"ALTER USER '{USER}'@'localhost' IDENTIFIED BY 'two'"
        )
        for i in range(len(sb.ports)):
            for row in sb.query(i, f"SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '{USER}'"):
                sb.execute(i, f"KILL {int(row['ID'])}")
        wait_until(
            lambda: not any(v for v, _ in _probe_state(backend).values()),
            timeout=60,
            message="every probe failing with the old password",
        )
        changed = _now(backend)

        values = json.loads(config.read_text())
        values["MySQLTopologyPassword"] = "two"
        values["SQLite3DataFile"] = str(tmp_path / "elsewhere.sqlite3")  # needs a restart: not followed
        config.write_text(json.dumps(values))
        proc.send_signal(signal.SIGHUP)
        wait_until(
            lambda: all(v and seen > changed for v, seen in _probe_state(backend).values()),
            timeout=60,
            message="every server probed with the new password after SIGHUP",
        )
        assert set(_probe_state(backend)) == ports
        assert not (tmp_path / "elsewhere.sqlite3").exists()
    finally:
        code, _, _ = stop(proc)
    err = log.read_text()
    assert code == 0, err
    assert "configuration reloaded; these changes need a restart to take effect: SQLite3DataFile" in err
