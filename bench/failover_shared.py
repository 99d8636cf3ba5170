"""Time automated failover in continuous mode for a killed or a hung master, on SQLite with one
daemon or on a shared MySQL backend with several daemons (not a test).

Each round: the 4-server sandbox is rewired to a GTID star, a fresh backend is made (a SQLite file,
or a throw-away database on the MySQL server at --mysql-host:--mysql-port that is dropped after
the round), the master is discovered, `--daemons` `orchestrator -c continuous` processes start
and are given time to elect a leader and discover the topology, then the master is killed
(`kill -9`) or hung (`SIGSTOP`: its port stays open, nothing answers) at a random phase of the poll
cycle, right after a write (so the replicas' IO threads see the master's silence only after
`slave_net_timeout`, 4 s in the sandbox). A poller stamps the moment one other server is writable
and every other live server replicates from it.

For `--failure hang` the paused master is resumed (SIGCONT) after the failover and the time until
it reports read_only=1 (fenced by the leader) is reported too; a paused master that comes back
writable is reported as such.

    .venv/bin/python bench/failover_shared.py --failure hang --backend sqlite --daemons 1 --poll 1 --runs 5
    .venv/bin/python bench/failover_shared.py --failure kill --backend mysql --daemons 3 --poll 1 --runs 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.recovery import topology_complete  # noqa: E402  (needs the sys.path entry above)
from orchestrator_cli.sandbox.topology import Sandbox  # noqa: E402
from tests.support import throwaway_mysql_database  # noqa: E402

POLL_SECONDS = 0.01
FENCE_WAIT_SECONDS = 15.0


def daemon(config: Path, tree: Path, log: Path) -> subprocess.Popen[str]:
    out = open(log, "w")  # noqa: SIM115  (closed with the process)
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "--verbose", "-c", "continuous",
         "--duration", "10m"],
        cwd=tree, stdout=subprocess.DEVNULL, stderr=out, text=True,
    )  # fmt: skip


@contextlib.contextmanager
def backend(kind: str, run_dir: Path, host: str, port: int) -> Iterator[dict[str, Any]]:
    if kind == "sqlite":
        yield {}
        return
    with throwaway_mysql_database(host, port, prefix="orch_bench") as keys:
        yield keys


def read_only(sb: Sandbox, i: int) -> int | None:
    try:
        return int(sb.query(i, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"])
    except Exception:  # not answering yet
        return None


def one_round(sb: Sandbox, work: Path, args: argparse.Namespace, index: int) -> dict[str, Any]:
    sb.reset_replication()
    run_dir = work / f"run{index}"
    run_dir.mkdir()
    with backend(args.backend, run_dir, args.mysql_host, args.mysql_port) as keys:
        config = sb.write_config(
            run_dir / "orchestrator.conf.json",
            run_dir / "orchestrator.sqlite3",
            InstancePollSeconds=args.poll,
            RecoverMasterClusterFilters=[".*"],
            **({"ShareDiscoveryAmongNodes": True} if args.share_discovery else {}),  # older trees lack the key
            **keys,
        )
        discovered = subprocess.run(
            [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "-c", "discover", "-i", sb.key(0)],
            cwd=args.tree, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if discovered.returncode != 0:
            raise SystemExit(f"discover failed: {discovered.stderr}")
        daemons = [daemon(config, args.tree, run_dir / f"daemon{n}.log") for n in range(args.daemons)]
        result: dict[str, Any] = {"seconds": None, "fenced": None}
        try:
            time.sleep(max(6.0, 3 * args.poll + 2))  # elected, discovered, past start-up
            time.sleep(random.uniform(0, args.poll))  # any phase of the poll cycle
            sb.write_row(i=0)
            sb.wait_replicated()
            done, stamp = threading.Event(), list[float]()
            poller = threading.Thread(target=_watch, args=(sb, done, stamp), daemon=True)
            if args.failure == "kill":
                sb.kill(0)
            else:
                sb.pause(0)
            failed_at = time.monotonic()
            poller.start()
            poller.join(timeout=args.timeout)
            done.set()
            if stamp:
                result["seconds"] = stamp[0] - failed_at
            if args.failure == "hang":
                sb.resume(0)
                resumed = time.monotonic()
                while time.monotonic() - resumed < FENCE_WAIT_SECONDS:
                    if read_only(sb, 0) == 1:
                        result["fenced"] = time.monotonic() - resumed
                        break
                    time.sleep(POLL_SECONDS * 10)
                result["writable_at_end"] = read_only(sb, 0) == 0
        finally:
            for proc in daemons:
                proc.terminate()
            for proc in daemons:
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if args.failure == "hang":
                sb.resume(0)
    if args.keep_logs:
        for log in sorted(run_dir.glob("daemon*.log")):
            target = Path(args.keep_logs) / f"run{index}-{log.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(log.read_text())
    return result


def _watch(sb: Sandbox, done: threading.Event, stamp: list[float]) -> None:
    while not done.is_set():
        if topology_complete(sb, 0):
            stamp.append(time.monotonic())
            return
        time.sleep(POLL_SECONDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--failure", choices=("kill", "hang"), default="kill")
    parser.add_argument("--backend", choices=("sqlite", "mysql"), default="sqlite")
    parser.add_argument("--daemons", type=int, default=1)
    parser.add_argument("--poll", type=int, default=1, help="InstancePollSeconds")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60.0, help="a round without failover by then counts as failed")
    parser.add_argument("--mysql-host", default="127.0.0.1")
    parser.add_argument("--mysql-port", type=int, default=3306)
    parser.add_argument("--tree", type=Path, default=ROOT, help="source tree the daemons run from (for before/after)")
    parser.add_argument("--keep-logs", default="", help="copy the daemons' logs to this directory")
    parser.add_argument("--json", action="store_true", help="print the samples as JSON too")
    parser.add_argument(
        "--share-discovery", action="store_true", help="ShareDiscoveryAmongNodes: the daemons split the probing"
    )
    args = parser.parse_args()
    if args.backend == "sqlite" and args.daemons != 1:
        parser.error("several daemons need the shared MySQL backend (--backend mysql)")
    with tempfile.TemporaryDirectory(prefix="orch-bench-failover-") as tmp:
        work = Path(tmp)
        sb = Sandbox(servers=4, layout="star", gtid=True, base_dir=work / "sandbox")
        sb.start()
        try:
            rounds = [one_round(sb, work, args, i) for i in range(args.runs)]
        finally:
            for i in range(sb.size):
                with contextlib.suppress(Exception):
                    sb.resume(i)
            sb.stop()
    label = f"{args.failure}, {args.backend} backend, {args.daemons} daemon(s), InstancePollSeconds={args.poll}"
    if args.share_discovery:
        label += ", shared discovery"
    print(f"{label}; runs: {len(rounds)}; tree: {os.path.relpath(args.tree, Path.cwd())}")
    times = [r["seconds"] for r in rounds]
    print("failure -> writable successor, all replicas attached: "
          + ", ".join("none" if t is None else f"{t:.2f}s" for t in times))  # fmt: skip
    done = [t for t in times if t is not None]
    if done:
        print(f"median {statistics.median(done):.2f}s, min {min(done):.2f}s, max {max(done):.2f}s"
              f" ({len(times) - len(done)} round(s) without failover within {args.timeout:.0f}s)")  # fmt: skip
    if args.failure == "hang":
        fenced = [r["fenced"] for r in rounds]
        print("resumed old master -> read_only=1: "
              + ", ".join("never" if f is None else f"{f:.2f}s" for f in fenced))  # fmt: skip
        print(f"old master writable at the end: {sum(1 for r in rounds if r.get('writable_at_end'))} of {len(rounds)}")
    if args.json:
        print(json.dumps({"label": label, "rounds": rounds}))


if __name__ == "__main__":
    main()
