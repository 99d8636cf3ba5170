"""Fixtures for the scenario suite: the session sandbox under a production-style configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.scenarios.harness import Scenario, production_scenario


@pytest.fixture
def scenario(fresh_sandbox: Sandbox, tmp_path: Path) -> Iterator[Scenario]:
    """The 4-server star with the production config and a fresh SQLite backend; rebuilt afterwards."""
    yield production_scenario(fresh_sandbox, tmp_path)
    fresh_sandbox.reset_replication()  # restarts killed servers and resumes paused ones
