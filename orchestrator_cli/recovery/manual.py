"""What an operator asks of recovery from a shell: recover one failed instance now, regroup the
replicas of an instance, suggest the replica a failover would promote.

The commands parse arguments and render; these functions probe, decide, refuse and audit. Refusals
raise (`UnsafeOperationError` for what safety forbids, `TopologyError` for what failed); "nothing to
recover" is a result, not an error: the command prints why on stderr and exits 0.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from orchestrator_cli.analysis import Analysis, AnalysisCode
from orchestrator_cli.errors import NotFoundError, TopologyError, UnsafeOperationError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.recovery.engine import MANUAL, Note, Outcome, Request, execute, recovery_kind
from orchestrator_cli.topology.candidates import CandidateChoice
from orchestrator_cli.topology.env import TopologyEnv
from orchestrator_cli.topology.regroup import RegroupResult

#: How long `recover` waits for replicas to notice that a just-killed master is gone.
SETTLE_SECONDS = 3.0
SETTLE_POLL_SECONDS = 0.2
#: Codes that may only mean "the replicas have not noticed yet" right after a master died.
SETTLING_CODES = frozenset({AnalysisCode.UNREACHABLE_MASTER, AnalysisCode.UNREACHABLE_CO_MASTER})


def _silent(text: str) -> None:
    """The default progress sink: nobody is told."""


def current_entry(env: TopologyEnv, key: InstanceKey) -> Analysis | None:
    """Probe the failed instance and its replicas, then analyse; a master that just died may take its
    replicas a moment to notice (their IO threads still say running), so that case is re-probed briefly."""
    from orchestrator_cli.recovery.detection import analysis_of
    from orchestrator_cli.recovery.engine import refresh_before_recovery

    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        unreachable = refresh_before_recovery(env, key)
        entry = analysis_of(env.backend, env.config, str(key), unreachable)
        if entry is None or entry.code not in SETTLING_CODES or time.monotonic() > deadline:
            return entry
        time.sleep(SETTLE_POLL_SECONDS)


@dataclass(frozen=True)
class ManualRecovery:
    """What `recover` did: `outcome` is None when no recovery was even considered (no problem, or a
    code with no recovery action); `nothing_done` says why nothing changed (empty after a recovery)."""

    failed: InstanceKey
    analysis: str
    outcome: Outcome | None = None
    nothing_done: str = ""


def _refuse_downtimed(env: TopologyEnv, key: InstanceKey) -> None:
    from orchestrator_cli.backend import instances
    from orchestrator_cli.backend.instance_rows import instance_from_row

    row = instances.read_instance(env.backend, key)
    if row is None:
        raise NotFoundError(f"instance not found: {key}")
    downtimed = instance_from_row(row)
    raise UnsafeOperationError(
        f"{key} is downtimed ({downtimed.downtime_owner}: {downtimed.downtime_reason}, until"
        f" {downtimed.downtime_end_timestamp}); downtimed instances are not recovered: end the downtime"
        f" first (orchestrator -c end-downtime -i {key})"
    )


def recover_instance(
    env: TopologyEnv,
    key: InstanceKey,
    *,
    candidate: InstanceKey | None = None,
    skip_hooks: bool = False,
    note: Note = _silent,
) -> ManualRecovery:
    """`recover` / `recover-lite`: probe now, then recover what the current analysis calls for.

    Refused: a downtimed instance, and a failure within RecoveryPeriodBlockSeconds of a previous
    recovery of its cluster (anti-flapping, until acknowledged). Raises when a recovery was attempted
    and promoted nobody, or promoted someone but is marked failed (a failing hook).
    """
    from orchestrator_cli.backend import maintenance

    maintenance.release_expired(env.backend)
    note(f"probing {key} and its replicas")
    entry = current_entry(env, key)
    if entry is None or recovery_kind(entry.code) is None:
        # spec §3.2, last row: no handler, no detection, no hooks, no recovery record: nothing at all
        found = "no problem" if entry is None else str(entry.code)
        no_problem = entry is None or entry.code == AnalysisCode.NO_PROBLEM
        why = "no problem found" if no_problem else f"{found} has no recovery action"
        return ManualRecovery(key, found, nothing_done=f"{key}: {why}; nothing done")
    note(f"{key}: {entry.code} (cluster {entry.cluster_name}; replicas: {', '.join(entry.replica_keys) or 'none'})")
    if entry.is_downtimed:
        _refuse_downtimed(env, key)
    request = Request(entry, MANUAL, candidate=candidate, skip_hooks=skip_hooks)
    outcome = execute(env, request, note=note)
    if outcome.blocked_by is not None:
        raise UnsafeOperationError(f"recovery of {key} refused: {outcome.reason}")
    if not outcome.attempted:
        if outcome.errors:
            raise TopologyError(f"recovery of {key} not attempted: {outcome.reason}")
        return ManualRecovery(
            key, str(entry.code), outcome, nothing_done=f"{key}: {outcome.reason}; no recovery attempted"
        )
    if outcome.successor is None:
        raise TopologyError(f"Recovery attempted yet no replica promoted: {outcome.reason}")
    if not outcome.successful:
        raise TopologyError(
            f"recovery of {key} promoted {outcome.successor} but is marked failed: {'; '.join(outcome.hook_failures)}"
        )
    for failure in outcome.hook_failures:
        note(f"warning: {failure}")
    return ManualRecovery(key, str(entry.code), outcome)


@dataclass
class RegroupReport:
    """A regroup's result and the steps it reported, in order."""

    result: RegroupResult
    steps: list[str] = field(default_factory=list)


def regroup(env: TopologyEnv, key: InstanceKey, *, gtid_only: bool, note: Note = _silent) -> RegroupReport:
    """`regroup-replicas[-gtid]`: the live regroup, audited as such whether it succeeds or fails."""
    from orchestrator_cli.topology.regroup import regroup_replicas

    steps: list[str] = []

    def step(text: str) -> None:
        steps.append(text)
        note(text)

    audit_type = "regroup-replicas-gtid" if gtid_only else "regroup-replicas"
    try:
        result = regroup_replicas(env, key, gtid_only=gtid_only, step=step)
    except Exception as e:
        env.audit(audit_type, key, f"failed: {e}")
        raise
    env.audit(
        audit_type,
        key,
        f"candidate {result.candidate}; moved {len(result.moved)}: {', '.join(map(str, result.moved))};"
        f" lost {len(result.lost)}: {', '.join(map(str, result.lost))}",
    )
    return RegroupReport(result, steps)


def suggest_candidate(env: TopologyEnv, key: InstanceKey, *, note: Note = _silent) -> CandidateChoice:
    """`get-candidate-replica`: the choice from backend rows (no server touched); every refused replica is
    noted with why; raises when none may be promoted."""
    from orchestrator_cli.topology.regroup import candidate_from_backend

    choice = candidate_from_backend(env, key)
    for refused, why in sorted(choice.refused.items()):
        note(f"{refused}: not promotable: {why}")
    if choice.candidate is None:
        raise TopologyError(f"no candidate replica found for {key}: {choice.why_none()}")
    return choice
