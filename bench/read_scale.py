"""Wall time, CPU time and peak memory of the fleet-wide reads at 1k, 10k and 50k instances.

Writes the synthetic fleet of `fleet_backend.py` (clusters of five, every 50th master dead) into a
fresh SQLite backend per size, then runs each command as a whole process `--runs` times (round-robin,
so a burst of load elsewhere hits all commands alike) and prints the median wall time, median CPU time
(user + system of the process) and the peak RSS (GNU time's %M, so the numbers are the command's own,
not this benchmark's):

- `replication-analysis`
- `clusters`
- `all-instances`
- `topology -i <first cluster's master>` (one cluster of five)

    .venv/bin/python bench/read_scale.py                          # 1000,10000,50000; median of 5
    .venv/bin/python bench/read_scale.py --sizes 10000 --runs 9
    .venv/bin/python bench/read_scale.py --exe /path/to/orchestrator   # another build (e.g. the original)

Before measuring, the package is byte-compiled (as an installed copy is): in a shell with
PYTHONDONTWRITEBYTECODE set, or a tree whose .pyc files are stale, every run would otherwise compile
its modules again (~0.1 s of CPU per `replication-analysis` on the bench machine), which no installed
orchestrator pays. A wall time far above the CPU time is the machine's load (the process waiting for a
core), not the command: `bench/wall_split.py` splits one run's wall time into on-CPU, waiting for a
CPU and blocked.

The cost must grow linearly with the fleet: compare the per-1k figures across sizes. Not a test:
numbers depend on the machine and its load; compare runs made on the same machine.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet_backend import sqlite_fleet  # noqa: E402  (bench/ is not a package)

GNU_TIME = "/usr/bin/time"
COMMANDS = ("replication-analysis", "clusters", "all-instances", "topology")


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_kib: int


def run_once(argv: list[str]) -> Sample:
    """One run of `argv`; a failing command stops the benchmark (it is never reported as fast).

    Peak RSS comes from GNU time: a child forked from this Python process would otherwise inherit
    this process's high-water mark across exec.
    """
    with tempfile.NamedTemporaryFile() as rss, tempfile.TemporaryFile() as err:
        timed = [GNU_TIME, "-f", "%M", "-o", rss.name, *argv] if os.access(GNU_TIME, os.X_OK) else argv
        started = time.perf_counter()
        proc = subprocess.Popen(timed, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed: {err.read().decode(errors='replace').strip()}")
        kib = int(Path(rss.name).read_text().split()[-1]) if timed is not argv else usage.ru_maxrss
    return Sample(wall, usage.ru_utime + usage.ru_stime, kib)


def command_argv(command: str, first_cluster: str) -> list[str]:
    if command == "topology":
        return ["-c", "topology", "-i", first_cluster]
    return ["-c", command]


def default_executable() -> str:
    entry = Path(sys.executable).parent / "orchestrator"
    return str(entry) if entry.exists() else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="fleet sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="runs per command and size (median reported)")
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument("--exe", default=default_executable(), help="orchestrator executable (default: this venv's)")
    parser.add_argument("--keep", type=Path, help="write the fleets under this directory and keep them")
    args = parser.parse_args()
    if not args.exe:
        parser.error("no orchestrator executable found; pass --exe")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    unknown = sorted(set(commands) - set(COMMANDS))
    if unknown:
        parser.error(f"unknown command(s): {', '.join(unknown)}; expected some of {', '.join(COMMANDS)}")

    compileall.compile_dir(ROOT / "orchestrator_cli", quiet=1)  # see the module docstring
    print(f"executable {args.exe}; median of {args.runs}; load average {os.getloadavg()[0]:.2f}")
    print("| instances | command | wall s | cpu s | peak MiB | wall ms per 1k |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="read-scale-") as tmp:
        root = args.keep or Path(tmp)
        for size in sizes:
            config, fleet = sqlite_fleet(root / f"fleet-{size}", size)
            base = [args.exe, "--config", str(config)]
            master = fleet.first_cluster
            run_once(base + command_argv("clusters", master))  # warm the page cache and the schema check
            samples: dict[str, list[Sample]] = {c: [] for c in commands}
            for _ in range(args.runs):
                for command in commands:
                    samples[command].append(run_once(base + command_argv(command, master)))
            for command in commands:
                taken = samples[command]
                wall = statistics.median(s.wall for s in taken)
                cpu = statistics.median(s.cpu for s in taken)
                mib = statistics.median(s.rss_kib for s in taken) / 1024
                label = "topology -i" if command == "topology" else command
                print(
                    f"| {size} | `{label}` | {wall:.3f} | {cpu:.3f} | {mib:.1f} | {wall * 1000 / (size / 1000):.1f} |",
                    flush=True,
                )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
