"""Where the MariaDB binaries the sandbox runs are installed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestrator_cli.sandbox.settings import MARIADBD_ENV

_SBIN_CANDIDATES = ("/usr/sbin/mariadbd", "/usr/libexec/mariadbd", "/usr/local/mysql/bin/mariadbd")


def find_mariadbd() -> str | None:
    """Locate the ``mariadbd`` binary ($ORCH_SANDBOX_MARIADBD, $PATH, then the usual sbin dirs)."""
    explicit = os.environ.get(MARIADBD_ENV)
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("mariadbd")
    if found:
        return found
    for candidate in _SBIN_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def find_install_db(mariadbd: str) -> str | None:
    """Locate ``mariadb-install-db``, preferring the one shipped next to ``mariadbd`` (same version)."""
    prefix = Path(mariadbd).resolve().parent.parent
    for name in ("mariadb-install-db", "mysql_install_db"):
        for directory in (prefix / "bin", prefix / "scripts"):
            candidate = directory / name
            if os.access(candidate, os.X_OK):
                return str(candidate)
        found = shutil.which(name)
        if found:
            return found
    return None
