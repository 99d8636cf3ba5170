"""Browser tests of the web interface: Debian's chromium driven by Playwright against a live `orchestrator http`.

The browser is launched by path (`/usr/bin/chromium`, or `$ORCH_CHROMIUM`); nothing is downloaded.
The service is a real `orchestrator http` process on a free 127.0.0.1 port, running continuous mode
with automated master recovery over the 4-server MariaDB sandbox. Auth is `proxy`: the browser
names its user in `X-Forwarded-User`; `dba` may change things, anyone else only reads.
Screenshots go to tests/artifacts/ (ignored by git) for a reviewer to look at.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.integration.conftest import _wait_until
from tests.support import ROOT, run_cli

CHROMIUM = Path(os.environ.get("ORCH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
POWER_USER = "dba"
READ_ONLY_USER = "viewer"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    """A running `orchestrator http` and what the tests need to reach it."""

    base: str
    config: Path
    proc: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str, user: str = POWER_USER) -> tuple[int, Any]:
        request = urllib.request.Request(self.base + path, headers={"X-Forwarded-User": user})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_service(sandbox: Sandbox, directory: Path, **settings: Any) -> Service:
    """Discover the sandbox into a fresh SQLite backend, start `orchestrator http`, wait for all 4 instances."""
    port = _free_port()
    directory.mkdir(parents=True, exist_ok=True)
    config = sandbox.write_config(
        directory / "orchestrator.conf.json",
        directory / "orchestrator.sqlite3",
        ListenAddress=f"127.0.0.1:{port}",
        InstancePollSeconds=1,
        RecoverMasterClusterFilters=[".*"],
        AuthenticationMethod="proxy",
        AuthUserHeader="X-Forwarded-User",
        PowerAuthUsers=[POWER_USER],
        **settings,
    )
    assert run_cli("-c", "discover", "-i", sandbox.key(0), config=config).code == 0
    log = directory / "http.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "http"],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    prefix = str(settings.get("URLPrefix", "")).strip("/")
    service = Service(f"http://127.0.0.1:{port}" + (f"/{prefix}" if prefix else ""), config, proc, log)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"orchestrator http exited {proc.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError, ValueError):
            status, clusters = service.get("/api/clusters-info")
            if status == 200 and clusters and clusters[0]["CountInstances"] == len(sandbox.ports):
                return service
        if time.monotonic() > deadline:
            service.stop()
            pytest.fail(f"orchestrator http did not serve the sandbox within 60s: {log.read_text()[-2000:]}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless chromium (Debian's, by path); the tests skip when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}: install it with `apt-get install chromium` (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright comes with the test extra ('.[test]')")
    sync_playwright = sync_api.sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def service(browser: Any, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One service over the sandbox star for the module's tests; the star is rebuilt before and after.

    Only one service may run over the sandbox at a time: each runs continuous mode with automated
    recovery, and a second one would recover a failure into its own backend, unseen by the first.
    """
    sandbox.reset_replication()
    directory = tmp_path_factory.mktemp("web")
    hooks_log = directory / "hooks.log"
    running = start_service(
        sandbox,
        directory,
        # one hook that works and one that fails, so the recovery history shows both outcomes
        PostFailoverProcesses=[f"echo '{{failureType}} {{successorHost}}:{{successorPort}}' >> {hooks_log}", "exit 3"],
    )
    try:
        yield running
    finally:
        running.stop()
        sandbox.reset_replication()


PageFactory = Callable[..., Any]


@pytest.fixture
def wait_until() -> Callable[..., object]:
    """``wait_until(predicate, timeout=30, interval=0.1, message="")`` → the first truthy result."""
    return _wait_until


@pytest.fixture
def open_page(browser: Any) -> Iterator[PageFactory]:
    """`open_page(service, user=..., viewport=...)`: a fresh browser context whose JavaScript errors fail the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(service: Service, user: str = POWER_USER, viewport: dict[str, int] = DESKTOP, path: str = "/") -> Any:
        context = browser.new_context(viewport=viewport, extra_http_headers={"X-Forwarded-User": user})
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(service.base + path)
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"web-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
