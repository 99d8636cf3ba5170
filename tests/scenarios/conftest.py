"""Fixtures for the scenario suite: the session sandbox under a production-style configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.scenarios.harness import Scenario, prepare_servers, production_settings


@pytest.fixture
def scenario(fresh_sandbox: Sandbox, tmp_path: Path) -> Iterator[Scenario]:
    """The 4-server star with the production config and a fresh SQLite backend; rebuilt afterwards.

    Replicas are made read-only first, as in production, so a test can tell the one writable master.
    """
    sb = fresh_sandbox
    for i in range(1, len(sb.ports)):
        sb.execute(i, "SET GLOBAL read_only = 1")
    prepare_servers(sb)
    hooks_log = tmp_path / "hooks.log"
    config = sb.write_config(
        tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3", **production_settings(sb, hooks_log)
    )
    yield Scenario(sb, config, hooks_log)
    sb.reset_replication()  # restarts killed servers and resumes paused ones
