"""How many probe statements a second the fleet simulator itself serves (not a test).

Starts the simulator (bench/fleet_sim) with --servers servers as its own process, then --clients
processes of --threads threads each; every thread holds one connection per server it owns (the C
client of mysql.connector when it loads, else the pure one) and sends, server after server, the
statements of one of our probes (what `continuous_fleet.py` sees per probe, about 15) as fast as the
simulator answers. Reports the simulator's statements per second and CPU over --seconds, and the
probes per second that corresponds to, i.e. how many servers it could keep answering at a given
InstancePollSeconds: where it saturates.

    .venv/bin/python bench/fleet_sim_capacity.py --servers 2000 --clients 2 --threads 8 --seconds 20
    .venv/bin/python bench/fleet_sim_capacity.py --servers 2000 --threads 32 --rtt-ms 5   # latency-bound
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.continuous_fleet import cpu_seconds, rss_mib, simulator  # noqa: E402
from bench.fleet_sim.config import fleet_config  # noqa: E402
from orchestrator_cli.mysql.flavor import MariaDB  # noqa: E402


def probe_statements() -> list[str]:
    """The statements of one probe of a MariaDB replica by our discovery, with the fleet config's user queries."""
    flavor = MariaDB("10.11.6-MariaDB-log")
    config = fleet_config()
    return [
        flavor.probe_variables_sql(),  # the flavor comes from the handshake: no version query
        flavor.semi_sync_variables_sql(),
        flavor.probe_status_sql(),
        flavor.master_status_sql(),
        flavor.replica_connections_sql(),
        config["ReplicationLagQuery"],
        flavor.replica_hosts_sql(),
        config["DetectDataCenterQuery"],
        config["DetectInstanceAliasQuery"],
        config["DetectSemiSyncEnforcedQuery"],
        config["DetectPromotionRuleQuery"],
        config["DetectClusterAliasQuery"],
    ]


def client(ports: list[int], threads: int, seconds: float, out: Any) -> None:
    import mysql.connector

    use_pure = not mysql.connector.HAVE_CEXT
    statements = probe_statements()
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        mine = ports[index::threads]
        conns = {}
        for port in mine:
            conns[port] = mysql.connector.connect(
                host="127.0.0.1", port=port, user="orchestrator", password="x", use_pure=use_pure
            )
        while time.monotonic() < stop:
            for port in mine:
                cur = conns[port].cursor()
                for sql in statements:
                    cur.execute(sql)
                    cur.fetchall()
                cur.close()
                counts[index] += 1
                if time.monotonic() >= stop:
                    break
        for conn in conns.values():
            conn.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put(sum(counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--poll", type=int, default=5, help="InstancePollSeconds the capacity is expressed in")
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="the simulator's latency per statement")
    args = parser.parse_args()
    if args.rtt_ms < 0:
        parser.error("--rtt-ms must not be negative")
    with simulator(max(1, args.servers // 5), 4.0, args.rtt_ms) as (proc, sim, ready):
        ports: list[int] = ready["ports"]
        queue: Any = multiprocessing.Queue()
        cpu0, queries0, wall0 = cpu_seconds(proc.pid), sim.stats()["queries"], time.monotonic()
        clients = [
            multiprocessing.Process(target=client, args=(ports[i :: args.clients], args.threads, args.seconds, queue))
            for i in range(args.clients)
        ]
        for c in clients:
            c.start()
        probes = sum(queue.get() for _ in clients)
        for c in clients:
            c.join()
        wall = time.monotonic() - wall0
        stats = sim.stats()
        statements = stats["queries"] - queries0
        per_probe = len(probe_statements())
        result = {
            "servers": len(ports),
            "rtt_ms": args.rtt_ms,
            "clients": args.clients,
            "threads": args.threads,
            "seconds": round(wall, 1),
            "statements_per_second": round(statements / wall),
            "probes_per_second": round(probes / wall, 1),
            "sim_cpu_percent": round(100 * (cpu_seconds(proc.pid) - cpu0) / wall, 1),
            "sim_cpu_ms_per_statement": round(1000 * (cpu_seconds(proc.pid) - cpu0) / max(1, statements), 3),
            "servers_at_poll_per_core": round(
                args.poll * statements / max(1e-9, per_probe * (cpu_seconds(proc.pid) - cpu0))
            ),
            "sim_rss_mib": [round(v) for v in rss_mib(proc.pid)],
            "unknown_statements": stats["unknown_statements"],
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
