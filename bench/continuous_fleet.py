"""How many simulated instances `-c continuous` keeps fresh, at what cost, and how fast it recovers a
dead master there (not a test).

For each fleet size N (clusters of five: master, two replicas, an intermediate master with one
replica; bench/fleet_sim) the simulator runs as its own process on loopback ports, a fresh backend
is made (a throw-away database on the MariaDB at --mysql-host:--mysql-port, or a SQLite file), and
--daemons continuous daemons start with every master as a DiscoverySeeds entry and the
production-style config of bench/fleet_sim/config.py (every Detect*Query, a lag query, credentials
query), InstancePollSeconds=--poll. Then:

* discovery: seconds until the backend holds all N instances;
* freshness: over --window seconds the backend is sampled every second; an instance is *fresh* at a
  sample when its `last_seen` is at most 2 x InstancePollSeconds old (timestamps have 1 s
  resolution): `fresh_median` (and min, max) over the samples is what the daemons keep fresh at any
  moment; `fresh` counts the instances that stayed fresh over the whole window (stricter: one late
  probe of an instance drops it). Also the probes per second achieved (distinct `last_seen` values
  seen) and the intervals between an instance's successive probes (p10/p50/p90: a fair schedule
  under overload re-probes every instance about every N / probes-per-second seconds, none early);
* cost: CPU (percent of one core over the window) and RSS (current and peak) of each daemon, and of
  the simulator separately, with the simulator's statements per second and any statement it did
  not know; on a MySQL backend, the most connections the daemons held to its database at a sample
  (`backend_connections_max`: the processlist's rows of that database);
* false alarms: `healthy_marked_unanswered` counts the healthy instances that were, at some sample,
  written down as unanswered (a probe of them ran past InstancePollSeconds +
  ReasonableInstanceCheckSeconds): a daemon short of CPU must not make healthy servers look hung;
* faults (--kill K, --hang H): K non-master servers are killed and H hung (accept, never answer)
  before the window; freshness is then judged over the healthy rest;
* latency (--rtt-ms): the simulator delays every answer and greeting by that much (an asyncio sleep,
  no CPU): production servers are on other hosts, while here the simulator shares the daemons'
  cores; with it a daemon is bound by latency and its probe concurrency rather than by CPU;
* failover: a master is killed (port closed, its replicas' IO threads fail after slave_net_timeout);
  seconds until a `topology_recovery` row for it is registered, and until it has `end_recovery`.

    .venv/bin/python bench/continuous_fleet.py --sizes 250,500,1000,2000
    .venv/bin/python bench/continuous_fleet.py --sizes 1000 --daemons 2 --extra-config '{"SomeKey": 1}'
    .venv/bin/python bench/continuous_fleet.py --sizes 4000 --daemons 2 --rtt-ms 3 --no-failover \
        --extra-config '{"ShareDiscoveryAmongNodes": true}'
    ORCHESTRATOR_ORIGINAL_BIN=/path/to/orchestrator .venv/bin/python bench/continuous_fleet.py --original

`--original` runs the original binary's `continuous` on the same simulator (skipped, with a note,
when ORCHESTRATOR_ORIGINAL_BIN is not set). One JSON line per size is printed, then a table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fleet_sim.config import fleet_config  # noqa: E402
from bench.fleet_sim.control import SimClient  # noqa: E402
from bench.fleet_sim.model import free_port_range  # noqa: E402
from tests.support import throwaway_mysql_database  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ORIGINAL_ENV = "ORCHESTRATOR_ORIGINAL_BIN"


# ------------------------------------------------------------------------------------------------
# processes
# ------------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextlib.contextmanager
def simulator(
    clusters: int, slave_net_timeout: float, rtt_ms: float = 0.0
) -> Iterator[tuple[subprocess.Popen[str], SimClient, dict[str, Any]]]:
    base = free_port_range(clusters * 5 + 1)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.fleet_sim", "--clusters", str(clusters), "--base-port", str(base + 1),
         "--control-port", str(base), "--slave-net-timeout", str(slave_net_timeout), "--rtt-ms", str(rtt_ms)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, preexec_fn=_raise_nofile,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline() or "{}")
        if not ready.get("ready"):
            raise SystemExit("simulator did not start")
        client = SimClient(ready["control"])
        try:
            yield proc, client, ready
        finally:
            with contextlib.suppress(Exception):
                client.call("shutdown")
            client.close()
    finally:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_daemons(args: argparse.Namespace, config: Path, work: Path) -> list[subprocess.Popen[str]]:
    daemons = []
    for n in range(args.daemons):
        if args.original:
            argv = [os.environ[ORIGINAL_ENV], f"--config={config}", "-c", "continuous"]
        else:
            argv = [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "-c", "continuous"]
            argv += ["--verbose"] if args.verbose else []
        log = open(work / f"daemon{n}.log", "w")  # noqa: SIM115  (closed with the process)
        daemons.append(
            subprocess.Popen(argv, cwd=args.daemon_root, stdout=log, stderr=log, text=True, preexec_fn=_raise_nofile)
        )
    return daemons


def stop(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------------------------------------
# backend
# ------------------------------------------------------------------------------------------------


class BackendReader:
    """Reads the daemons' backend: instance ages and recovery rows."""

    def __init__(self, keys: dict[str, Any], sqlite_file: Path) -> None:
        self.mysql = keys.get("BackendDB") == "mysql"
        if self.mysql:
            import mysql.connector

            self.conn: Any = mysql.connector.connect(
                host=keys["MySQLOrchestratorHost"], port=keys["MySQLOrchestratorPort"], user="root", password="",
                database=keys["MySQLOrchestratorDatabase"], autocommit=True,
            )  # fmt: skip
        else:
            self.sqlite_file = sqlite_file
            self.conn = None

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            if self.mysql:
                cur = self.conn.cursor()
                cur.execute(sql.replace("?", "%s"), params)
                rows = list(cur.fetchall())
                cur.close()
                return rows
            import sqlite3

            if not self.sqlite_file.exists():
                return []
            with contextlib.closing(sqlite3.connect(self.sqlite_file, timeout=5)) as db:
                return list(db.execute(sql, params))
        except Exception as e:  # the schema may not exist yet while the daemons start; SQLite may be busy
            text = str(e).lower()
            if "exist" in text or "no such table" in text or "locked" in text:
                return []
            raise

    def ages(self) -> list[tuple[int, int | None, str]]:
        """(port, seconds since last_seen, last_seen as text) per instance."""
        if self.mysql:
            sql = "SELECT port, TIMESTAMPDIFF(SECOND, last_seen, NOW()), CAST(last_seen AS CHAR) FROM database_instance"
        else:
            sql = (
                "SELECT port, CAST(ROUND((julianday('now') - julianday(last_seen)) * 86400) AS INTEGER), "
                "last_seen FROM database_instance"
            )
        return [(int(p), None if a is None else int(a), str(s)) for p, a, s in self.rows(sql)]

    def probe_latency_ms(self) -> tuple[float, float]:
        """Median and 90th percentile of the last probe's wall time per instance (`last_discovery_latency`, ns)."""
        values = sorted(int(v) for (v,) in self.rows("SELECT last_discovery_latency FROM database_instance") if v)
        if not values:
            return 0.0, 0.0
        return values[len(values) // 2] / 1e6, values[int(len(values) * 0.9)] / 1e6

    def marked_unanswered(self) -> set[int]:
        """Ports of the instances whose last probe was written down as unanswered (a hung probe's
        `last_attempted_check` moved past `last_seen`): what the daemons and the analysis treat as
        unreachable."""
        return {
            int(p)
            for (p,) in self.rows(
                "SELECT port FROM database_instance WHERE last_attempted_check >= last_checked"
                " AND last_attempted_check > last_seen"
            )
        }

    def backend_connections(self) -> int | None:
        """Connections the daemons hold to the MySQL backend's database right now (this reader's own
        excluded); None on SQLite."""
        if not self.mysql:
            return None
        rows = self.rows(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()"
        )
        return int(rows[0][0]) if rows else 0

    def sharing_nodes(self) -> tuple[list[str], str]:
        """The tokens of the daemons that share discovery (as `node_health` lists them), and the leader's."""
        nodes = [
            str(t)
            for (t,) in self.rows(
                "SELECT token FROM node_health WHERE command = 'continuous' AND extra_info LIKE '%sharing discovery%'"
            )
        ]
        leader = self.rows("SELECT token FROM active_node WHERE anchor = 1")
        return nodes, str(leader[0][0]) if leader else ""

    def recovery(self, port: int) -> tuple[bool, bool, int | None]:
        """(registered, ended, successor port) of the recovery of the failed server on `port`."""
        rows = self.rows("SELECT end_recovery, successor_port FROM topology_recovery WHERE port = ?", (port,))
        if not rows:
            return False, False, None
        end, successor = rows[-1]
        return True, end is not None, successor

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


@contextlib.contextmanager
def backend(args: argparse.Namespace, work: Path) -> Iterator[dict[str, Any]]:
    if args.backend == "sqlite":
        yield {"BackendDB": "sqlite", "SQLite3DataFile": str(work / "orchestrator.sqlite3")}
        return
    with throwaway_mysql_database(args.mysql_host, args.mysql_port, prefix=args.db_prefix) as keys:
        yield keys


# ------------------------------------------------------------------------------------------------
# one size
# ------------------------------------------------------------------------------------------------


def run_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    clusters = max(1, size // 5)
    n = clusters * 5
    result: dict[str, Any] = {
        "implementation": "original" if args.original else "ours",
        "instances": n,
        "daemons": args.daemons,
        "poll": args.poll,
        "backend": args.backend,
        "rtt_ms": args.rtt_ms,
        "loadavg_before": os.getloadavg()[0],
    }
    with (
        tempfile.TemporaryDirectory(prefix="fleet_bench_") as tmp,
        simulator(clusters, args.slave_net_timeout, args.rtt_ms) as (sim_proc, sim, ready),
    ):
        work = Path(tmp)
        with backend(args, work) as keys:
            seeds = [f"127.0.0.1:{port}" for port in ready["masters"]]
            values = {**fleet_config(InstancePollSeconds=args.poll, DiscoverySeeds=seeds), **keys, **args.extra_config}
            config = work / "orchestrator.conf.json"
            config.write_text(json.dumps(values, indent=1))
            reader = BackendReader(keys, work / "orchestrator.sqlite3")
            started = time.monotonic()
            daemons = start_daemons(args, config, work)
            try:
                result.update(_discovery(reader, n, started, args))
                faulted = _inject_faults(sim, ready["ports"], ready["masters"], args)
                result.update({"killed": args.kill, "hung": args.hang})
                time.sleep(args.poll)  # one more cycle: every instance has its own phase now
                result.update(_freshness(reader, n, faulted, daemons, sim_proc, sim, args))
                if args.failover and result["discovered"] == n:
                    result.update(_failover(reader, sim, ready["masters"], args))
                result["daemon_exit_codes"] = [d.poll() for d in daemons]
            finally:
                stop(daemons)
                reader.close()
                if args.keep_logs:
                    target = Path(args.keep_logs) / f"n{n}-d{args.daemons}"
                    target.mkdir(parents=True, exist_ok=True)
                    for log in work.glob("daemon*.log"):
                        (target / log.name).write_text(log.read_text())
            result["daemon_log_errors"] = _log_errors(work)
    return result


def _discovery(reader: BackendReader, n: int, started: float, args: argparse.Namespace) -> dict[str, Any]:
    deadline = started + args.discovery_timeout
    known = 0
    while time.monotonic() < deadline:
        ages = reader.ages()
        known = sum(1 for _, age, _ in ages if age is not None)
        if known >= n:
            return {"discovered": known, "discovery_seconds": round(time.monotonic() - started, 1)}
        time.sleep(0.5)
    return {"discovered": known, "discovery_seconds": None}


def _inject_faults(sim: SimClient, ports: list[int], masters: list[int], args: argparse.Namespace) -> set[int]:
    """Kill `--kill` and hang `--hang` servers that are not masters (spread over the fleet): the
    healthy rest must stay fresh while they fail or time out."""
    candidates = [p for p in ports if p not in set(masters)]
    count = args.kill + args.hang
    if count > len(candidates):
        raise SystemExit(f"--kill + --hang = {count} but only {len(candidates)} non-master servers")
    step = len(candidates) / count if count else 1
    chosen = [candidates[int(i * step)] for i in range(count)]
    for port in chosen[: args.kill]:
        sim.kill(port)
    for port in chosen[args.kill :]:
        sim.hang(port)
    return set(chosen)


def _freshness(
    reader: BackendReader,
    n: int,
    faulted: set[int],
    daemons: list[subprocess.Popen[str]],
    sim_proc: subprocess.Popen[str],
    sim: SimClient,
    args: argparse.Namespace,
) -> dict[str, Any]:
    limit = 2 * args.poll
    pids = [d.pid for d in daemons if d.poll() is None]
    cpu0 = {pid: cpu_seconds(pid) for pid in pids}
    sim_cpu0 = cpu_seconds(sim_proc.pid)
    queries0 = sim.stats()["queries"]
    wall0 = time.monotonic()
    worst: dict[int, int] = {}
    seen: dict[int, set[str]] = {}
    fresh_now: list[int] = []
    connections: list[int] = []
    unanswered: set[int] = set()
    samples = 0
    while time.monotonic() - wall0 < args.window:
        tick = time.monotonic()
        fresh_here = 0
        for port, age, last_seen in reader.ages():
            if port in faulted:
                continue
            value = 10**6 if age is None else age
            worst[port] = max(worst.get(port, 0), value)
            seen.setdefault(port, set()).add(last_seen)
            fresh_here += value <= limit
        fresh_now.append(fresh_here)
        unanswered |= reader.marked_unanswered() - faulted
        held = reader.backend_connections()
        if held is not None:
            connections.append(held)
        samples += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    wall = time.monotonic() - wall0
    stats = sim.stats()
    latency = reader.probe_latency_ms()
    fresh = sum(1 for age in worst.values() if age <= limit)
    probes = sum(len(values) - 1 for values in seen.values())
    ages = sorted(worst.values())
    intervals = sorted(reprobe_intervals(seen))
    fresh_now.sort()
    out: dict[str, Any] = {
        "window_seconds": round(wall, 1),
        "samples": samples,
        "fresh_median": fresh_now[len(fresh_now) // 2] if fresh_now else None,
        "fresh_min_max": (fresh_now[0], fresh_now[-1]) if fresh_now else None,
        "fresh": fresh,
        "fresh_fraction": round(fresh / (n - len(faulted)), 3),
        "worst_age_p50": ages[len(ages) // 2] if ages else None,
        "worst_age_max": ages[-1] if ages else None,
        "probes_per_second": round(probes / wall, 1),
        "reprobe_seconds_p10_p50_p90": tuple(intervals[int(len(intervals) * q)] for q in (0.1, 0.5, 0.9))
        if intervals
        else None,
        "needed_probes_per_second": round((n - len(faulted)) / args.poll, 1),
        **_by_owner(reader, seen),
        "probe_ms_p50_p90": (round(latency[0], 1), round(latency[1], 1)),
        "daemons_cpu_percent": [round(100 * (cpu_seconds(p) - cpu0[p]) / wall, 1) for p in pids if _alive(p)],
        "daemons_rss_mib": [tuple(round(v) for v in rss_mib(p)) for p in pids if _alive(p)],
        "backend_connections_max": max(connections) if connections else None,
        "healthy_marked_unanswered": len(unanswered),
        "sim_cpu_percent": round(100 * (cpu_seconds(sim_proc.pid) - sim_cpu0) / wall, 1),
        "sim_rss_mib": tuple(round(v) for v in rss_mib(sim_proc.pid)),
        "sim_statements_per_second": round((stats["queries"] - queries0) / wall),
        "sim_connections": stats["connections"],
        "sim_unknown_statements": stats["unknown_statements"],
        "loadavg_during": os.getloadavg()[0],
    }
    return out


def _by_owner(reader: BackendReader, seen: dict[int, set[str]]) -> dict[str, Any]:
    """With shared discovery: each daemon's share, its re-probe intervals (p50/p90) and probes per
    second, the leader's marked (a share re-probed slower than the others shows where a gap comes from)."""
    from orchestrator_cli.discovery.sharing import owner_of

    nodes, leader = reader.sharing_nodes()
    if len(nodes) < 2:
        return {}
    shares: dict[str, dict[int, set[str]]] = {node: {} for node in nodes}
    for port, values in seen.items():
        shares[owner_of(f"127.0.0.1:{port}", nodes)][port] = values
    out = {}
    for node, share in shares.items():
        intervals = sorted(reprobe_intervals(share))
        name = ("leader " if node == leader else "") + node[:8]
        out[name] = {
            "instances": len(share),
            "reprobe_p50_p90": (intervals[len(intervals) // 2], intervals[int(len(intervals) * 0.9)])
            if intervals
            else None,
        }
    return {"by_owner": out}


def reprobe_intervals(seen: dict[int, set[str]]) -> list[float]:
    """Seconds between successive probes of each instance, from the distinct `last_seen` values
    sampled (one-second resolution; a probe overwritten before the next sample is not seen)."""
    from datetime import datetime

    out: list[float] = []
    for values in seen.values():
        stamps = sorted(datetime.fromisoformat(v) for v in values if v and v != "None")
        out += [(b - a).total_seconds() for a, b in zip(stamps, stamps[1:], strict=False)]
    return out


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _failover(reader: BackendReader, sim: SimClient, masters: list[int], args: argparse.Namespace) -> dict[str, Any]:
    victim = masters[len(masters) // 2]
    sim.kill(victim)
    killed = time.monotonic()
    registered_at = ended_at = None
    successor = None
    while time.monotonic() - killed < args.failover_timeout:
        registered, ended, successor = reader.recovery(victim)
        now = time.monotonic()
        if registered and registered_at is None:
            registered_at = now - killed
        if ended:
            ended_at = now - killed
            break
        time.sleep(0.2)
    out: dict[str, Any] = {
        "failover_victim": victim,
        "recovery_registered_seconds": None if registered_at is None else round(registered_at, 1),
        "recovery_ended_seconds": None if ended_at is None else round(ended_at, 1),
        "successor": successor,
    }
    if successor:
        state = sim.describe(int(successor))
        out["successor_writable_root"] = state["master_port"] is None and not state["read_only"]
    return out


def _log_errors(work: Path) -> list[str]:
    lines: list[str] = []
    for log in sorted(work.glob("daemon*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if "Traceback" in line or " ERROR " in line or "CRITICAL" in line:
                lines.append(f"{log.name}: {line[:200]}")
    return lines[:10]


# ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000,2000", help="comma-separated instance counts")
    parser.add_argument("--poll", type=int, default=5, help="InstancePollSeconds")
    parser.add_argument("--daemons", type=int, default=1)
    parser.add_argument("--extra-config", type=json.loads, default={}, help="JSON object of extra config keys")
    parser.add_argument("--backend", choices=("mysql", "sqlite"), default="mysql")
    parser.add_argument("--mysql-host", default="127.0.0.1")
    parser.add_argument("--mysql-port", type=int, default=3306)
    parser.add_argument("--window", type=float, default=40.0, help="seconds of freshness sampling")
    parser.add_argument("--discovery-timeout", type=float, default=120.0)
    parser.add_argument("--slave-net-timeout", type=float, default=4.0)
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="simulated latency per statement and connection")
    parser.add_argument(
        "--daemon-root", default=str(ROOT), help="run the daemons from this checkout (an A/B comparison of commits)"
    )
    parser.add_argument("--db-prefix", default="orch_fleet", help="name prefix of the throw-away MySQL database")
    parser.add_argument("--kill", type=int, default=0, help="non-master servers killed before the window")
    parser.add_argument("--hang", type=int, default=0, help="non-master servers hung before the window")
    parser.add_argument("--no-failover", dest="failover", action="store_false")
    parser.add_argument("--failover-timeout", type=float, default=90.0)
    parser.add_argument("--original", action="store_true", help=f"run the binary at ${ORIGINAL_ENV} instead")
    parser.add_argument("--verbose", action="store_true", help="daemons log at debug level")
    parser.add_argument("--keep-logs", default="", help="copy daemon logs into this directory")
    args = parser.parse_args()
    if args.rtt_ms < 0:
        parser.error("--rtt-ms must not be negative")
    if args.original and not os.environ.get(ORIGINAL_ENV):
        print(json.dumps({"skipped": f"--original: ${ORIGINAL_ENV} is not set"}))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",") if s):
        result = run_size(size, args)
        results.append(result)
        print(json.dumps(result), flush=True)
    print()
    heads = ("N", "fresh p50", "fresh all", "probes/s", "need/s", "daemon cpu%", "daemon MiB", "sim cpu%", "sim MiB",
             "stmts/s", "discover s", "recov reg s", "recov end s", "backend conns")  # fmt: skip
    widths = (6, 9, 9, 9, 7, 12, 11, 9, 8, 8, 10, 11, 11, 13)
    print(" ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)))
    for r in results:
        print(
            f"{r['instances']:>6} {r.get('fresh_median', '-'):>9} {r.get('fresh', '-'):>9} "
            f"{r.get('probes_per_second', '-'):>9} "
            f"{r.get('needed_probes_per_second', '-'):>7} {'+'.join(map(str, r.get('daemons_cpu_percent', []))):>12} "
            f"{'+'.join(str(m[0]) for m in r.get('daemons_rss_mib', [])):>11} {r.get('sim_cpu_percent', '-'):>9} "
            f"{r.get('sim_rss_mib', ['-'])[0]:>8} {r.get('sim_statements_per_second', '-'):>8} "
            f"{str(r.get('discovery_seconds')):>10} {str(r.get('recovery_registered_seconds')):>11} "
            f"{str(r.get('recovery_ended_seconds')):>11} {str(r.get('backend_connections_max')):>13}"
        )


if __name__ == "__main__":
    main()
