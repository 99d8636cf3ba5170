"""What one continuous-mode probe costs the daemon, split into its topology reads and its backend work
(not a test).

Starts the fleet simulator (bench/fleet_sim) with --clusters clusters of five, makes a fresh backend
(a throw-away database on the MariaDB at --mysql-host:--mysql-port, or a SQLite file), then calls
`crawl.probe_one` on every simulated server, one after the other in this thread, for --passes passes
(the first pass discovers: every write is new; the rest are steady state, as a daemon sees them
every InstancePollSeconds). For each pass it reports, per probe:

* CPU of this thread (time.thread_time: robust on a loaded machine, unlike wall time), in total, in
  the topology probe (`discovery.probe.probe`: the server's statements and their parsing) and in the
  rest of `probe_one`, the backend write path (cluster facts, reads and the write);
* backend statements (DB-API executes) and round trips (statements plus driver pings, transaction
  begin and commit) per probe;
* wall time per probe.

    .venv/bin/python bench/probe_cost.py --backend mysql --clusters 40 --passes 3
    .venv/bin/python bench/probe_cost.py --backend sqlite
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.continuous_fleet import simulator  # noqa: E402
from bench.fleet_sim.config import fleet_config  # noqa: E402
from tests.support import throwaway_mysql_database  # noqa: E402


class Meter:
    """Thread CPU spent in the topology probe itself, and the backend round trips made around it."""

    def __init__(self) -> None:
        self.probe_cpu = 0.0
        self.statements = 0
        self.round_trips = 0
        self.backend_conn: Any = None
        self.by_statement: dict[str, int] = {}

    def instrument(self) -> None:
        """Time `crawl.probe` (the server's statements and their parsing: everything else in
        `probe_one` is the backend write path); count the Backend's statements and, on MySQL, every
        packet exchange on its connection (statements, pings, transaction begins and commits)."""
        import mysql.connector.connection as driver

        from orchestrator_cli.backend.connection import Backend
        from orchestrator_cli.discovery import crawl

        meter = self
        probe = crawl.probe

        def timed_probe(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return probe(*args, **kwargs)
            finally:
                meter.probe_cpu += time.thread_time() - started

        crawl.probe = timed_probe

        def counting(fn: Callable[..., Any], attr: str, sql_at: int = 0) -> Callable[..., Any]:
            def counted(obj: Any, *args: Any, **kwargs: Any) -> Any:
                if attr == "statements":
                    sql = " ".join(str(args[sql_at]).split())[:60]
                    meter.by_statement[sql] = meter.by_statement.get(sql, 0) + 1
                if attr == "statements" or obj is meter.backend_conn:
                    setattr(meter, attr, getattr(meter, attr) + 1)
                return fn(obj, *args, **kwargs)

            return counted

        Backend._run = counting(Backend._run, "statements", sql_at=1)  # type: ignore[method-assign]
        Backend.execute_many = counting(Backend.execute_many, "statements")  # type: ignore[method-assign]
        for name in ("cmd_query", "cmd_ping"):
            setattr(driver.MySQLConnection, name, counting(getattr(driver.MySQLConnection, name), "round_trips"))


@contextlib.contextmanager
def backend_keys(args: argparse.Namespace, work: Path) -> Iterator[dict[str, Any]]:
    if args.backend == "sqlite":
        yield {"BackendDB": "sqlite", "SQLite3DataFile": str(work / "orchestrator.sqlite3")}
        return
    with throwaway_mysql_database(args.mysql_host, args.mysql_port, prefix="orch_probecost") as keys:
        yield keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=40, help="clusters of five servers")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--backend", choices=("mysql", "sqlite"), default="mysql")
    parser.add_argument("--mysql-host", default="127.0.0.1")
    parser.add_argument("--mysql-port", type=int, default=3306)
    parser.add_argument(
        "--scans", type=int, default=0, help="then time this many of the scheduler's per-second scans of the backend"
    )
    args = parser.parse_args()

    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config
    from orchestrator_cli.discovery.crawl import probe_one
    from orchestrator_cli.model.keys import InstanceKey
    from orchestrator_cli.mysql.access import TopologyAccess

    meter = Meter()
    with (
        tempfile.TemporaryDirectory(prefix="probe_cost_") as tmp,
        simulator(args.clusters, 4.0) as (_, _, ready),
        backend_keys(args, Path(tmp)) as keys,
    ):
        config = load_config(overrides={**fleet_config(), **keys})
        backend = Backend(config)
        backend.connection()  # deploy the schema before measuring
        access = TopologyAccess(config)
        # masters first, as a daemon seeded with them meets them
        ports = sorted(ready["ports"], key=lambda p: (p not in ready["masters"], p))
        keys_ = [InstanceKey("127.0.0.1", p) for p in ports]
        meter.backend_conn = backend.connection()
        meter.instrument()
        results = []
        for n in range(args.passes):
            cpu0, wall0 = time.thread_time(), time.monotonic()
            probe_cpu0, statements0, trips0 = meter.probe_cpu, meter.statements, meter.round_trips
            meter.by_statement.clear()
            failed = 0
            for key in keys_:
                failed += probe_one(key, access, backend, config).result is None
            count = len(keys_)
            results.append(
                {
                    "backend": args.backend,
                    "pass": n + 1,
                    "probes": count,
                    "failed": failed,
                    "cpu_ms_per_probe": round(1000 * (time.thread_time() - cpu0) / count, 2),
                    "probe_cpu_ms_per_probe": round(1000 * (meter.probe_cpu - probe_cpu0) / count, 2),
                    "write_path_cpu_ms_per_probe": round(
                        1000 * (time.thread_time() - cpu0 - (meter.probe_cpu - probe_cpu0)) / count, 2
                    ),
                    "backend_statements_per_probe": round((meter.statements - statements0) / count, 2),
                    "backend_round_trips_per_probe": round((meter.round_trips - trips0) / count, 2)
                    if args.backend == "mysql"
                    else None,
                    "wall_ms_per_probe": round(1000 * (time.monotonic() - wall0) / count, 2),
                }
            )
            print(json.dumps(results[-1]), flush=True)
        print("statements of the last pass, per probe:")
        for sql, n in sorted(meter.by_statement.items(), key=lambda e: -e[1]):
            print(f"  {n / len(keys_):5.2f}  {sql}")
        steady = results[1:] or results
        cpu = statistics.median(r["cpu_ms_per_probe"] for r in steady)
        print(
            f"steady state ({args.backend}): cpu {cpu:.2f} ms/probe,"
            f" probe {statistics.median(r['probe_cpu_ms_per_probe'] for r in steady):.2f},"
            f" write path {statistics.median(r['write_path_cpu_ms_per_probe'] for r in steady):.2f} ms/probe,"
            f" {statistics.median(r['backend_statements_per_probe'] for r in steady):.1f} statements,"
            f" {statistics.median((r['backend_round_trips_per_probe'] or 0) for r in steady):.1f} round trips"
        )
        if args.scans:
            print(json.dumps(scan_cost(backend, args.scans)))
        access.close()
        backend.close()


def scan_cost(backend: Any, scans: int) -> dict[str, Any]:
    """What the discovery scheduler's scan (`DiscoveryScheduler._scan`, once a second) costs at this
    fleet size: every instance's scan columns read (`instances.scan_rows`), then the keys, the keys due
    and the unanswered ones picked out of them; the full-row read it replaced is measured beside it."""
    from orchestrator_cli.backend import instances

    full_cpu0 = time.thread_time()
    for _ in range(scans):  # what the scan read before it was narrowed, for comparison
        rows = instances.all_instances(backend)
        instances.keys_of(rows)
        instances.keys_due(rows)
    cpu0, wall0 = time.thread_time(), time.monotonic()
    for _ in range(scans):
        rows = instances.scan_rows(backend)
        instances.keys_of(rows)
        instances.keys_due(rows)
        instances.keys_unanswered(rows)
    scan_wall = time.monotonic() - wall0
    keys_cpu0 = time.thread_time()
    for _ in range(scans):
        instances.all_keys(backend)
    ages_cpu0 = time.thread_time()
    for _ in range(scans):  # the scan of a daemon that does not share discovery
        instances.check_ages(backend)
    analysis_cpu0 = time.thread_time()
    from orchestrator_cli.backend import analysis as backend_analysis
    from orchestrator_cli.model.keys import InstanceKey
    from orchestrator_cli.recovery.detection import current_analysis

    for _ in range(scans):  # the daemon's analysis pass (once a second, more often on failures)
        entries = current_analysis(backend, backend.config, include_downtimed=True, unreachable=set())
        backend_analysis.record_changes(
            backend, [(InstanceKey(e.hostname, e.port), str(e.code)) for e in entries if e.facts.count_replicas > 0]
        )
    analysis_cpu = time.thread_time() - analysis_cpu0
    return {
        "scan_instances": len(rows),
        "full_row_scan_cpu_ms": round(1000 * (cpu0 - full_cpu0) / scans, 1),
        "scan_cpu_ms": round(1000 * (keys_cpu0 - cpu0) / scans, 1),
        "scan_wall_ms": round(1000 * scan_wall / scans, 1),
        "keys_only_cpu_ms": round(1000 * (ages_cpu0 - keys_cpu0) / scans, 1),
        "unshared_scan_cpu_ms": round(1000 * (analysis_cpu0 - ages_cpu0) / scans, 1),
        "analysis_pass_cpu_ms": round(1000 * analysis_cpu / scans, 1),
    }


if __name__ == "__main__":
    main()
