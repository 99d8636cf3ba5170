"""Choosing the replica to promote: pure functions over facts, no server or backend access.

Candidate choice is a pure function over `ReplicaFacts` (built from backend rows or live reads): a
replica is *eligible* unless something forbids promoting it (must_not, PromotionIgnoreHostnameFilters,
no binary log or log_slave_updates, broken SQL thread, another data center or region when
failover must stay local, too much lag, a newer major version or binlog format than most of its
siblings). Eligible replicas are ranked by promotion rule first (must > prefer > neutral >
prefer_not), then by how far they executed, then by the original's tie-breaks.

That differs from the original on purpose: there the most advanced replica is promoted and a
preferred server only replaces it afterwards, if it happens to be its direct replica. Here the
preferred server is promoted directly, after it caught up from the most advanced replica's binary
log (GTID only), so no transaction is lost and the operator's `register-candidate` is honoured.
When it cannot catch up, the most advanced eligible replica is promoted instead.

The live regroup that acts on the choice is `topology/regroup.py`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator_cli.model.coerce import to_int
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.gtid import MariadbGtidPosition
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.promotion import rule_rank
from orchestrator_cli.topology.rules import major_version

if TYPE_CHECKING:
    from orchestrator_cli.model.instance import Instance

_FORMAT_ORDER = {"STATEMENT": 0, "MIXED": 1, "ROW": 2}


def _format_rank(binlog_format: str) -> int:
    return _FORMAT_ORDER.get(binlog_format.upper(), max(_FORMAT_ORDER.values()))


@dataclass(frozen=True)
class ReplicaFacts:
    """What candidate choice compares about one replica of the failed (or current) master."""

    key: InstanceKey
    valid: bool = True
    exec_coordinates: BinlogCoordinates | None = None
    log_bin: bool = True
    log_slave_updates: bool = True
    binlog_server: bool = False
    version: str = ""
    binlog_format: str = "ROW"
    data_center: str = ""
    region: str = ""
    physical_environment: str = ""
    promotion_rule: str = "neutral"
    gtid_errant: str = ""
    lag_seconds: int | None = None
    sql_error: str = ""

    @property
    def major_version(self) -> tuple[int, ...]:
        return major_version(self.version)

    @classmethod
    def from_instance(cls, instance: Instance, *, valid: bool | None = None) -> ReplicaFacts:
        """From a backend snapshot, or a probe row merged with one (`valid` overrides its check flag)."""
        executed = instance.exec_coordinates
        return cls(
            key=instance.key,
            valid=instance.last_check_valid if valid is None else valid,
            exec_coordinates=executed if executed.file else None,
            log_bin=instance.log_bin,
            log_slave_updates=instance.log_slave_updates,
            binlog_server=instance.binlog_server,
            version=instance.version,
            binlog_format=instance.binlog_format,
            data_center=instance.data_center,
            region=instance.region,
            physical_environment=instance.physical_environment,
            promotion_rule=instance.promotion_rule,
            gtid_errant=instance.gtid_errant,
            lag_seconds=instance.lag,
            sql_error=instance.last_sql_error.strip().strip('\\"').strip(),
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, valid: bool | None = None) -> ReplicaFacts:
        """From a backend-shaped row (kept for callers still holding rows; see :meth:`from_instance`)."""
        from orchestrator_cli.backend.instance_rows import instance_from_row

        return cls.from_instance(instance_from_row(row), valid=valid)


@dataclass(frozen=True)
class MasterHints:
    """Where the failed master was: failover may be required to stay in its data center / region."""

    key: InstanceKey | None = None
    data_center: str = ""
    region: str = ""
    physical_environment: str = ""

    @classmethod
    def from_instance(cls, instance: Instance | None) -> MasterHints:
        if instance is None:
            return cls()
        return cls(
            key=instance.key,
            data_center=instance.data_center,
            region=instance.region,
            physical_environment=instance.physical_environment,
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | None) -> MasterHints:
        """From a backend-shaped row (kept for callers still holding rows; see :meth:`from_instance`)."""
        from orchestrator_cli.backend.instance_rows import instance_from_row

        return cls.from_instance(instance_from_row(row) if row else None)


@dataclass
class CandidateChoice:
    """The outcome of `choose_candidate`.

    `candidate` is None when nothing may be promoted; `refused` says why for each refused replica.
    `most_advanced` is the replica that executed the most (whatever its rule): the one the candidate
    catches up from.
    """

    candidate: ReplicaFacts | None
    ranked: list[ReplicaFacts]
    refused: dict[InstanceKey, str]
    most_advanced: ReplicaFacts | None

    def why_none(self) -> str:
        if not self.refused:
            return "no replicas"
        return "; ".join(f"{k}: {why}" for k, why in sorted(self.refused.items()))


def _matches_any(patterns: Iterable[str], text: str) -> bool:
    for pattern in patterns:
        try:
            if re.search(pattern, text):
                return True
        except re.error:
            continue
    return False


def _most_common(values: Sequence[Any], order: Callable[[Any], Any]) -> Any:
    counts = Counter(values)
    best = max(counts.values())
    return min((v for v, n in counts.items() if n == best), key=order)


def promotion_refusal(
    r: ReplicaFacts,
    master: MasterHints,
    config: Mapping[str, Any],
    *,
    priority_version: tuple[int, ...] | None = None,
    priority_format: int | None = None,
) -> str | None:
    """Why `r` must not become the master, or None when it may."""
    if not r.valid:
        return "its last check is invalid"
    if r.promotion_rule == "must_not":
        return "its promotion rule is must_not"
    if _matches_any(config.get("PromotionIgnoreHostnameFilters") or [], r.key.hostname):
        return "it matches PromotionIgnoreHostnameFilters"
    if r.binlog_server:
        return "it is a binlog server"
    if not r.log_bin:
        return "it has no binary log"
    if not r.log_slave_updates:
        return "it does not log replicated changes (log_slave_updates)"
    if r.sql_error:
        return f"its SQL thread failed: {r.sql_error}"
    if config.get("PreventCrossDataCenterMasterFailover") and r.data_center != master.data_center:
        return f"it is in data center {r.data_center!r}, the failed master in {master.data_center!r}"
    if config.get("PreventCrossRegionMasterFailover") and r.region != master.region:
        return f"it is in region {r.region!r}, the failed master in {master.region!r}"
    lag_minutes = to_int(config.get("FailMasterPromotionOnLagMinutes"))
    if lag_minutes > 0 and r.lag_seconds is not None and r.lag_seconds >= lag_minutes * 60:
        return f"it lags {r.lag_seconds}s (FailMasterPromotionOnLagMinutes={lag_minutes})"
    if priority_version is not None and r.version and r.major_version > priority_version:
        return f"it runs {r.version}, newer than most of its siblings"
    if priority_format is not None and r.binlog_format and _format_rank(r.binlog_format) > priority_format:
        return f"it logs {r.binlog_format}, while most of its siblings log less"
    return None


def _freshness(r: ReplicaFacts) -> tuple[int, BinlogCoordinates]:
    return (0, BinlogCoordinates("", 0)) if r.exec_coordinates is None else (1, r.exec_coordinates)


def rank(replicas: Sequence[ReplicaFacts], master: MasterHints) -> list[ReplicaFacts]:
    """Best first: promotion rule, then most executed, then the original's tie-breaks
    (log_slave_updates, failed master's data center, no errant GTID, lower major version, lower
    binlog format), then the key for a stable order."""
    ordered = sorted(replicas, key=lambda r: r.key)
    ordered.sort(key=lambda r: (r.major_version, _format_rank(r.binlog_format)))
    ordered.sort(key=lambda r: bool(r.gtid_errant))
    ordered.sort(key=lambda r: r.data_center != master.data_center or not master.data_center)
    ordered.sort(key=lambda r: not r.log_slave_updates)
    ordered.sort(key=_freshness, reverse=True)
    ordered.sort(key=lambda r: rule_rank(r.promotion_rule))
    return ordered


def most_advanced(replicas: Sequence[ReplicaFacts]) -> ReplicaFacts | None:
    """The valid replica that executed the most (ties: the better ranked one)."""
    valid = [r for r in replicas if r.valid and r.exec_coordinates is not None]
    if not valid:
        return None
    best = max(_freshness(r) for r in valid)
    return next(r for r in rank(valid, MasterHints()) if _freshness(r) == best)


def choose_candidate(
    replicas: Sequence[ReplicaFacts],
    master: MasterHints,
    config: Mapping[str, Any],
    *,
    explicit: InstanceKey | None = None,
) -> CandidateChoice:
    """Pick the replica to promote; an explicit candidate is used as long as it may be promoted."""
    considered = [r for r in replicas if r.valid] or list(replicas)
    versions = [r.major_version for r in considered if r.version]
    formats = [_format_rank(r.binlog_format) for r in considered if r.binlog_format]
    priority_version = _most_common(versions, lambda v: v) if versions else None
    priority_format = _most_common(formats, lambda v: v) if formats else None
    refused: dict[InstanceKey, str] = {}
    eligible: list[ReplicaFacts] = []
    for r in replicas:
        why = promotion_refusal(r, master, config, priority_version=priority_version, priority_format=priority_format)
        if why is None:
            eligible.append(r)
        else:
            refused[r.key] = why
    ranked = rank(eligible, master)
    candidate = ranked[0] if ranked else None
    if explicit is not None:
        chosen = next((r for r in replicas if r.key == explicit), None)
        if chosen is None:
            refused[explicit] = f"{explicit} is not a replica of {master.key or 'the master'}"
            candidate = None
        elif chosen.key in refused:
            candidate = None
        else:
            candidate = chosen
    return CandidateChoice(candidate=candidate, ranked=ranked, refused=refused, most_advanced=most_advanced(replicas))


def strict_mode_conflicts(own_binlog_pos: str, source_binlog_pos: str) -> tuple[str, ...]:
    """Why a MariaDB server in gtid_strict_mode whose own binary log is at `own_binlog_pos` cannot
    apply what a source at `source_binlog_pos` logs next (empty: nothing known against it).

    A replica that logged a transaction its new source does not have (an errant local write, or one
    it executed beyond the source) holds a sequence number in that domain that the source's next
    transactions will not exceed: strict mode refuses them. Domains the source never logged are the
    replica's own and are left out.
    """
    if not own_binlog_pos or not source_binlog_pos:
        return ()
    source = MariadbGtidPosition.parse(source_binlog_pos)
    own = MariadbGtidPosition.parse(own_binlog_pos).only_domains(source)
    return own.replication_blockers(source)
