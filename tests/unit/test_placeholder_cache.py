"""The MySQL backend's placeholder translation (`?` -> `%s`, `dialect._mysql_placeholders`) holds every
statement text of a daemon's steady state: after one cycle has been seen, later cycles translate
nothing again, whatever the size of the unreachable list their analysis passes carry, and one-off
statements in between (an API client paging through the audit log) do not push them out.

Run on the MySQL backend, through the backend functions a probe cycle and an analysis pass call: the
statement texts are the real ones.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend import audit, dialect, health, instances
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.recovery.detection import current_analysis
from tests.support import write_config
from tests.unit.test_analysis_aggregates import _row

FLEET = 12
UNREACHABLE_SIZES = (0, 1, 2, 3, 5, 8, 13, 100, 700, 5000)  # dead hosts of an outage, any count
CACHE_SIZE = 200  # the cache's bound for this test (the real one is 1024): small enough to flood cheaply


@pytest.fixture
def backend(mysql_backend_db: dict[str, Any], tmp_path: Path) -> Iterator[Backend]:
    config = load_config(str(write_config(tmp_path / "orchestrator.conf.json", **mysql_backend_db)))
    backend = Backend(config)
    try:
        yield backend
    finally:
        backend.close()


def _fleet_rows() -> list[dict[str, Any]]:
    rng = random.Random(11)
    master = InstanceKey("h0", 3306)
    return [_row(rng, i, None if i == 0 else master, "h0:3306") for i in range(FLEET)]


def _outage(size: int) -> set[str]:
    return {f"h{i}:3306" for i in range(size)} if size <= FLEET else {f"dead-{i}:3306" for i in range(size)}


def _cycle(backend: Backend, rows: list[dict[str, Any]], unreachable: set[str]) -> None:
    """What one continuous-mode cycle asks of the backend: each probe's attempt and upsert (one row at
    a time, as probes finish), a failed check, the node's health heartbeat and an analysis pass."""
    for row in rows:
        key = InstanceKey(row["hostname"], row["port"])
        instances.record_attempt(backend, key)
        instances.write_instances(backend, [row])
    instances.record_failed_check(backend, InstanceKey(rows[-1]["hostname"], rows[-1]["port"]), partial=False)
    health.register(backend, "continuous", "continuous", "test")
    current_analysis(backend, backend.config, include_downtimed=True, unreachable=unreachable)


def test_a_daemons_statements_are_translated_once(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    scanned: list[str] = []
    scan = dialect._outside_quotes

    def counted(sql: str, old: str, new: str) -> str:
        scanned.append(sql)
        return scan(sql, old, new)

    monkeypatch.setattr(dialect, "_outside_quotes", counted)
    monkeypatch.setattr(dialect, "_TRANSLATED", {})
    monkeypatch.setattr(dialect, "_TRANSLATED_MAX", CACHE_SIZE)
    translate = dialect._mysql_placeholders
    asked: set[str] = set()

    def recorded(sql: str) -> str:
        asked.add(sql)
        return translate(sql)

    monkeypatch.setattr(dialect, "_mysql_placeholders", recorded)
    rows = _fleet_rows()

    for size in UNREACHABLE_SIZES:  # the first cycles (and the schema's deployment): every text seen once
        _cycle(backend, rows, _outage(size))
    assert len(scanned) == len(set(scanned))  # nothing scanned twice, even while warming up
    asked.clear()
    for size in UNREACHABLE_SIZES:
        _cycle(backend, rows, _outage(size))
    steady = set(asked)  # the daemon's working set
    # a probe cycle and analysis passes with unreachable lists of 0 to 5,000 keys: a few dozen texts
    # (each list takes a power-of-two width), far below the cache's bound
    assert 10 < len(steady) < CACHE_SIZE // 4

    scanned.clear()
    for cycle in range(3 * len(UNREACHABLE_SIZES)):
        # one-off texts between cycles: each audit page is a statement of its own (LIMIT/OFFSET in it);
        # 12 a cycle overflow the cache twice in this loop, the daemon's own texts staying in use
        for offset in range(cycle * 12, cycle * 12 + 12):
            audit.read_audit(backend, limit=10, offset=offset)
        _cycle(backend, rows, _outage(UNREACHABLE_SIZES[cycle % len(UNREACHABLE_SIZES)]))
    assert [sql for sql in scanned if "FROM audit" not in sql] == []  # none of the daemon's was scanned again
    assert steady <= set(dialect._TRANSLATED)  # they are all still there
    assert len(dialect._TRANSLATED) == CACHE_SIZE  # in a full cache, which has evicted one-offs
