"""Local MariaDB replication sandbox used by the test-suite and the ``orchestrator-sandbox`` command."""

from orchestrator_cli.sandbox.topology import (
    REPL_PASSWORD,
    REPL_USER,
    SANDBOX_DATABASE,
    SANDBOX_TABLE,
    TOPOLOGY_PASSWORD,
    TOPOLOGY_USER,
    Sandbox,
    SandboxError,
    find_install_db,
    find_mariadbd,
    orchestrator_config,
    resolve_layout,
)

__all__ = [
    "REPL_PASSWORD",
    "REPL_USER",
    "SANDBOX_DATABASE",
    "SANDBOX_TABLE",
    "TOPOLOGY_PASSWORD",
    "TOPOLOGY_USER",
    "Sandbox",
    "SandboxError",
    "find_install_db",
    "find_mariadbd",
    "orchestrator_config",
    "resolve_layout",
]
