"""The command registry: the one source for dispatch, `help`, the man page and shell completion."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

# Argument roles a command declares; they drive validation, help text and the man page.
NO_INSTANCE = "none"
INSTANCE = "instance"  # -i, defaults to the local host when omitted
RAW_INSTANCE = "raw"  # -i required, no local-host default
CLUSTER = "cluster"  # --alias or -i


@dataclass(frozen=True)
class Command:
    name: str
    section: str
    summary: str
    func: Callable[[Context], Output]
    target: str = INSTANCE
    destination: str = ""  # "", "required" or "optional"
    flags: tuple[str, ...] = ()  # other flags it uses, e.g. ("--reason", "--duration")
    synonyms: tuple[str, ...] = ()
    access: str = "B"  # B backend, L live topology servers, N neither
    details: str = ""
    multi_instance: bool = True  # -i may list several instances
    examples: tuple[str, ...] = field(default=())


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


def load_all() -> None:
    global _loaded
    if not _loaded:
        for module in COMMAND_MODULES:
            importlib.import_module(module)
        _loaded = True


def lookup(name: str) -> Command | None:
    load_all()
    return _REGISTRY.get(_SYNONYMS.get(name, name))


def all_commands() -> list[Command]:
    load_all()
    return list(_REGISTRY.values())


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
