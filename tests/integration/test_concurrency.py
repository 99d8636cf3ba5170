"""200 cron-like processes at once against one fresh SQLite file, the first schema deploy included.

Half run `register-candidate`, half `begin-downtime`, each for its own instance, all started together
(Popen in a loop, no waiting between them). Every one must exit 0 having printed its key, and every
row must be there with the values that process asked for. A smaller run does the same on a MySQL
backend whose database does not exist yet (the shared-backend deploy race).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support import ROOT, sqlite_config, throwaway_mysql_database, write_config

PROCESSES = 200
MYSQL_PROCESSES = 50
RULES = ("prefer", "neutral", "prefer_not", "must_not")
DURATIONS = (("90s", 90), ("30m", 1800), ("3h", 10800), ("2d", 172800), ("1w", 604800))
DEADLINE_SECONDS = 240  # a hang guard, not a timing assertion


def command_for(i: int) -> tuple[list[str], str]:
    key = f"host{i:03d}.example.com:{3306 + i % 7}"
    if i % 2 == 0:
        return ["-c", "register-candidate", "-i", key, "--promotion-rule", RULES[i % len(RULES)]], key
    duration = DURATIONS[i % len(DURATIONS)][0]
    return ["-c", "begin-downtime", "-i", key, "--reason", f"reason {i}", "--owner", f"owner{i}",
            "--duration", duration], key  # fmt: skip


def run_together(config: Path, count: int) -> float:
    """Start `count` CLI processes at once; assert they all succeed; return the elapsed seconds."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    procs = []
    for i in range(count):
        args, key = command_for(i)
        argv = [sys.executable, "-m", "orchestrator_cli", f"--config={config}", *args]
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append((i, key, proc))
    failures: list[tuple[int, str, str]] = []
    for i, key, proc in procs:
        remaining = max(1.0, DEADLINE_SECONDS - (time.monotonic() - started))
        try:
            out, err = proc.communicate(timeout=remaining)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            failures.append((i, "timeout", err))
            continue
        if proc.returncode != 0 or out != f"{key}\n" or err:
            failures.append((i, f"exit {proc.returncode}", out + err))
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} of {count} failed, e.g. {failures[:3]}"
    print(f"\n{count} processes finished in {elapsed:.1f}s")
    return elapsed


def check_rows(count: int, candidates: dict[str, tuple[Any, ...]], downtimes: dict[str, tuple[Any, ...]]) -> None:
    assert len(candidates) == (count + 1) // 2
    assert len(downtimes) == count // 2
    for i in range(count):
        _, key = command_for(i)
        if i % 2 == 0:
            rule, stamp = candidates[key]
            assert rule == RULES[i % len(RULES)], key
            assert stamp and str(stamp) > "2000", key
        else:
            assert downtimes[key] == (1, f"owner{i}", f"reason {i}", DURATIONS[i % len(DURATIONS)][1]), key


def test_200_concurrent_processes_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    config = sqlite_config(tmp_path)
    database = tmp_path / "orchestrator.sqlite3"
    assert not database.exists()
    run_together(config, PROCESSES)

    conn = sqlite3.connect(database)
    try:
        candidates = {
            f"{h}:{p}": (rule, stamp)
            for h, p, rule, stamp in conn.execute(
                "SELECT hostname, port, promotion_rule, last_suggested FROM candidate_database_instance"
            )
        }
        downtimes = {
            f"{h}:{p}": (active, owner, reason, seconds)
            for h, p, active, owner, reason, seconds in conn.execute(
                "SELECT hostname, port, downtime_active, owner, reason,"
                " CAST(strftime('%s', end_timestamp) AS INTEGER) - CAST(strftime('%s', begin_timestamp) AS INTEGER)"
                " FROM database_instance_downtime"
            )
        }
        deployments = conn.execute("SELECT COUNT(*) FROM orchestrator_db_deployments").fetchone()[0]
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()

    check_rows(PROCESSES, candidates, downtimes)
    assert deployments == 1
    assert journal == "wal"


def test_concurrent_processes_create_and_deploy_a_mysql_backend(
    tmp_path: Path, mysql_backend_server: tuple[str, int]
) -> None:
    """The shared-backend variant: the database does not exist yet, so the first runs race to create it."""
    import mysql.connector

    host, port = mysql_backend_server
    name = f"orch_race_{os.getpid()}_{secrets.token_hex(4)}"
    config = write_config(
        tmp_path / "orchestrator.conf.json",
        BackendDB="mysql",
        MySQLOrchestratorHost=host,
        MySQLOrchestratorPort=port,
        MySQLOrchestratorDatabase=name,
        MySQLOrchestratorUser="root",
        MySQLOrchestratorPassword="",
    )
    conn = mysql.connector.connect(host=host, port=port, user="root", password="", autocommit=True)
    try:
        run_together(config, MYSQL_PROCESSES)

        def rows(sql: str) -> list[Any]:
            cur = conn.cursor()
            cur.execute(sql)
            found: list[Any] = list(cur.fetchall())
            cur.close()
            return found

        candidates = {
            f"{h}:{p}": (rule, stamp)
            for h, p, rule, stamp in rows(
                f"SELECT hostname, port, promotion_rule, last_suggested FROM `{name}`.candidate_database_instance"
            )
        }
        downtimes = {
            f"{h}:{p}": (active, owner, reason, seconds)
            for h, p, active, owner, reason, seconds in rows(
                "SELECT hostname, port, downtime_active, owner, reason,"
                " TIMESTAMPDIFF(SECOND, begin_timestamp, end_timestamp)"
                f" FROM `{name}`.database_instance_downtime"
            )
        }
        deployments = rows(f"SELECT COUNT(*) FROM `{name}`.orchestrator_db_deployments")[0][0]
        check_rows(MYSQL_PROCESSES, candidates, downtimes)
        assert deployments == 1
    finally:
        cur = conn.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.close()
        conn.close()


STORM_PROCESSES = 150
STORM_USER_CONNECTIONS = 6  # the storm account's MAX_USER_CONNECTIONS: far below the storm's size


@contextlib.contextmanager
def limited_account(host: str, port: int, database: str, limit: int) -> Iterator[tuple[str, str]]:
    """A throw-away account that may hold at most `limit` connections (1203 beyond), dropped after.

    A per-account limit leaves the shared server's max_connections (and the other tests) alone.
    """
    import mysql.connector

    user, password = f"orch_storm_{secrets.token_hex(4)}", secrets.token_hex(8)
    admin = mysql.connector.connect(host=host, port=port, user="root", password="", autocommit=True)
    cur = admin.cursor()
    try:
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}' WITH MAX_USER_CONNECTIONS {limit}")
        cur.execute(f"GRANT ALL PRIVILEGES ON `{database}`.* TO '{user}'@'%'")
        yield user, password
    finally:
        cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        cur.close()
        admin.close()


def test_storm_on_an_empty_mysql_backend_at_its_connection_limit(
    tmp_path: Path, mysql_backend_server: tuple[str, int]
) -> None:
    """150 cron calls at once on an empty backend database, through an account limited to 6 connections.

    The limit is held full by this test until some process reports being refused (1203), so every
    process meets the limit at least once at start; then the connections are released. All must
    succeed, and exactly one of them deploys the schema while the others wait for it.
    """
    import mysql.connector

    host, port = mysql_backend_server
    with (
        throwaway_mysql_database(host, port, prefix="orch_storm") as keys,
        limited_account(host, port, keys["MySQLOrchestratorDatabase"], STORM_USER_CONNECTIONS) as (user, password),
    ):
        config = write_config(
            tmp_path / "orchestrator.conf.json",
            **{**keys, "MySQLOrchestratorUser": user, "MySQLOrchestratorPassword": password},
        )
        held = [
            mysql.connector.connect(host=host, port=port, user=user, password=password)
            for _ in range(STORM_USER_CONNECTIONS)
        ]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        procs = []
        for i in range(STORM_PROCESSES):
            args, key = command_for(i)
            argv = [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "--verbose", *args]
            err_file = tmp_path / f"err-{i}"
            with open(tmp_path / f"out-{i}", "w") as out_fh, open(err_file, "w") as err_fh:
                procs.append(
                    (i, key, err_file, subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out_fh, stderr=err_fh))
                )
        try:
            started = time.monotonic()
            while not any("at its connection limit" in path.read_text() for _, _, path, _ in procs):
                if all(proc.poll() is not None for *_, proc in procs):
                    break  # all gave up at once: reported below as failures
                assert time.monotonic() - started < DEADLINE_SECONDS, "no process met the connection limit"
                time.sleep(0.2)
        finally:
            for conn in held:
                conn.close()
        failures: list[tuple[int, int | None, str, list[str]]] = []
        deploys = refused = 0
        for i, key, err_file, proc in procs:
            try:
                proc.wait(timeout=max(1.0, DEADLINE_SECONDS - (time.monotonic() - started)))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            out, err = (tmp_path / f"out-{i}").read_text(), err_file.read_text()
            unexpected = [ln for ln in err.splitlines() if not re.match(r"^\S+ \S+ INFO ", ln)]
            if proc.returncode != 0 or out != f"{key}\n" or unexpected:
                failures.append((i, proc.returncode, out, unexpected[:2]))
            deploys += err.count("deploying backend schema")
            refused += "at its connection limit" in err
        assert not failures, f"{len(failures)} of {STORM_PROCESSES} failed, e.g. {failures[:3]}"
        assert deploys == 1
        assert refused >= 1

        conn = mysql.connector.connect(host=host, port=port, user="root", password="", autocommit=True)
        name = keys["MySQLOrchestratorDatabase"]

        def rows(sql: str) -> list[Any]:
            cur = conn.cursor()
            cur.execute(sql)
            found: list[Any] = list(cur.fetchall())
            cur.close()
            return found

        try:
            candidates = {
                f"{h}:{p}": (rule, stamp)
                for h, p, rule, stamp in rows(
                    f"SELECT hostname, port, promotion_rule, last_suggested FROM `{name}`.candidate_database_instance"
                )
            }
            downtimes = {
                f"{h}:{p}": tuple(rest)
                for h, p, *rest in rows(
                    "SELECT hostname, port, downtime_active, owner, reason, TIMESTAMPDIFF(SECOND, begin_timestamp,"
                    f" end_timestamp) FROM `{name}`.database_instance_downtime"
                )
            }
            deployments = rows(f"SELECT COUNT(*) FROM `{name}`.orchestrator_db_deployments")[0][0]
        finally:
            conn.close()
        check_rows(STORM_PROCESSES, candidates, downtimes)
        assert deployments == 1


def test_lock_timeout_message_reports_the_real_wait(tmp_path: Path) -> None:
    """Each attempt may itself block on SQLite's busy timeout: the message says how long it really waited."""
    import pytest

    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import load_config
    from orchestrator_cli.errors import BackendError

    config = load_config(str(sqlite_config(tmp_path)))
    Backend(config).connection()  # deploys the schema
    holder = sqlite3.connect(tmp_path / "orchestrator.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    backend = Backend(config, retry_seconds=1.5)
    try:
        started = time.monotonic()
        with pytest.raises(BackendError, match=r"backend stayed locked for [\d.]+s") as refused:
            backend.execute("INSERT INTO kv_store (store_key, store_value) VALUES ('k', 'v')")
        waited = time.monotonic() - started
    finally:
        backend.close()
        holder.rollback()
        holder.close()
    reported = float(re.search(r"locked for ([\d.]+)s", str(refused.value)).group(1))  # type: ignore[union-attr]
    assert waited - 1 <= reported <= waited + 0.1
