"""Where one command's wall time goes: on a CPU, waiting for a CPU (the run queue), or blocked.

Runs `orchestrator <args>` in this process (the CLI's own `main`, output discarded) and reads the
kernel's scheduler statistics for it (`/proc/self/schedstat`: time on a CPU, time runnable but waiting
for one). What is left of the wall time is time blocked: I/O, fsync, lock waits, sleeps. On a shared
2-core machine a `replication-analysis` at 10,000 instances showed 0.65 s on a CPU, 1.1 to 1.7 s
waiting for one and under 0.01 s blocked: its wall time above its CPU time was the other processes'
load, not a wait of its own.

    .venv/bin/python bench/wall_split.py --config /tmp/fleet10k/orchestrator.conf.json -c replication-analysis
    .venv/bin/python bench/wall_split.py --runs 5 --config ... -c clusters

The first run includes the command's imports; later runs reuse them. Linux only (schedstat).
Not a test: the split depends on the machine's load.
"""

from __future__ import annotations

import contextlib
import gc
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _schedstat() -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for a CPU) of this thread so far."""
    on_cpu, waiting, _slices = Path("/proc/thread-self/schedstat").read_text().split()
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def main() -> int:
    argv = sys.argv[1:]
    runs = 1
    if argv[:1] == ["--runs"]:
        runs, argv = int(argv[1]), argv[2:]
    if not argv:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        print("usage: wall_split.py [--runs N] <orchestrator arguments>", file=sys.stderr)
        return 2
    gc.disable()  # as the CLI's entry point does
    from orchestrator_cli.cli.main import main as orchestrator_main

    for _ in range(runs):
        cpu0, wait0 = _schedstat()
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = orchestrator_main(list(argv))
        wall = time.perf_counter() - started
        cpu1, wait1 = _schedstat()
        on_cpu, waiting = cpu1 - cpu0, wait1 - wait0
        blocked = max(0.0, wall - on_cpu - waiting)
        print(
            f"exit {code}  wall {wall:.3f} s  on-cpu {on_cpu:.3f}  waiting-for-cpu {waiting:.3f}  blocked {blocked:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
