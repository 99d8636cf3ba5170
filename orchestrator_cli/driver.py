"""mysql.connector, imported once per process together with the authentication plugins it would
otherwise import during the first handshake.

The driver imports the module of the server's authentication plugin (`mysql_native_password` for
MariaDB, `caching_sha2_password` for MySQL 8) lazily, inside `connect`. When two threads make the
process's first connections at the same moment (`discover` probes a seed and the members the backend
knows around it at once; a daemon's probe workers and backend pool), both import that module at once,
and one of them could fail with "NameError: name 'sys' is not defined" raised inside importlib: 7 runs
of 60 of the packaged `discover` on a fresh backend. Taking the imports under a lock inside the first
`connect` was not enough (5 of 60: the main thread imports lazily meanwhile too); importing them on
the main thread before the probe threads start was (none of 60). So both layers connect through
`connector()`, and `crawl`, the continuous scheduler and the HTTP service call it before they start
their threads.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_connector: Any = None


def connector() -> Any:
    """The `mysql.connector` module, its usual authentication plugins already imported."""
    global _connector
    if _connector is None:
        with _lock:
            if _connector is None:
                import mysql.connector
                import mysql.connector.plugins.caching_sha2_password
                import mysql.connector.plugins.mysql_native_password  # noqa: F401

                _connector = mysql.connector
    return _connector
