"""The command registry: unique names, legacy synonyms, sections of the original, a help topic for everything."""

from __future__ import annotations

import re

import pytest

from orchestrator_cli.cli import helptext
from orchestrator_cli.commands import registry
from orchestrator_cli.commands.output import Output

# cli-catalog §2: the section each of the original's 126 registered commands belongs to.
SPEC_SECTIONS: dict[str, tuple[str, ...]] = {
    "Smart relocation": ("relocate", "relocate-below", "relocate-replicas", "take-siblings", "regroup-replicas"),
    "Classic file:pos relocation": (
        "move-up", "move-up-replicas", "move-below", "move-equivalent", "repoint", "repoint-replicas",
        "take-master", "make-co-master", "get-candidate-replica",
    ),
    "Binlog server relocation": ("regroup-replicas-bls",),
    "GTID relocation": ("move-gtid", "move-replicas-gtid", "regroup-replicas-gtid"),
    "Pseudo-GTID relocation": (
        "match", "match-up", "rematch", "match-replicas", "match-up-replicas", "regroup-replicas-pgtid",
    ),
    "Replication, general": (
        "enable-gtid", "disable-gtid", "which-gtid-errant", "gtid-errant-reset-master", "skip-query",
        "stop-replica", "start-replica", "restart-replica", "reset-replica", "detach-replica-master-host",
        "reattach-replica-master-host", "master-pos-wait", "enable-semi-sync-master", "disable-semi-sync-master",
        "enable-semi-sync-replica", "disable-semi-sync-replica", "restart-replica-statements",
    ),
    "Replication information": ("can-replicate-from", "is-replicating", "is-replication-stopped"),
    "Instance": ("set-read-only", "set-writeable"),
    "Binary logs": (
        "flush-binary-logs", "purge-binary-logs", "last-pseudo-gtid", "locate-gtid-errant",
        "last-executed-relay-entry", "correlate-relaylog-pos", "find-binlog-entry", "correlate-binlog-pos",
    ),
    "Pools": ("submit-pool-instances", "cluster-pool-instances", "which-heuristic-cluster-pool-instances"),
    "Information": (
        "find", "search", "clusters", "clusters-alias", "all-clusters-masters", "topology", "topology-tabulated",
        "topology-tags", "all-instances", "which-instance", "which-cluster", "which-cluster-alias",
        "which-cluster-domain", "which-heuristic-domain-instance", "which-cluster-master", "which-cluster-instances",
        "which-cluster-osc-replicas", "which-cluster-gh-ost-replicas", "which-master", "which-downtimed-instances",
        "which-replicas", "which-lost-in-recovery", "instance-status", "get-cluster-heuristic-lag",
    ),
    "Key-value": ("submit-masters-to-kv-stores",),
    "tags": ("tags", "tag-value", "tagged", "tag", "untag", "untag-all"),
    "Instance management": (
        "discover", "forget", "begin-maintenance", "end-maintenance", "in-maintenance", "begin-downtime",
        "end-downtime",
    ),
    "Recovery": (
        "recover", "recover-lite", "force-master-failover", "force-master-takeover", "graceful-master-takeover",
        "graceful-master-takeover-auto", "replication-analysis", "ack-all-recoveries", "ack-cluster-recoveries",
        "ack-instance-recoveries",
    ),
    "Instance, meta": (
        "register-candidate", "register-hostname-unresolve", "deregister-hostname-unresolve",
        "set-heuristic-domain-instance",
    ),
    "Meta": (
        "snapshot-topologies", "continuous", "active-nodes", "access-token", "resolve",
        "reset-hostname-resolve-cache", "dump-config", "show-resolve-hosts", "show-unresolve-hosts",
    ),
    "Meta, internal": ("redeploy-internal-db",),
    "Internal": ("internal-suggest-promoted-replacement",),
    "Agent": ("custom-command",),
    "": (
        "disable-global-recoveries", "enable-global-recoveries", "check-global-recoveries", "bulk-instances",
        "bulk-promotion-rules",
    ),
}  # fmt: skip
SPEC_SECTION_OF = {name: section for section, names in SPEC_SECTIONS.items() for name in names}

# cli-catalog §2.0: the 26 legacy names the original accepts with -c.
LEGACY_SYNONYMS = {
    "stop-slave": "stop-replica",
    "start-slave": "start-replica",
    "restart-slave": "restart-replica",
    "reset-slave": "reset-replica",
    "restart-slave-statements": "restart-replica-statements",
    "relocate-slaves": "relocate-replicas",
    "regroup-slaves": "regroup-replicas",
    "move-up-slaves": "move-up-replicas",
    "repoint-slaves": "repoint-replicas",
    "enslave-siblings": "take-siblings",
    "enslave-master": "take-master",
    "get-candidate-slave": "get-candidate-replica",
    "move-slaves-gtid": "move-replicas-gtid",
    "regroup-slaves-gtid": "regroup-replicas-gtid",
    "match-slaves": "match-replicas",
    "match-up-slaves": "match-up-replicas",
    "regroup-slaves-pgtid": "regroup-replicas-pgtid",
    "which-slaves": "which-replicas",
    "which-cluster-osc-slaves": "which-cluster-osc-replicas",
    "which-cluster-gh-ost-slaves": "which-cluster-gh-ost-replicas",
    "detach-slave": "detach-replica-master-host",
    "detach-replica": "detach-replica-master-host",
    "detach-slave-master-host": "detach-replica-master-host",
    "reattach-slave": "reattach-replica-master-host",
    "reattach-replica": "reattach-replica-master-host",
    "reattach-slave-master-host": "reattach-replica-master-host",
}

COMMANDS = registry.all_commands()
NAMES = [c.name for c in COMMANDS]


def test_the_spec_tables_are_complete() -> None:
    assert len(SPEC_SECTION_OF) == 126
    assert len(LEGACY_SYNONYMS) == 26
    assert set(LEGACY_SYNONYMS.values()) <= set(SPEC_SECTION_OF)


def test_canonical_names_are_unique_and_well_formed() -> None:
    assert len(NAMES) == len(set(NAMES))
    for cmd in COMMANDS:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", cmd.name), cmd.name
        assert cmd.summary.strip() and "\n" not in cmd.summary, cmd.name
        assert callable(cmd.func)


def test_command_attributes_are_from_the_known_vocabulary() -> None:
    for cmd in COMMANDS:
        assert cmd.target in (registry.NO_INSTANCE, registry.INSTANCE, registry.RAW_INSTANCE, registry.CLUSTER)
        assert cmd.destination in ("", "required", "optional"), cmd.name
        assert cmd.access in ("B", "L", "N", "X"), cmd.name


@pytest.mark.parametrize("cmd", COMMANDS, ids=NAMES)
def test_original_commands_keep_their_section(cmd: registry.Command) -> None:
    if cmd.name in SPEC_SECTION_OF:
        assert cmd.section == SPEC_SECTION_OF[cmd.name]


def test_synonyms_map_to_registered_commands() -> None:
    synonyms = registry.synonyms()
    for synonym, canonical in synonyms.items():
        assert canonical in NAMES, synonym
        assert synonym not in NAMES, f"{synonym} is both a command and a synonym"
        looked_up = registry.lookup(synonym)
        assert looked_up is not None and looked_up.name == canonical


@pytest.mark.parametrize(("legacy", "canonical"), sorted(LEGACY_SYNONYMS.items()))
def test_legacy_names_of_implemented_commands_are_accepted(legacy: str, canonical: str) -> None:
    if canonical not in NAMES:
        pytest.skip(f"{canonical} is not implemented yet")
    cmd = registry.lookup(legacy)
    assert cmd is not None and cmd.name == canonical


def test_lookup_of_unknown_names() -> None:
    assert registry.lookup("no-such-command") is None
    assert registry.lookup("") is None
    assert registry.lookup("Topology") is None  # names are case-sensitive, as in the original


def test_accepted_names() -> None:
    accepted = registry.accepted_names()
    assert accepted == sorted(accepted)
    assert "help" in accepted
    assert set(NAMES) | set(registry.synonyms()) <= set(accepted)
    assert len(accepted) == len(set(accepted))


@pytest.mark.parametrize("cmd", COMMANDS, ids=NAMES)
def test_every_command_has_a_help_topic(cmd: registry.Command) -> None:
    text = helptext.topic(cmd.name)
    assert text is not None
    assert text.startswith(f"{cmd.name}: {cmd.summary}")
    for synonym in cmd.synonyms:
        assert helptext.topic(synonym) == text
        assert synonym in text


def test_listing_shows_every_command_under_its_section() -> None:
    listing = helptext.command_listing().splitlines()
    for section, commands in registry.sections():
        header = listing.index(f"  {section}:")
        names = [ln.split()[0] for ln in listing[header + 1 : header + 1 + len(commands)]]
        assert names == [c.name for c in commands]
    assert sum(len(cmds) for _, cmds in registry.sections()) == len(COMMANDS)


def test_registering_a_duplicate_name_or_synonym_fails() -> None:
    def func(ctx: object) -> Output:
        return Output()

    existing = NAMES[0]
    with pytest.raises(RuntimeError, match="registered twice"):
        registry.command(existing, "Meta", "duplicate")(func)
    with pytest.raises(RuntimeError, match="already a command or synonym"):
        registry.command("brand-new-test-command", "Meta", "x", synonyms=(existing,))(func)
    with pytest.raises(RuntimeError, match="already a command or synonym"):
        registry.command("another-new-test-command", "Meta", "x", synonyms=("another-new-test-command",))(func)
    assert registry.lookup("brand-new-test-command") is None
    assert registry.lookup("another-new-test-command") is None
    for synonym, canonical in registry.synonyms().items():
        with pytest.raises(RuntimeError):
            registry.command(synonym, "Meta", "x")(func)
        assert registry.lookup(synonym).name == canonical  # type: ignore[union-attr]
        break


def test_the_module_index_names_where_every_command_is_registered() -> None:
    """`lookup` imports only the module the index names; a stale index would load every module."""
    from orchestrator_cli.commands import registry

    registry.load_all()
    registered = {cmd.name: cmd.func.__module__ for cmd in registry.all_commands()}
    registered.update({syn: registered[name] for syn, name in registry.synonyms().items()})
    indexed = {name: f"orchestrator_cli.commands.{module}" for name, module in registry._MODULE_OF.items()}
    assert indexed == registered


def test_looking_one_command_up_imports_only_its_module() -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from orchestrator_cli.commands import registry;"
        " cmd = registry.lookup('register-candidate');"
        " print(cmd.name, sorted(m for m in sys.modules if m.startswith('orchestrator_cli.commands.')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split(" ", 1)
    assert out[0] == "register-candidate"
    assert "orchestrator_cli.commands.refactoring" not in out[1]
    assert "orchestrator_cli.commands.instance_management" in out[1]
