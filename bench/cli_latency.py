"""Wall time and peak memory of the cron-path commands, per way of installing orchestrator.

Starts a 4-server MariaDB sandbox, writes a SQLite-backed config, discovers the sandbox once, then
runs each command N times per executable and prints the median and 90th-percentile wall time, the
median CPU time (user + system, the steadier number on a busy machine) and the peak RSS (GNU time's
%M, which covers the child and what it waited for, so a bootloader that forks the real interpreter
is measured whole).

    .venv/bin/python bench/cli_latency.py                    # pip entry point, and dist/orchestrator if built
    .venv/bin/python bench/cli_latency.py --runs 50 --exe /usr/bin/orchestrator
    .venv/bin/python bench/cli_latency.py --explain          # also: each command's import graph, cProfile
    .venv/bin/python bench/cli_latency.py --hyperfine        # also: hyperfine's figures (apt-get install hyperfine)

Not a test: numbers depend on the machine; on a loaded machine compare CPU time, not wall time. Issue
11's target for register-candidate and begin-downtime on SQLite is at most 3x the original's 9 ms
(about 27 ms whole process), and at most 60 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator_cli.sandbox.topology import Sandbox  # noqa: E402  (needs the sys.path entry above)

TARGET_MS = 27.0
TARGET_MIB = 60.0
CRON_COMMANDS = ("register-candidate", "begin-downtime")
GNU_TIME = os.access("/usr/bin/time", os.X_OK)


@dataclass
class Sample:
    seconds: float
    cpu_seconds: float  # user + system: unlike wall time, barely moved by other load on the machine
    max_rss_kib: int


@dataclass
class Row:
    command: str
    executable: str
    samples: list[Sample]

    @property
    def median_ms(self) -> float:
        return statistics.median(s.seconds for s in self.samples) * 1000

    @property
    def cpu_median_ms(self) -> float:
        return statistics.median(s.cpu_seconds for s in self.samples) * 1000

    @property
    def p90_ms(self) -> float:
        ordered = sorted(s.seconds for s in self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] * 1000

    @property
    def peak_mib(self) -> float:
        return max(s.max_rss_kib for s in self.samples) / 1024


def run_once(argv: list[str], cwd: Path, env: dict[str, str]) -> Sample:
    """One run; fails loudly so a broken command is never reported as fast.

    Peak RSS comes from GNU time (`/usr/bin/time -f %M`) when installed: the kernel carries a
    process's RSS high-water mark across exec, so a child forked straight from this (large) Python
    process would report at least this process's own RSS. CPU time is from `os.wait4` and includes
    everything the child waited for.
    """
    with tempfile.NamedTemporaryFile() as rss_file, tempfile.TemporaryFile() as err:
        command = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *argv] if GNU_TIME else argv
        started = time.perf_counter()
        proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(
                f"{' '.join(argv)} exited {proc.returncode}: {err.read().decode(errors='replace').strip()}"
            )
        max_rss_kib = int(Path(rss_file.name).read_text().split()[-1]) if GNU_TIME else usage.ru_maxrss
    return Sample(elapsed, usage.ru_utime + usage.ru_stime, max_rss_kib)


def command_args(command: str, sandbox: Sandbox) -> list[str]:
    replica, master = sandbox.key(1), sandbox.key(0)
    return {
        "register-candidate": ["-c", "register-candidate", "-i", replica, "--promotion-rule", "prefer"],
        "begin-downtime": ["-c", "begin-downtime", "-i", replica, "--reason", "bench", "--duration", "1m"],
        "discover": ["-c", "discover", "-i", master],
        "topology": ["-c", "topology", "-i", master],
    }[command]


def default_executables() -> dict[str, str]:
    found: dict[str, str] = {}
    entry = Path(sys.executable).parent / "orchestrator"
    if entry.exists():
        found["pip entry point"] = str(entry)
    built = ROOT / "dist" / "orchestrator"
    if built.exists():
        found["one-file (dist/orchestrator)"] = str(built)
    return found


# What a cron run does not need; printed when loaded (see tests/integration/test_startup.py).
AVOIDABLE = (
    "logging", "dataclasses", "inspect", "typing", "threading", "decimal", "re", "json", "enum", "datetime",
    "sqlalchemy", "mysql.connector",
)  # fmt: skip

# The modules the command imported (not those the interpreter's `site` had loaded before it ran).
_LOADED_PROBE = """
import sys
before = set(sys.modules)
from orchestrator_cli.cli.main import main
code = main(sys.argv[1:])
loaded = sorted(set(sys.modules) - before)
import json
print(json.dumps(loaded), file=sys.stderr)
"""


def explain(executable_python: str, config: Path, sandbox: Sandbox, workdir: Path, commands: list[str]) -> None:
    """Each command's import graph: the slowest imports (`-X importtime`, cumulative), what it loads
    that a cron run should not, how many modules in all; then cProfile of register-candidate.

    Modules imported through `importlib.import_module` (the registry's command modules) do not show
    in `-X importtime`; the module list is read from `sys.modules` at exit instead.
    """
    for command in commands:
        argv = ["--config", str(config), *command_args(command, sandbox)]
        imports = subprocess.run(
            [executable_python, "-X", "importtime", "-m", "orchestrator_cli", *argv],
            cwd=workdir,
            capture_output=True,
            text=True,
            check=True,
        ).stderr.splitlines()
        rows = []
        for line in imports:
            parts = line.split("|")
            if len(parts) == 3 and parts[1].strip().isdigit():
                rows.append((int(parts[1]), parts[2].rstrip()))
        loaded = json.loads(
            subprocess.run(
                [executable_python, "-c", _LOADED_PROBE, *argv], cwd=workdir, capture_output=True, text=True
            ).stderr.splitlines()[-1]
        )
        project = [m for m in loaded if m.startswith("orchestrator_cli")]
        avoidable = [m for m in AVOIDABLE if m in loaded]
        print(f"\n{command}: {len(loaded)} modules loaded ({len(project)} of the project's);"
              f" avoidable ones loaded: {', '.join(avoidable) or 'none'}")  # fmt: skip
        print("  slowest imports (cumulative microseconds):")
        for micros, name in sorted(rows, reverse=True)[:12]:
            print(f"  {micros:>8}  {name}")
    argv = ["--config", str(config), *command_args("register-candidate", sandbox)]
    profile = subprocess.run(
        [executable_python, "-m", "cProfile", "-s", "cumulative", "-m", "orchestrator_cli", *argv],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    start = next((i for i, line in enumerate(profile) if line.strip().startswith("ncalls")), 0)
    print("\ncProfile of register-candidate, by cumulative time:")
    print("\n".join(profile[start : start + 25]))


def hyperfine(bases: dict[str, list[str]], commands: list[str], sandbox: Sandbox, runs: int, workdir: Path) -> None:
    """hyperfine's median, min and mean CPU per command and executable (no shell: -N)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        for command in commands:
            argvs = {label: [*base, *command_args(command, sandbox)] for label, base in bases.items()}
            subprocess.run(
                ["hyperfine", "-N", "--warmup", "3", "--runs", str(runs), "--export-json", out.name,
                 *[" ".join(a) for a in argvs.values()]],
                cwd=workdir, check=True, capture_output=True,
            )  # fmt: skip
            for label, result in zip(argvs, json.loads(Path(out.name).read_text())["results"], strict=True):
                cpu = (result["user"] + result["system"]) * 1000
                print(
                    f"| {command:<20} | {label:<30} | hyperfine median {result['median'] * 1000:6.1f} ms"
                    f" | min {result['min'] * 1000:6.1f} ms | mean CPU {cpu:6.1f} ms |"
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per command and executable (default 20)")
    parser.add_argument(
        "--exe",
        action="append",
        default=[],
        help="an orchestrator executable to measure (repeatable); default: this venv's entry point, dist/orchestrator",
    )
    parser.add_argument("--commands", default="register-candidate,begin-downtime,discover,topology")
    parser.add_argument("--explain", action="store_true", help="also print import graphs and cProfile top entries")
    parser.add_argument("--hyperfine", action="store_true", help="also measure with hyperfine (when installed)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    executables = {exe: os.path.abspath(exe) for exe in args.exe} or default_executables()
    if not executables:
        parser.error("no orchestrator executable found; pass --exe")
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]

    with tempfile.TemporaryDirectory(prefix="orch-bench-") as tmp, Sandbox(servers=4, base_dir=Path(tmp) / "sb") as sb:
        workdir = Path(tmp) / "cwd"
        workdir.mkdir()
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8"}
        rows: list[Row] = []
        load_before = f"{os.getloadavg()[0]:.2f}"
        bases: dict[str, list[str]] = {}
        for index, (label, exe) in enumerate(executables.items()):
            config = sb.write_config(Path(tmp) / f"{index}.conf.json", Path(tmp) / f"{index}.sqlite3")
            bases[label] = [exe, "--config", str(config)]
            run_once(bases[label] + command_args("discover", sb), workdir, env)  # deploys the schema, fills it
        for command in commands:
            # Round-robin over the executables, so a burst of load elsewhere hits them alike.
            samples: dict[str, list[Sample]] = {label: [] for label in bases}
            for _ in range(args.runs):
                for label, base in bases.items():
                    samples[label].append(run_once(base + command_args(command, sb), workdir, env))
            rows += [Row(command, label, taken) for label, taken in samples.items()]

        print(f"{args.runs} runs each; sandbox of 4 MariaDB servers; SQLite backend; cwd {workdir}")
        print(f"load average before the runs: {load_before}; after: {os.getloadavg()[0]:.2f}")
        print(f"| {'command':<20} | {'executable':<30} | median ms | p90 ms | CPU ms | peak RSS MiB |")
        print(f"|{'-' * 22}|{'-' * 32}|-----------|--------|--------|--------------|")
        for row in rows:
            flag = ""
            if row.command in CRON_COMMANDS and (row.median_ms > TARGET_MS or row.peak_mib > TARGET_MIB):
                flag = "  (over target)"
            print(
                f"| {row.command:<20} | {row.executable:<30} | {row.median_ms:9.1f} | {row.p90_ms:6.1f} |"
                f" {row.cpu_median_ms:6.1f} | {row.peak_mib:12.1f} |{flag}"
            )
        if args.hyperfine:
            if shutil.which("hyperfine"):
                hyperfine(bases, commands, sb, args.runs, workdir)
            else:
                print("hyperfine is not installed (apt-get install -y hyperfine): skipped")
        if args.explain:
            config = sb.write_config(Path(tmp) / "explain.conf.json", Path(tmp) / "explain.sqlite3")
            subprocess.run(
                [sys.executable, "-m", "orchestrator_cli", "--config", str(config), *command_args("discover", sb)],
                cwd=workdir,
                check=True,
                capture_output=True,
            )
            explain(sys.executable, config, sb, workdir, commands)
    return 0


if __name__ == "__main__":
    sys.exit(main())
