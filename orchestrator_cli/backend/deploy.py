"""Schema deployment: one cheap query when the schema is current, SQLAlchemy `create_all` when it is not.

Concurrent first runs (hundreds of cron jobs on a fresh host) are serialised with a file lock on
SQLite and GET_LOCK on MySQL, and re-check the version after taking the lock.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from orchestrator_cli.errors import BackendError

if TYPE_CHECKING:
    from orchestrator_cli.backend.connection import Backend

SCHEMA_VERSION = "orchestrator-py-schema-1"
log = logging.getLogger("orchestrator.backend")


def schema_is_current(backend: Backend) -> bool:
    try:
        row = backend.query_one(
            "SELECT deployed_version FROM orchestrator_db_deployments WHERE deployed_version = ?",
            (SCHEMA_VERSION,),
        )
    except BackendError:
        return False
    return row is not None


def ensure_schema(backend: Backend, force: bool = False) -> bool:
    """Deploy when needed; returns True when it deployed. `SkipOrchestratorDatabaseUpdate` is honoured."""
    if not force and schema_is_current(backend):
        return False
    if backend.config.get("SkipOrchestratorDatabaseUpdate") and not force:
        raise BackendError(
            "backend schema is not deployed and SkipOrchestratorDatabaseUpdate is set;"
            " run with --enable-database-update or -c redeploy-internal-db"
        )
    with _deploy_lock(backend):
        if not force and schema_is_current(backend):
            return False
        _create_all(backend)
    return True


@contextlib.contextmanager
def _deploy_lock(backend: Backend) -> Iterator[None]:
    if backend.is_sqlite:
        path = str(backend.config["SQLite3DataFile"])
        if path == ":memory:":
            yield
            return
        import fcntl

        with open(path + ".deploy-lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    else:
        got = backend.scalar("SELECT GET_LOCK('orchestrator_schema_deploy', 60)")
        if not got:
            raise BackendError("timed out waiting for another process deploying the backend schema")
        try:
            yield
        finally:
            backend.scalar("SELECT RELEASE_LOCK('orchestrator_schema_deploy')")


def _create_all(backend: Backend) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    from orchestrator_cli.backend import schema

    log.info("deploying backend schema %s on %s", SCHEMA_VERSION, backend.description)
    conn = backend.connection()
    if backend.is_sqlite:
        schema.sqlite_index_names()
        engine = create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
    else:
        engine = create_engine("mysql+mysqlconnector://", creator=lambda: conn, poolclass=StaticPool)
    try:
        with engine.begin() as sa_conn:
            schema.metadata.create_all(sa_conn, checkfirst=True)
    except Exception as e:
        raise BackendError(f"cannot deploy backend schema: {e}") from e
    if backend.is_sqlite:
        backend.execute("PRAGMA journal_mode=WAL")
    d = backend.dialect
    backend.execute(
        d.insert_ignore(
            "active_node",
            {
                "anchor": "1",
                "hostname": "''",
                "token": "''",
                "last_seen_active": d.now(),
                "first_seen_active": "'1971-01-01 00:00:00'",
            },
        )
    )
    backend.execute(
        d.upsert(
            "orchestrator_db_deployments",
            {"deployed_version": "?", "deployed_timestamp": d.now()},
            ["deployed_version"],
        ),
        (SCHEMA_VERSION,),
    )
    log.info("backend schema deployed (pid %d)", os.getpid())
