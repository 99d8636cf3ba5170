"""Schema deployment: one cheap query when the schema is current, SQLAlchemy `create_all` when it is not.

Concurrent first runs (hundreds of cron jobs on a fresh host) are serialised with a file lock on
SQLite and GET_LOCK on MySQL, and re-check the version after taking the lock.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

from orchestrator_cli import logs
from orchestrator_cli.errors import BackendError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from orchestrator_cli.backend.connection import Backend

SCHEMA_VERSION = "orchestrator-py-schema-1"
log = logs.getLogger("orchestrator.backend")


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
    """Deploy when needed; returns True when it deployed. `SkipOrchestratorDatabaseUpdate` is honoured.

    Exactly one process deploys: the others wait on the deploy lock and find the schema current once
    they hold it (or, on MySQL, as soon as it is current while they wait).
    """
    if not force and schema_is_current(backend):
        return False
    if backend.config.get("SkipOrchestratorDatabaseUpdate") and not force:
        raise BackendError(
            "backend schema is not deployed and SkipOrchestratorDatabaseUpdate is set;"
            " run with --enable-database-update or -c redeploy-internal-db"
        )
    with _deploy_lock(backend, force) as held:
        if not held or (not force and schema_is_current(backend)):
            return False
        _create_all(backend)
    return True


@contextlib.contextmanager
def _deploy_lock(backend: Backend, force: bool) -> Iterator[bool]:
    """Yields True when this process holds the deploy lock, False when the wait became moot."""
    if backend.is_sqlite:
        path = str(backend.config["SQLite3DataFile"])
        if path == ":memory:":
            yield True
            return
        import fcntl

        backend.connection()  # opens the file first: creates its directory, or fails in one line
        with open(path + ".deploy-lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    if not _mysql_deploy_lock(backend, force):
        yield False
        return
    try:
        yield True
    finally:
        backend.scalar("SELECT RELEASE_LOCK(?)", (_lock_name(backend),))


DEPLOY_LOCK = "orchestrator_schema_deploy"
DEPLOY_WAIT_SECONDS = 300.0  # how long to wait for another process's deploy before giving up
_LOCK_POLL_SECONDS = 2


def _mysql_deploy_lock(backend: Backend, force: bool) -> bool:
    """GET_LOCK in short rounds: True once held; False when another process's deploy finished meanwhile."""
    started = time.monotonic()
    name = _lock_name(backend)
    while True:
        if backend.scalar("SELECT GET_LOCK(?, ?)", (name, _LOCK_POLL_SECONDS)):
            return True
        if not force and schema_is_current(backend):
            return False
        waited = time.monotonic() - started
        if waited >= DEPLOY_WAIT_SECONDS:
            raise BackendError(
                f"waited {waited:.0f}s for another process deploying the backend schema"
                f" on {backend.description} (lock {name!r}); try again later"
            )


def _lock_name(backend: Backend) -> str:
    """One lock per backend database (the names are per server); at most 64 characters."""
    import hashlib

    database = str(backend.config.get("MySQLOrchestratorDatabase") or "")
    name = f"{DEPLOY_LOCK}.{database}"
    return name if len(name) <= 64 else f"{DEPLOY_LOCK}.{hashlib.sha1(database.encode()).hexdigest()[:24]}"


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
