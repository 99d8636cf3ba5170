"""Names and numbers every part of the sandbox (and its users: tests, scripts, the CLI) agree on.

Kept apart from the code so that reading a constant pulls in nothing else.
"""

from __future__ import annotations

HOST = "127.0.0.1"
"""Every sandbox server listens here only; orchestrator names its instances ``HOST:port``."""

TOPOLOGY_USER = "orchestrator"
TOPOLOGY_PASSWORD = "orch_pass"
REPL_USER = "repl"
REPL_PASSWORD = "repl_pass"

SANDBOX_DATABASE = "sandbox_test"
SANDBOX_TABLE = "writes"

STATE_FILE = "sandbox.json"
CONFIG_FILE = "orchestrator.conf.json"
SQLITE_FILE = "orchestrator.sqlite3"

BASE_PORT_ENV = "ORCH_SANDBOX_BASE_PORT"
MARIADBD_ENV = "ORCH_SANDBOX_MARIADBD"

SERVER_ID_BASE = 100
"""Server i gets ``server_id = SERVER_ID_BASE + i + 1``: distinct, non-zero and recognisable."""

FORBIDDEN_PORTS = frozenset({3306})
"""The shared MariaDB backend lives on 3306; a sandbox must never listen there."""
