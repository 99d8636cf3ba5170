"""A node_health registration that loses a race to another starting daemon is not an error: the
node still takes part in the election in the same heartbeat and registers again a second later."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend import health
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.daemon.continuous import ContinuousMode
from orchestrator_cli.errors import BackendError


@pytest.fixture
def config(tmp_path: Path) -> Any:
    return load_config(overrides={"SQLite3DataFile": str(tmp_path / "o.sqlite3")})


def failing_register(message: str) -> Any:
    def register(*_args: Any, **_kwargs: Any) -> None:
        raise BackendError(message)

    return register


def test_a_deadlocked_registration_is_logged_at_debug_and_the_node_is_still_elected(
    config: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        health, "register", failing_register("statement failed (INSERT IGNORE ...): 1213 (40001): Deadlock found")
    )
    mode = ContinuousMode(config, owner="test")
    backend = Backend(config)
    try:
        with caplog.at_level(logging.DEBUG, logger="orchestrator.continuous"):
            mode._heartbeat(backend)
    finally:
        backend.close()
    assert mode.leader
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert any("registration failed" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


def test_any_other_registration_failure_is_an_error(
    config: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(health, "register", failing_register("backend statement failed: 1146: Table doesn't exist"))
    mode = ContinuousMode(config, owner="test")
    backend = Backend(config)
    try:
        with caplog.at_level(logging.DEBUG, logger="orchestrator.continuous"):
            mode._heartbeat(backend)
    finally:
        backend.close()
    assert any("registration failed" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
