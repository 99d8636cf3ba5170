"""`/metrics`: domain events counted through `orchestrator_cli.observe`, state read at scrape time,
instances by freshness from a real (SQLite) backend, and nothing of it on the CLI's cron path."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("prometheus_client")

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from orchestrator_cli import observe  # noqa: E402
from orchestrator_cli.backend.connection import Backend  # noqa: E402
from orchestrator_cli.backend.freshness import instances_by_freshness  # noqa: E402
from orchestrator_cli.backend.instances import insert_unseen  # noqa: E402
from orchestrator_cli.config import load_config  # noqa: E402
from orchestrator_cli.http import auth, metrics  # noqa: E402
from orchestrator_cli.model.keys import InstanceKey  # noqa: E402
from orchestrator_cli.recovery.hooks import HookContext, run_hooks  # noqa: E402

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient, **kwargs: Any) -> Samples:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


@pytest.fixture
def config(tmp_path: Path) -> Any:
    return load_config(overrides={"SQLite3DataFile": str(tmp_path / "o.sqlite3"), "InstancePollSeconds": 5})


@pytest.fixture
def app(config: Any) -> Iterator[FastAPI]:
    app = FastAPI()
    app.state.config = config
    app.state.continuous = None
    metrics.install(app)
    yield app
    metrics.uninstall(app)
    assert app.state.metrics_observer not in observe.registered()


def test_domain_events_are_counted(app: FastAPI) -> None:
    client = TestClient(app)
    before = scrape(client)
    assert before[("orchestrator_discovery_probes_total", ())] == 0
    observe.probe_finished("db1:3306", 0.02, True)
    observe.probe_finished("db2:3306", 3.0, False)
    observe.recovery_finished("master", "successful")
    observe.recovery_finished("master", "successful")
    observe.recovery_finished("intermediate-master", "failed")
    observe.hook_failed("PostFailoverProcesses")
    observe.analysis_entries(["DeadMaster", "NoProblem", "NoProblem"])
    after = scrape(client)
    assert after[("orchestrator_discovery_probes_total", ())] == 2
    assert after[("orchestrator_discovery_probe_failures_total", ())] == 1
    assert after[("orchestrator_discovery_probe_duration_seconds_count", ())] == 2
    assert after[("orchestrator_discovery_probe_duration_seconds_bucket", (("le", "0.025"),))] == 1
    assert after[("orchestrator_discovery_probe_duration_seconds_bucket", (("le", "5.0"),))] == 2
    assert after[("orchestrator_recoveries_total", (("outcome", "successful"), ("type", "master")))] == 2
    assert after[("orchestrator_recoveries_total", (("outcome", "failed"), ("type", "intermediate-master")))] == 1
    assert after[("orchestrator_hook_failures_total", (("hook", "PostFailoverProcesses"),))] == 1
    # not the leader: no analysis reported (a follower's last pass would be stale)
    assert not any(name == "orchestrator_analysis_entries" for name, _ in after)
    assert after[("orchestrator_leader", ())] == 0
    assert after[("orchestrator_continuous_running", ())] == 0


def test_leader_status_and_analysis(app: FastAPI) -> None:
    client = TestClient(app)
    mode = SimpleNamespace(leader=True)
    app.state.continuous = mode
    observe.analysis_entries(["DeadMaster", "NoProblem", "NoProblem"])
    samples = scrape(client)
    assert samples[("orchestrator_leader", ())] == 1
    assert samples[("orchestrator_continuous_running", ())] == 1
    assert samples[("orchestrator_analysis_entries", (("code", "DeadMaster"),))] == 1
    assert samples[("orchestrator_analysis_entries", (("code", "NoProblem"),))] == 2
    observe.analysis_entries(["NoProblem"])  # each pass replaces the last
    mode.leader = False
    assert scrape(client)[("orchestrator_leader", ())] == 0
    mode.leader = True
    samples = scrape(client)
    assert ("orchestrator_analysis_entries", (("code", "DeadMaster"),)) not in samples
    assert samples[("orchestrator_analysis_entries", (("code", "NoProblem"),))] == 1


def test_instances_by_freshness_from_the_backend(app: FastAPI, config: Any) -> None:
    backend = Backend(config)
    try:
        for n in range(1, 6):
            insert_unseen(backend, InstanceKey(f"db{n}", 3306))
        # db1 never answered; db2 answered now; db3 a minute ago, db4 ten minutes ago; db5 failed since
        backend.execute("UPDATE database_instance SET last_seen = last_checked WHERE hostname <> 'db1'")
        backend.execute(
            "UPDATE database_instance SET last_checked = datetime('now', '-20 seconds'),"
            " last_seen = datetime('now', '-20 seconds') WHERE hostname = 'db3'"
        )
        backend.execute(
            "UPDATE database_instance SET last_checked = datetime('now', '-600 seconds'),"
            " last_seen = datetime('now', '-600 seconds') WHERE hostname = 'db4'"
        )
        backend.execute(
            "UPDATE database_instance SET last_seen = datetime('now', '-60 seconds') WHERE hostname = 'db5'"
        )
        expected = {"never_seen": 1, "up_to_date": 1, "recently_checked": 1, "stale": 1, "last_check_failed": 1}
        assert instances_by_freshness(backend) == expected
    finally:
        backend.close()
    samples = scrape(TestClient(app))
    for freshness, count in expected.items():
        assert samples[("orchestrator_instances", (("freshness", freshness),))] == count
    # the scrape's own backend statements are timed
    assert samples[("orchestrator_backend_query_duration_seconds_count", (("statement", "select"),))] >= 1


def test_scrape_answers_when_the_backend_does_not(tmp_path: Path) -> None:
    app = FastAPI()
    app.state.config = load_config(
        overrides={
            "BackendDB": "mysql",
            "MySQLOrchestratorHost": "127.0.0.1",
            "MySQLOrchestratorPort": 1,
            "MySQLOrchestratorDatabase": "orchestrator",
            "MySQLConnectTimeoutSeconds": 1,
        }
    )
    app.state.continuous = None
    metrics.install(app)
    try:
        samples = scrape(TestClient(app))
        assert ("orchestrator_leader", ()) in samples
        assert not any(name == "orchestrator_instances" for name, _ in samples)
    finally:
        metrics.uninstall(app)


def test_hook_failure_reported_by_the_hook_runner(app: FastAPI, tmp_path: Path) -> None:
    context = HookContext(
        failure_type="DeadMaster", instance_type="master", is_master=True, is_co_master=False,
        failure_description="", failed=InstanceKey("db1", 3306), cluster="db1:3306", cluster_alias="",
        cluster_domain="", replicas=[], is_downtimed=False, auto_master_recovery=True,
        auto_intermediate_master_recovery=False, orchestrator_host="orc1",
    )  # fmt: skip
    config = {"PostFailoverProcesses": ["exit 3", "true", "exit 4"]}
    outcome = run_hooks(config, "PostFailoverProcesses", context, lambda text: None, fail_fast=False)
    assert len(outcome.failed) == 2
    samples = scrape(TestClient(app))
    assert samples[("orchestrator_hook_failures_total", (("hook", "PostFailoverProcesses"),))] == 2


def test_probe_reported_by_the_discovery_scheduler(app: FastAPI, config: Any) -> None:
    from orchestrator_cli.discovery.scheduler import DiscoveryScheduler
    from orchestrator_cli.mysql.access import Unresponsive

    overrides = {**config, "MySQLConnectTimeoutSeconds": 1, "MySQLTopologyUser": "nobody"}
    scheduler = DiscoveryScheduler(overrides, Unresponsive())
    scheduler.request([InstanceKey("127.0.0.1", 1)])  # nothing listens there: a failed probe
    deadline = time.monotonic() + 20
    while scheduler.in_flight(InstanceKey("127.0.0.1", 1)) and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.close()
    scheduler.join()
    samples = scrape(TestClient(app))
    assert samples[("orchestrator_discovery_probes_total", ())] == 1
    assert samples[("orchestrator_discovery_probe_failures_total", ())] == 1


def test_metrics_behind_auth(config: Any) -> None:
    import base64

    app = FastAPI()
    app.state.config = {**config, "AuthenticationMethod": "basic", "HTTPAuthUser": "dba", "HTTPAuthPassword": "pw"}
    app.state.continuous = None
    metrics.install(app)
    auth.install(app)
    try:
        client = TestClient(app)
        assert client.get("/metrics").status_code == 401
        token = base64.b64encode(b"dba:pw").decode()
        assert ("orchestrator_leader", ()) in scrape(client, headers={"Authorization": f"Basic {token}"})
    finally:
        metrics.uninstall(app)


def test_two_apps_do_not_share_counters(app: FastAPI, config: Any) -> None:
    other = FastAPI()
    other.state.config = config
    metrics.install(other)
    try:
        observe.hook_failed("PreFailoverProcesses")
        for each in (app, other):
            samples = scrape(TestClient(each))
            assert samples[("orchestrator_hook_failures_total", (("hook", "PreFailoverProcesses"),))] == 1
    finally:
        metrics.uninstall(other)


def test_observer_of_a_discarded_app_is_not_called() -> None:
    import gc

    app = FastAPI()
    app.state.config = {}
    observer = metrics.install(app, freshness=dict)
    assert observer in observe.registered()
    del app, observer
    gc.collect()
    assert not any(isinstance(o, metrics.PrometheusObserver) for o in observe.registered())
    observe.hook_failed("PostFailoverProcesses")  # nothing left to call, nothing fails


def test_cron_path_never_imports_the_service_libraries() -> None:
    """observe.py and the instrumented domain modules load no prometheus_client, fastapi or uvicorn."""
    code = (
        "import sys, json\n"
        "import orchestrator_cli.observe, orchestrator_cli.discovery.scheduler, orchestrator_cli.recovery.engine\n"
        "import orchestrator_cli.daemon.continuous, orchestrator_cli.backend.connection\n"
        "from orchestrator_cli.cli.main import entry\n"
        "heavy = ('prometheus_client', 'fastapi', 'uvicorn', 'starlette')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
