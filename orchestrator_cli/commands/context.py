"""Everything a command needs: parsed options, config, and lazily opened backend and topology access."""

from __future__ import annotations

import sys

from orchestrator_cli import logs
from orchestrator_cli.errors import NotFoundError, UsageError
from orchestrator_cli.model.keys import InstanceKey

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.config import Config
    from orchestrator_cli.mysql.access import TopologyAccess
    from orchestrator_cli.topology.env import TopologyEnv

log = logs.getLogger("orchestrator")


def _is_ipv4(host: str) -> bool:
    """Four dot-separated runs of decimal digits, as `^\\d+(\\.\\d+){3}$` matches (no `re` at start-up)."""
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdecimal() for p in parts)


class Options:
    """The original's global flags (plus `--format`), already validated for shape.

    A plain class (defaults on the class, `Options(command="topology", ...)` to override): defining a
    dataclass costs the `dataclasses` import on every cron run.
    """

    command: str = ""
    instance: str = ""
    destination: str = ""
    config: str = ""
    alias: str = ""
    owner: str = ""
    reason: str = ""
    duration: str = ""
    pattern: str = ""
    promotion_rule: str = "prefer"
    tag: str = ""
    pool: str = ""
    hostname: str = ""
    binlog: str = ""
    statement: str = ""
    format: str = "text"
    strict: bool = False
    debug: bool = False
    verbose: bool = False
    quiet: bool = False
    stack: bool = False
    noop: bool = False
    ignore_raft_setup: bool = False
    skip_continuous_registration: bool = False
    enable_database_update: bool = False
    skip_binlog_search: bool = False
    skip_unresolve: bool = False
    skip_unresolve_check: bool = False
    grab_election: bool = False
    discovery: bool = True
    given: set[str]  # flags the user actually passed

    def __init__(self, **values: Any) -> None:
        self.given = set()
        for name, value in values.items():
            if name not in OPTION_NAMES and name != "given":
                raise TypeError(f"Options() got an unexpected keyword argument {name!r}")
            setattr(self, name, value)

    def __repr__(self) -> str:
        changed = ", ".join(f"{n}={getattr(self, n)!r}" for n in OPTION_NAMES if n in self.__dict__)
        return f"Options({changed})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Options):
            return NotImplemented
        names = (*OPTION_NAMES, "given")
        return all(getattr(self, n) == getattr(other, n) for n in names)

    # mutable, so unhashable, like the dataclass it replaces
    __hash__ = None  # type: ignore[assignment]

    def effective_owner(self) -> str:
        if self.owner:
            return self.owner
        try:
            import getpass

            return getpass.getuser()
        except (KeyError, OSError):
            return "orchestrator"


# The option attributes (every flag's destination), in declaration order.
OPTION_NAMES = tuple(name for name in Options.__annotations__ if name != "given")


class _Resources:
    __slots__ = ("backend", "topology", "env", "registered")

    def __init__(self, backend: Backend | None = None) -> None:
        self.backend: Backend | None = backend
        self.topology: TopologyAccess | None = None
        self.env: TopologyEnv | None = None
        self.registered = False


class Context:
    """Per-invocation state shared by the commands of one run (one per `-i` token)."""

    def __init__(
        self, options: Options, config: Config, instance_text: str | None = None, *, backend: Backend | None = None
    ) -> None:
        """`backend`: a connection owned by the caller (the HTTP service shares one per process); `close()`
        leaves it open."""
        self.options = options
        self.config = config
        self.instance_text = options.instance if instance_text is None else instance_text
        self._resources = _Resources(backend=backend)
        self._owns_backend = backend is None

    def for_instance(self, instance_text: str) -> Context:
        """A context for one `-i` token that shares this one's connections."""
        other = Context(self.options, self.config, instance_text)
        other._resources = self._resources
        other._owns_backend = self._owns_backend
        return other

    # -- lazily opened resources ----------------------------------------------------------------
    @property
    def backend(self) -> Backend:
        res = self._resources
        if res.backend is None:
            from orchestrator_cli.backend.connection import Backend

            res.backend = Backend(self.config)
        return res.backend

    @property
    def topology(self) -> TopologyAccess:
        res = self._resources
        if res.topology is None:
            from orchestrator_cli.mysql.access import TopologyAccess

            res.topology = TopologyAccess(self.config, noop=self.options.noop)
        return res.topology

    def topology_env(self) -> TopologyEnv:
        """Backend + topology access for refactoring and recovery, with statement auditing wired in."""
        from orchestrator_cli.topology.env import make_env

        if self._resources.env is None:
            # Registered before any lock can be taken: other processes release internal maintenance
            # locks whose owner no longer shows in node_health.
            self.register_process()
            self._resources.env = make_env(
                self.backend,
                self.topology,
                self.config,
                self.options.effective_owner(),
                self.options.reason,
                skip_unresolve=self.options.skip_unresolve,
            )
        return self._resources.env

    def register_process(self) -> None:
        """Write this process into `node_health` once (unless --skip-continuous-registration).

        Done lazily, not at start-up, so that a command refused for bad input writes nothing.
        """
        if self._resources.registered or self.options.skip_continuous_registration:
            return
        from orchestrator_cli import __version__
        from orchestrator_cli.backend import health
        from orchestrator_cli.commands import registry

        cmd = registry.lookup(self.options.command)
        health.register(self.backend, "CLIMode", cmd.name if cmd else self.options.command, __version__)
        self._resources.registered = True

    def close(self) -> None:
        res = self._resources
        if res.topology is not None:
            res.topology.close()
        if res.backend is not None and self._owns_backend:
            res.backend.close()

    @property
    def interactive(self) -> bool:
        """Progress and colour only for a person at a terminal, never in cron."""
        return sys.stderr.isatty() and not self.options.quiet

    # -- argument resolution --------------------------------------------------------------------
    @property
    def default_port(self) -> int:
        return int(self.config["DefaultInstancePort"])

    def parse_key(self, text: str, what: str = "instance") -> InstanceKey:
        try:
            return InstanceKey.parse(text, self.default_port)
        except ValueError as e:
            raise UsageError(f"invalid {what}: {e}") from e

    def resolve_key(self, text: str, what: str = "instance") -> InstanceKey:
        """`text` parsed, its host name as HostnameResolveMethod names it (`cname`, `ip`; the resolve
        module is not even imported for the other methods, which leave names as they are)."""
        key = self.parse_key(text, what)
        if str(self.config.get("HostnameResolveMethod") or "").strip().lower() in ("cname", "ip"):
            from orchestrator_cli.discovery import resolve

            try:
                key = resolve.normalise_key(key, self.config)
            except resolve.ResolveError as e:
                raise UsageError(f"invalid {what}: {e}") from e
        return key

    def local_key(self) -> InstanceKey:
        import socket

        return InstanceKey(socket.gethostname(), self.default_port)

    def instance_key(self, *, local_default: bool = True, fuzzy: bool = True) -> InstanceKey:
        """`-i`, fuzzy-matched against known instances; the local host when `-i` is omitted."""
        if not self.instance_text:
            if not local_default:
                raise UsageError("-i is required (host:port)")
            return self.local_key()
        if not fuzzy:  # the raw key (forget, resolve; discover resolves as it crawls)
            return self.parse_key(self.instance_text)
        return self.fuzzy(self.resolve_key(self.instance_text))

    def destination_key(self, *, required: bool = True) -> InstanceKey | None:
        text = self.options.destination
        if not text:
            if required:
                raise UsageError("-d is required (destination host:port)")
            return None
        return self.fuzzy(self.resolve_key(text, "destination"))

    def fuzzy(self, key: InstanceKey) -> InstanceKey:
        """An unknown key is replaced by the known instance its host name resolved to at discovery (the
        name a server was probed by, e.g. `$(hostname -f)`, when it calls itself otherwise), else by the
        one known host its host name uniquely matches (same port)."""
        from orchestrator_cli.backend import instances

        if instances.exists(self.backend, key):
            return key
        resolved = instances.known_by_resolve(self.backend, key)
        if resolved is not None:
            log.debug("resolved %s to %s", key, resolved)
            return resolved
        if _is_ipv4(key.hostname) or ":" in key.hostname:  # IPv4 or IPv6 literals: never fuzzy
            return key
        matches = instances.fuzzy_matches(self.backend, key)
        if len(matches) == 1:
            log.debug("fuzzy-matched %s to %s", key, matches[0])
            return matches[0]
        return key

    def known_instance(self, key: InstanceKey) -> dict[str, Any]:
        from orchestrator_cli.backend import instances

        row = instances.read_instance(self.backend, key)
        if row is None:
            raise NotFoundError(f"instance not found: {key}")
        return row

    def cluster_name(self) -> str:
        """`--alias` (name, then alias), then `-i` (exact, then fuzzy), then the local host's cluster."""
        from orchestrator_cli.backend import instances

        hint = self.options.alias
        if hint:
            from orchestrator_cli.backend import clusters

            name = clusters.cluster_by_name_or_alias(self.backend, hint)
            if name:
                return name
            if not self.instance_text:  # as in the original, -i is still tried after an unknown --alias
                raise NotFoundError(f"unknown cluster: {hint}")
        if self.instance_text:
            key = self.resolve_key(self.instance_text)
            cluster = instances.known_cluster_of(self.backend, key)  # a known key needs no fuzzy match
            if cluster is None and (matched := self.fuzzy(key)) != key:
                key = matched
                cluster = instances.known_cluster_of(self.backend, key)
            if cluster is None:
                from orchestrator_cli.backend import clusters

                name = clusters.cluster_by_name_or_alias(self.backend, self.instance_text)
                if name:
                    return name
                raise NotFoundError(f"cannot determine cluster: instance {key} is unknown")
            return cluster
        cluster = instances.known_cluster_of(self.backend, self.local_key())
        if cluster is None:
            raise UsageError("cannot determine cluster: give --alias or -i (the local host is not a known instance)")
        return cluster

    def cluster_and_domain(self) -> tuple[str, str]:
        """The cluster and its DetectClusterDomainQuery domain; a cluster without one is an error."""
        from orchestrator_cli.backend import clusters

        cluster = self.cluster_name()
        domain = clusters.cluster_domain(self.backend, cluster)
        if not domain:
            raise NotFoundError(f"cannot find domain name for cluster {cluster}")
        return cluster, domain

    def require(self, value: str, flag: str, hint: str = "") -> str:
        if not value:
            raise UsageError(f"{flag} is required{': ' + hint if hint else ''}")
        return value
