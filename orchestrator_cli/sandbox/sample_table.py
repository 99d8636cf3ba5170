"""The replicated ``sandbox_test.writes`` table that tests push rows through the topology with."""

from __future__ import annotations

import uuid

from orchestrator_cli.sandbox.connection import query
from orchestrator_cli.sandbox.process import Server
from orchestrator_cli.sandbox.settings import SANDBOX_DATABASE, SANDBOX_TABLE

CREATE_STATEMENTS = (
    f"CREATE DATABASE IF NOT EXISTS {SANDBOX_DATABASE}",
    f"CREATE TABLE IF NOT EXISTS {SANDBOX_DATABASE}.{SANDBOX_TABLE} ("
    "id INT AUTO_INCREMENT PRIMARY KEY, val VARCHAR(255) NOT NULL, "
    "created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY (val)"
    ") ENGINE=InnoDB",
)
"""Run on each master once replication is wired, so the table replicates to every replica."""


def insert_row(server: Server, value: str | None = None) -> str:
    """Insert a row (random value unless given) and return its value, to look for elsewhere."""
    value = uuid.uuid4().hex if value is None else value
    query(server.port, f"INSERT INTO {SANDBOX_DATABASE}.{SANDBOX_TABLE} (val) VALUES (%s)", (value,))
    return value


def count_rows(server: Server, value: str | None = None) -> int:
    """Rows in the table on ``server``, optionally only those with ``value``."""
    sql = f"SELECT COUNT(*) AS n FROM {SANDBOX_DATABASE}.{SANDBOX_TABLE}"
    if value is None:
        return int(query(server.port, sql)[0]["n"])
    return int(query(server.port, sql + " WHERE val = %s", (value,))[0]["n"])
