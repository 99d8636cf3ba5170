"""Helpers to run the `orchestrator` CLI from tests: in-process (fast) or as a real subprocess."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(*args: str, config: str | os.PathLike[str] | None = None) -> Result:
    """Run `orchestrator [--config FILE] args...` in this process and capture its output."""
    from orchestrator_cli.cli.main import main

    argv = ([f"--config={config}"] if config else []) + list(args)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return Result(code, out.getvalue(), err.getvalue())


def run_cli_process(
    *args: str, config: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> Result:
    """Run the CLI as a separate process, exactly as cron would."""
    argv = [sys.executable, "-m", "orchestrator_cli"] + ([f"--config={config}"] if config else []) + list(args)
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})}
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def write_config(path: Path, **values: Any) -> Path:
    path.write_text(json.dumps(values))
    return path


def sqlite_config(tmp_path: Path, **values: Any) -> Path:
    """A config for a fresh SQLite backend in tmp_path."""
    return write_config(
        tmp_path / "orchestrator.conf.json",
        BackendDB="sqlite",
        SQLite3DataFile=str(tmp_path / "orchestrator.sqlite3"),
        **values,
    )


@contextlib.contextmanager
def throwaway_mysql_database(host: str, port: int, prefix: str = "orch_test") -> Iterator[dict[str, Any]]:
    """A new, uniquely named database on a MySQL server, as `MySQLOrchestrator*` config keys; dropped after."""
    import secrets

    import mysql.connector

    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"

    def admin(statement: str) -> None:
        conn = mysql.connector.connect(host=host, port=port, user="root", password="", autocommit=True)
        try:
            cursor = conn.cursor()
            cursor.execute(statement)
            cursor.close()
        finally:
            conn.close()

    admin(f"CREATE DATABASE `{name}`")
    try:
        yield {
            "BackendDB": "mysql",
            "MySQLOrchestratorHost": host,
            "MySQLOrchestratorPort": port,
            "MySQLOrchestratorDatabase": name,
            "MySQLOrchestratorUser": "root",
            "MySQLOrchestratorPassword": "",
        }
    finally:
        admin(f"DROP DATABASE IF EXISTS `{name}`")


@contextlib.contextmanager
def cloned_mysql_database(host: str, port: int, template: str, prefix: str = "orch_test") -> Iterator[dict[str, Any]]:
    """Like `throwaway_mysql_database`, but holding a copy of `template`: every table (CREATE TABLE
    ... LIKE keeps columns, keys and options; the schema has no foreign keys, views, triggers or
    routines) and its rows, the time stamps a deploy writes set to now. A schema deploy creates
    its tables and indexes one statement at a time, which takes seconds; the copy takes a fraction.
    """
    import mysql.connector

    with throwaway_mysql_database(host, port, prefix) as keys:
        name = keys["MySQLOrchestratorDatabase"]
        conn = mysql.connector.connect(host=host, port=port, user="root", password="", autocommit=True)
        try:
            cursor = conn.cursor()
            cursor.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = %s AND table_type = 'BASE TABLE'",
                (template,),
            )
            tables = [str(row[0]) for row in cursor.fetchall()]  # type: ignore[index]
            for table in tables:
                cursor.execute(f"CREATE TABLE `{name}`.`{table}` LIKE `{template}`.`{table}`")
                cursor.execute(f"INSERT INTO `{name}`.`{table}` SELECT * FROM `{template}`.`{table}`")
            cursor.execute(f"UPDATE `{name}`.active_node SET last_seen_active = NOW()")
            cursor.execute(f"UPDATE `{name}`.orchestrator_db_deployments SET deployed_timestamp = NOW()")
            cursor.close()
        finally:
            conn.close()
        yield keys
