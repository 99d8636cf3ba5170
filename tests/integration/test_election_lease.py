"""The leader lease on the MySQL/MariaDB backend, where a renewal within the same second changes no row."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend import election
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config

pytestmark = pytest.mark.mysql_backend

A = ("node-a", "a" * 64)
B = ("node-b", "b" * 64)


@pytest.fixture
def backends(deployed_mysql_backend_db: dict[str, Any], tmp_path: Path) -> Iterator[tuple[Backend, Backend]]:
    config = tmp_path / "orchestrator.conf.json"
    config.write_text(json.dumps(deployed_mysql_backend_db))
    a, b = Backend(load_config(str(config))), Backend(load_config(str(config)))
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_renewing_many_times_within_a_second_keeps_the_lease(backends: tuple[Backend, Backend]) -> None:
    a, b = backends
    first = election.attempt_election(a, A)
    assert first is not None
    renewals = [election.attempt_election(a, A) for _ in range(20)]  # most land in the same second
    assert renewals == [first] * 20
    assert election.attempt_election(b, B) is None
    assert election.holds(b, first)


def test_losing_a_race_for_the_seat_is_not_an_error(
    backends: tuple[Backend, Backend], caplog: pytest.LogCaptureFixture
) -> None:
    """A contender that waits on the row lock until it times out is simply not the leader."""
    import mysql.connector

    a, b = backends
    assert election.attempt_election(a, A) is not None
    a.execute("UPDATE active_node SET last_seen_active = NOW() - INTERVAL 30 SECOND")
    b.execute("SET SESSION innodb_lock_wait_timeout = 1")
    holder = mysql.connector.connect(**a.mysql_params())
    try:
        cur = holder.cursor()
        cur.execute("START TRANSACTION")
        cur.execute("SELECT hostname FROM active_node WHERE anchor = 1 FOR UPDATE")
        cur.fetchall()
        with caplog.at_level(logging.DEBUG, logger="orchestrator.election"):
            assert election.attempt_election(b, B) is None
        holder.rollback()
    finally:
        holder.close()
    assert [r.levelno for r in caplog.records if r.name == "orchestrator.election"] == [logging.DEBUG]
    assert election.attempt_election(b, B) is not None  # the lease had expired: once free, it is taken
