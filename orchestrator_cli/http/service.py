"""`orchestrator http`: one process serving the API on `ListenAddress` while running continuous mode.

Continuous mode (discovery, analysis, leader election on the backend, automated recovery) runs in a
thread exactly as `-c continuous` runs it; several `http` processes on one shared backend all serve
reads and only the elected one recovers. uvicorn owns the main thread and its signals: SIGTERM or
SIGINT stops accepting requests and lets the running ones finish, then continuous mode is stopped
(which gives up the lease), then the backend connections are closed. Requests share a bounded pool
of backend connections (`BackendPool`), so one slow read does not queue every other request behind it.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Any

from orchestrator_cli import logs
from orchestrator_cli.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from orchestrator_cli.commands.context import Options

log = logging.getLogger("orchestrator.http")
SERVICE_EXTRA = "orchestrator-cli[service]"
CONTINUOUS_STOP_SECONDS = 30.0


def require_service_packages() -> None:
    """One clear line when the service's packages are missing (e.g. the zipapp, or a plain install)."""
    import importlib.util

    missing = [name for name in ("fastapi", "uvicorn", "prometheus_client") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"http mode needs {', '.join(missing)}: install the service extra (pip install '{SERVICE_EXTRA}')"
        )


def listen_address(text: str) -> tuple[str, int]:
    """`ListenAddress` as the original reads it: `:3000` (every interface), `127.0.0.1:3000`, `[::1]:3000`.

    >>> listen_address(":3000"), listen_address("127.0.0.1:8080"), listen_address("[::1]:3000")
    (('0.0.0.0', 3000), ('127.0.0.1', 8080), ('::1', 3000))
    """
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"ListenAddress {text!r}: expected [host]:port, e.g. :3000 or 127.0.0.1:3000")
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104  (the original's ":3000" listens on every interface)
    return host, int(port)


def serve(options: Options) -> int:
    """Run the service until SIGTERM/SIGINT; returns the exit code."""
    require_service_packages()
    import uvicorn

    from orchestrator_cli.backend.connection_pool import BackendPool
    from orchestrator_cli.config import load_config
    from orchestrator_cli.daemon.continuous import ContinuousMode
    from orchestrator_cli.driver import connector
    from orchestrator_cli.http import tls
    from orchestrator_cli.http.app import create_app

    config = load_config(options.config or None)
    level = _log_level(options, config)
    if config.get("RaftEnabled"):
        raise UsageError("RaftEnabled is set: raft is not supported; elect the leader on a shared MySQL backend")
    host, port = listen_address(str(config.get("ListenAddress") or ":3000"))
    ssl_options = tls.uvicorn_ssl_options(config)
    backend = BackendPool(config)  # its first connection deploys or checks the schema
    connector()  # the driver and its plugins, imported before request threads race to (driver.py)
    continuous = ContinuousMode(config, owner=options.effective_owner(), grab_election=options.grab_election)
    app = create_app(config, backend, continuous, options.config or None)
    worker = threading.Thread(target=_run_continuous, args=(continuous,), name="continuous", daemon=True)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="debug" if level <= logs.DEBUG else "info" if options.verbose else "warning",
            access_log=options.verbose or level <= logs.DEBUG,
            log_config=None,  # uvicorn's records go through orchestrator's handler (`_log_level`)
            lifespan="on",
            timeout_graceful_shutdown=int(CONTINUOUS_STOP_SECONDS),
            **ssl_options,
        )
    )
    # uvicorn handles SIGTERM/SIGINT while it serves and raises them again once it stopped; this
    # handler is what it finds then, so the process goes on to stop continuous mode instead of dying.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: continuous.stop())
    # SIGHUP: the config files read again, as the API's reload-configuration (uvicorn leaves SIGHUP alone)
    signal.signal(signal.SIGHUP, lambda *_: _reload_in_background(app, options.config or None))
    worker.start()
    log.info(
        "serving on %s:%s%s (continuous mode running, up to %d backend connections)",
        host, port, " with TLS" if ssl_options else "", backend.size,
    )  # fmt: skip
    try:
        server.run()
    finally:
        log.info("HTTP server stopped: stopping continuous mode")
        continuous.stop()
        worker.join(timeout=CONTINUOUS_STOP_SECONDS)
        if worker.is_alive():
            log.warning("continuous mode did not stop within %.0fs", CONTINUOUS_STOP_SECONDS)
        backend.close()
        log.info("stopped")
    return 0 if server.started else 1


def _log_level(options: Options, config: Any) -> int:
    """The service logs at INFO unless told otherwise (`logs.service_level`); uvicorn's own records
    (errors; with --verbose its start and access lines) go through the same handler and format."""
    level = logs.service_level(options.debug or bool(config.get("Debug")), options.quiet)
    logs.set_level(level)
    logs.share_handler("uvicorn", level)
    return level


def _reload_in_background(app: Any, path: str | None) -> None:
    """SIGHUP: reload on a thread of its own (reading files and writing the audit row is no work for a
    signal handler); an unreadable file is logged and changes nothing."""

    def work() -> None:
        from orchestrator_cli.backend import audit
        from orchestrator_cli.config import load_config
        from orchestrator_cli.errors import OrchestratorError

        service = app.state.service
        try:
            fresh = load_config(path)
            ignored = service.reload(fresh)
            app.state.config = service.config
            note = f"SIGHUP, from {path or 'default locations'}"
            audit.audit(
                service.backend,
                "reload-configuration",
                None,
                f"{note}; needs a restart: {', '.join(ignored)}" if ignored else note,
            )
        except OrchestratorError as e:
            log.error("configuration not reloaded: %s", e)

    threading.Thread(target=work, name="reload", daemon=True).start()


def _run_continuous(mode: Any) -> None:
    try:
        mode.run()
    except Exception:  # the API keeps serving reads; the log says why the loop died
        log.exception("continuous mode stopped on an error")
