"""HostnameResolveMethod end to end, on the sandbox (servers on 127.0.0.1; `localhost` resolves to
127.0.0.1 through /etc/hosts): with `ip`, a server discovered as `localhost:P` and as `127.0.0.1:P` is
one instance keyed 127.0.0.1:P, a replica's Master_Host `localhost` names that same row, and `-i
localhost:P` finds it; with `default` names stay as given."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.discovery import resolve
from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import run_cli


@pytest.fixture(autouse=True)
def _localhost_is_127_0_0_1() -> Iterator[None]:
    try:
        address = resolve.lookup_ip("localhost")
    except OSError:
        address = ""
    if address != "127.0.0.1":
        pytest.skip("localhost does not resolve to 127.0.0.1 here")
    resolve.forget()  # lookups other tests of this process cached
    yield
    resolve.forget()


def _config(sandbox: Sandbox, tmp_path: Path, method: str) -> Path:
    return sandbox.write_config(
        tmp_path / f"{method}.conf.json",
        tmp_path / f"{method}.sqlite3",
        HostnameResolveMethod=method,
        MySQLHostnameResolveMethod="none",
    )


def _rows(config: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(json.loads(config.read_text())["SQLite3DataFile"])
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def _keys(config: Path, port: int) -> list[str]:
    rows = _rows(config, f"SELECT hostname, port FROM database_instance WHERE port = {port}")
    return sorted(f"{r['hostname']}:{r['port']}" for r in rows)


def test_ip_makes_localhost_and_127_0_0_1_one_instance(sandbox: Sandbox, tmp_path: Path) -> None:
    config = _config(sandbox, tmp_path, "ip")
    port = sandbox.ports[1]
    first = run_cli("-c", "discover", "-i", f"localhost:{port}", config=config)
    assert first.code == 0, first.err
    assert first.out.strip() == f"127.0.0.1:{port}"
    second = run_cli("-c", "discover", "-i", f"127.0.0.1:{port}", config=config)
    assert second.code == 0, second.err
    assert _keys(config, port) == [f"127.0.0.1:{port}"]
    hosts = {r["hostname"] for r in _rows(config, "SELECT hostname FROM database_instance")}
    assert hosts == {"127.0.0.1"}
    # the name met is recorded as the MySQLHostnameResolveMethod mappings are
    resolves = _rows(config, "SELECT hostname, resolved_hostname FROM hostname_resolve")
    assert resolves == [{"hostname": "localhost", "resolved_hostname": "127.0.0.1"}]
    found = run_cli("-c", "which-instance", "-i", f"localhost:{port}", config=config)
    assert (found.code, found.out.strip()) == (0, f"127.0.0.1:{port}"), found.err
    cluster = run_cli("-c", "which-cluster", "-i", f"localhost:{port}", config=config)
    assert (cluster.code, cluster.out.strip()) == (0, f"127.0.0.1:{sandbox.ports[0]}"), cluster.err
    master = f"localhost:{sandbox.ports[0]}"
    check = run_cli("-c", "can-replicate-from", "-i", f"localhost:{port}", "-d", master, config=config)
    assert (check.code, check.out.strip()) == (0, f"127.0.0.1:{sandbox.ports[0]}"), check.err


def test_default_keeps_names_as_given(sandbox: Sandbox, tmp_path: Path) -> None:
    config = _config(sandbox, tmp_path, "default")
    port = sandbox.ports[1]
    for host in ("localhost", "127.0.0.1"):
        result = run_cli("-c", "discover", "-i", f"{host}:{port}", config=config)
        assert result.code == 0, result.err
    assert _keys(config, port) == [f"127.0.0.1:{port}", f"localhost:{port}"]
    assert _rows(config, "SELECT hostname FROM hostname_resolve") == []


@pytest.mark.parametrize(("method", "master_host"), [("ip", "127.0.0.1"), ("default", "localhost")])
def test_a_master_host_is_normalised(fresh_sandbox: Sandbox, tmp_path: Path, method: str, master_host: str) -> None:
    sandbox = fresh_sandbox
    master, replica = sandbox.ports[0], sandbox.ports[1]
    config = _config(sandbox, tmp_path, method)
    try:
        # the IO thread need not connect: Master_Host is what the probe reads
        sandbox.execute(1, "STOP SLAVE", f"CHANGE MASTER TO MASTER_HOST='localhost', MASTER_PORT={master}")
        result = run_cli("-c", "discover", "-i", f"127.0.0.1:{replica}", config=config)
        assert result.code == 0, result.err
        rows = _rows(config, f"SELECT master_host, master_port FROM database_instance WHERE port = {replica}")
        assert rows == [{"master_host": master_host, "master_port": master}]
    finally:
        sandbox.reset_replication()


def test_continuous_probes_normalise_their_target(sandbox: Sandbox, tmp_path: Path) -> None:
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config
    from orchestrator_cli.discovery.crawl import probe_one
    from orchestrator_cli.model.keys import InstanceKey
    from orchestrator_cli.mysql.access import TopologyAccess

    path = _config(sandbox, tmp_path, "ip")
    config = dict(load_config(overrides=json.loads(path.read_text())))
    backend, access = Backend(config), TopologyAccess(config)
    port = sandbox.ports[2]
    try:
        probed = probe_one(InstanceKey("localhost", port), access, backend, config)
        assert probed.result is not None, probed.error
        assert probed.result.key == InstanceKey("127.0.0.1", port)
        assert probed.result.master_key == InstanceKey("127.0.0.1", sandbox.ports[0])
    finally:
        access.close()
        backend.close()
    assert _keys(path, port) == [f"127.0.0.1:{port}"]
    assert _rows(path, "SELECT hostname, resolved_hostname FROM hostname_resolve") == [
        {"hostname": "localhost", "resolved_hostname": "127.0.0.1"}
    ]
