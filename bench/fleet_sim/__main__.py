"""Run a simulated fleet as its own process (so a benchmark measures its CPU apart from the daemon's).

    .venv/bin/python -m bench.fleet_sim --clusters 200 --base-port 21000 --control-port 20999 [--rtt-ms 3]

Prints one JSON line once every server listens: ``{"ready": true, "ports": [...], "masters": [...],
"control": 20999}``; then serves until a ``shutdown`` request on the control port or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from bench.fleet_sim.control import serve_control
from bench.fleet_sim.model import Fleet
from bench.fleet_sim.server import FleetSimulator, raise_open_files_limit


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet_sim", description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, required=True, help="clusters of 5 servers each")
    parser.add_argument("--base-port", type=int, required=True, help="first server's port (then consecutive)")
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("--slave-net-timeout", type=float, default=4.0)
    parser.add_argument(
        "--rtt-ms", type=float, default=0.0, help="latency added to every answer and greeting (asyncio sleep, no CPU)"
    )
    args = parser.parse_args(argv)
    if args.rtt_ms < 0:
        parser.error("--rtt-ms must not be negative")
    raise_open_files_limit()
    fleet = Fleet.of_clusters(args.clusters, args.base_port, slave_net_timeout=args.slave_net_timeout)
    sim = FleetSimulator(fleet, rtt=args.rtt_ms / 1000)

    async def announce() -> None:
        await serve_control(sim, args.control_port)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, sim._stop.set)  # type: ignore[union-attr]
        ready = {
            "ready": True,
            "ports": sim.fleet.ports(),
            "masters": [s.port for s in sim.fleet.masters()],
            "control": args.control_port,
        }
        print(json.dumps(ready), flush=True)

    asyncio.run(sim.serve(ready=announce()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
