"""Analysis and topology over a synthetic SQLite backend of a few thousand instances.

Writes N instances (clusters of one master and nine replicas; every 7th cluster has a dead master, every
5th replica lags, every 11th has replication stopped) into a fresh SQLite backend, then times:

- `analysis`: `replication_analysis` over the rows already read (the pure part: facts and rules);
- `analysis+read`: `recovery.detection.current_analysis` (backend read plus analysis);
- `topology`: reading one cluster and rendering its tree, for every cluster;
- `topology-all`: building and rendering one tree over every instance;
- with `--cli`: the `replication-analysis` and `topology` commands as subprocesses.

    .venv/bin/python bench/analysis_scale.py                  # 3000 instances, best of 5
    .venv/bin/python bench/analysis_scale.py --instances 6000 --runs 3 --cli

Not a test: numbers depend on the machine; compare runs made on the same one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator_cli.backend import instances  # noqa: E402  (needs the sys.path entry above)
from orchestrator_cli.backend.connection import Backend  # noqa: E402
from orchestrator_cli.config import load_config  # noqa: E402

CLUSTER_SIZE = 10


def synthetic_rows(count: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(count):
        cluster, member = divmod(i, CLUSTER_SIZE)
        master = f"c{cluster:04d}-db0"
        is_master = member == 0
        host = master if is_master else f"c{cluster:04d}-db{member}"
        lag = 30 if member % 5 == 4 else 0
        stopped = i % 11 == 10 and not is_master
        orphaned = cluster % 7 == 3 and not is_master  # their master is dead: the IO thread cannot connect
        row: dict[str, Any] = {
            "hostname": host,
            "port": 3306,
            "server_id": i + 1,
            "version": "10.11.6-MariaDB-log",
            "major_version": "10.11",
            "read_only": 0 if is_master else 1,
            "log_bin": 1,
            "log_slave_updates": 1,
            "binlog_format": "ROW",
            "binary_log_file": "mysql-bin.000012",
            "binary_log_pos": 1000 + i,
            "master_host": "" if is_master else master,
            "master_port": 0 if is_master else 3306,
            "slave_sql_running": 0 if is_master or stopped else 1,
            "slave_io_running": 0 if is_master or stopped or orphaned else 1,
            "last_io_error": "error reconnecting to master 'x:3306' - retry-time: 60" if orphaned else "",
            "replication_sql_thread_state": -1 if is_master else (0 if stopped else 1),
            "replication_io_thread_state": -1 if is_master else (0 if stopped else 1),
            "master_log_file": "" if is_master else "mysql-bin.000012",
            "read_master_log_pos": 0 if is_master else 900,
            "relay_master_log_file": "" if is_master else "mysql-bin.000012",
            "exec_master_log_pos": 0 if is_master else 900,
            "seconds_behind_master": None if is_master or stopped else lag,
            "slave_lag_seconds": None if is_master else lag,
            "mariadb_gtid": 1,
            "cluster_name": f"{master}:3306",
            "data_center": f"dc{cluster % 3}",
            "region": "eu",
            "replication_depth": 0 if is_master else 1,
            "num_slave_hosts": CLUSTER_SIZE - 1 if is_master else 0,
            "slave_hosts": "[]",
            "replication_group_members": "[]",
        }
        rows.append(row)
    return rows


def best_of(runs: int, fn: Callable[[], object]) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return min(samples) * 1000, statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cli", action="store_true", help="also time the commands as subprocesses")
    args = parser.parse_args()

    from orchestrator_cli.analysis import replication_analysis
    from orchestrator_cli.backend import analysis as backend_analysis
    from orchestrator_cli.commands.topology_view import build_tree, render_plain
    from orchestrator_cli.recovery.detection import current_analysis

    with tempfile.TemporaryDirectory(prefix="analysis-scale-") as tmp:
        config_path = Path(tmp) / "orchestrator.conf.json"
        config_path.write_text(json.dumps({"BackendDB": "sqlite", "SQLite3DataFile": f"{tmp}/orchestrator.db"}))
        config = load_config(str(config_path))
        backend = Backend(config)
        rows = synthetic_rows(args.instances)
        with backend.transaction():
            instances.write_instances(backend, rows)
        # a dead master every 7th cluster (n % 7 == 3, as the generator's orphaned replicas): checked but not seen since
        clusters = sorted({str(r["cluster_name"]) for r in rows})
        dead = [c for n, c in enumerate(clusters) if n % 7 == 3]
        for name in dead:
            backend.execute(
                "UPDATE database_instance SET last_seen = NULL WHERE hostname = ? AND port = 3306",
                (name.split(":")[0],),
            )
        read = backend_analysis.analysis_instances(backend)
        found = len(replication_analysis(read, config))
        print(f"{args.instances} instances, {len(clusters)} clusters, {found} analysis entries")

        def topology_each() -> None:
            for name in clusters:
                render_plain(build_tree(instances.cluster_instances(backend, name)), 10)

        def topology_all() -> None:
            render_plain(build_tree(instances.all_instances(backend)), 10)

        timings = {
            "analysis": best_of(args.runs, lambda: replication_analysis(read, config)),
            "analysis+read": best_of(args.runs, lambda: current_analysis(backend, config)),
            "topology (every cluster)": best_of(args.runs, topology_each),
            "topology-all": best_of(args.runs, topology_all),
        }
        if args.cli:
            base = [sys.executable, "-m", "orchestrator_cli", f"--config={config_path}"]
            first = f"{clusters[0].split(':')[0]}:3306"
            for label, argv in (
                ("cli replication-analysis", [*base, "-c", "replication-analysis"]),
                ("cli topology", [*base, "-c", "topology", "-i", first]),
            ):
                run = lambda argv=argv: subprocess.run(argv, check=True, capture_output=True)  # noqa: E731
                timings[label] = best_of(args.runs, run)
        for label, (best, median) in timings.items():
            print(f"{label:28s} best {best:8.1f} ms   median {median:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
