"""From an analysed failure to a recorded recovery: dispatch, detection, anti-flapping, hooks, outcome.

`execute` is shared by `recover`/`recover-lite` (manual), the takeovers (planned) and continuous mode
(automated). What differs by mode:

* automated: only clusters selected by Recover*ClusterFilters, not while recoveries are disabled
  globally, never a downtimed instance (the caller skips those), and anti-flapping applies;
* manual (`recover`): filters and the global switch are ignored, anti-flapping still applies (a
  second failure within RecoveryPeriodBlockSeconds needs an `ack-*` first; the original let manual
  recoveries through), and a downtimed instance is refused by the command;
* planned (force/graceful takeovers): no anti-flapping; finished recoveries of the same instance
  are acknowledged implicitly, as in the original, and a successful planned change acknowledges
  itself (unlike the original, a switchover does not block the failover of the new master).

Every recovery gets a `topology_recovery` row (unique per instance while active), its steps in
`topology_recovery_steps` (hooks with exit codes and output included), and its outcome.

An automated recovery carries the leader's lease term (`Request.lease`) and is fenced by it
(recovery/fencing.py): every change to a server, the hook lists that run before any change
(FENCED_HOOKS, before and after they run), and recording a failed outcome first confirm the term on
the backend; a lost term aborts the recovery with an audit
line and a step. Once a successor is promoted, the rest is skipped but the promotion is recorded and
the post-failover hooks announce it.

Before registering, the leader takes over unfinished automated recoveries that another node
registered (backend/recovery.py, "recoveries of a lost lease term"): one of the same instance is
adopted and goes on as the leader's, others of the cluster are aborted. One failure is never
recovered by two nodes at once, and keeps one recovery row.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator_cli import observe
from orchestrator_cli.analysis import Analysis, AnalysisCode
from orchestrator_cli.analysis.codes import DETECTION_ONLY_CODES
from orchestrator_cli.backend import recovery as rec
from orchestrator_cli.backend.election import Lease
from orchestrator_cli.backend.recovery import RecoveryRecord
from orchestrator_cli.errors import OrchestratorError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.recovery.fencing import Fence, LeaseLost
from orchestrator_cli.recovery.hooks import HookContext, HookOutcome, run_hooks
from orchestrator_cli.topology.env import TopologyEnv

log = logging.getLogger("orchestrator.recovery")

AUTOMATED, MANUAL, PLANNED = "automated", "manual", "planned"
Note = Callable[[str], None]

C = AnalysisCode
MASTER_CODES = frozenset({C.DEAD_MASTER, C.DEAD_MASTER_AND_SOME_REPLICAS})
CO_MASTER_CODES = frozenset({C.DEAD_CO_MASTER, C.DEAD_CO_MASTER_AND_SOME_REPLICAS})
INTERMEDIATE_CODES = frozenset(
    {
        C.DEAD_INTERMEDIATE_MASTER,
        C.DEAD_INTERMEDIATE_MASTER_AND_SOME_REPLICAS,
        C.DEAD_INTERMEDIATE_MASTER_WITH_SINGLE_REPLICA_FAILING_TO_CONNECT,
        C.ALL_INTERMEDIATE_MASTER_REPLICAS_FAILING_TO_CONNECT_OR_DEAD,
    }
)
WRITEABLE_CODES = frozenset({C.NO_WRITEABLE_MASTER})
# Actionable in the original, but not recovered here (no semi-sync or group-replication handler yet):
# detection hooks run, nothing changes.
UNHANDLED_ACTIONABLE = frozenset(
    {
        C.LOCKED_SEMI_SYNC_MASTER,
        C.MASTER_WITH_TOO_MANY_SEMI_SYNC_REPLICAS,
        C.DEAD_REPLICATION_GROUP_MEMBER_WITH_REPLICAS,
    }
)


# Hook lists that run before a recovery changes anything: a node that lost the lease must not run them.
# The post-failover lists announce what was done and run even when the lease was lost meanwhile.
FENCED_HOOKS = frozenset({"OnFailureDetectionProcesses", "PreFailoverProcesses"})


class HookFailure(OrchestratorError):
    """A fail-on-error hook list (OnFailureDetectionProcesses) failed: the operation stops here."""


def recovery_kind(code: AnalysisCode) -> str | None:
    """Which handler a code gets: master, co-master, intermediate-master, writeable, detection, or None."""
    if code in MASTER_CODES:
        return "master"
    if code in CO_MASTER_CODES:
        return "co-master"
    if code in INTERMEDIATE_CODES:
        return "intermediate-master"
    if code in WRITEABLE_CODES:
        return "writeable"
    if code in DETECTION_ONLY_CODES or code in UNHANDLED_ACTIONABLE:
        return "detection"
    return None


@dataclass
class Request:
    analysis: Analysis
    mode: str = MANUAL
    candidate: InstanceKey | None = None
    skip_hooks: bool = False
    command_hint: str = ""
    lease: Lease | None = None  # automated: the leader's term; every change confirms it first


@dataclass
class Outcome:
    """What happened. `attempted` is false when nothing was changed (no handler, gated, blocked);
    `vetoed` says PreFailoverProcesses refused the recovery before any change."""

    failed: InstanceKey
    code: str
    attempted: bool = False
    successful: bool = False
    successor: InstanceKey | None = None
    successor_coordinates: str = ""
    moved: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    uid: str = ""
    reason: str = ""
    blocked_by: RecoveryRecord | None = None
    vetoed: bool = False
    hook_failures: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)


def new_uid(node: tuple[str, str]) -> str:
    """`<unix nanoseconds>:<hash>` as the original's recovery UIDs."""
    digest = hashlib.sha256(f"{node[0]}:{node[1]}:{time.time_ns()}".encode()).hexdigest()[:16]
    return f"{time.time_ns()}:{digest}"


class RecoveryRun:
    """One recovery in progress: environment, request, uid, recorded steps, hook context."""

    def __init__(self, env: TopologyEnv, request: Request, note: Note | None = None) -> None:
        from orchestrator_cli.backend import health

        self.env = env
        self.request = request
        self.note = note
        self.node = health.identity()
        a = request.analysis
        self.failed = a.facts.key
        self.outcome = Outcome(failed=self.failed, code=str(a.code))
        self._pending: list[str] = []
        self.fence = Fence(env.backend, request.lease) if request.lease and request.mode == AUTOMATED else None

    @property
    def analysis(self) -> Analysis:
        return self.request.analysis

    @property
    def config(self) -> Any:
        return self.env.config

    def step(self, text: str) -> None:
        """Record a step: in topology_recovery_steps once registered, always in the outcome and log."""
        log.info("recovery %s: %s", self.outcome.uid or self.failed, text)
        self.outcome.steps.append(text)
        if self.outcome.uid:
            rec.add_step(self.env.backend, self.outcome.uid, text)
        else:
            self._pending.append(text)
        if self.note is not None:
            self.note(text)

    def attach(self, uid: str) -> None:
        self.outcome.uid = uid
        for text in self._pending:
            rec.add_step(self.env.backend, uid, text)
        self._pending.clear()

    def hook_context(self) -> HookContext:
        a = self.analysis
        o = self.outcome
        return HookContext(
            failure_type=str(a.code),
            instance_type=a.instance_type,
            is_master=a.facts.is_master,
            is_co_master=a.facts.is_co_master,
            failure_description=a.description,
            failed=self.failed,
            cluster=a.cluster_name,
            cluster_alias=a.cluster_alias,
            cluster_domain=a.cluster_domain,
            replicas=list(a.replica_keys),
            is_downtimed=a.is_downtimed,
            auto_master_recovery=a.facts.has_automated_master_recovery,
            auto_intermediate_master_recovery=a.facts.has_automated_intermediate_master_recovery,
            orchestrator_host=self.node[0],
            command=self.request.command_hint,
            recovery_uid=o.uid,
            is_successful=o.successor is not None,  # as the original: whether a successor exists
            lost=list(o.lost),
            successor=o.successor,
            successor_alias=self._successor_alias(),
            successor_binlog_coordinates=o.successor_coordinates,
        )

    def _successor_alias(self) -> str:
        if self.outcome.successor is None:
            return ""
        from orchestrator_cli.backend import instances

        successor = instances.read_snapshot(self.env.backend, self.outcome.successor)
        return successor.instance_alias if successor is not None else ""

    def hooks(self, hook_list: str, *, fail_fast: bool) -> HookOutcome:
        if self.request.skip_hooks or self.env.noop:
            if self.config.get(hook_list):
                self.step(f"{hook_list}: skipped ({'recover-lite' if self.request.skip_hooks else '--noop'})")
            return HookOutcome([])
        fenced = self.fence is not None and hook_list in FENCED_HOOKS and bool(self.config.get(hook_list))
        if fenced and self.fence is not None:
            self.fence.check(f"hook list {hook_list}")
        outcome = run_hooks(self.config, hook_list, self.hook_context(), self.step, fail_fast=fail_fast)
        if fenced and self.fence is not None:
            # A hook may run for minutes, or this process be frozen while it runs: the term may have
            # passed to another node, which may have finished the recovery meanwhile. Confirm it again
            # before acting on anything read before the hooks.
            self.fence.check(f"going on after hook list {hook_list}")
        return outcome

    def resolve(self) -> None:
        o = self.outcome
        if not o.uid:
            return
        rec.resolve_recovery(
            self.env.backend,
            o.uid,
            rec.Resolution(
                successful=o.successful,
                successor=o.successor,
                successor_alias=self._successor_alias(),
                lost=o.lost,
                participating=[*([str(o.successor)] if o.successor else []), *o.moved],
                errors=[*o.errors, *o.hook_failures],
            ),
            self.node,
        )

    def fail(self, reason: str) -> Outcome:
        """The recovery was attempted and produced no successor."""
        if self.fence is not None:
            # an ex-leader does not record a failure over a recovery the new leader took over
            self.fence.check(f"recording the recovery as failed ({reason})")
        self.outcome.attempted = True
        self.outcome.successful = False
        self.outcome.successor = None
        self.outcome.reason = reason
        self.outcome.errors.append(reason)
        self.step(f"recovery failed: {reason}")
        self.resolve()
        return self.outcome


def _gate(run: RecoveryRun, kind: str) -> str | None:
    """Why an automated recovery must not run (None: go ahead)."""
    a = run.analysis
    if run.request.mode != AUTOMATED:
        return None
    if kind in ("master", "co-master", "writeable") and not a.facts.has_automated_master_recovery:
        return f"cluster {a.cluster_name} is not selected by RecoverMasterClusterFilters"
    if kind == "intermediate-master" and not a.facts.has_automated_intermediate_master_recovery:
        return f"cluster {a.cluster_name} is not selected by RecoverIntermediateMasterClusterFilters"
    if rec.recoveries_disabled(run.env.backend):
        return "recoveries are disabled globally (disable-global-recoveries)"
    if a.skippable_due_to_downtime:
        return f"{run.failed} is downtimed"
    return None


def _register_detection(run: RecoveryRun) -> None:
    a = run.analysis
    detection = rec.Detection(
        key=run.failed,
        analysis=str(a.code),
        cluster_name=a.cluster_name,
        cluster_alias=a.cluster_alias,
        replicas=list(a.replica_keys),
        is_actionable=a.is_actionable,
    )
    if rec.register_detection(run.env.backend, detection, run.node) is None:
        return
    run.step(f"detected {a.code} on {run.failed} (cluster {a.cluster_name})")
    outcome = run.hooks("OnFailureDetectionProcesses", fail_fast=True)
    if not outcome.ok:
        raise HookFailure(f"OnFailureDetectionProcesses failed: {outcome.first_error()}")


def _register_recovery(run: RecoveryRun) -> bool:
    """Anti-flapping, then the unique registration; False (with outcome.reason set) when refused."""
    a = run.analysis
    backend = run.env.backend
    if run.fence is not None and _take_over_orphans(run, run.fence):
        return True
    if run.request.mode in (AUTOMATED, MANUAL):
        blocking = rec.blocking_recovery(
            backend, run.failed, a.cluster_name, if_promoted=True, if_cluster_recovered=True
        )
        if blocking is not None:
            rec.record_blocked(backend, run.failed, a.cluster_name, str(a.code), blocking.recovery_id)
            run.outcome.blocked_by = blocking
            run.outcome.reason = blocked_message(blocking, run.env.config)
            log.warning("recovery of %s blocked: %s", run.failed, run.outcome.reason)
            return False
    else:
        rec.expire(backend)
        rec.acknowledge_completed_of_instance(
            backend, run.failed, run.env.owner, f"implicitly acknowledged by {run.request.command_hint or 'recovery'}"
        )
    uid = new_uid(run.node)
    if run.fence is not None:
        run.fence.check(f"registering a recovery of {run.failed}")
    recovery = rec.NewRecovery(
        key=run.failed,
        uid=uid,
        analysis=str(a.code),
        cluster_name=a.cluster_name,
        cluster_alias=a.cluster_alias,
        replicas=list(a.replica_keys),
        last_detection_id=rec.last_detection_id(backend, run.failed),
    )
    if rec.register_recovery(backend, recovery, run.node) is None:
        active = next(
            (r for r in rec.active_recoveries(backend) if r.key == run.failed),
            None,
        )
        run.outcome.blocked_by = active
        run.outcome.reason = (
            blocked_message(active, run.env.config) if active else f"a recovery of {run.failed} is already active"
        )
        return False
    run.attach(uid)
    run.step(f"recovery {uid} registered: {a.code} on {run.failed} ({run.request.mode})")
    return True


def _take_over_orphans(run: RecoveryRun, fence: Fence) -> bool:
    """Take over unfinished automated recoveries of this instance or cluster registered by another
    node: that node lost the lease (we hold it), and its fence stops it before its next change.

    The latest one of this very instance is adopted and goes on as this run (True: registered);
    the others are aborted. Each takeover is conditioned on our lease in the same statement.
    """
    backend = run.env.backend
    cluster = run.analysis.cluster_name
    adopt: RecoveryRecord | None = None
    for record in rec.orphaned_recoveries(backend, fence.lease):
        if record.key == run.failed:
            if adopt is not None:
                _abort_orphan(run, fence, adopt)
            adopt = record
        elif cluster and cluster in (record.cluster_name, record.successor):
            _abort_orphan(run, fence, record)
    if adopt is None:
        return False
    if not rec.adopt_orphan(backend, adopt.recovery_id, fence.lease):
        fence.check(f"taking over recovery {adopt.uid}")  # raises if it is our lease that is gone
        return False  # it finished meanwhile: register as usual
    run.attach(adopt.uid)
    text = (
        f"recovery {adopt.uid} taken over from {_owner(adopt)}, which lost the lease, by"
        f" {fence.lease.describe()}: {run.analysis.code} on {run.failed} ({run.request.mode})"
    )
    run.step(text)
    run.env.audit("recovery-takeover", run.failed, text)
    return True


def _owner(record: RecoveryRecord) -> str:
    host, token = record.processing_node
    return f"{host} (token {token[:12]})"


def _abort_orphan(run: RecoveryRun, fence: Fence, record: RecoveryRecord) -> None:
    key = record.key
    message = f"aborted: {_owner(record)} lost the lease; taken over by {fence.lease.describe()}"
    if not rec.abort_orphan(run.env.backend, record.recovery_id, fence.lease, message):
        fence.check(f"taking over recovery {record.uid}")  # raises if it is our lease that is gone
        return
    rec.add_step(run.env.backend, record.uid, message)
    text = f"recovery {record.uid} ({record.analysis} on {key}) by {_owner(record)} aborted: its node lost the lease"
    run.step(text)
    run.env.audit("recovery-takeover", key, text)


def blocked_message(record: RecoveryRecord, config: Any) -> str:
    """Tell the operator what blocks and how to unblock it."""
    successor = f", promoted {record.successor}" if record.successor else ""
    seconds = int(config.get("RecoveryPeriodBlockSeconds") or 3600)
    cluster = record.cluster_name
    return (
        f"blocked by recovery {record.recovery_id} ({record.analysis} on {record.key}{successor},"
        f" started {record.start_active_period}) within RecoveryPeriodBlockSeconds={seconds}: acknowledge it first,"
        f" e.g. orchestrator -c ack-cluster-recoveries --alias {cluster} --reason '...'"
    )


def execute(env: TopologyEnv, request: Request, note: Note | None = None) -> Outcome:
    """Detect, gate, register and run the recovery for one analysis entry."""
    run = RecoveryRun(env, request, note)
    if run.fence is None:
        return _execute(run)
    guard, env.access.guard = env.access.guard, run.fence.guard
    try:
        return _execute(run)
    except LeaseLost as e:
        return _lease_lost(run, e)
    finally:
        env.access.guard = guard


def _lease_lost(run: RecoveryRun, error: LeaseLost) -> Outcome:
    """The fence refused a change: stop here, with a step, an audit line and the row ended."""
    o = run.outcome
    reason = f"recovery aborted: {error}"
    log.warning("%s: %s", run.failed, reason)
    o.attempted = bool(o.uid)
    o.successful = False
    o.successor = None
    o.reason = reason
    o.errors.append(reason)
    observe.recovery_finished(recovery_kind(run.analysis.code) or "none", "aborted")
    try:
        run.step(reason)
        if o.uid:
            rec.abort_recovery(run.env.backend, o.uid, reason, run.node)
        run.env.audit("recovery-lease-lost", run.failed, f"{o.code} ({o.uid or 'not registered'}): {reason}")
    except OrchestratorError as e:
        log.error("%s: could not record the aborted recovery: %s", run.failed, e)
    return o


def _execute(run: RecoveryRun) -> Outcome:
    request = run.request
    kind = recovery_kind(request.analysis.code)
    if kind is None:
        run.outcome.reason = f"{request.analysis.code} has no recovery"
        return run.outcome
    _register_detection(run)
    if kind == "detection":
        code = request.analysis.code
        run.outcome.reason = (
            f"no recovery is implemented for {code}; detection recorded"
            if code in UNHANDLED_ACTIONABLE
            else f"{code} is not recoverable; detection recorded"
        )
        return run.outcome
    blocked = _gate(run, kind)
    if blocked:
        run.outcome.reason = blocked
        return run.outcome
    if not _register_recovery(run):
        return run.outcome
    return _run_handler(run, kind)


def _run_handler(run: RecoveryRun, kind: str) -> Outcome:
    from orchestrator_cli.recovery import dead_master, intermediate

    handler = {
        "master": dead_master.recover_dead_master,
        "co-master": dead_master.recover_dead_co_master,
        "intermediate-master": intermediate.recover_dead_intermediate_master,
        "writeable": dead_master.recover_non_writeable_master,
    }[kind]
    try:
        outcome = handler(run)
    except LeaseLost as e:
        if run.outcome.successor is None:
            raise
        # the successor is already promoted: what is left (detaching lost replicas, refreshing) is
        # skipped, the promotion is recorded and announced as it happened
        outcome = run.outcome
        run.step(f"the lease was lost after {outcome.successor} was promoted; remaining changes skipped: {e}")
        run.resolve()
    if not outcome.attempted:
        # An automated recovery vetoed by PreFailoverProcesses keeps its row in the active period, as
        # the original does: the daemon's next ticks are blocked by anti-flapping instead of
        # registering a new recovery and running the vetoing hook every second, until
        # RecoveryPeriodBlockSeconds pass or the operator acknowledges. Any other refusal, and a
        # vetoed manual run, ends its row: the next attempt is not blocked by it.
        if not (outcome.vetoed and run.request.mode == AUTOMATED):
            rec.end_active_period(run.env.backend, outcome.uid, run.node)
        return outcome
    if outcome.successor is not None:
        from orchestrator_cli.backend import downtime

        downtime.end(run.env.backend, outcome.successor)
        post = run.hooks("PostFailoverProcesses", fail_fast=False)
        _post_hook_failures(run, post)
    else:
        run.hooks("PostUnsuccessfulFailoverProcesses", fail_fast=False)
    result = f"promoted {outcome.successor}" if outcome.successor else f"failed: {outcome.reason}"
    lost = f"; lost: {', '.join(outcome.lost)}" if outcome.lost else ""
    run.env.audit(
        f"recover-{run.analysis.instance_type}", run.failed, f"{outcome.code} ({outcome.uid}): {result}{lost}"
    )
    observe.recovery_finished(kind, "successful" if outcome.successful else "failed")
    if run.request.mode == PLANNED and outcome.successful:
        # A switchover the operator asked for is not flapping: it must not block the next failover.
        rec.acknowledge_recovery(
            run.env.backend, outcome.uid, run.env.owner, f"planned {run.request.command_hint}: not a failure"
        )
    return outcome


def _post_hook_failures(run: RecoveryRun, post: HookOutcome) -> None:
    """Record failed post-failover hooks; with FailRecoveryOnPostFailoverHookError they fail the recovery."""
    if post.ok:
        return
    run.outcome.hook_failures.extend(r.describe() for r in post.failed)
    if run.env.config.get("FailRecoveryOnPostFailoverHookError"):
        run.outcome.successful = False
        run.step("recovery marked failed: a post-failover hook failed (FailRecoveryOnPostFailoverHookError)")
    run.resolve()


def run_hook_list(
    env: TopologyEnv,
    entry: Analysis,
    hint: str,
    hook_list: str,
    note: Note | None,
    *,
    outcome: Outcome | None = None,
    fail_fast: bool = True,
) -> HookOutcome:
    """Run a hook list outside a handler (PreGracefulTakeoverProcesses / PostGracefulTakeoverProcesses).

    With `outcome`, the hooks see its successor and their steps join its recovery. A fail-fast list
    that fails raises HookFailure; a failing post list is recorded like a post-failover hook.
    """
    run = RecoveryRun(env, Request(entry, PLANNED, command_hint=hint), note)
    if outcome is not None:
        run.outcome = outcome
    result = run.hooks(hook_list, fail_fast=fail_fast)
    if result.ok:
        return result
    if fail_fast:
        raise HookFailure(f"{hook_list} failed: {result.first_error()}")
    _post_hook_failures(run, result)
    return result


def post_master_hooks(run: RecoveryRun) -> None:
    """PostMasterFailoverProcesses / PostIntermediateMasterFailoverProcesses, after a successful promotion."""
    hook_list = (
        "PostIntermediateMasterFailoverProcesses"
        if run.analysis.instance_type == "intermediate-master"
        else "PostMasterFailoverProcesses"
    )
    _post_hook_failures(run, run.hooks(hook_list, fail_fast=False))


def refresh_before_recovery(env: TopologyEnv, key: InstanceKey) -> set[str]:
    """Probe the failed instance and its replicas now, so the analysis acted on is current.

    A failed probe marks the instance's last check invalid. Used by `recover` from a shell, where no
    continuous mode keeps the backend fresh. Returns the keys whose probe failed.
    """
    from orchestrator_cli.backend import instances
    from orchestrator_cli.discovery.crawl import crawl

    keys = [key, *instances.keys_of(instances.replicas_of(env.backend, key))]
    result = crawl(keys, env.access, env.backend, env.config, follow=False)
    return {str(k) for k in result.failed}
