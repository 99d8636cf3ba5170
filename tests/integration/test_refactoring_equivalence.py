"""`master_position_equivalence` reads and writes on both backends (SQLite and MySQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend import equivalence
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from tests.support import sqlite_config, write_config

A, B, C = InstanceKey("db-a", 3306), InstanceKey("db-b", 3306), InstanceKey("db-c", 3306)


def _exercise(backend: Backend) -> None:
    equivalence.record(
        backend, A, BinlogCoordinates("mysql-bin.000007", 1200), B, BinlogCoordinates("mysql-bin.000003", 880)
    )
    assert equivalence.find(backend, A, BinlogCoordinates("mysql-bin.000007", 1200), B) == BinlogCoordinates(
        "mysql-bin.000003", 880
    )
    assert equivalence.find(backend, B, BinlogCoordinates("mysql-bin.000003", 880), A) == BinlogCoordinates(
        "mysql-bin.000007", 1200
    )
    assert equivalence.find(backend, A, BinlogCoordinates("mysql-bin.000007", 1201), B) is None
    assert equivalence.find(backend, A, BinlogCoordinates("mysql-bin.000007", 1200), C) is None
    # the same pair seen again later (e.g. after a binlog rotation on B) replaces the old target position
    equivalence.record(
        backend, A, BinlogCoordinates("mysql-bin.000007", 1200), B, BinlogCoordinates("mysql-bin.000004", 4)
    )
    assert equivalence.find(backend, A, BinlogCoordinates("mysql-bin.000007", 1200), B) == BinlogCoordinates(
        "mysql-bin.000004", 4
    )
    # nothing is recorded for a master that did not change or unknown coordinates
    equivalence.record(
        backend, A, BinlogCoordinates("mysql-bin.000007", 1300), A, BinlogCoordinates("mysql-bin.000007", 1300)
    )
    equivalence.record(backend, A, BinlogCoordinates("", 0), C, BinlogCoordinates("mysql-bin.000001", 4))
    assert backend.scalar("SELECT COUNT(*) FROM master_position_equivalence") == 1
    backend.execute(
        "UPDATE master_position_equivalence SET last_suggested = " + backend.dialect.seconds_ago("?"),
        (241 * 3600,),
    )
    assert equivalence.find(backend, A, BinlogCoordinates("mysql-bin.000007", 1200), B) is None
    assert equivalence.expire(backend) == 1


def test_equivalence_on_sqlite(tmp_path: Path) -> None:
    backend = Backend(load_config(str(sqlite_config(tmp_path))))
    try:
        _exercise(backend)
    finally:
        backend.close()


@pytest.mark.mysql_backend
def test_equivalence_on_mysql(tmp_path: Path, deployed_mysql_backend_db: dict[str, Any]) -> None:
    backend = Backend(load_config(str(write_config(tmp_path / "orchestrator.conf.json", **deployed_mysql_backend_db))))
    try:
        _exercise(backend)
    finally:
        backend.close()
