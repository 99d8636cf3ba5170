"""Time `orchestrator -c relocate` there and back on a local MariaDB sandbox (not a test).

Each move is its own process, as cron or an operator's shell runs it: start-up, config, backend,
live reads, locks, the statements, audit and backend refresh all count. The original's equivalent
pair (relocate a replica below a sibling and back) takes about 102 ms.

    .venv/bin/python bench/relocate.py --runs 20            # MariaDB GTID
    .venv/bin/python bench/relocate.py --runs 20 --file-pos # file:pos (move-below, then equivalence/move-up)
    .venv/bin/python bench/relocate.py --profile            # where one relocate spends its time
"""

from __future__ import annotations

import argparse
import compileall
import cProfile
import os
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator_cli.sandbox.topology import Sandbox  # noqa: E402  (needs the sys.path entry above)

CPU: list[float] = []  # user+system seconds of each orchestrator process, in run order


def orchestrator(config: Path, *args: str) -> float:
    """Run one CLI process; returns its wall time in seconds (fails loudly on a non-zero exit).

    Its CPU time (user + system) is appended to CPU: on a busy machine wall time mostly measures
    the neighbours, CPU time still measures this program.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator_cli", f"--config={config}", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"orchestrator {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def profile_one(config: Path, replica: str, destination: str, top: int) -> None:
    """cProfile one in-process relocate (imports included) and print what dominates."""
    from orchestrator_cli.cli.main import main

    profiler = cProfile.Profile()
    profiler.enable()
    code = main([f"--config={config}", "-c", "relocate", "-i", replica, "-d", destination])
    profiler.disable()
    if code != 0:
        raise SystemExit(f"profiled relocate failed with exit {code}")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)


def import_times(config: Path, replica: str, destination: str, top: int) -> None:
    """-X importtime of one relocate process: the slowest top-level imports."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "orchestrator_cli", f"--config={config}", "-c", "relocate",
         "-i", replica, "-d", destination],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) <= 1:
            rows.append((int(m.group(2)), m.group(4)))
    total = sum(us for us, _ in rows)
    print(f"top-level imports: {total / 1000:.0f} ms in total")
    for us, name in sorted(rows, reverse=True)[:top]:
        print(f"  {us / 1000:7.1f} ms  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="round trips to time (default 10)")
    parser.add_argument("--file-pos", action="store_true", help="sandbox without GTID (file:pos moves)")
    parser.add_argument("--profile", action="store_true", help="also cProfile one relocate and show imports")
    parser.add_argument("--top", type=int, default=25, help="rows of profile output")
    args = parser.parse_args()

    # an installed copy has byte-compiled modules; a tree whose .pyc files are stale (or a shell with
    # PYTHONDONTWRITEBYTECODE set) would otherwise recompile every changed module in every process
    compileall.compile_dir(ROOT / "orchestrator_cli", quiet=1)
    with tempfile.TemporaryDirectory(prefix="orch-bench-") as tmp:
        sandbox = Sandbox(servers=3, layout="star", gtid=not args.file_pos, base_dir=Path(tmp) / "sandbox")
        with sandbox:
            config = sandbox.write_config(Path(tmp) / "orchestrator.conf.json", Path(tmp) / "orchestrator.sqlite3")
            master, replica, sibling = sandbox.keys
            orchestrator(config, "-c", "discover", "-i", master)
            floor = statistics.median(orchestrator(config, "-c", "which-master", "-i", replica) for _ in range(5))
            floor_cpu = statistics.median(CPU[-5:])
            del CPU[:]
            there, back, pairs = [], [], []
            for _ in range(args.runs):
                t1 = orchestrator(config, "-c", "relocate", "-i", replica, "-d", sibling)
                t2 = orchestrator(config, "-c", "relocate", "-i", replica, "-d", master)
                there.append(t1)
                back.append(t2)
                pairs.append(t1 + t2)
            assert sandbox.replication_parents() == {0: None, 1: 0, 2: 0}
            mode = "file:pos" if args.file_pos else "MariaDB GTID"
            print(f"relocate there and back, {mode}, {args.runs} runs, one process per move (CPUs: {os.cpu_count()})")
            print(f"  pair median  {ms(statistics.median(pairs))}  (min {ms(min(pairs))}, max {ms(max(pairs))})")
            print(f"  below sibling median {ms(statistics.median(there))}, back {ms(statistics.median(back))}")
            print(f"  CPU time of one relocate process: median {ms(statistics.median(CPU))}")
            print(f"  backend-only command (which-master): median {ms(floor)}, CPU {ms(floor_cpu)} (start-up floor)")
            print(f"  load average while running: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
            if args.profile:
                import_times(config, replica, sibling, args.top)
                orchestrator(config, "-c", "relocate", "-i", replica, "-d", master)
                profile_one(config, replica, sibling, args.top)


if __name__ == "__main__":
    main()
