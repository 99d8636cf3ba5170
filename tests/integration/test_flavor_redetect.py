"""A server's flavor is that of the connection in use: detected from each new connection's handshake,
so a server upgraded, or replaced by another behind the same address, is read and changed as what it
is now, after a MySQLConnectionLifetimeSeconds reconnect as after a lost connection; a probe confirms
it from the ``@@version_comment`` its core variables read (the handshake has none).

Against the fleet simulator (bench/fleet_sim), whose servers announce the version their model holds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mysql_mimic")

from bench.fleet_sim.config import fleet_config  # noqa: E402
from bench.fleet_sim.model import Fleet, free_port_range  # noqa: E402
from bench.fleet_sim.server import FleetSimulator  # noqa: E402
from orchestrator_cli.config import load_config  # noqa: E402
from orchestrator_cli.discovery.probe import probe  # noqa: E402
from orchestrator_cli.errors import TopologyError  # noqa: E402
from orchestrator_cli.model.keys import InstanceKey  # noqa: E402
from orchestrator_cli.mysql.access import TopologyAccess  # noqa: E402
from orchestrator_cli.mysql.flavor import MariaDB, MySQL80  # noqa: E402

LIFETIME = 1


@pytest.fixture
def cluster() -> Iterator[tuple[FleetSimulator, int]]:
    base = free_port_range(5)
    with FleetSimulator(Fleet.of_clusters(1, base)) as sim:
        yield sim, base


def _access(tmp_path: Path, **overrides: object) -> TopologyAccess:
    path = tmp_path / "orchestrator.conf.json"
    path.write_text(
        json.dumps(fleet_config(BackendDB="sqlite", SQLite3DataFile=str(tmp_path / "o.sqlite3"), **overrides))
    )
    return TopologyAccess(load_config(str(path)))


def _become_mysql80(
    sim: FleetSimulator, port: int, version: str = "8.0.36", comment: str = "MySQL Community Server - GPL"
):
    """The server at `port` now answers as MySQL 8.0 (new connections announce it in their handshake)."""
    with sim.fleet.lock:
        sim.fleet.servers[port].globals.update(
            version=version, version_comment=comment, log_replica_updates="1", super_read_only="0"
        )


def test_the_flavor_is_detected_again_on_a_lifetime_reconnect(cluster: tuple[FleetSimulator, int], tmp_path: Path):
    sim, base = cluster
    access = _access(tmp_path, MySQLConnectionLifetimeSeconds=LIFETIME)
    try:
        server = access.server(InstanceKey("127.0.0.1", base))
        assert isinstance(server.flavor, MariaDB)
        _become_mysql80(sim, base)
        assert isinstance(server.flavor, MariaDB)  # the same, young connection: the server it reached then
        time.sleep(LIFETIME + 0.2)
        assert server.flavor == MySQL80("8.0.36")  # replaced before use, and detected from its handshake
        core = server.core_variables()  # read with 8.0's statement (log_replica_updates, super_read_only)
        assert (core.version, core.log_slave_updates) == ("8.0.36", True)
    finally:
        access.close()


def test_a_server_replaced_behind_its_address_is_detected_after_the_lost_connection(
    cluster: tuple[FleetSimulator, int], tmp_path: Path
):
    sim, base = cluster
    access = _access(tmp_path)
    try:
        server = access.server(InstanceKey("127.0.0.1", base), discovery=True)
        assert isinstance(probe(server, access.config).flavor, MariaDB)
        sim.kill(base)
        _become_mysql80(sim, base, "8.0.36-28", "Percona Server (GPL), Release 28")
        sim.revive(base)
        with pytest.raises(TopologyError):
            server.core_variables()  # the old connection was reset: dropped, not reused
        assert server.flavor == MySQL80("8.0.36-28")  # a new connection, detected from its handshake
        assert not server.flavor.is_percona  # the handshake has no version_comment ...
        assert server.core_variables().version == "8.0.36-28"
        assert server.flavor.is_percona  # ... which the core variables confirm
    finally:
        access.close()
