"""A cron storm on an empty MySQL backend: N orchestrator processes at once, the schema deploy included.

Starts its own MariaDB (one server of the sandbox, default max_connections 151, so the shared server on
3306 and whoever uses it are left alone), creates an empty database, then starts N CLI processes at once:
a third `register-candidate`, a third `begin-downtime`, a third `clusters`. It prints how many
succeeded, how many met the server's connection limit ("Too many connections") and retried, how many
deployed the schema (must be 1), the wall time, per-process durations and the server's peak connections.

    .venv/bin/python bench/backend_storm.py                      # 500 processes, max_connections 151
    .venv/bin/python bench/backend_storm.py -n 300 --max-connections 50

Not a test: the numbers depend on the machine (and on what else runs on it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator_cli.sandbox.topology import HOST, Sandbox  # noqa: E402  (needs the sys.path entry above)

DATABASE = "orchestrator_storm"


def command_for(i: int) -> tuple[list[str], str | None]:
    key = f"host{i:04d}.example.com:3306"
    if i % 3 == 0:
        return ["-c", "register-candidate", "-i", key, "--promotion-rule", "prefer"], key
    if i % 3 == 1:
        return ["-c", "begin-downtime", "-i", key, "--reason", "storm", "--duration", "1h"], key
    return ["-c", "clusters"], None


def storm(config: Path, count: int, workdir: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    procs = []
    started = time.monotonic()
    for i in range(count):
        args, key = command_for(i)
        argv = [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "--verbose", *args]
        with open(workdir / f"out-{i}", "w") as out_fh, open(workdir / f"err-{i}", "w") as err_fh:
            proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out_fh, stderr=err_fh)
        procs.append((i, key, time.monotonic(), proc))
    durations: list[float] = []
    failures: list[str] = []
    refused = deploys = 0
    for i, key, began, proc in procs:
        proc.wait()
        durations.append(time.monotonic() - began)
        out, err = (workdir / f"out-{i}").read_text(), (workdir / f"err-{i}").read_text()
        refused += "at its connection limit" in err
        deploys += err.count("deploying backend schema")
        if proc.returncode != 0 or (key is not None and out != f"{key}\n"):
            failures.append(err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}")
    wall = time.monotonic() - started
    durations.sort()
    return {
        "processes": count,
        "succeeded": count - len(failures),
        "failed": len(failures),
        "failure_examples": failures[:3],
        "met_connection_limit_and_retried": refused,
        "schema_deploys": deploys,
        "wall_seconds": round(wall, 1),
        "process_seconds_median": round(statistics.median(durations), 2),
        "process_seconds_p90": round(durations[int(len(durations) * 0.9) - 1], 2),
        "process_seconds_max": round(durations[-1], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--processes", type=int, default=500)
    parser.add_argument("--max-connections", type=int, default=151, help="the server's max_connections")
    args = parser.parse_args()
    import mysql.connector

    with tempfile.TemporaryDirectory(prefix="orch-storm-") as tmp:
        workdir = Path(tmp)
        server = Sandbox(
            servers=1,
            layout=[None],
            base_dir=workdir / "server",
            extra_args=[f"--max-connections={args.max_connections}"],
        )
        server.start()
        try:
            port = server.ports[0]
            admin = mysql.connector.connect(host=HOST, port=port, user="root", password="", autocommit=True)
            cur = admin.cursor()
            cur.execute(f"CREATE DATABASE {DATABASE}")
            config = workdir / "orchestrator.conf.json"
            config.write_text(
                json.dumps(
                    {
                        "BackendDB": "mysql",
                        "MySQLOrchestratorHost": HOST,
                        "MySQLOrchestratorPort": port,
                        "MySQLOrchestratorDatabase": DATABASE,
                        "MySQLOrchestratorUser": "root",
                        "MySQLOrchestratorPassword": "",
                    }
                )
            )
            result = storm(config, args.processes, workdir)

            def scalar(sql: str) -> int:
                cur.execute(sql)
                row: Any = cur.fetchall()[0]
                return int(row[-1])

            result["server_max_used_connections"] = scalar("SHOW GLOBAL STATUS LIKE 'Max_used_connections'")
            result["server_max_connections"] = args.max_connections
            result["candidate_rows"] = scalar(f"SELECT COUNT(*) FROM {DATABASE}.candidate_database_instance")
            result["downtime_rows"] = scalar(f"SELECT COUNT(*) FROM {DATABASE}.database_instance_downtime")
            admin.close()
        finally:
            server.stop()
    print(json.dumps(result, indent=2))
    return 0 if result["failed"] == 0 and result["schema_deploys"] == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
