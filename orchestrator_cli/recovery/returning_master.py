"""Fencing of a failed master that comes back (ours; the original has no such step).

A master that hung (SIGSTOP, a stalled disk, a paused VM) and was failed over can resume with
`read_only=0` beside its successor: two writable masters. Continuous mode watches for it: when a
probe reaches a server that is downtimed `lost-in-recovery` (the failover set that downtime on the
failed master), replicates from nobody and is writable, the leader at once sets `read_only=1` (and
`super_read_only=1` where the flavor has it), keeps the downtime, audits the fencing and runs
`PostFencingProcesses`. It never makes such a server writable; an operator who wants it back as a
master ends its downtime first (`end-downtime`), then makes it writable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from orchestrator_cli.errors import OrchestratorError, TopologyError
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.topology.env import TopologyEnv

log = logging.getLogger("orchestrator.recovery")

FENCE_AUDIT_TYPE = "fence-returning-master"
HOOK_LIST = "PostFencingProcesses"
FAILURE_TYPE = "ReturningMasterFenced"


def needs_fencing(instance: Instance, lost_in_recovery: bool) -> bool:
    """A probed server is fenced when it is downtimed `lost-in-recovery`, has no master and is writable.

    >>> db1 = InstanceKey("db1", 3306)
    >>> needs_fencing(Instance(key=db1, read_only=False), True)
    True
    >>> needs_fencing(Instance(key=db1, read_only=True), True)
    False
    >>> needs_fencing(Instance(key=db1, master_host="db2", read_only=False), True)
    False
    >>> needs_fencing(Instance(key=db1, read_only=False), False)
    False
    """
    return lost_in_recovery and not instance.master_host and not instance.read_only


def fence(env: TopologyEnv, key: InstanceKey, instance: Instance, node: str, say: Callable[[str], None]) -> bool:
    """Make `key` read-only, keep it downtimed, audit and run the hooks. True when it is now read-only."""
    from orchestrator_cli.backend import downtime
    from orchestrator_cli.recovery.dead_master import LOST_IN_RECOVERY_SECONDS

    server = env.server(key)
    try:
        flavor = server.flavor
        server.change(flavor.set_read_only(True, super_read_only=True))
        fenced = bool(server.core_variables().read_only)
    except OrchestratorError as e:
        env.audit(FENCE_AUDIT_TYPE, key, f"returning failed master is writable and could not be fenced: {e}")
        log.error("%s: returning failed master could not be made read-only: %s", key, e)
        return False
    downtime.begin(env.backend, key, env.owner, downtime.LOST_IN_RECOVERY, LOST_IN_RECOVERY_SECONDS)
    if not fenced:
        env.audit(FENCE_AUDIT_TYPE, key, "returning failed master is still writable after SET GLOBAL read_only=1")
        raise TopologyError(f"{key}: returning failed master is still writable after SET GLOBAL read_only=1")
    env.audit(FENCE_AUDIT_TYPE, key, "returning failed master fenced: read_only=1, downtime lost-in-recovery kept")
    say(f"{key}: returning failed master fenced (read_only=1)")
    _hooks(env, key, instance, node)
    return True


def _hooks(env: TopologyEnv, key: InstanceKey, instance: Instance, node: str) -> None:
    from orchestrator_cli.backend import clusters
    from orchestrator_cli.recovery.hooks import HookContext, run_hooks

    if not env.config.get(HOOK_LIST):
        return
    cluster = instance.cluster_name or str(key)
    context = HookContext(
        failure_type=FAILURE_TYPE,
        instance_type="master",
        is_master=True,
        is_co_master=False,
        failure_description="a failed master came back writable after a failover and was made read-only",
        failed=key,
        cluster=cluster,
        cluster_alias=clusters.cluster_alias(env.backend, cluster),
        cluster_domain=clusters.cluster_domain(env.backend, cluster),
        replicas=[],
        is_downtimed=True,
        auto_master_recovery=False,
        auto_intermediate_master_recovery=False,
        orchestrator_host=node,
        command="fence",
    )

    def record(line: str) -> None:
        env.audit(FENCE_AUDIT_TYPE, key, line)

    run_hooks(env.config, HOOK_LIST, context, record, fail_fast=False)
