"""Leader election of several `-c continuous` daemons on one MariaDB backend (not a test).

Measures, over a local 4-server sandbox whose replica 3 is killed so that probes keep failing:

* leadership changes while the leader lives, over `--observe` seconds per run: changes of the
  `active_node` term (hostname, token, first_seen_active, polled every 50 ms) plus every
  "elected" / "not the active node" line the daemons log (a node can step down in its own eyes while
  the row still names it, which is how the lease flapped before); the target is 0;
* leader `kill -9` -> another daemon holds the lease: from the SIGKILL to the moment `active_node`
  names another process. The lease is 5 s (ActiveNodeExpireSeconds, judged on the backend's
  one-second clock), so the expected figure is 5-7 s; the target is "lease + 1 s".

Each run kills the current leader and starts a replacement daemon, so `--daemons` keep running.
The backend is a throw-away database on the MariaDB at 127.0.0.1:3306 (root, no password).

    .venv/bin/python bench/leader_failover.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator_cli.sandbox.topology import Sandbox  # noqa: E402  (needs the sys.path entry above)

POLL_SECONDS = 0.05
BACKEND = ("127.0.0.1", 3306)


def admin(statement: str) -> None:
    import mysql.connector

    conn = mysql.connector.connect(host=BACKEND[0], port=BACKEND[1], user="root", password="", autocommit=True)
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


class Term:
    """Reads the current lease term on its own connection."""

    def __init__(self, database: str) -> None:
        import mysql.connector

        self.conn = mysql.connector.connect(
            host=BACKEND[0], port=BACKEND[1], user="root", password="", database=database, autocommit=True
        )

    def __call__(self) -> tuple[str, str, str] | None:
        cur = self.conn.cursor()
        try:
            cur.execute("SELECT hostname, token, first_seen_active FROM active_node WHERE anchor = 1")
            row: Any = cur.fetchone()
        except Exception:  # schema not deployed yet
            return None
        finally:
            cur.close()
        if not row or not row[0]:
            return None
        return str(row[0]), str(row[1]), str(row[2])


class Daemon:
    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self._err = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "--verbose", "-c", "continuous",
             "--duration", "1h"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self._err, text=True,
        )  # fmt: skip

    def elections(self) -> int:
        return self.log.read_text().count("elected: this node runs discovery and recovery")

    def flips(self) -> int:
        text = self.log.read_text()
        return text.count("elected: this node runs discovery and recovery") + text.count("not the active node")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()


def wait(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"timed out waiting for {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--daemons", type=int, default=3)
    parser.add_argument("--observe", type=float, default=20.0, help="seconds watched for changes per run")
    parser.add_argument("--poll", type=int, default=1, help="InstancePollSeconds")
    parser.add_argument("--json", action="store_true", help="print the samples as JSON too")
    args = parser.parse_args()
    database = f"orch_bench_leader_{os.getpid()}_{secrets.token_hex(3)}"
    admin(f"CREATE DATABASE `{database}`")
    daemons: list[Daemon] = []
    takeovers: list[float] = []
    changes: list[int] = []
    try:
        with tempfile.TemporaryDirectory(prefix="orch-bench-leader-") as tmp:
            work = Path(tmp)
            sb = Sandbox(servers=4, layout="star", gtid=True, base_dir=work / "sandbox")
            sb.start()
            try:
                config = sb.write_config(
                    work / "orchestrator.conf.json",
                    work / "unused.sqlite3",
                    BackendDB="mysql",
                    MySQLOrchestratorHost=BACKEND[0],
                    MySQLOrchestratorPort=BACKEND[1],
                    MySQLOrchestratorDatabase=database,
                    MySQLOrchestratorUser="root",
                    MySQLOrchestratorPassword="",
                    InstancePollSeconds=args.poll,
                )
                subprocess.run(
                    [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "-c", "discover", "-i",
                     sb.key(0)],
                    cwd=ROOT, check=True, capture_output=True,
                )  # fmt: skip
                sb.kill(3)  # its probes fail for the whole benchmark
                term = Term(database)
                for run in range(args.runs):
                    while len([d for d in daemons if d.alive()]) < args.daemons:
                        daemons.append(Daemon(config, work / f"daemon-{len(daemons)}.log"))
                    first = wait(term, 60, "a leader")
                    seen = {first}
                    flips = sum(d.flips() for d in daemons)
                    deadline = time.monotonic() + args.observe
                    while time.monotonic() < deadline:
                        now = term()
                        if now is not None:
                            seen.add(now)
                        time.sleep(POLL_SECONDS)
                    changes.append(len(seen) - 1 + sum(d.flips() for d in daemons) - flips)
                    current = term()
                    elected = [d for d in daemons if d.alive() and d.elections()]
                    leader = elected[-1] if elected else None
                    if leader is None or current is None:
                        raise SystemExit("no announced leader")
                    leader.proc.send_signal(signal.SIGKILL)
                    killed = time.monotonic()
                    leader.proc.wait()
                    wait(lambda c=current: (t := term()) is not None and t[1] != c[1], 60, "a new leader")
                    takeovers.append(time.monotonic() - killed)
                    print(f"run {run}: {changes[-1]} change(s) in {args.observe:.0f}s; new leader after"
                          f" {takeovers[-1]:.2f}s", flush=True)  # fmt: skip
                term.conn.close()
            finally:
                for d in daemons:
                    d.stop()
                sb.stop()
    finally:
        admin(f"DROP DATABASE IF EXISTS `{database}`")
    print(f"daemons: {args.daemons}; runs: {args.runs}; InstancePollSeconds={args.poll}; a replica's probes fail")
    print(f"leadership changes while the leader lives: {sum(changes)} in {args.runs * args.observe:.0f}s")
    print(
        f"leader kill -9 -> new leader: median {statistics.median(takeovers):.2f}s,"
        f" min {min(takeovers):.2f}s, max {max(takeovers):.2f}s"
    )
    if args.json:
        print(json.dumps({"changes": changes, "takeover_seconds": takeovers}))


if __name__ == "__main__":
    main()
