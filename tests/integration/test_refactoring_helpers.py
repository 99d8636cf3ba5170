"""Helpers shared by the refactoring integration tests (this module holds no tests itself)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from orchestrator_cli.topology.env import STOP_AT_ENV
from tests.support import ROOT, Result, run_cli


class Cluster:
    """A sandbox plus an orchestrator config with its own SQLite backend, driven through the CLI."""

    def __init__(self, sandbox: Sandbox, tmp_path: Path, **config: Any) -> None:
        self.sandbox = sandbox
        self.config = sandbox.write_config(
            tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3", **config
        )

    def key(self, i: int) -> str:
        return self.sandbox.key(i)

    def cli(self, *args: str) -> Result:
        return run_cli(*args, config=self.config)

    def ok(self, *args: str) -> Result:
        result = self.cli(*args)
        assert result.code == 0, f"{args}: exit {result.code}: {result.err}"
        return result

    def refused(self, *args: str) -> Result:
        """The command fails with exit 1, one clear stderr line, nothing on stdout."""
        result = self.cli(*args)
        assert result.code == 1, f"{args}: expected exit 1, got {result.code}: {result.out} {result.err}"
        assert result.out == ""
        assert len(result.err.strip().splitlines()) == 1, result.err
        return result

    def discover(self) -> None:
        self.ok("-c", "discover", "-i", self.key(self.sandbox.current_master()))

    def backend_parents(self) -> dict[int, int | None]:
        """What `topology` (the backend view) says each server replicates from."""
        rows = self.ok("-c", "topology", "-i", self.key(0), "--format", "json").json()
        parents: dict[int, int | None] = {}
        for row in rows:
            master = row["MasterKey"]
            parents[self.sandbox.index_of(row["Key"])] = self.sandbox.index_of(master) if master else None
        return parents

    def audit(self, audit_type: str) -> list[dict[str, Any]]:
        """Audit rows of one type, newest first."""
        from orchestrator_cli.backend import audit
        from orchestrator_cli.backend.connection import Backend
        from orchestrator_cli.config import load_config

        backend = Backend(load_config(str(self.config)))
        try:
            return [r for r in audit.read_audit(backend, limit=1000) if r["audit_type"] == audit_type]
        finally:
            backend.close()

    def maintenance_rows(self) -> list[dict[str, Any]]:
        from orchestrator_cli.backend.connection import Backend
        from orchestrator_cli.config import load_config

        backend = Backend(load_config(str(self.config)))
        try:
            return backend.query("SELECT * FROM database_instance_maintenance WHERE maintenance_active = 1")
        finally:
            backend.close()

    def assert_topology(self, expected: dict[int, int | None]) -> None:
        """The servers replicate as `expected`, the backend agrees, and a new row reaches everyone."""
        sandbox = self.sandbox
        assert sandbox.replication_parents() == expected
        assert self.backend_parents() == expected
        for i in expected:
            status = sandbox.replica_status(i)
            if expected[i] is not None:
                assert status is not None
                assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("Yes", "Yes"), status
        value = sandbox.write_row()
        sandbox.wait_replicated()
        assert [sandbox.count_rows(i, value) for i in expected] == [1] * len(expected)


@contextlib.contextmanager
def writes_during(sandbox: Sandbox, every_fifth: Callable[[], None] | None = None) -> Iterator[list[str]]:
    """Keep writing rows on server 0 while the body runs; yields the list of values written.

    `every_fifth` runs after every fifth row (the Pseudo-GTID tests inject an entry there)."""
    stop = threading.Event()
    written: list[str] = []

    def writer() -> None:
        while not stop.is_set():
            written.append(sandbox.write_row(i=0))
            if every_fifth is not None and len(written) % 5 == 0:
                every_fifth()
            stop.wait(0.003)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        yield written
    finally:
        stop.set()
        thread.join()


class Frozen:
    """A CLI process frozen (SIGSTOP) right after one step of a topology operation.

    The operation executor stops itself there when ``ORCHESTRATOR_TEST_STOP_AT`` names the step;
    the test then changes the world (kills a server, runs another command) and either resumes the
    process or kills it with SIGKILL, as a crash would.
    """

    def __init__(self, config: Path, step: str, key: str, *args: str, timeout: float = 60.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orchestrator_cli", f"--config={config}", *args],
            cwd=ROOT,
            env={**os.environ, STOP_AT_ENV: f"{step}@{key}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + timeout
        while self._state() != "T":
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                out, err = self.proc.communicate()
                pytest.fail(f"{args} never reached {step}@{key} (exit {self.proc.returncode}): {out} {err}")
            time.sleep(0.02)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _state(self) -> str:
        try:
            return Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return ""

    def resume(self, timeout: float = 120.0) -> Result:
        self.proc.send_signal(signal.SIGCONT)
        out, err = self.proc.communicate(timeout=timeout)
        return Result(self.proc.returncode, out, err)

    def kill_9(self) -> None:
        """SIGKILL: no clean-up, no lock release, no restart of what it stopped."""
        self.proc.kill()
        self.proc.communicate()


@contextlib.contextmanager
def general_log(sandbox: Sandbox, *servers: int) -> Iterator[dict[int, list[str]]]:
    """What each of `servers` received from clients while the body ran, in order (its general log).

    The dict yielded is filled when the body ends. The log goes to a table for the time being; the
    test's own statements run with sql_log_bin off so they do not become errant transactions.
    """
    quiet = "SET SESSION sql_log_bin = 0"
    received: dict[int, list[str]] = {}
    for i in servers:
        sandbox.execute(
            i, quiet, "SET GLOBAL log_output = 'TABLE'", "TRUNCATE mysql.general_log", "SET GLOBAL general_log = 1"
        )
    try:
        yield received
    finally:
        for i in servers:
            sandbox.execute(i, "SET GLOBAL general_log = 0")
            rows = sandbox.query(i, "SELECT argument FROM mysql.general_log WHERE command_type = 'Query'")
            sandbox.execute(i, quiet, "TRUNCATE mysql.general_log", "SET GLOBAL log_output = 'FILE'")
            texts = [r["argument"].decode() if isinstance(r["argument"], bytes) else str(r["argument"]) for r in rows]
            received[i] = [t for t in texts if "general_log" not in t]


def changes_of(statements: list[str]) -> list[str]:
    """The CHANGE MASTER statements among `statements` (as logged, or as printed by --noop)."""
    return [s.split(": ", 1)[-1] if ": CHANGE" in s else s for s in statements if "CHANGE MASTER" in s]


def using_gtid(sandbox: Sandbox, *servers: int) -> dict[int, str]:
    """Each server's Using_Gtid ("" when it replicates from nobody)."""
    return {i: str((sandbox.replica_status(i) or {}).get("Using_Gtid", "")) for i in servers}
