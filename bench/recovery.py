"""Time a master failover on a local MariaDB sandbox, from SIGKILL to a writable successor that all
surviving replicas replicate from (not a test).

Modes:

* `recover` (default): `orchestrator -c recover -i <master>` is started as its own process right
  after the kill, as an operator's shell or an alerting hook would: start-up, live re-probe, analysis,
  regroup and promotion all count.
* `continuous`: `orchestrator -c continuous` runs before the kill with InstancePollSeconds set by
  `--poll`; detection by polling counts too. The original's continuous mode takes about 6.2 s at its
  default 5 s poll and 2.2 s at 1 s.

A poller thread checks the servers every 10 ms and stamps the moment the new topology is complete
(one writable root other than the killed master, every live replica running replication from it).
Each run uses a fresh backend and a rebuilt sandbox.

    .venv/bin/python bench/recovery.py --runs 5
    .venv/bin/python bench/recovery.py --mode continuous --poll 5 --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator_cli.sandbox.topology import Sandbox  # noqa: E402  (needs the sys.path entry above)

POLL_SECONDS = 0.01


def orchestrator(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator_cli", f"--config={config}", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def topology_complete(sb: Sandbox, dead: int) -> bool:
    """One writable root (not the dead master) and every live replica running replication from it."""
    try:
        roots, parents = [], {}
        for i in range(sb.size):
            if i == dead:
                continue
            rows = sb.query(i, "SHOW SLAVE STATUS")
            if not rows:
                roots.append(i)
                continue
            status = rows[0]
            if status["Slave_IO_Running"] != "Yes" or status["Slave_SQL_Running"] != "Yes":
                return False
            parents[i] = sb.index_of(int(status["Master_Port"]))
        if len(roots) != 1:
            return False
        root = roots[0]
        if int(sb.query(root, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"]):
            return False
        return all(p == root for p in parents.values())
    except Exception:  # a server mid-change (or the poller racing a restart) just means "not yet"
        return False


def watch(sb: Sandbox, dead: int, done: threading.Event, stamp: list[float]) -> None:
    while not done.is_set():
        if topology_complete(sb, dead):
            stamp.append(time.monotonic())
            return
        time.sleep(POLL_SECONDS)


def one_run(sb: Sandbox, work: Path, mode: str, poll: int, index: int) -> tuple[float, float]:
    """(seconds from kill to complete topology, seconds the recover process took or 0)."""
    sb.reset_replication()
    run_dir = work / f"run{index}"
    run_dir.mkdir()
    config = sb.write_config(
        run_dir / "orchestrator.conf.json",
        run_dir / "orchestrator.sqlite3",
        InstancePollSeconds=poll,
        RecoverMasterClusterFilters=[".*"],
    )
    discovered = subprocess.run(
        [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "-c", "discover", "-i", sb.key(0)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if discovered.returncode != 0:
        raise SystemExit(f"discover failed: {discovered.stderr}")
    daemon = None
    if mode == "continuous":
        daemon = orchestrator(config, "-c", "continuous", "--duration", "10m")
        time.sleep(3 * poll)  # elected, discovered, past its start-up
    done, stamp = threading.Event(), list[float]()
    poller = threading.Thread(target=watch, args=(sb, 0, done, stamp), daemon=True)
    sb.kill(0)
    killed = time.monotonic()
    poller.start()
    recover_seconds = 0.0
    try:
        if mode == "recover":
            proc = orchestrator(config, "-c", "recover", "-i", sb.key(0))
            out, err = proc.communicate(timeout=120)
            recover_seconds = time.monotonic() - killed
            if proc.returncode != 0:
                raise SystemExit(f"recover failed ({proc.returncode}): {err}")
        poller.join(timeout=120)
    finally:
        done.set()
        if daemon is not None:
            daemon.terminate()
            daemon.communicate(timeout=60)
    if not stamp:
        raise SystemExit("the topology never completed")
    return stamp[0] - killed, recover_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mode", choices=("recover", "continuous"), default="recover")
    parser.add_argument("--poll", type=int, default=5, help="InstancePollSeconds (continuous mode)")
    parser.add_argument("--json", action="store_true", help="print the samples as JSON too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="orch-bench-recovery-") as tmp:
        work = Path(tmp)
        sb = Sandbox(servers=4, layout="star", gtid=True, base_dir=work / "sandbox")
        sb.start()
        try:
            samples = [one_run(sb, work, args.mode, args.poll, i) for i in range(args.runs)]
        finally:
            sb.stop()
    totals = [s[0] for s in samples]
    label = "recover" if args.mode == "recover" else f"continuous, InstancePollSeconds={args.poll}"
    print(f"mode: {label}; runs: {len(totals)}")
    print("kill -> writable successor, all replicas attached: " + ", ".join(f"{t:.2f}s" for t in totals))
    print(f"median {statistics.median(totals):.2f}s, min {min(totals):.2f}s, max {max(totals):.2f}s")
    if args.mode == "recover":
        procs = [s[1] for s in samples]
        print(f"recover process (kill -> exit) median {statistics.median(procs):.2f}s")
    if args.json:
        print(json.dumps({"mode": label, "seconds": totals}))


if __name__ == "__main__":
    main()
