"""Replication credentials for a server that must start replicating from another (a demoted master,
a new co-master): the one helper make-co-master and the graceful takeovers share.

The source, as in the original: `ReplicationCredentialsQuery` run on the server whose credentials
are copied (the new master's own replica account), read by position (user, password, then optional
SSL CA, certificate and key paths; the column names are the user's and may be equal, as in
`select 'ci', 'ci'`); else, without that key, what the
server itself stores where SQL can read it (MySQL's `mysql.slave_master_info`; MariaDB has no such
place). A configured query that answers no row, fewer than two columns or an empty user is an
error: the caller has changed nothing yet and the operator gets to fix the query.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from orchestrator_cli.errors import OrchestratorError, TopologyError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.topology.env import TopologyEnv

log = logging.getLogger("orchestrator.topology")

QUERY_KEY = "ReplicationCredentialsQuery"


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    source: str  # where they came from, for messages: the config key or the server's table
    ssl_files: tuple[str, str, str] = ("", "", "")  # CA, certificate, key: the query's columns 3-5

    def __repr__(self) -> str:  # never print a password
        return f"Credentials(user={self.user!r}, password='********', source={self.source!r})"

    def change_master_fields(self, *, ssl_allowed: bool = False) -> dict[str, Any]:
        """The `Flavor.change_master` arguments that give a server these credentials: user and
        password, the SSL files the query named, and `MASTER_SSL=1` with any of those or when the
        server they were copied from connects with SSL (`ssl_allowed`)."""
        ssl = ssl_allowed or any(self.ssl_files)
        return {
            "user": self.user,
            "password": self.password,
            "ssl": True if ssl else None,
            "ssl_files": self.ssl_files if any(self.ssl_files) else None,
        }


def from_row(key: InstanceKey, row: tuple[object, ...] | None) -> Credentials:
    """Credentials from the first row of `ReplicationCredentialsQuery` run on `key`.

    >>> from_row(InstanceKey("db1", 3306), ("ci", "ci"))
    Credentials(user='ci', password='********', source='ReplicationCredentialsQuery')
    >>> from_row(InstanceKey("db1", 3306), None)
    Traceback (most recent call last):
    ...
    orchestrator_cli.errors.TopologyError: db1:3306: ReplicationCredentialsQuery returned no row
    """
    if row is None:
        raise TopologyError(f"{key}: {QUERY_KEY} returned no row")
    if len(row) < 2:
        raise TopologyError(f"{key}: {QUERY_KEY} must return user and password (got {len(row)} column)")
    user, password = row[0], row[1]
    if user is None or str(user) == "":
        raise TopologyError(f"{key}: {QUERY_KEY} returned an empty user")
    files = [("" if v is None else str(v)) for v in row[2:5]] + ["", "", ""]
    return Credentials(str(user), "" if password is None else str(password), QUERY_KEY, (files[0], files[1], files[2]))


def replication_credentials(env: TopologyEnv, key: InstanceKey) -> Credentials | None:
    """The credentials to copy from `key`; None when there is no source for them (see the module)."""
    server = env.server(key)
    query = str(env.config.get(QUERY_KEY) or "").strip()
    if query:
        return from_row(key, server.first_row(query))
    sql = server.flavor.stored_replication_credentials_sql()
    if sql is None:
        return None
    try:
        row = server.first_row(sql)
    except OrchestratorError as e:  # FILE repository, no privilege: no source, as without the table
        log.info("%s: cannot read stored replication credentials: %s", key, e)
        return None
    if not row or len(row) < 2 or not row[0]:
        return None
    return Credentials(str(row[0]), str(row[1] or ""), "mysql.slave_master_info")
