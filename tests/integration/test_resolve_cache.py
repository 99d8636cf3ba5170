"""The process's hostname resolve cache (discovery/resolve_cache.py) against real backends and a real
sandbox: continuous mode's probes read `hostname_resolve` once per ExpiryHostnameResolvesMinutes and
write a mapping once per period, a change made by someone else is seen after expiry, a reset empties
the cache with the table, and RejectHostnameResolvePattern vetoes a resolved name.

Time is a fake monotonic clock handed to the cache; the backends' clocks are real.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend import hostnames
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.discovery import resolve_cache
from orchestrator_cli.discovery.crawl import probe_one
from orchestrator_cli.discovery.resolve_cache import ResolveCache
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import run_cli, write_config

EXPIRY_MINUTES = 5
PERIOD = EXPIRY_MINUTES * 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "mysql"])
def backend_keys(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    if request.param == "sqlite":
        return {"BackendDB": "sqlite", "SQLite3DataFile": str(tmp_path / "orchestrator.sqlite3")}
    keys: dict[str, Any] = request.getfixturevalue("deployed_mysql_backend_db")
    return keys


@pytest.fixture
def backend(backend_keys: dict[str, Any]) -> Iterator[Backend]:
    b = Backend(load_config(overrides={**backend_keys, "ExpiryHostnameResolvesMinutes": EXPIRY_MINUTES}))
    b.connection()
    yield b
    b.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(backend: Backend, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> ResolveCache:
    """The process's cache of this backend's database, on the fake clock."""
    installed = ResolveCache(clock)
    monkeypatch.setitem(resolve_cache._caches, resolve_cache._identity(backend), installed)
    assert resolve_cache.for_backend(backend) is installed
    return installed


def _age(backend: Backend, hostname: str) -> int:
    ages = {h: age for h, _, age in hostnames.resolves_with_age(backend)}
    return ages[hostname]


def _backdate(backend: Backend, hostname: str, seconds: int) -> None:
    d = backend.dialect
    backend.execute(
        f"UPDATE hostname_resolve SET resolved_timestamp = {d.seconds_ago('?')} WHERE hostname = ?",
        (seconds, hostname),
    )


def test_the_table_is_read_once_per_expiry_and_a_change_is_seen_after_it(
    backend: Backend, cache: ResolveCache, clock: Clock
) -> None:
    other = Backend(backend.config)  # another process writing the same backend
    try:
        hostnames.register_resolve(other, "10.0.0.1", "db1.example")
        assert cache.mapping(backend, backend.config) == {"10.0.0.1": "db1.example"}
        hostnames.register_resolve(other, "10.0.0.1", "db1-new.example")
        hostnames.register_resolve(other, "10.0.0.2", "db2.example")
        for _ in range(5):
            clock.now += PERIOD / 10
            assert cache.mapping(backend, backend.config) == {"10.0.0.1": "db1.example"}
        assert cache.reads == 1
        clock.now += PERIOD / 2  # a whole period since the read
        assert cache.mapping(backend, backend.config) == {"10.0.0.1": "db1-new.example", "10.0.0.2": "db2.example"}
        assert cache.reads == 2
    finally:
        other.close()


def test_a_mapping_is_written_when_new_changed_or_aged(backend: Backend, cache: ResolveCache, clock: Clock) -> None:
    config = backend.config
    hostnames.register_resolve(backend, "10.0.0.1", "db1.example")
    hostnames.register_resolve(backend, "10.0.0.2", "db2.example")
    _backdate(backend, "10.0.0.2", int(PERIOD) + 10)  # written by someone more than a period ago
    cache.mapping(backend, config)
    assert not cache.should_write("10.0.0.1", "db1.example", config)  # fresh in the table
    assert cache.should_write("10.0.0.1", "db1-moved.example", config)  # changed
    assert cache.should_write("10.0.0.2", "db2.example", config)  # its row is about to age out
    assert cache.should_write("10.0.0.3", "db3.example", config)  # new
    cache.learned("10.0.0.3", "db3.example", config)
    assert not cache.should_write("10.0.0.3", "db3.example", config)
    assert cache.mapping(backend, config)["10.0.0.3"] == "db3.example"
    clock.now += PERIOD
    assert cache.should_write("10.0.0.3", "db3.example", config)  # a period later: refreshed


def test_rejected_names_are_neither_cached_nor_written(backend: Backend, cache: ResolveCache) -> None:
    config = {**backend.config, "RejectHostnameResolvePattern": r"^localhost\b"}
    hostnames.register_resolve(backend, "10.0.0.1", "localhost.localdomain")  # written before the pattern
    hostnames.register_resolve(backend, "10.0.0.2", "db2.example")
    assert cache.mapping(backend, config) == {"10.0.0.2": "db2.example"}
    assert not cache.should_write("10.0.0.3", "localhost", config)
    cache.learned("10.0.0.3", "localhost", config)
    assert "10.0.0.3" not in cache.mapping(backend, config)


def test_reset_hostname_resolve_cache_empties_the_process_cache(
    backend: Backend, backend_keys: dict[str, Any], cache: ResolveCache, tmp_path: Path
) -> None:
    hostnames.register_resolve(backend, "10.0.0.1", "db1.example")
    assert cache.mapping(backend, backend.config) == {"10.0.0.1": "db1.example"}
    config = write_config(tmp_path / "reset.conf.json", **backend_keys)
    assert run_cli("-c", "reset-hostname-resolve-cache", config=config).code == 0
    assert hostnames.resolve_map(backend) == {}
    assert cache.mapping(backend, backend.config) == {}  # read again at once, not after expiry
    assert cache.reads == 2


# ---------------------------------------------------------------- continuous mode's probes, on a sandbox


@pytest.fixture
def hostname(sandbox: Sandbox) -> str:
    sandbox.reset_replication()
    name = str(sandbox.query(0, "SELECT @@GLOBAL.hostname AS h")[0]["h"])
    if name in ("", "127.0.0.1"):
        pytest.skip("the servers report no host name different from the address used to reach them")
    return name


def _probe_config(sandbox: Sandbox, tmp_path: Path, backend_keys: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    path = sandbox.write_config(tmp_path / "probe.conf.json", tmp_path / "unused.sqlite3")
    values = json.loads(path.read_text())
    values = {k: v for k, v in values.items() if k != "SQLite3DataFile" and k != "BackendDB"}
    values.update(backend_keys, MySQLHostnameResolveMethod="@@hostname", ExpiryHostnameResolvesMinutes=EXPIRY_MINUTES)
    values.update(overrides)
    return dict(load_config(overrides=values))


def test_continuous_probes_read_and_write_resolves_once_per_expiry(
    sandbox: Sandbox,
    hostname: str,
    backend_keys: dict[str, Any],
    tmp_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _probe_config(sandbox, tmp_path, backend_keys)
    backend = Backend(config)
    access = TopologyAccess(config)
    cache = ResolveCache(clock)
    monkeypatch.setitem(resolve_cache._caches, resolve_cache._identity(backend), cache)

    def probe(i: int) -> InstanceKey | None:
        probed = probe_one(InstanceKey("127.0.0.1", sandbox.ports[i]), access, backend, config)
        assert probed.result is not None, probed.error
        return probed.result.master_key

    try:
        for i in (0, 1, 2, 3):
            probe(i)
        assert hostnames.resolve_map(backend) == {"127.0.0.1": hostname}
        _backdate(backend, "127.0.0.1", 30)  # to see whether a probe writes the row again
        for _ in range(3):
            for i in (0, 1, 2, 3):
                clock.now += 1
                probe(i)
        assert cache.reads == 1  # sixteen probes, one read of the table
        assert _age(backend, "127.0.0.1") >= 30  # and no write of the mapping they all learned
        rows = backend.query("SELECT hostname, port, master_host FROM database_instance WHERE port = ?",
                             (sandbox.ports[1],))  # fmt: skip
        assert [(r["hostname"], r["master_host"]) for r in rows] == [(hostname, hostname)]

        # someone else changes the mapping: this process sees it once the period is over
        hostnames.register_resolve(backend, "127.0.0.1", "elsewhere.example")
        clock.now += 10
        probe(1)
        assert hostnames.resolve_map(backend) == {"127.0.0.1": "elsewhere.example"}  # not yet re-read
        clock.now += PERIOD
        probe(1)  # re-read: the cache holds the other name, the probe learns its own and writes it back
        assert cache.reads == 2
        assert hostnames.resolve_map(backend) == {"127.0.0.1": hostname}
        assert _age(backend, "127.0.0.1") < 30
    finally:
        access.close()
        backend.close()


def test_a_rejected_server_name_keeps_the_probed_name(
    sandbox: Sandbox,
    hostname: str,
    backend_keys: dict[str, Any],
    tmp_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _probe_config(sandbox, tmp_path, backend_keys, RejectHostnameResolvePattern=f"^{hostname}$")
    backend = Backend(config)
    access = TopologyAccess(config)
    monkeypatch.setitem(resolve_cache._caches, resolve_cache._identity(backend), ResolveCache(clock))
    try:
        probed = probe_one(InstanceKey("127.0.0.1", sandbox.ports[1]), access, backend, config)
        assert probed.result is not None and probed.result.key == InstanceKey("127.0.0.1", sandbox.ports[1])
        assert hostnames.resolve_map(backend) == {}
    finally:
        access.close()
        backend.close()
