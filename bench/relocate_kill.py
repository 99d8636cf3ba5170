"""`kill -9` of `orchestrator -c relocate` at random moments, then one retry (not a test).

Each round starts a relocate of one replica (below its sibling, then back below the master, in
turn) as its own process, kills it with SIGKILL after a random delay between the end of the
start-up and the end of a usual relocate, and records what the kill left: replication stopped on some
server, maintenance locks still active. Then it runs the same relocate once more, as an operator
would, and records whether that retry succeeded and left the replica below the destination with
replication running and no lock behind. Rounds are independent: whatever a round leaves is cleaned
up before the next.

    .venv/bin/python bench/relocate_kill.py --kills 40
    .venv/bin/python bench/relocate_kill.py --kills 40 --source /path/to/other/checkout   # compare
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator_cli.sandbox.topology import Sandbox  # noqa: E402  (needs the sys.path entry above)


def command(source: Path, config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "orchestrator_cli", f"--config={config}", *args]


def run(source: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(source, config, *args), capture_output=True, text=True, cwd=source)


def active_locks(sqlite_file: Path) -> int:
    with sqlite3.connect(sqlite_file) as conn:
        return int(
            conn.execute("SELECT COUNT(*) FROM database_instance_maintenance WHERE maintenance_active = 1").fetchone()[
                0
            ]
        )


def running(sandbox: Sandbox, i: int) -> bool:
    status = sandbox.replica_status(i) or {}
    return (status.get("Slave_IO_Running"), status.get("Slave_SQL_Running")) == ("Yes", "Yes")


def any_stopped(sandbox: Sandbox) -> bool:
    """Some replica (the moved one, or a sibling or master a file:pos move stopped) does not replicate."""
    return any(sandbox.replica_status(i) and not running(sandbox, i) for i in range(len(sandbox.ports)))


def clean_up(sandbox: Sandbox, sqlite_file: Path) -> None:
    """Release every lock and start every stopped replica, so the next round starts clean."""
    with sqlite3.connect(sqlite_file) as conn:
        conn.execute("UPDATE database_instance_maintenance SET maintenance_active = NULL")
    for i in range(len(sandbox.ports)):
        if sandbox.replica_status(i) and not running(sandbox, i):
            sandbox.execute(i, "START SLAVE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--file-pos", action="store_true", help="sandbox without GTID (file:pos moves)")
    parser.add_argument("--source", type=Path, default=ROOT, help="checkout whose orchestrator_cli runs")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    source = args.source.resolve()

    with tempfile.TemporaryDirectory(prefix="orch-kill-") as tmp:
        sandbox = Sandbox(servers=4, layout="star", gtid=not args.file_pos, base_dir=Path(tmp) / "sandbox")
        with sandbox:
            sqlite_file = Path(tmp) / "orchestrator.sqlite3"
            config = sandbox.write_config(Path(tmp) / "orchestrator.conf.json", sqlite_file)
            k = sandbox.key
            if run(source, config, "-c", "discover", "-i", k(0)).returncode:
                raise SystemExit("discover failed")
            durations = []
            for destination in (1, 0, 1, 0):
                started = time.perf_counter()
                done = run(source, config, "-c", "relocate", "-i", k(3), "-d", k(destination))
                if done.returncode:
                    raise SystemExit(f"relocate failed: {done.stderr}")
                durations.append(time.perf_counter() - started)
            usual = statistics.median(durations)
            floors = []
            for _ in range(3):
                started = time.perf_counter()
                run(source, config, "-c", "which-master", "-i", k(3))
                floors.append(time.perf_counter() - started)
            floor = 0.8 * statistics.median(floors)  # start-up: a kill before it changes nothing

            seen: Counter[str] = Counter()
            first_errors: Counter[str] = Counter()
            for round_ in range(args.kills):
                destination = 1 if round_ % 2 == 0 else 0
                relocate = ("-c", "relocate", "-i", k(3), "-d", k(destination))
                proc = subprocess.Popen(
                    command(source, config, *relocate), cwd=source, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                time.sleep(rng.uniform(floor, usual))
                if proc.poll() is None:
                    seen["killed while running"] += 1
                proc.kill()
                proc.wait()
                seen["kill left replication stopped"] += any_stopped(sandbox)
                seen["kill left locks"] += active_locks(sqlite_file) > 0

                retry = run(source, config, *relocate)
                status = sandbox.replica_status(3) or {}
                at_destination = int(status.get("Master_Port") or 0) == sandbox.ports[destination]
                if retry.returncode:
                    seen["retry failed"] += 1
                    first_errors[retry.stderr.strip().splitlines()[-1][:110] if retry.stderr.strip() else "?"] += 1
                seen["after retry: not below destination"] += not at_destination
                seen["after retry: replication stopped"] += any_stopped(sandbox)
                seen["after retry: locks left"] += active_locks(sqlite_file) > 0
                clean_up(sandbox, sqlite_file)

            mode = "file:pos" if args.file_pos else "MariaDB GTID"
            print(
                f"{args.kills} kill -9 of relocate ({mode}) {floor * 1000:.0f}-{usual * 1000:.0f} ms after its start"
                f" (start-up to usual end), source {source}"
            )
            for what in (
                "killed while running",
                "kill left replication stopped",
                "kill left locks",
                "retry failed",
                "after retry: not below destination",
                "after retry: replication stopped",
                "after retry: locks left",
            ):
                print(f"  {what:38s} {seen[what]:3d} / {args.kills}")
            for error, count in first_errors.most_common(5):
                print(f"    {count:3d} x {error}")


if __name__ == "__main__":
    main()
