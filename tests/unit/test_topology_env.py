"""The fault-injection point travels on the environment object, read from the OS environment once."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.topology.env import STOP_AT_ENV, make_env
from tests.support import sqlite_config


def _make(tmp_path: Path, stop_at: str | None = None) -> str:
    cfg = load_config(str(sqlite_config(tmp_path)))
    return make_env(Backend(cfg), TopologyAccess(cfg), cfg, "tester", stop_at=stop_at).stop_at


def test_make_env_reads_the_stop_point_from_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STOP_AT_ENV, "changed@db-3:3306")
    assert _make(tmp_path) == "changed@db-3:3306"


def test_no_stop_point_without_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STOP_AT_ENV, raising=False)
    assert _make(tmp_path) == ""


def test_an_explicit_stop_point_wins_over_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STOP_AT_ENV, "changed@db-3:3306")
    assert _make(tmp_path, stop_at="") == ""
    assert _make(tmp_path, stop_at="locked@db-1:3306") == "locked@db-1:3306"
