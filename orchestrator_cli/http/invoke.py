"""Run a registered command for one HTTP request: the same function the CLI calls, on the process's backend.

A route names the command and fills the options the CLI would have parsed from flags (`-i`, `-d`,
`--owner`...); `invoke` builds a `Context` on the service's backend (a pool shared by all requests), calls the
command, and closes what the request opened (its topology connections). Errors stay
`OrchestratorError`s carrying the CLI's one-line message; `app.py` turns them into `ERROR` envelopes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request

from orchestrator_cli.commands.context import Context, Options
from orchestrator_cli.errors import NotFoundError, UsageError
from orchestrator_cli.model.keys import InstanceKey, parse_printed

if TYPE_CHECKING:
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.commands.output import Output
    from orchestrator_cli.config import Config

log = logging.getLogger("orchestrator.http")
T = TypeVar("T")

# Above this many keys, reading every instance beats a statement that names each key.
_BULK_READ_THRESHOLD = 40


class Service:
    """What every route needs: the loaded config, the shared backend, the running continuous mode."""

    def __init__(
        self, config: Config, backend: Backend, continuous: Any = None, config_path: str | None = None
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.backend = backend
        self.continuous = continuous
        self.user = ""  # the authenticated caller of this request ("" when the auth method names nobody)

    def for_user(self, user: str) -> Service:
        """This service as seen by one request's caller (whose name owns the changes it makes)."""
        view = Service(self.config, self.backend, self.continuous, self.config_path)
        view.user = user
        return view

    def reload(self, fresh: Config) -> list[str]:
        """Apply the configuration files read again (the API's `reload-configuration`, SIGHUP): routes
        see it at once, the backend connections get its settings, continuous mode applies it
        (`ContinuousMode.reload`). Keys that need a restart (`config.RESTART_KEYS`) keep their values;
        the names of those the files changed are returned (and logged)."""
        from orchestrator_cli.config import reloaded

        if self.continuous is not None:
            ignored: list[str] = self.continuous.reload(fresh)
            effective = self.continuous.config
        else:
            effective, ignored = reloaded(self.config, fresh)
            if ignored:
                log.warning(
                    "configuration reloaded; these changes need a restart to take effect: %s", ", ".join(ignored)
                )
            else:
                log.info("configuration reloaded")
        self.config = effective
        configure = getattr(self.backend, "use_config", None)
        if callable(configure):
            configure(effective)
        else:
            self.backend.config = effective
        return ignored

    @property
    def reasonable_lag(self) -> int:
        return int(self.config.get("ReasonableReplicationLagSeconds", 10))


def service_of(request: Request) -> Service:
    """FastAPI dependency: the service, seen by this request's authenticated caller."""
    from orchestrator_cli.http.auth import user_name

    svc: Service = request.app.state.service
    return svc.for_user(user_name(request))


def context(svc: Service, command: str, **options: Any) -> Context:
    """A Context as the CLI would build it for `-c command` with these flags, on the shared backend."""
    given = {name for name, value in options.items() if value not in ("", None)}
    opts = Options(command=command, **options)
    opts.given = given
    # The running continuous mode keeps this node in node_health; without one the request registers
    # itself before taking locks, as a CLI process does.
    opts.skip_continuous_registration = svc.continuous is not None
    if not opts.owner:
        opts.owner = svc.user or "orchestrator-http"
    return Context(opts, svc.config, backend=svc.backend)


def run(svc: Service, command: str, **options: Any) -> Output:
    """Call the registered command `command` (the CLI's implementation) with these options."""
    from orchestrator_cli.commands import registry

    cmd = registry.lookup(command)
    if cmd is None:  # a route table bug, not user input
        raise RuntimeError(f"route calls unregistered command {command}")
    ctx = context(svc, cmd.name, **options)
    try:
        out = cmd.func(ctx)
        if cmd.access == "L":
            ctx.register_process()
        return out
    finally:
        ctx.close()


def with_context(svc: Service, command: str, action: Callable[[Context], T], **options: Any) -> T:
    """Run `action` over a request Context (for reads that need the CLI's argument resolution)."""
    ctx = context(svc, command, **options)
    try:
        return action(ctx)
    finally:
        ctx.close()


def instance_text(hostname: str, port: str) -> str:
    """`H/P` path segments as the `-i` text the CLI parses (so a bad port gives the CLI's message); an
    IPv6 host (bracketed or not) is bracketed, as `-i [::1]:3307`."""
    host = hostname[1:-1] if hostname.startswith("[") and hostname.endswith("]") else hostname
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def key_text(key: InstanceKey) -> str:
    """A key as `-i` text that parses back to it (`str(key)` of an IPv6 key does not: `::1:3307`)."""
    return instance_text(key.hostname, str(key.port))


def parse_key(svc: Service, hostname: str, port: str, what: str = "instance") -> InstanceKey:
    ctx = context(svc, "")
    return ctx.parse_key(instance_text(hostname, port), what)


def instance_row(svc: Service, key: InstanceKey) -> dict[str, Any]:
    from orchestrator_cli.backend import instances

    row = instances.read_instance(svc.backend, key)
    if row is None:
        raise NotFoundError(f"Cannot read instance: {key}")
    return row


def rows_for_keys(svc: Service, keys: Iterable[InstanceKey | str]) -> list[dict[str, Any]]:
    """Backend rows of `keys`, in their order; keys unknown to the backend are left out."""
    from orchestrator_cli.backend import instances

    wanted = [k if isinstance(k, InstanceKey) else parse_printed(str(k)) for k in keys]
    if len(wanted) > _BULK_READ_THRESHOLD:
        by_key = {(r["hostname"], int(r["port"])): r for r in instances.all_instances(svc.backend)}
        return [by_key[(k.hostname, k.port)] for k in wanted if (k.hostname, k.port) in by_key]
    by_key = {(r["hostname"], int(r["port"])): r for r in instances.read_instances(svc.backend, wanted)}
    return [by_key[(k.hostname, k.port)] for k in wanted if (k.hostname, k.port) in by_key]


def keys_of_output(out: Output) -> list[InstanceKey]:
    """The keys a key-listing command printed (one `host:port` per line)."""
    return [parse_printed(line) for line in out.lines if line.strip()]


def require(value: str | None, name: str) -> str:
    if not value:
        raise UsageError(f"{name} is required")
    return value


def keys_from_texts(texts: Sequence[str] | Mapping[str, Any]) -> list[InstanceKey]:
    return [parse_printed(str(t)) for t in texts]
