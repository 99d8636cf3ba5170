"""Where a continuous-mode daemon's CPU goes on a simulated fleet (not a test).

Starts the fleet simulator (bench/fleet_sim) as its own process with --clusters clusters of five,
makes a throw-away backend database on the MariaDB at --mysql-host:--mysql-port (or a SQLite file),
then runs `ContinuousMode` in this process for --seconds, seeded with every master, with the
production-style config of bench/fleet_sim/config.py. Every thread the daemon starts is profiled by
a cProfile of its own (cProfile sees only the thread that enabled it); after a --warmup period
(discovery of the fleet) the profiles are reset, and at the end they are merged and the top
functions printed, with:

* probes answered and failed in the measured period, and probes per second;
* CPU of the whole process (user + system) per answered probe, in ms; the profiler's own overhead
  is in it, so compare runs of this script with each other, and take `continuous_fleet.py`'s
  figure (no profiler) as the absolute one;
* the distinct probes per instance (min / median / max) and the instances probed twice or more
  within InstancePollSeconds (early re-probes).

    .venv/bin/python bench/continuous_profile.py --clusters 400 --seconds 40 --warmup 30 --top 40
    .venv/bin/python bench/continuous_profile.py --clusters 400 --no-profile   # CPU per probe, no profiler
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.continuous_fleet import simulator  # noqa: E402
from bench.fleet_sim.config import fleet_config  # noqa: E402
from tests.support import throwaway_mysql_database  # noqa: E402


class ThreadProfiles:
    """One cProfile per thread started after `install()`, plus the calling thread's."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self.names: list[str] = []  # the thread of each profile
        self.lock = threading.Lock()

    def install(self) -> None:
        owner = self
        original = threading.Thread.run

        def run(thread: threading.Thread) -> None:
            profile = owner.new(thread.name)
            profile.enable()
            try:
                original(thread)
            finally:
                profile.disable()

        threading.Thread.run = run  # type: ignore[method-assign,assignment]
        main = self.new("main")
        main.enable()

    def new(self, name: str) -> cProfile.Profile:
        profile = cProfile.Profile(time.thread_time)  # CPU, not wall time
        with self.lock:
            self.profiles.append(profile)
            self.names.append(name)
        return profile

    def by_thread(self) -> dict[str, float]:
        """CPU seconds measured per kind of thread (the name without its number: probe, discovery...)."""
        out: dict[str, float] = {}
        with self.lock:
            pairs = list(zip(self.names, self.profiles, strict=True))
        for name, profile in pairs:
            with contextlib.suppress(TypeError):
                profile.create_stats()
                kind = name.rstrip("0123456789_").removesuffix("_")
                out[kind] = out.get(kind, 0.0) + sum(v[2] for v in pstats.Stats(profile).stats.values())  # type: ignore[attr-defined]
        return {k: round(v, 2) for k, v in sorted(out.items(), key=lambda e: -e[1])}

    def reset(self) -> None:
        """Forget what was measured so far (each profile keeps running)."""
        with self.lock:
            for profile in self.profiles:
                profile.clear()

    def report(self, top: int, dump: str = "") -> str:
        out = io.StringIO()
        with self.lock:
            profiles = list(self.profiles)
        stats: pstats.Stats | None = None
        for profile in profiles:
            with contextlib.suppress(TypeError):  # a profile that saw nothing
                profile.create_stats()
                if stats is None:
                    stats = pstats.Stats(profile, stream=out)
                else:
                    stats.add(profile)
        if stats is None:
            return "nothing profiled"
        if dump:
            stats.dump_stats(dump)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
        return out.getvalue()


@contextlib.contextmanager
def backend_keys(args: argparse.Namespace, work: Path) -> Iterator[dict[str, Any]]:
    if args.backend == "sqlite":
        yield {"BackendDB": "sqlite", "SQLite3DataFile": str(work / "orchestrator.sqlite3")}
        return
    with throwaway_mysql_database(args.mysql_host, args.mysql_port, prefix=args.db_prefix) as keys:
        yield keys


def process_cpu() -> float:
    times = os.times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=400, help="clusters of five servers")
    parser.add_argument("--poll", type=int, default=5, help="InstancePollSeconds")
    parser.add_argument("--seconds", type=float, default=40.0, help="measured period")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds before measuring (discovery)")
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="the simulator's latency per statement")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--dump", default="", help="also write the merged profile here (pstats format)")
    parser.add_argument("--extra-config", type=json.loads, default={}, help="JSON object of extra config keys")
    parser.add_argument("--backend", choices=("mysql", "sqlite"), default="mysql")
    parser.add_argument("--mysql-host", default="127.0.0.1")
    parser.add_argument("--mysql-port", type=int, default=3306)
    parser.add_argument("--db-prefix", default="orch_profile", help="name prefix of the throw-away MySQL database")
    args = parser.parse_args()

    from orchestrator_cli import observe
    from orchestrator_cli.config import load_config
    from orchestrator_cli.daemon.continuous import ContinuousMode

    probes: dict[str, list[float]] = {}
    failed = [0]
    lock = threading.Lock()

    class Counter:
        def probe_finished(self, key: str, seconds: float, ok: bool) -> None:
            now = time.monotonic()
            with lock:
                if ok:
                    probes.setdefault(key, []).append(now)
                else:
                    failed[0] += 1

    counter = Counter()  # observers are held weakly
    observe.add(counter)
    profiles = ThreadProfiles()
    with (
        tempfile.TemporaryDirectory(prefix="continuous_profile_") as tmp,
        simulator(args.clusters, 4.0, args.rtt_ms) as (sim_proc, _, ready),
        backend_keys(args, Path(tmp)) as keys,
    ):
        seeds = [f"127.0.0.1:{port}" for port in ready["masters"]]
        values = {**fleet_config(InstancePollSeconds=args.poll, DiscoverySeeds=seeds), **keys, **args.extra_config}
        config = load_config(overrides=values)
        if args.profile:
            profiles.install()
        daemon = ContinuousMode(config, duration=args.warmup + args.seconds)
        runner = threading.Thread(target=daemon.run, name="continuous")
        runner.start()
        time.sleep(args.warmup)
        with lock:
            probes.clear()
            failed[0] = 0
        profiles.reset()
        cpu0, wall0 = process_cpu(), time.monotonic()
        time.sleep(args.seconds)
        cpu, wall = process_cpu() - cpu0, time.monotonic() - wall0
        with lock:
            counts = sorted(len(v) for v in probes.values())
            answered = sum(counts)
            early = sum(
                1 for v in probes.values() if any(b - a < args.poll * 0.9 for a, b in zip(v, v[1:], strict=False))
            )
            failures = failed[0]
        daemon.stop()
        runner.join()
        result = {
            "instances": len(ready["ports"]),
            "rtt_ms": args.rtt_ms,
            "profiled": args.profile,
            "seconds": round(wall, 1),
            "probes_answered": answered,
            "probes_failed": failures,
            "probes_per_second": round(answered / wall, 1),
            "cpu_percent": round(100 * cpu / wall, 1),
            "cpu_ms_per_probe": round(1000 * cpu / max(1, answered), 2),
            "probes_per_instance_min_p50_max": (counts[0], counts[len(counts) // 2], counts[-1]) if counts else None,
            "instances_probed": len(counts),
            "instances_reprobed_early": early,
            "loadavg": os.getloadavg()[0],
        }
        print(json.dumps(result), flush=True)
        if args.profile:
            print(json.dumps({"profiled_cpu_seconds_by_thread": profiles.by_thread()}))
            print(profiles.report(args.top, args.dump))


if __name__ == "__main__":
    main()
