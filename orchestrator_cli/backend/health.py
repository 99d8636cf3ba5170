"""Process registration (`node_health`): lets other processes tell live lock holders from crashed ones."""

from __future__ import annotations

import hashlib
import os
import socket
import time

from orchestrator_cli.backend.connection import Backend, Row


def process_identity() -> tuple[str, str]:
    """(hostname, token): a fresh random token per process, as the original does.

    The token ends with ``-pid<n>``: a maintenance lock records its taker's token, and another
    process on the same host can then tell that the taker was killed (see :func:`pid_of_token`).
    """
    seed = f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}:{os.urandom(8).hex()}"
    return socket.gethostname(), f"{hashlib.sha256(seed.encode()).hexdigest()}-pid{os.getpid()}"


def pid_of_token(token: str) -> int | None:
    """The process id recorded in a token of :func:`process_identity`; None for other tokens.

    >>> pid_of_token("0123abcd-pid4242")
    4242
    >>> pid_of_token("0123abcd") is None
    True
    """
    _, sep, pid = str(token).rpartition("-pid")
    return int(pid) if sep and pid.isdigit() else None


_IDENTITY = process_identity()
_IDENTITY_PID = os.getpid()


def identity() -> tuple[str, str]:
    """This process's (hostname, token); a forked child gets its own."""
    global _IDENTITY, _IDENTITY_PID
    if os.getpid() != _IDENTITY_PID:
        _IDENTITY, _IDENTITY_PID = process_identity(), os.getpid()
    return _IDENTITY


CONTINUOUS_COMMAND = "continuous"
CONTINUOUS_INFO = "ContinuousMode"
SHARED_DISCOVERY_INFO = "ContinuousMode, sharing discovery"  # `extra_info` of a daemon that probes its share


def register(backend: Backend, extra_info: str, command: str, app_version: str) -> None:
    """Refresh this node's `node_health` row, inserting it the first time. Run again whole when MySQL
    resolves a deadlock against it: nodes starting together each UPDATE a row not there yet, taking
    gap locks that each other's INSERTs wait for."""
    d = backend.dialect
    host, token = identity()

    def work() -> None:
        updated = backend.execute(
            f"UPDATE node_health SET last_seen_active = {d.now()}, incrementing_indicator = incrementing_indicator + 1"
            " WHERE hostname = ? AND token = ?",
            (host, token),
        )
        if updated:
            return
        backend.execute(
            d.insert_ignore(
                "node_health",
                {
                    "hostname": "?",
                    "token": "?",
                    "last_seen_active": d.now(),
                    "extra_info": "?",
                    "command": "?",
                    "app_version": "?",
                    "first_seen_active": d.now(),
                    "db_backend": "?",
                },
            ),
            (host, token, extra_info, command, app_version, backend.description),
        )
        backend.execute(
            d.insert_ignore(
                "node_health_history",
                {
                    "hostname": "?",
                    "token": "?",
                    "first_seen_active": d.now(),
                    "extra_info": "?",
                    "command": "?",
                    "app_version": "?",
                },
            ),
            (host, token, extra_info, command, app_version),
        )

    backend.run_transaction(work)


def active_nodes(backend: Backend, seconds: int = 5) -> list[Row]:
    d = backend.dialect
    return backend.query(
        f"""SELECT hostname, token, app_version, first_seen_active, last_seen_active, extra_info, command, db_backend
            FROM node_health WHERE last_seen_active >= {d.seconds_ago("?")} ORDER BY hostname, token""",
        (seconds,),
    )


def discovery_nodes(backend: Backend, seconds: int) -> list[str]:
    """Tokens of the continuous-mode processes that share discovery and renewed their row within
    `seconds`, by the backend's clock (discovery/sharing.py)."""
    d = backend.dialect
    rows = backend.query(
        f"""SELECT token FROM node_health
            WHERE command = ? AND extra_info = ? AND last_seen_active >= {d.seconds_ago("?")}
            ORDER BY token""",
        (CONTINUOUS_COMMAND, SHARED_DISCOVERY_INFO, seconds),
    )
    return [str(r["token"]) for r in rows]


def purge(backend: Backend, seconds: int = 60) -> int:
    d = backend.dialect
    return backend.execute(f"DELETE FROM node_health WHERE last_seen_active < {d.seconds_ago('?')}", (seconds,))
