"""The `recover` decisions as domain functions: called with an environment, no command context."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.backend import recovery as rec
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.errors import NotFoundError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.recovery.manual import recover_instance, suggest_candidate
from orchestrator_cli.topology.env import TopologyEnv, make_env
from tests.support import sqlite_config


@pytest.fixture
def env(tmp_path: Path) -> Iterator[TopologyEnv]:
    cfg = load_config(str(sqlite_config(tmp_path)))
    env = make_env(Backend(cfg), TopologyAccess(cfg), cfg, "tester")
    yield env
    env.backend.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_instance_without_analysis_is_left_alone(env: TopologyEnv) -> None:
    key = InstanceKey("127.0.0.1", closed_port())
    notes: list[str] = []
    done = recover_instance(env, key, note=notes.append)
    assert (done.outcome, done.analysis) == (None, "no problem")
    assert done.nothing_done == f"{key}: no problem found; nothing done"
    assert notes == [f"probing {key} and its replicas"]
    assert rec.recoveries(env.backend) == []


def test_no_candidate_without_replicas_is_an_error(env: TopologyEnv) -> None:
    with pytest.raises(NotFoundError, match="No replicas found"):
        suggest_candidate(env, InstanceKey("127.0.0.1", closed_port()))
