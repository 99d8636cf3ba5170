"""200 cron-like processes at once against one fresh SQLite file, the first schema deploy included.

Half run `register-candidate`, half `begin-downtime`, each for its own instance, all started together
(Popen in a loop, no waiting between them). Every one must exit 0 having printed its key, and every
row must be there with the values that process asked for. A smaller run does the same on a MySQL
backend whose database does not exist yet (the shared-backend deploy race).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support import ROOT, sqlite_config, write_config

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
