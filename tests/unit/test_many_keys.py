"""Statements built from a caller-supplied collection of keys work at any size, on both backends.

A data-centre outage makes thousands of hosts unreachable at once, exactly when replication analysis
matters: the "unreachable" test of `analysis_aggregates` was an `OR` chain of `(hostname = ? AND
port = ?)` that SQLite refused past ~900 keys (an expression tree deeper than 1,000). Here 5,000
unreachable keys (beside a random fleet) give the facts a small case gives for the fleet, the
facts the pure-Python grouping gives, and invalid analysis for each of the 5,000; `read_instances`
reads 5,000 keys in one call; and a list of 40,000 keys (SQLite allows 32,766 parameters) matches.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.analysis import AnalysisFacts
from orchestrator_cli.backend import analysis as backend_analysis
from orchestrator_cli.backend import instances
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.model.keys import InstanceKey
from tests.support import sqlite_config, throwaway_mysql_database, write_config
from tests.unit.test_analysis_aggregates import _row, assert_same_facts, write_random_fleet

OUTAGE = 5000


@pytest.fixture(scope="module")
def sqlite_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    backend = Backend(load_config(str(sqlite_config(tmp_path_factory.mktemp("many-keys")))))
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture(scope="module")
def mysql_backend(tmp_path_factory: pytest.TempPathFactory, mysql_backend_server: tuple[str, int]) -> Iterator[Backend]:
    with throwaway_mysql_database(*mysql_backend_server, prefix="orch_followups") as keys:
        path = write_config(tmp_path_factory.mktemp("many-keys-mysql") / "orchestrator.conf.json", **keys)
        backend = Backend(load_config(str(path)))
        try:
            yield backend
        finally:
            backend.close()


def _outage(backend: Backend, seed: int) -> tuple[list[str], list[InstanceKey]]:
    """A random fleet (and its few "unreachable" keys), plus OUTAGE standalone masters in another DC."""
    small = write_random_fleet(backend, seed)
    rng = random.Random(seed)
    rows = []
    for i in range(OUTAGE):
        row = _row(rng, i, None, f"dc2-{i}:3306")
        row.update(hostname=f"dc2-{i}", master_host="", master_port=0, server_id=100000 + i)
        rows.append(row)
    instances.write_instances(backend, rows)
    return small, [InstanceKey(f"dc2-{i}", 3306) for i in range(OUTAGE)]


def _facts(backend: Backend, unreachable: list[str]) -> dict[InstanceKey, AnalysisFacts]:
    return {
        f.key: dataclasses.replace(f, downtime_remaining_seconds=0)
        for f in backend_analysis.analysis_aggregates(backend, unreachable, reduce=False)
    }


def _check_outage(backend: Backend) -> None:
    small, outage = _outage(backend, seed=7)
    big = small + [str(k) for k in outage]
    few = _facts(backend, small)
    many = _facts(backend, big)
    assert set(few) == set(many) and set(outage) <= set(many)
    for key in set(few) - set(outage):  # the fleet: as in the small case
        assert many[key] == few[key], key
    assert all(few[k].last_check_valid for k in outage)  # written just now: valid...
    assert not any(many[k].last_check_valid for k in outage)  # ...but unreachable
    assert_same_facts(backend, backend.config, big)  # type: ignore[arg-type]
    read = instances.read_instances(backend, outage)
    assert sorted(InstanceKey(r["hostname"], int(r["port"])) for r in read) == sorted(outage)


def test_outage_of_5000_keys_on_sqlite(sqlite_backend: Backend) -> None:
    _check_outage(sqlite_backend)


@pytest.mark.mysql_backend
def test_outage_of_5000_keys_on_mysql(mysql_backend: Backend) -> None:
    _check_outage(mysql_backend)


def _count_matching(backend: Backend, keys: list[tuple[str, int]]) -> int:
    test, params = backend.dialect.in_values(("hostname", "port"), keys)
    return int(backend.scalar(f"SELECT COUNT(*) AS n FROM database_instance WHERE {test}", params))


@pytest.mark.parametrize("name", ["sqlite_backend", pytest.param("mysql_backend", marks=pytest.mark.mysql_backend)])
def test_key_lists_past_the_parameter_limit(name: str, request: pytest.FixtureRequest) -> None:
    backend: Backend = request.getfixturevalue(name)
    _, outage = _outage(backend, seed=11)
    known = [(k.hostname, k.port) for k in outage]
    unknown = [(f"nowhere-{i}", 3306) for i in range(40000 - len(known))]
    assert _count_matching(backend, known + unknown) == len(known)
    assert _count_matching(backend, unknown) == 0
    assert _count_matching(backend, []) == 0
    assert _count_matching(backend, [known[0], known[0], (known[1][0], 3307)]) == 1  # port counts too
    ids: list[Any] = [(k.hostname,) for k in outage[:3]]
    test, params = backend.dialect.in_values(("hostname",), ids)
    assert backend.scalar(f"SELECT COUNT(*) AS n FROM database_instance WHERE {test}", params) == 3


def test_an_unreachable_ipv6_key_is_read_by_its_last_colon(tmp_path: Path) -> None:
    """Unreachable keys arrive printed (`::1:3307`, the IPv6 host unbracketed): the test compares the
    host `::1` on port 3307, not a host `::1:3307` on the default port."""
    from orchestrator_cli.backend.analysis import _unreachable_test

    backend = Backend(load_config(overrides={"BackendDB": "sqlite", "SQLite3DataFile": str(tmp_path / "o.db")}))
    try:
        _, params = _unreachable_test(backend, "m", ["::1:3307", "db1:3306"])
    finally:
        backend.close()
    assert any(("::1", 3307) in [tuple(pair) for pair in json.loads(p)] for p in params if isinstance(p, str))
