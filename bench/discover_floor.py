"""Where a `discover` of a 4-server topology spends its time, layer by layer, whole process each.

Issue 11's goal is `discover` crawling 4 servers in at most 5x the original's 15 ms single-server
probe (75 ms). This measures how far the floor is, by running, round-robin, N times each:

  1. the interpreter alone (`python -IS -c pass`);
  2. plus what discover imports from outside the project: mysql.connector (and the stdlib it pulls
     in: ssl, logging, inspect, platform, ...), sqlite3, json, concurrent.futures;
  3. plus every project module a discover loads (read from a discover run's sys.modules);
  4. the discover itself, seeded from a replica of a backend that already knows the topology.

Layer 3's list is read from a discover like the ones layer 4 measures: after a first run has
deployed the backend's schema. Read from that first run (as it once was), the list held
backend.schema, which imports SQLAlchemy for the deploy alone, and the "project's modules" layer
counted ~600 M instructions that no measured discover runs (936 M against the whole command's 329 M).
A layer that costs more than the whole command is reported as such.

The differences are the costs of: start-up, the driver and stdlib, the project's imports, and the
run (config, backend, four probes of ~9 statements each, the write, audit, close). With
`--instructions`, each layer's instruction count under valgrind (deterministic; unlike times, not
moved by other load on the machine) is printed too.

    .venv/bin/python bench/discover_floor.py                       # own sandbox; /usr/bin/python3 -IS
    .venv/bin/python bench/discover_floor.py --runs 40 --instructions
    .venv/bin/python bench/discover_floor.py --tree /tmp/x          # an unpacked zipapp (build.sh) instead
    .venv/bin/python bench/discover_floor.py --config C --instance 127.0.0.1:23307  # an existing sandbox

Not a test: numbers depend on the machine; on a loaded one compare CPU (user + system, children
included) and instructions rather than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_MS = 75.0
# gc as `entry()` leaves it for a one-shot run, so the layers compare like with like.
PRELUDE = "import gc; gc.disable(); import sys; sys.path[:0] = {path!r}\n"
OUTSIDE = "import mysql.connector, sqlite3, json, concurrent.futures.thread\n"
IMPORT_ALL = "import importlib\nfor name in {modules!r}:\n    importlib.import_module(name)\n"
DISCOVER = "from orchestrator_cli.cli.main import main\nsys.exit(main({argv!r}))\n"
MODULES = """
from orchestrator_cli.cli.main import main
main({argv!r})
print(__import__("json").dumps([m for m in sys.modules if m.startswith("orchestrator_cli")]), file=sys.stderr)
"""


def discover_command(path: list[str], argv: list[str], python: list[str]) -> list[str]:
    return [*python, "-c", PRELUDE.format(path=path) + DISCOVER.format(argv=argv)]


def layers(path: list[str], argv: list[str], python: list[str]) -> dict[str, list[str]]:
    """The layers' commands. Call it once the backend is deployed (see the module's docstring): the
    project modules are those a steady-state discover loads, which the first run's deploy is not."""
    prelude = PRELUDE.format(path=path)
    found = subprocess.run(
        [*python, "-c", prelude + MODULES.format(argv=argv)], capture_output=True, text=True, check=True
    )
    modules = json.loads(found.stderr.strip().splitlines()[-1])
    return {
        "python -IS -c pass": [*python, "-c", "pass"],
        "+ mysql.connector, sqlite3, json, futures": [*python, "-c", prelude + OUTSIDE],
        f"+ the project's {len(modules)} modules": [
            *python,
            "-c",
            prelude + OUTSIDE + IMPORT_ALL.format(modules=modules),
        ],  # fmt: skip
        "discover (whole command)": discover_command(path, argv, python),
    }


def run_once(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system, children included) milliseconds of one run; fails loudly."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[-1][-80:]!r} failed: {err.decode(errors='replace').strip()}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def instructions(argv: list[str]) -> int:
    """Instructions executed (valgrind's Ir) by the process: deterministic, unlike times."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out", *argv],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
    return int(next(line for line in out.splitlines() if "Collected" in line).split()[-1])


def measure(commands: dict[str, list[str]], runs: int, with_instructions: bool) -> None:
    for argv in commands.values():
        run_once(argv)  # warm the page cache and write any stale .pyc
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    load_before = os.getloadavg()[0]
    for _ in range(runs):
        for label, argv in commands.items():  # round-robin: a burst of load elsewhere hits all alike
            samples[label].append(run_once(argv))
    counts = {label: instructions(argv) for label, argv in commands.items()} if with_instructions else {}
    print(f"{runs} runs each, round-robin; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"| {'layer':<42} | wall med | wall min | CPU med | CPU min | layer CPU (med) |" + (
        " instructions | layer instr. |" if counts else ""))  # fmt: skip
    previous_cpu, previous_count = 0.0, 0
    for label, taken in samples.items():
        walls, cpus = [w for w, _ in taken], [c for _, c in taken]
        cpu = statistics.median(cpus)
        line = (
            f"| {label:<42} | {statistics.median(walls):8.1f} | {min(walls):8.1f} | {cpu:7.1f} | {min(cpus):7.1f}"
            f" | {cpu - previous_cpu:15.1f} |"
        )
        if counts:
            line += f" {counts[label] / 1e6:10.1f} M | {(counts[label] - previous_count) / 1e6:10.1f} M |"
            previous_count = counts[label]
        print(line)
        previous_cpu = cpu
    whole_label = "discover (whole command)"
    for label, taken in samples.items():
        over = [what for what, mine, theirs in (
            ("CPU", statistics.median(c for _, c in taken), statistics.median(c for _, c in samples[whole_label])),
            ("instructions", counts.get(label, 0), counts.get(whole_label, 0)),
        ) if label != whole_label and mine > theirs]  # fmt: skip
        if over:
            print(f"warning: layer {label!r} costs more {' and '.join(over)} than the whole command: it runs more")
    whole = statistics.median(w for w, _ in samples[whole_label])
    print(f"goal: {GOAL_MS:.0f} ms whole process; discover's median wall is {whole / GOAL_MS:.2f}x that")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "")
    parser.add_argument("--tree", help="an unpacked zipapp (packaging/build.sh) to import from, not this checkout")
    parser.add_argument("--config", help="an existing sandbox's config (default: start a 4-server sandbox)")
    parser.add_argument("--instance", help="with --config: the replica to seed from")
    parser.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if bool(args.config) != bool(args.instance):
        parser.error("--config and --instance go together")
    if args.instructions and not shutil.which("valgrind"):
        parser.error("--instructions needs valgrind (apt-get install -y valgrind)")
    python = [args.python or sys.executable, "-IS"]
    path = [args.tree] if args.tree else [str(ROOT), sysconfig.get_paths()["purelib"]]

    def run(config: str, seed: str) -> None:
        argv = ["--config", config, "-c", "discover", "-i", seed]
        # first: the backend deploys its schema and learns the topology; every later run is the same
        run_once(discover_command(path, argv, python))
        commands = layers(path, argv, python)
        print(f"interpreter: {' '.join(python)}; imports from: {', '.join(path)}")
        measure(commands, args.runs, args.instructions)

    if args.config:
        run(args.config, args.instance)
        return 0
    from orchestrator_cli.sandbox.topology import Sandbox

    with tempfile.TemporaryDirectory(prefix="orch-floor-") as tmp, Sandbox(servers=4, base_dir=Path(tmp) / "sb") as sb:
        config = sb.write_config(Path(tmp) / "orchestrator.conf.json", Path(tmp) / "orchestrator.sqlite3")
        run(str(config), sb.key(1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
