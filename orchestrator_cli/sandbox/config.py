"""The orchestrator configuration that discovers and manages a sandbox."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from orchestrator_cli.sandbox.settings import REPL_PASSWORD, REPL_USER, TOPOLOGY_PASSWORD, TOPOLOGY_USER


def orchestrator_config(sqlite_file: str | os.PathLike[str], **overrides: Any) -> dict[str, Any]:
    """Orchestrator settings that discover and manage a sandbox, backed by a SQLite file.

    The replication account comes from `ReplicationCredentialsQuery`, as in production: MariaDB keeps
    no readable copy of a replica's password, so a graceful takeover needs it to give the demoted
    master working credentials.
    """
    config: dict[str, Any] = {
        "BackendDB": "sqlite",
        "SQLite3DataFile": str(sqlite_file),
        "MySQLTopologyUser": TOPOLOGY_USER,
        "MySQLTopologyPassword": TOPOLOGY_PASSWORD,
        "DiscoverByShowSlaveHosts": True,
        "MySQLHostnameResolveMethod": "none",
        "HostnameResolveMethod": "none",
        "InstancePollSeconds": 5,
        "RecoveryPeriodBlockSeconds": 60,
        "ReplicationCredentialsQuery": f"select '{REPL_USER}', '{REPL_PASSWORD}'",
    }
    config.update(overrides)
    return config


def write_orchestrator_config(
    path: str | os.PathLike[str], sqlite_file: str | os.PathLike[str], **overrides: Any
) -> Path:
    """Write :func:`orchestrator_config` as JSON to ``path`` (parents created); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(orchestrator_config(sqlite_file, **overrides), indent=2, sort_keys=True) + "\n")
    return target
