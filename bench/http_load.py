"""Requests per second and p99 latency of the service's API on a 10,000-instance backend, beside the CLI.

A 2-server MariaDB sandbox is discovered into a SQLite backend that also holds a synthetic fleet
(`bench/fleet_backend.py`: clusters of five, 10,000 instances by default), so reads run against a
fleet-sized backend and `discover` probes a real server. The service is the app of `orchestrator http`
(`create_app`, auth, metrics) under uvicorn in its own process, without continuous mode: the synthetic
hosts do not exist, and a leader probing 10,000 of them would measure its own discovery instead of the
API. The load comes from `wrk` (Debian package `wrk`), a fixed number of connections for a fixed time
per path, after the service has finished what the previous path left running; the CLI runs the same
reads one process after another (what a cron job costs):

| API path | CLI command |
| --- | --- |
| `instance/H/P` | `-c which-instance -i H:P` |
| `clusters-info` | `-c clusters-alias` |
| `discover/H/P` | `-c discover -i H:P` |

    .venv/bin/python bench/http_load.py                      # 10,000 instances, 10 s per path, 16 connections
    .venv/bin/python bench/http_load.py --instances 1000 --seconds 5 --connections 8 --cli-runs 10
    .venv/bin/python bench/http_load.py --mysql-database http_load_bench   # MySQL backend at 127.0.0.1:3306

Not a test: numbers depend on the machine and on what else runs on it. Prints one table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fleet_backend import write_fleet  # noqa: E402  (bench/ is on sys.path: the script's own directory)

from orchestrator_cli.backend.connection import Backend  # noqa: E402
from orchestrator_cli.config import load_config  # noqa: E402
from orchestrator_cli.sandbox.topology import Sandbox  # noqa: E402

SERVE = """
import sys, uvicorn
from orchestrator_cli.config import load_config
from orchestrator_cli.http.app import create_app
app = create_app(load_config(sys.argv[1]), config_path=sys.argv[1])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


@dataclass
class Result:
    what: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: str = ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url + "/api/lb-check", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the service did not answer at {url} within {seconds:.0f}s")
        time.sleep(0.2)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    """wrk's latency text (`1.23ms`, `850.00us`, `1.02s`) in milliseconds.

    >>> _ms("850.00us"), _ms("1.50ms"), _ms("2.00s")
    (0.85, 1.5, 2000.0)
    """
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return round(float(match.group(1)) * _UNITS[match.group(2)], 3)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, quiet_seconds: float = 0.5, limit: float = 120.0) -> None:
    """Until the service stops burning CPU: requests wrk gave up on at the end of a run still run in
    the service, and would otherwise be measured as the next path's latency."""
    deadline = time.monotonic() + limit
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(quiet_seconds)
        now = cpu_seconds(pid)
        if now - last < 0.05 * quiet_seconds:
            return
        last = now


def run_wrk(url: str, seconds: int, connections: int, threads: int) -> Result:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = []
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        errors.append(f"{non2xx.group(1)} non-2xx")
    socket_errors = re.search(r"Socket errors:(.*)", out)
    if socket_errors:
        errors.append("socket errors:" + socket_errors.group(1).strip())
    return Result(url.split("/api/", 1)[1], rps, p50, p99, "; ".join(errors))


def run_cli(argv: list[str], runs: int, env: dict[str, str], cwd: Path) -> Result:
    seconds: list[float] = []
    failures = 0
    started = time.monotonic()
    for _ in range(runs):
        t0 = time.monotonic()
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
        seconds.append(time.monotonic() - t0)
        failures += done.returncode != 0
    total = time.monotonic() - started
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    what = " ".join(a for a in argv[3:] if a != "--skip-continuous-registration")
    return Result(
        what, runs / total, statistics.median(seconds) * 1000, p99 * 1000, f"{failures} failed" if failures else ""
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=10_000, help="synthetic fleet size (default 10000)")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per path (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--cli-runs", type=int, default=20, help="CLI runs per command (default 20)")
    parser.add_argument(
        "--mysql-database",
        help="use this database on the MySQL backend at 127.0.0.1:3306 (root, no password; dropped at the end)"
        " instead of a SQLite file",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("http_load: wrk not found: apt-get install -y wrk")
    orchestrator = Path(sys.executable).parent / "orchestrator"

    with (
        tempfile.TemporaryDirectory(prefix="orch-http-load-") as tmp,
        Sandbox(servers=2, base_dir=Path(tmp) / "sb") as sandbox,
    ):
        workdir = Path(tmp)
        backend_settings: dict[str, object] = {}
        if args.mysql_database:
            backend_settings = {
                "BackendDB": "mysql",
                "MySQLOrchestratorHost": "127.0.0.1",
                "MySQLOrchestratorPort": 3306,
                "MySQLOrchestratorUser": "root",
                "MySQLOrchestratorPassword": "",
                "MySQLOrchestratorDatabase": args.mysql_database,
            }
        config_path = sandbox.write_config(
            workdir / "orchestrator.conf.json", workdir / "orchestrator.sqlite3", **backend_settings
        )
        backend = Backend(load_config(str(config_path)))
        try:
            started = time.monotonic()
            fleet = write_fleet(backend, args.instances)
            fill_seconds = time.monotonic() - started
        finally:
            backend.close()
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8"}
        cli = [str(orchestrator), "--config", str(config_path)]
        master = sandbox.key(0)
        subprocess.run([*cli, "-c", "discover", "-i", master], env=env, cwd=workdir, check=True, capture_output=True)
        host, port = master.split(":")
        probe = fleet.clusters[len(fleet.clusters) // 2].replace(":", "/")  # a synthetic instance mid-fleet

        service_port = free_port()
        url = f"http://127.0.0.1:{service_port}"
        service = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(config_path), str(service_port)], cwd=workdir, env={**os.environ}
        )
        try:
            wait_until_serving(url)
            paths = [f"instance/{probe}", "clusters-info", f"discover/{host}/{port}"]
            for path in paths:  # warm-up: caches, first connections
                urllib.request.urlopen(f"{url}/api/{path}", timeout=30).read()
            api = []
            for path in paths:
                wait_until_idle(service.pid)
                api.append(run_wrk(f"{url}/api/{path}", args.seconds, args.connections, args.threads))
            cluster_count = len(json.loads(urllib.request.urlopen(f"{url}/api/clusters-info", timeout=30).read()))
        finally:
            service.terminate()
            service.wait(timeout=30)
        reads = [
            ["-c", "which-instance", "-i", probe.replace("/", ":")],
            ["-c", "clusters-alias"],
            ["-c", "discover", "-i", master],
        ]
        cli_results = [run_cli([*cli, *argv], args.cli_runs, env, workdir) for argv in reads]
        if args.mysql_database:
            backend = Backend(load_config(str(config_path)))
            try:
                backend.execute(f"DROP DATABASE IF EXISTS `{args.mysql_database}`")
            finally:
                backend.close()

    kind = "MySQL" if args.mysql_database else "SQLite"
    print(
        f"backend: {kind}, {args.instances} synthetic instances + 2 sandbox servers, {cluster_count} clusters"
        f" (written in {fill_seconds:.1f}s)"
    )
    print(
        f"API: wrk -t{args.threads} -c{args.connections} -d{args.seconds}s; CLI: {args.cli_runs} runs one after another"
    )
    print(f"{'what':<54} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}  notes")
    for row in [*api, *cli_results]:
        label = f"GET /api/{row.what}" if row in api else f"orchestrator {row.what}"
        print(f"{label:<54} {row.requests_per_second:>9.1f} {row.p50_ms:>9.1f} {row.p99_ms:>9.1f}  {row.errors}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
