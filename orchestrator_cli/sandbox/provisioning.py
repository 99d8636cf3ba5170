"""Provisioning: what is on each server's disk and in it: the template datadir, the users, a clean
GTID history, and replication wired per layout (replicas read-only, as in production).

Servers must already run (see :mod:`.process`) for everything here except the datadir copies.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from orchestrator_cli.sandbox.binaries import find_install_db
from orchestrator_cli.sandbox.connection import RootSession, execute, query
from orchestrator_cli.sandbox.errors import SandboxError
from orchestrator_cli.sandbox.process import Server
from orchestrator_cli.sandbox.replication import wait_replicated, wait_threads_running
from orchestrator_cli.sandbox.sample_table import CREATE_STATEMENTS
from orchestrator_cli.sandbox.settings import (
    CONFIG_FILE,
    HOST,
    REPL_PASSWORD,
    REPL_USER,
    SQLITE_FILE,
    STATE_FILE,
    TOPOLOGY_PASSWORD,
    TOPOLOGY_USER,
)

SYSTEM_DATABASES = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
_INSTALL_DB_TIMEOUT = 300
_INSTALL_DB_OUTPUT_CHARS = 3000


# ----------------------------------------------------------------- datadirs


def ensure_template(template_dir: Path, mariadbd: str) -> None:
    """Initialise the template datadir once; an atomic rename makes concurrent creators safe.

    Copying a template is what keeps a 4-server start-up to a second or two: running
    ``mariadb-install-db`` per server would take several seconds each.
    """
    if template_dir.is_dir():
        return
    install_db = find_install_db(mariadbd)
    if install_db is None:
        raise SandboxError("mariadb-install-db not found next to mariadbd nor on $PATH")
    template_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = template_dir.with_name(f"{template_dir.name}.tmp-{uuid.uuid4().hex[:8]}")
    # A private tmpdir: concurrent bootstraps sharing /tmp were seen to lose their temp tables.
    scratch = staging.with_name(staging.name + "-scratch")
    scratch.mkdir(parents=True)
    command = [
        install_db,
        "--no-defaults",
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        f"--datadir={staging}",
        f"--tmpdir={scratch}",
        "--innodb-log-file-size=16M",
        "--innodb-buffer-pool-size=16M",
    ]
    if os.geteuid() == 0:
        command.append("--user=root")
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=_INSTALL_DB_TIMEOUT, check=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        output = (result.stdout + result.stderr)[-_INSTALL_DB_OUTPUT_CHARS:]
        raise SandboxError(f"{' '.join(command)} failed with exit code {result.returncode}:\n{output}")
    try:
        staging.rename(template_dir)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not template_dir.is_dir():
            raise


def copy_datadirs(servers: Sequence[Server], template_dir: Path, mariadbd: str) -> None:
    """Give every server a fresh copy of the template datadir (copies run in parallel)."""
    ensure_template(template_dir, mariadbd)
    copies = []
    for server in servers:
        server.directory.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(server.datadir, ignore_errors=True)
        for stale in (server.pid_file, server.socket_path):
            stale.unlink(missing_ok=True)
        copies.append(
            subprocess.Popen(
                ["cp", "-a", str(template_dir), str(server.datadir)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
    for copy in copies:
        _, err = copy.communicate()
        if copy.returncode != 0:
            raise SandboxError(f"copying the template datadir failed: {err.decode(errors='replace')}")


def remove_datadirs(servers: Sequence[Server]) -> None:
    """Delete the servers' datadirs (they must be stopped), keeping logs and directories."""
    for server in servers:
        shutil.rmtree(server.datadir, ignore_errors=True)


def remove_files(base_dir: Path, servers: Sequence[Server], template_dir: Path, owns_base_dir: bool) -> None:
    """Delete what the sandbox created: the whole base dir if it made it, else only its own files."""
    if owns_base_dir:
        shutil.rmtree(base_dir, ignore_errors=True)
        for server in servers:
            if not server.socket_path.is_relative_to(base_dir):
                server.socket_path.unlink(missing_ok=True)
        return
    for server in servers:
        shutil.rmtree(server.directory, ignore_errors=True)
        server.socket_path.unlink(missing_ok=True)
    if template_dir.parent == base_dir:
        shutil.rmtree(template_dir, ignore_errors=True)
    for name in (STATE_FILE, CONFIG_FILE, SQLITE_FILE, SQLITE_FILE + "-wal", SQLITE_FILE + "-shm"):
        (base_dir / name).unlink(missing_ok=True)


# ----------------------------------------------------------------- server contents


def create_users(server: Server) -> None:
    """Create the topology and replication users without binlogging them (no errant GTIDs)."""
    statements = ["SET SESSION sql_log_bin = 0"]
    for host in ("%", "127.0.0.1", "localhost"):
        account = f"'{TOPOLOGY_USER}'@'{host}'"
        statements += [
            f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{TOPOLOGY_PASSWORD}'",
            f"GRANT ALL PRIVILEGES ON *.* TO {account} WITH GRANT OPTION",
        ]
    statements += [
        f"CREATE USER IF NOT EXISTS '{REPL_USER}'@'%' IDENTIFIED BY '{REPL_PASSWORD}'",
        f"GRANT REPLICATION SLAVE ON *.* TO '{REPL_USER}'@'%'",
    ]
    execute(server.port, *statements)


def stop_replication(server: Server) -> None:
    """Stop and forget every replication connection, named ones (multi-source) included."""
    with RootSession(server.port) as run:
        connections = run("SHOW ALL SLAVES STATUS", None)
        if connections:
            run("STOP ALL SLAVES", None)
        for row in connections:
            name = str(row.get("Connection_name") or "")
            run(f"RESET SLAVE '{name}' ALL" if name else "RESET SLAVE ALL", None)


def wipe(server: Server) -> None:
    """Drop test data, binlogs and GTID state without logging, so all servers end up identical."""
    with RootSession(server.port) as run:
        own = run("SELECT CONNECTION_ID() AS id", None)[0]["id"]
        for row in run("SHOW PROCESSLIST", None):
            if row["Id"] != own and row["User"] not in ("system user", "event_scheduler"):
                if row["Command"] in ("Daemon", "Killed"):
                    continue
                # The connection may have closed on its own meanwhile.
                with contextlib.suppress(Exception):
                    run(f"KILL {int(row['Id'])}", None)
        run("SET SESSION sql_log_bin = 0", None)
        run("SET SESSION lock_wait_timeout = 30", None)
        for row in run("SHOW DATABASES", None):
            name = str(next(iter(row.values())))
            if name.lower() not in SYSTEM_DATABASES:
                run(f"DROP DATABASE {_quote_ident(name)}", None)
        run("SET GLOBAL read_only = 0", None)
        run("SET GLOBAL gtid_strict_mode = 1", None)
        for variable in ("rpl_semi_sync_master_enabled", "rpl_semi_sync_slave_enabled"):
            if run(f"SHOW GLOBAL VARIABLES LIKE '{variable}'", None):
                run(f"SET GLOBAL {variable} = 0", None)
        # Skipped when nothing was ever logged: a freshly started server's first RESET MASTER
        # stalls for about a second, which would double the sandbox start-up time.
        gtid_state = run("SELECT @@GLOBAL.gtid_binlog_state AS b, @@GLOBAL.gtid_slave_pos AS s", None)[0]
        if gtid_state["b"]:
            run("RESET MASTER", None)
        if gtid_state["s"]:
            run("SET GLOBAL gtid_slave_pos = ''", None)


def wire(servers: Sequence[Server], parents: Sequence[int | None], gtid: bool, timeout: float) -> None:
    """Point every replica at its parent, start it and make it read-only, then create the replicated
    test table on the masters (which stay writeable) and wait until it reached every replica."""
    for i, parent in enumerate(parents):
        if parent is None:
            continue
        change = _change_master(servers[parent], gtid)
        # Replicas are read-only, as in production; root and the topology user (SUPER / READ_ONLY
        # ADMIN) may still write there, which is how tests plant errant transactions.
        execute(servers[i].port, change, "START SLAVE", "SET GLOBAL read_only = 1")
    deadline = time.monotonic() + timeout
    for i, parent in enumerate(parents):
        if parent is not None:
            wait_threads_running(servers[i], deadline)
    for i, parent in enumerate(parents):
        if parent is None:
            execute(servers[i].port, *CREATE_STATEMENTS)
    wait_replicated(servers, timeout=max(1.0, deadline - time.monotonic()))


def _change_master(parent: Server, gtid: bool) -> str:
    """``CHANGE MASTER TO`` the parent: from its GTID position, or from its current binlog end."""
    change = (
        f"CHANGE MASTER TO MASTER_HOST='{HOST}', MASTER_PORT={parent.port}, "
        f"MASTER_USER='{REPL_USER}', MASTER_PASSWORD='{REPL_PASSWORD}', MASTER_CONNECT_RETRY=1"
    )
    if gtid:
        return change + ", MASTER_USE_GTID=slave_pos"
    coordinates = query(parent.port, "SHOW MASTER STATUS")[0]
    return change + (
        f", MASTER_LOG_FILE='{coordinates['File']}', MASTER_LOG_POS={int(coordinates['Position'])}, MASTER_USE_GTID=no"
    )


def _quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
