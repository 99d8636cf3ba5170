"""A newly elected leader's first discovery pass ends when every server has been probed once, even
when a hung master is probed again and again (its replicas, the observers, keep asking for it):
analysis must not wait for a re-probe of a server whose first probe already failed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator_cli.backend import instances
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.discovery.scheduler import DiscoveryScheduler
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import Unresponsive
from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import run_cli


@pytest.fixture
def sb(fresh_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield fresh_sandbox
    fresh_sandbox.resume(0)


def test_first_pass_ends_while_a_failed_hung_master_is_probed_again(
    sb: Sandbox, tmp_path: Path, wait_until: Callable[..., object]
) -> None:
    config_path = sb.write_config(
        tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3", InstancePollSeconds=1
    )
    assert run_cli("-c", "discover", "-i", sb.key(0), config=config_path).code == 0
    config = load_config(str(config_path))
    backend = Backend(config)
    scheduler = DiscoveryScheduler(config, Unresponsive())
    master = InstanceKey("127.0.0.1", sb.ports[0])
    try:
        wait_until(
            lambda: not any(int(r["is_up_to_date"]) for r in instances.all_instances(backend)),
            timeout=30,
            message="the backend's rows are due (as for a leader elected after the previous one died)",
        )
        sb.pause(0)
        scheduler.tick(backend)  # the first wave: every server the backend knows
        assert scheduler.in_flight(master)
        replicas = [InstanceKey("127.0.0.1", p) for p in sb.ports[1:]]

        def first_probes_done() -> bool:
            """Every first probe has ended: the replicas' written, the master's failed on its read
            timeout. (Not "nothing in flight": with InstancePollSeconds=1 on a loaded machine, probes
            ending start the next due ones, so that moment may never come.)"""
            fresh = {(r["hostname"], int(r["port"])) for r in instances.all_instances(backend) if r["is_up_to_date"]}
            return master in scheduler.failing() and all((k.hostname, k.port) in fresh for k in replicas)

        wait_until(first_probes_done, timeout=60, message="the first probes complete")
        scheduler.request([master])  # asked for again at once, as the observers of a hung master do
        assert scheduler.in_flight(master)

        def first_pass_after_a_tick() -> bool:
            scheduler.tick(backend)
            return scheduler.first_pass.is_set()

        wait_until(
            first_pass_after_a_tick,
            timeout=10,
            message="the first pass ends while the master is probed again",
        )
    finally:
        scheduler.close()
        sb.resume(0)
        scheduler.join()
        backend.close()
