"""`orchestrator http` as a real process: continuous mode plus the API on ListenAddress, driven by a tiny
shell client (bash, curl, jq) in the style of orchestrator-client, as the deployment guide's crontab
lines run it; SIGTERM stops it cleanly and gives up the lease."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.http.conftest import ApiStar, sqlite_file
from tests.support import ROOT

pytestmark = pytest.mark.sandbox
START_TIMEOUT = 60.0

TINY_CLIENT = r"""#!/bin/bash
# A tiny orchestrator-client: GET $ORCHESTRATOR_API/<path> with curl, print what the original prints, with jq.
api="${ORCHESTRATOR_API:-http://localhost:3000}"; api="${api%/}"; [[ $api == */api ]] || api="$api/api"
command= instance= reason= duration=10m owner="$(whoami)" rule=
while [ $# -gt 0 ]; do
  case "$1" in
    -c|--command) command="$2"; shift ;;
    -i) instance="$2"; shift ;;
    -r|--reason) reason="$2"; shift ;;
    -u|--duration) duration="$2"; shift ;;
    -o|--owner) owner="$2"; shift ;;
    -R|--promotion-rule) rule="$2"; shift ;;
  esac
  shift
done
fail() { echo "tiny-client[$$]: $*" >&2; exit 1; }
[ -n "$instance" ] || fail "instance must be provided"
hostport="$(echo "$instance" | tr ':' '/')"
urlencode() { printf %s "$1" | jq -s -R -r @uri; }
call() {
  response="$(curl -s "$api/$1")" || fail "Cannot access orchestrator at $api"
  echo "$response" | jq -e . > /dev/null 2>&1 || fail "Cannot access orchestrator at $api"
  if [ "$(echo "$response" | jq -r 'if type == "object" then (.Code // "") else "" end')" = "ERROR" ]; then
    echo "$response" | jq -r '.Message' >&2
    exit 1
  fi
}
print_key() { jq -r '.Hostname + ":" + (.Port | tostring)'; }
case "$command" in
  discover) call "discover/$hostport"; echo "$response" | jq '.Details.Key' | print_key ;;
  register-candidate)
    [ -n "$rule" ] || fail "promotion-rule must be provided"
    call "register-candidate/$hostport/$rule"; echo "$response" | jq '.Details' | print_key ;;
  begin-downtime)
    [ -n "$reason" ] || fail "reason must be provided"
    call "begin-downtime/$hostport/$(urlencode "$owner")/$(urlencode "$reason")/$duration"
    echo "$response" | jq '.Details' | print_key ;;
  which-master) call "instance/$hostport"; echo "$response" | jq '.MasterKey' | print_key ;;
  *) fail "Unsupported command $command" ;;
esac
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    def __init__(self, config: Path, proc: subprocess.Popen[str], url: str) -> None:
        self.config, self.proc, self.url = config, proc, url

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}/api/{path}", timeout=30)

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err


def start_service(config: Path, *invocation: str) -> Service:
    settings = json.loads(config.read_text())
    port = settings["ListenAddress"].rsplit(":", 1)[1]
    argv = [sys.executable, "-m", "orchestrator_cli", f"--config={config}", *(invocation or ("http",))]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    prefix = settings.get("URLPrefix", "").strip("/")
    service = Service(config, proc, f"http://127.0.0.1:{port}" + (f"/{prefix}" if prefix else ""))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"orchestrator http exited with {proc.returncode}: {proc.communicate()[1]}")
        try:
            if service.get("clusters-info").status_code == 200:
                return service
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    service.stop()
    pytest.fail("orchestrator http did not answer within a minute")


def service_config(star: ApiStar, directory: Path, **overrides: Any) -> Path:
    """A copy of the discovered backend and a config listening on a free local port."""
    source = sqlite_file(star.config)
    target = directory / "orchestrator.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    overrides.setdefault("ListenAddress", f"127.0.0.1:{free_port()}")
    overrides.setdefault("InstancePollSeconds", 600)
    return star.sandbox.write_config(directory / "orchestrator.conf.json", target, **overrides)


@pytest.fixture
def service(api_star: ApiStar, tmp_path: Path) -> Iterator[Service]:
    running = start_service(service_config(api_star, tmp_path))
    yield running
    running.stop()


def backend_rows(config: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(sqlite_file(config))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"not reached within {timeout}s: {predicate}")


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("jq") is None, reason="needs curl and jq")
def test_crontab_lines_through_a_shell_client(api_star: ApiStar, service: Service, tmp_path: Path) -> None:
    client = tmp_path / "tiny-orchestrator-client"
    client.write_text(TINY_CLIENT)
    client.chmod(0o755)
    env = {**os.environ, "ORCHESTRATOR_API": service.url}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(client), *argv], capture_output=True, text=True, env=env, timeout=60)

    me = api_star.sandbox.key(2)
    lines = [
        ("-c", "discover", "-i", me),
        ("-c", "register-candidate", "-i", me, "--promotion-rule", "prefer"),
        ("-c", "begin-downtime", "-i", me, "--reason", "kernel upgrade", "--duration", "20m", "--owner", "cron"),
    ]
    for argv in lines:
        done = run(*argv)
        assert (done.returncode, done.stdout, done.stderr) == (0, f"{me}\n", ""), argv
    assert run("-c", "which-master", "-i", me).stdout == f"{api_star.master}\n"
    assert run("-c", "which-master", "-i", api_star.master).stdout == ":0\n"  # as the original client prints

    rules = backend_rows(service.config, "SELECT hostname, port, promotion_rule FROM candidate_database_instance")
    assert [(r["hostname"], r["port"], r["promotion_rule"]) for r in rules] == [
        (*me.rsplit(":", 1)[:1], int(me.rsplit(":", 1)[1]), "prefer")
    ]
    downtime = backend_rows(service.config, "SELECT owner, reason FROM database_instance_downtime")
    assert downtime == [{"owner": "cron", "reason": "kernel upgrade"}]
    audit = [r["audit_type"] for r in backend_rows(service.config, "SELECT audit_type FROM audit")]
    assert {"discover", "register-candidate", "begin-downtime"} <= set(audit)

    bad = run("-c", "begin-downtime", "-i", me, "--reason", "x", "--duration", "often")
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr == "cannot parse duration 'often': expected digits and one of s, m, h, d, w\n"


def test_the_service_runs_continuous_mode_and_steps_down_on_sigterm(service: Service) -> None:
    leader = wait_for(lambda: backend_rows(service.config, "SELECT hostname, token FROM active_node"))
    nodes = backend_rows(service.config, "SELECT app_version, first_seen_active FROM node_health")
    assert leader and nodes
    assert service.get("instance/no.such/1").json()["Code"] == "ERROR"
    code, err = service.stop()
    assert code == 0, err
    assert backend_rows(service.config, "SELECT * FROM active_node") == []  # the lease was given up


def test_dash_c_http_is_the_same_service(api_star: ApiStar, tmp_path: Path) -> None:
    running = start_service(service_config(api_star, tmp_path), "-c", "http")
    try:
        assert running.get("clusters-info").json()[0]["ClusterName"] == api_star.master
        assert running.get("nothing-here").status_code == 404
    finally:
        code, err = running.stop()
    assert code == 0, err


def test_a_bad_listen_address_is_one_line(api_star: ApiStar, tmp_path: Path) -> None:
    config = service_config(api_star, tmp_path, ListenAddress="localhost")
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "http"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == (
        "orchestrator: ListenAddress 'localhost': expected [host]:port, e.g. :3000 or 127.0.0.1:3000\n"
    )


def test_two_services_on_one_mysql_backend_elect_one_leader(api_star: ApiStar, tmp_path: Path) -> None:
    """Both serve reads; the backend's election picks one of them (the one that may recover)."""
    from tests.http.conftest import _shared_mysql_answers
    from tests.support import run_cli, throwaway_mysql_database

    if not _shared_mysql_answers():
        pytest.skip("no MySQL backend answers on 127.0.0.1:3306")
    with throwaway_mysql_database("127.0.0.1", 3306, prefix="orch_http2") as keys:
        configs = []
        for name in ("a", "b"):
            directory = tmp_path / name
            directory.mkdir()
            configs.append(service_config(api_star, directory, **keys))
        assert run_cli("-c", "discover", "-i", api_star.master, config=configs[0]).code == 0
        services = [start_service(c) for c in configs]
        try:
            for running in services:
                assert [c["ClusterName"] for c in running.get("clusters-info").json()] == [api_star.master]

            def leaders() -> list[str]:
                from orchestrator_cli.backend import election
                from orchestrator_cli.backend.connection import Backend
                from orchestrator_cli.config import load_config

                backend = Backend(load_config(str(configs[0])))
                try:
                    row = election.active_node(backend)
                    nodes = backend.query("SELECT hostname, token FROM node_health")
                finally:
                    backend.close()
                return [str(row["token"])] if row and len(nodes) >= 2 else []

            assert len(wait_for(leaders)) == 1
        finally:
            results = [running.stop() for running in services]
        assert [code for code, _ in results] == [0, 0], results


def test_without_the_service_packages_http_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """A zipapp or a plain install has no fastapi/uvicorn: one line naming the pip extra, exit 1."""
    import importlib.util

    from tests.support import run_cli

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in ("fastapi", "uvicorn") else real(name, *a)
    )
    result = run_cli("http")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "orchestrator: http mode needs fastapi, uvicorn: install the service extra "
        "(pip install 'orchestrator-cli[service]')\n"
    )


def test_a_client_that_disconnects_does_not_cut_an_operation_short(api_star: ApiStar, tmp_path: Path) -> None:
    """stop-replica-nice on a delayed replica waits for its SQL thread; the client gives up after half a
    second, the operation still runs to its end and writes its audit row."""
    config = service_config(api_star, tmp_path, ReasonableMaintenanceReplicationLagSeconds=3)
    running = start_service(config)
    r3 = api_star.path(3)
    try:
        assert running.get(f"delay-replication/{r3}/600").json()["Code"] == "OK"
        api_star.sandbox.write_row("held back by the delay")
        wait_for(lambda: api_star.sandbox.replicating(3)["Read_Master_Log_Pos"]
                 != api_star.sandbox.replicating(3)["Exec_Master_Log_Pos"])  # fmt: skip
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{running.url}/api/stop-replica-nice/{r3}", timeout=0.5)

        def audited() -> list[dict[str, Any]]:
            return backend_rows(config, "SELECT message FROM audit WHERE audit_type = 'stop-replica-nice'")

        rows = wait_for(audited, timeout=20)
        assert "had not caught up" in rows[0]["message"]
        assert api_star.sandbox.replicating(3)["Slave_SQL_Running"] == "No"
    finally:
        running.get(f"delay-replication/{r3}/0")
        running.get(f"start-replica/{r3}")
        code, err = running.stop()
    assert code == 0, err
    api_star.sandbox.wait_replicated()


def test_everything_is_served_below_url_prefix(api_star: ApiStar, tmp_path: Path) -> None:
    running = start_service(service_config(api_star, tmp_path, URLPrefix="tools/orc/"))
    try:
        base = running.url.removesuffix("/tools/orc")
        assert running.url == base + "/tools/orc"
        assert running.get("clusters-info").json()[0]["ClusterName"] == api_star.master
        assert running.get("downtimed/").json() == []  # the client's trailing slash, below the prefix
        me = api_star.path(2)
        assert running.get(f"begin-downtime/{me}/ops/prefix/5m").json()["Code"] == "OK"
        assert running.get("nothing-here").json()["Code"] == "ERROR"
        page = httpx.get(f"{running.url}/", timeout=30)
        assert page.status_code == 200 and 'href="web/static/app.css"' in page.text
        assert httpx.get(f"{running.url}/web/static/app.css", timeout=30).status_code == 200
        assert httpx.get(f"{running.url}/web/whoami", timeout=30).json()["CanWrite"] is True
        bare = httpx.get(running.url, timeout=30)
        assert bare.status_code == 308 and bare.headers["location"] == "/tools/orc/"
        metrics = httpx.get(f"{running.url}/metrics", timeout=30)
        assert metrics.status_code == 200 and "# TYPE" in metrics.text
        assert "/tools/orc/api/openapi.json" in httpx.get(f"{running.url}/api/docs", timeout=30).text
        assert httpx.get(f"{running.url}/api/openapi.json", timeout=30).json()["paths"]
        for outside in (
            "/api/clusters-info",
            "/",
            "/metrics",
            "/web/static/app.css",
            "/tools/orchestrator/api/clusters",
        ):
            response = httpx.get(base + outside, timeout=30)
            assert response.status_code == 404, outside
            assert response.json()["Code"] == "ERROR"
    finally:
        code, err = running.stop()
    assert code == 0, err
    downtime = backend_rows(running.config, "SELECT owner, reason FROM database_instance_downtime")
    assert downtime == [{"owner": "ops", "reason": "prefix"}]
