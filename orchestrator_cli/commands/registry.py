"""The command registry: the one source for dispatch, `help`, the man page and shell completion."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from collections.abc import Callable

    from orchestrator_cli.commands.context import Context
    from orchestrator_cli.commands.output import Output

# Modules that register commands, in the order their sections appear in `help`.
COMMAND_MODULES = (
    "orchestrator_cli.commands.refactoring",
    "orchestrator_cli.commands.pseudo_gtid",
    "orchestrator_cli.commands.replication",
    "orchestrator_cli.commands.binlogs",
    "orchestrator_cli.commands.pools",
    "orchestrator_cli.commands.information",
    "orchestrator_cli.commands.tags",
    "orchestrator_cli.commands.instance_management",
    "orchestrator_cli.commands.recovery",
    "orchestrator_cli.commands.meta",
)

# Which module registers each command and synonym (space-separated), so that running one command
# imports one command module instead of all ten (a cron job pays for every import). A name missing
# here, or registered by another module, still resolves: `lookup` then loads every module.
# tests/unit/test_registry.py checks this table against the registrations.
_INDEX = {
    "refactoring": (
        "enslave-master enslave-siblings make-co-master move-below move-equivalent move-gtid "
        "move-replicas-gtid move-slaves-gtid move-up move-up-replicas move-up-slaves regroup-replicas-bls relocate "
        "relocate-below relocate-replicas relocate-slaves repoint repoint-replicas repoint-slaves take-master "
        "take-siblings"
    ),
    "pseudo_gtid": (
        "match match-replicas match-slaves match-up match-up-replicas match-up-slaves regroup-replicas-pgtid "
        "regroup-slaves-pgtid rematch"
    ),
    "replication": (
        "detach-replica detach-replica-master-host detach-slave detach-slave-master-host disable-gtid "
        "disable-semi-sync-master disable-semi-sync-replica enable-gtid enable-semi-sync-master "
        "enable-semi-sync-replica flush-binary-logs gtid-errant-reset-master master-pos-wait "
        "purge-binary-logs reattach-replica reattach-replica-master-host reattach-slave "
        "reattach-slave-master-host reset-replica reset-slave restart-replica restart-replica-statements "
        "restart-slave restart-slave-statements set-read-only set-writeable skip-query start-replica "
        "start-slave stop-replica stop-slave which-gtid-errant"
    ),
    "binlogs": (
        "correlate-binlog-pos correlate-relaylog-pos find-binlog-entry last-executed-relay-entry "
        "last-pseudo-gtid locate-gtid-errant"
    ),
    "pools": ("cluster-pool-instances submit-pool-instances which-heuristic-cluster-pool-instances"),
    "information": (
        "all-clusters-masters all-instances bulk-instances can-replicate-from clusters clusters-alias find "
        "get-cluster-heuristic-lag instance-status is-replicating is-replication-stopped search "
        "submit-masters-to-kv-stores topology topology-tabulated topology-tags which-cluster "
        "which-cluster-alias which-cluster-domain which-cluster-gh-ost-replicas which-cluster-gh-ost-slaves "
        "which-cluster-instances which-cluster-master which-cluster-osc-replicas which-cluster-osc-slaves "
        "which-downtimed-instances which-heuristic-domain-instance which-instance which-lost-in-recovery "
        "which-master which-replicas which-slaves"
    ),
    "tags": ("tag tag-value tagged tags untag untag-all"),
    "instance_management": (
        "begin-downtime begin-maintenance deregister-hostname-unresolve discover end-downtime end-maintenance "
        "forget in-maintenance register-candidate register-hostname-unresolve set-heuristic-domain-instance"
    ),
    "recovery": (
        "ack-all-recoveries ack-cluster-recoveries ack-instance-recoveries audit-recovery "
        "check-global-recoveries continuous disable-global-recoveries enable-global-recoveries "
        "force-master-failover force-master-takeover get-candidate-replica get-candidate-slave "
        "graceful-master-takeover graceful-master-takeover-auto internal-suggest-promoted-replacement recover "
        "recover-lite regroup-replicas regroup-replicas-gtid regroup-slaves regroup-slaves-gtid "
        "replication-analysis"
    ),
    "meta": (
        "access-token active-nodes bulk-promotion-rules custom-command dump-config redeploy-internal-db "
        "reset-hostname-resolve-cache resolve show-resolve-hosts show-unresolve-hosts snapshot-topologies"
    ),
}
_MODULE_OF = {name: module for module, names in _INDEX.items() for name in names.split()}

# Argument roles a command declares; they drive validation, help text and the man page.
NO_INSTANCE = "none"
INSTANCE = "instance"  # -i, defaults to the local host when omitted
RAW_INSTANCE = "raw"  # -i required, no local-host default
CLUSTER = "cluster"  # --alias or -i


class Command:
    """One registered command. Immutable; a plain class because `dataclasses` (and `typing`) are kept
    off the start-up path of cron commands."""

    __slots__ = (
        "name", "section", "summary", "func", "target", "destination", "flags", "synonyms", "access", "details",
        "multi_instance", "examples",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        section: str,
        summary: str,
        func: Callable[[Context], Output],
        target: str = INSTANCE,
        destination: str = "",  # "", "required" or "optional"
        flags: tuple[str, ...] = (),  # other flags it uses, e.g. ("--reason", "--duration")
        synonyms: tuple[str, ...] = (),
        access: str = "B",  # B backend, L live topology servers, N neither
        details: str = "",
        multi_instance: bool = True,  # -i may list several instances
        examples: tuple[str, ...] = (),
    ) -> None:
        values = (name, section, summary, func, target, destination, flags, synonyms, access, details)
        for slot, value in zip(self.__slots__, (*values, multi_instance, examples), strict=True):
            object.__setattr__(self, slot, value)

    name: str
    section: str
    summary: str
    func: Callable[[Context], Output]
    target: str
    destination: str
    flags: tuple[str, ...]
    synonyms: tuple[str, ...]
    access: str
    details: str
    multi_instance: bool
    examples: tuple[str, ...]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: Command is immutable")

    def __repr__(self) -> str:
        return f"Command(name={self.name!r}, section={self.section!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Command):
            return NotImplemented
        return all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __hash__(self) -> int:
        return hash((self.name, self.section, self.func))


_REGISTRY: dict[str, Command] = {}
_SYNONYMS: dict[str, str] = {}
_loaded = False


def command(
    name: str,
    section: str,
    summary: str,
    **kwargs: object,
) -> Callable[[Callable[[Context], Output]], Callable[[Context], Output]]:
    """Register a command function under `name` (and its legacy synonyms)."""

    def register(func: Callable[[Context], Output]) -> Callable[[Context], Output]:
        cmd = Command(name=name, section=section, summary=summary, func=func, **kwargs)  # type: ignore[arg-type]
        if name in _REGISTRY or name in _SYNONYMS:
            raise RuntimeError(f"command {name} registered twice")
        for syn in cmd.synonyms:
            if syn == name or syn in _REGISTRY or syn in _SYNONYMS:
                raise RuntimeError(f"synonym {syn} of {name} is already a command or synonym")
        _REGISTRY[name] = cmd
        for syn in cmd.synonyms:
            _SYNONYMS[syn] = name
        return func

    return register


def _import(module: str) -> None:
    """`importlib.import_module` without importing `importlib` (and `warnings`, which it imports):
    a command module registers its commands when it runs, nothing is needed back."""
    __import__(module)


def load_all() -> None:
    global _loaded
    if not _loaded:
        for module in COMMAND_MODULES:
            _import(module)
        _loaded = True


def lookup(name: str) -> Command | None:
    module = _MODULE_OF.get(name)
    if module is not None and not _loaded:
        _import(f"orchestrator_cli.commands.{module}")
        found = _REGISTRY.get(_SYNONYMS.get(name, name))
        if found is not None:
            return found
    load_all()
    return _REGISTRY.get(_SYNONYMS.get(name, name))


def _position(cmd: Command) -> int:
    module = cmd.func.__module__
    return COMMAND_MODULES.index(module) if module in COMMAND_MODULES else len(COMMAND_MODULES)


def all_commands() -> list[Command]:
    """Every command, in module order then registration order (whatever was looked up first)."""
    load_all()
    return sorted(_REGISTRY.values(), key=_position)


def synonyms() -> dict[str, str]:
    load_all()
    return dict(_SYNONYMS)


# The original's section order in `help`; a section not listed here comes after these.
SECTION_ORDER = (
    "Smart relocation", "Classic file:pos relocation", "Binlog server relocation", "GTID relocation",
    "Pseudo-GTID relocation", "Replication, general", "Replication information", "Instance", "Binary logs",
    "Pools", "Information", "Key-value", "tags", "Instance management", "Recovery", "Instance, meta", "Meta",
    "Meta, internal", "Internal", "Agent", "",
)  # fmt: skip


def sections() -> list[tuple[str, list[Command]]]:
    """Commands grouped by section, sections in the original's order, commands in registration order."""
    grouped: dict[str, list[Command]] = {}
    for cmd in all_commands():
        grouped.setdefault(cmd.section, []).append(cmd)

    def position(section: str) -> int:
        return SECTION_ORDER.index(section) if section in SECTION_ORDER else len(SECTION_ORDER)

    return sorted(grouped.items(), key=lambda item: position(item[0]))


def accepted_names() -> list[str]:
    load_all()
    return sorted([*_REGISTRY, *_SYNONYMS, "help"])
