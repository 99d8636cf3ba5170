"""Planned master changes as the commands run them: the takeover (recovery/takeover.py), then the
verdict on its outcome. A promotion marked failed (a failing hook), or a graceful takeover whose old
master does not replicate from the new one, raises after the fact; hook failures that did not fail
the recovery are noted as warnings."""

from __future__ import annotations

from orchestrator_cli.errors import TopologyError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.recovery.engine import Note, Outcome
from orchestrator_cli.recovery.takeover import (
    GracefulResult,
    force_master_failover,
    force_master_takeover,
    graceful_master_takeover,
)
from orchestrator_cli.topology.env import TopologyEnv


def _silent(text: str) -> None:
    """The default progress sink: nobody is told."""


def _checked(outcome: Outcome, note: Note) -> Outcome:
    if not outcome.successful:
        raise TopologyError(
            f"{outcome.code} recovery promoted {outcome.successor} but is marked failed:"
            f" {'; '.join(outcome.hook_failures)}"
        )
    for failure in outcome.hook_failures:
        note(f"warning: {failure}")
    return outcome


def force_failover(env: TopologyEnv, cluster: str, *, note: Note = _silent) -> Outcome:
    """`force-master-failover`: fail over the cluster's master as if it were dead."""
    return _checked(force_master_failover(env, cluster, note), note)


def force_takeover(env: TopologyEnv, cluster: str, destination: InstanceKey, *, note: Note = _silent) -> Outcome:
    """`force-master-takeover`: promote `destination`, a direct replica of the writable master."""
    return _checked(force_master_takeover(env, cluster, destination, note), note)


def graceful_takeover(
    env: TopologyEnv, cluster: str, designated: InstanceKey | None, *, auto: bool, note: Note = _silent
) -> GracefulResult:
    """`graceful-master-takeover[-auto]`: the switchover, failed when it is marked failed or (auto) the
    old master's replication did not come up."""
    result = graceful_master_takeover(env, cluster, designated, auto=auto, note=note)
    if not result.outcome.successful:
        raise TopologyError(
            f"graceful takeover promoted {result.successor} but is marked failed:"
            f" {'; '.join(result.outcome.hook_failures)}"
        )
    if result.old_master_error:
        raise TopologyError(
            f"graceful takeover promoted {result.successor}, but {result.old_master} does not replicate from it:"
            f" {result.old_master_error}"
        )
    return result
