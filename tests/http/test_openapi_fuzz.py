"""schemathesis over /api/openapi.json: every documented route is called with generated input.

Properties: the only 5xx is the documented ERROR envelope (HTTP 500, `{Code: "ERROR", ...}`), never an
internal error (a bug); and a refused request writes nothing to the backend. Examples per route are few
so the whole run stays well under a minute.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from tests.http.conftest import ApiStar, sqlite_file, write_config

pytestmark = pytest.mark.sandbox

WRITTEN_TABLES = (
    "audit", "database_instance", "database_instance_downtime", "database_instance_maintenance",
    "candidate_database_instance", "database_instance_tags", "hostname_unresolve", "database_instance_pool",
    "global_recovery_disable", "kv_store", "topology_recovery",
)  # fmt: skip


class Fuzzed:
    def __init__(self, config: Path, app: Any) -> None:
        self.config, self.app = config, app

    def counts(self) -> dict[str, int]:
        conn = sqlite3.connect(sqlite_file(self.config))
        try:
            return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in WRITTEN_TABLES}
        finally:
            conn.close()


@pytest.fixture(scope="module")
def fuzzed(api_star: ApiStar, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    from orchestrator_cli.config import load_config
    from orchestrator_cli.http.app import create_app

    directory = tmp_path_factory.mktemp("fuzz")
    target = directory / "orchestrator.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{sqlite_file(api_star.config)}{suffix}").exists():
            shutil.copyfile(f"{sqlite_file(api_star.config)}{suffix}", f"{target}{suffix}")
    # Generated host names are never reachable: fail their connections fast.
    config = write_config(api_star.sandbox, directory, target, MySQLConnectTimeoutSeconds=1)
    app = create_app(load_config(str(config)), metrics=False)
    yield Fuzzed(config, app)
    app.state.backend.close()


# Health and election routes answer load balancers in their own forms (`leader-check/{code}` answers the
# status it is given); tests/http/test_health.py covers them.
HEALTH_ROUTES = ("/api/health", "/api/lb-check", "/api/_ping", "/api/leader-check", "/api/routed-leader-check",
                 "/api/grab-election", "/api/reelect", "/api/status", "/metrics")  # fmt: skip
GROUPS = 4  # the routes are split in groups so that `-n 2` runs them side by side


def check(case: Any, fuzzed: Fuzzed) -> None:
    before = fuzzed.counts()
    response = case.call()
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code in (200, 404, 405, 500), (where, response.status_code, response.text)
    body = response.json()
    if response.status_code != 200:
        assert isinstance(body, dict) and body.get("Code") == "ERROR", (where, response.text)
        assert not body["Message"].startswith("internal error"), (where, body["Message"])
        assert fuzzed.counts() == before, (where, body["Message"])
    else:
        assert not (isinstance(body, dict) and body.get("Code") == "ERROR"), (where, response.text)


@pytest.mark.parametrize("group", range(GROUPS))
def test_every_route_answers_json_and_refusals_write_nothing(fuzzed: Fuzzed, group: int) -> None:
    """schemathesis' pytest plugin does not load under pytest 9; its operations and strategies are used
    directly, with hypothesis driving each operation."""
    from hypothesis import given

    schema = schemathesis.openapi.from_asgi("/api/openapi.json", fuzzed.app)
    from schemathesis.core.result import Ok

    results = list(schema.get_all_operations())
    assert [r.err() for r in results if not isinstance(r, Ok)] == []  # every documented operation loads
    operations = [r.ok() for r in results if isinstance(r, Ok)]
    operations = [op for op in operations if not op.path.startswith(HEALTH_ROUTES)]
    assert len(operations) > 150
    for operation in operations[group::GROUPS]:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=3,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            check(case, fuzzed)

        run()
