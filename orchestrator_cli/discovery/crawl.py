"""Crawl a whole topology from any member, concurrently, and write it to the backend in one batch.

Unlike the original, which learns one level per poll cycle, the crawl sees the whole graph before
it writes, so cluster names, depths, co-masters, aliases and errant GTIDs are right on the first run.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from orchestrator_cli.backend import candidates, clusters, hostnames, instances, probe_context
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.backend.instance_rows import (
    instance_from_row,
    set_cluster_facts,
    set_gtid_errant,
    set_neighbours,
    set_pseudo_gtid,
    set_suggested_alias,
)
from orchestrator_cli.config import discovery_max_concurrency
from orchestrator_cli.discovery import resolve, resolve_cache
from orchestrator_cli.discovery.probe import ProbeResult, probe
from orchestrator_cli.driver import connector
from orchestrator_cli.errors import ConfigError, OrchestratorError, TopologyTimeoutError
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.promotion import CLI_RULES
from orchestrator_cli.mysql.flavor import FlavorError

if TYPE_CHECKING:
    from orchestrator_cli.mysql.access import TopologyAccess

log = logging.getLogger("orchestrator.discovery")

Progress = Callable[[int, int, str], None]  # probed, known, current key


class CrawlResult:
    """What a crawl found: the servers probed, those that failed, and the names learned on the way.

    Like `ProbeResult` and `Probed`, a plain class: the three dataclasses cost every discover's
    process ~1 ms to generate at import."""

    __slots__ = ("probed", "failed", "aliases", "hostnames", "normalised", "ignored", "timed_out")

    def __init__(self) -> None:
        self.probed: dict[InstanceKey, ProbeResult] = {}
        self.failed: dict[InstanceKey, str] = {}
        self.aliases: dict[InstanceKey, InstanceKey] = {}  # probed-as -> resolved key
        self.hostnames: dict[str, str] = {}  # host name as reached -> MySQLHostnameResolveMethod's
        self.normalised: dict[str, str] = {}  # host name as met -> HostnameResolveMethod's, when it differs
        self.ignored: set[InstanceKey] = set()  # seeds DiscoveryIgnoreHostnameFilters kept from probing
        self.timed_out: set[InstanceKey] = set()  # failed keys that did not answer in time

    def resolved(self, key: InstanceKey) -> InstanceKey:
        """The key a server is known by: probed keys by what the probe found, other keys (a replica's
        Master_Host, SHOW SLAVE HOSTS entries) by the host name mappings learned so far."""
        normalised = self.normalised.get(key.hostname)
        if normalised:
            key = InstanceKey(normalised, key.port)
        if key in self.aliases:
            return self.aliases[key]
        host = self.hostnames.get(key.hostname)
        return InstanceKey(host, key.port) if host else key


def crawl(
    seeds: Iterable[InstanceKey],
    access: TopologyAccess,
    backend: Backend,
    config: Mapping[str, Any],
    *,
    follow: bool = True,
    progress: Progress | None = None,
) -> CrawlResult:
    result = CrawlResult()
    check_patterns(config)
    ignore = [str(p) for p in config.get("DiscoveryIgnoreHostnameFilters") or []]
    ignore_masters = [re.compile(p) for p in config.get("DiscoveryIgnoreMasterHostnameFilters") or []]
    workers = discovery_max_concurrency(config)  # the probes' threads touch no backend: only this one does
    seen: set[InstanceKey] = set()
    pending: dict[Future[ProbeResult], InstanceKey] = {}
    if str(config.get("MySQLHostnameResolveMethod", "")).lower() != "none":
        result.hostnames.update(hostnames.resolve_map(backend))  # once per crawl: a CLI run is short

    seeds = list(seeds)
    # Probes started before the crawl reaches their key (see below); a key's result is used only once
    # the crawl reaches it, as it would have without them.
    early: dict[InstanceKey, Future[ProbeResult]] = {}
    origins: dict[InstanceKey, InstanceKey] = {}  # key as met -> HostnameResolveMethod's, when it differs

    connector()  # the driver and its plugins, imported here before the probe threads race to (driver.py)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe") as pool:

        def start(key: InstanceKey) -> Future[ProbeResult]:
            return pool.submit(probe, access.server(key, discovery=True), config)

        def submit(key: InstanceKey) -> None:
            if key in seen or ignored_host(key, ignore):
                return
            normalised = _normalise(key, result, config)
            if normalised is None:
                return
            if normalised != key:
                origins[key] = normalised
                key = normalised
                if key in seen or ignored_host(key, ignore):
                    return
            seen.add(key)
            fut = early.pop(key, None)
            pending[fut if fut is not None else start(key)] = key

        for seed in seeds:
            if ignored_host(seed, ignore):
                # Reported with the failures so the caller learns why, yet not recorded as a failed check.
                result.ignored.add(seed)
                result.failed[seed] = f"{seed}: ignored, matches DiscoveryIgnoreHostnameFilters"
            submit(seed)
        if follow:
            # The members the backend already knows around the seeds are probed now, beside the seeds,
            # instead of level by level as the live graph reaches them (seed, its master, the master's
            # replicas): a known topology is crawled in the time of its slowest probe. Ignored seeds
            # and keys a filter keeps the crawl from are left alone.
            reached = [origins.get(seed, seed) for seed in seeds]
            for key in _known_members(backend, [seed for seed in reached if seed in seen], seen):
                text = str(key)
                if not ignored_host(key, ignore) and not any(r.search(text) for r in ignore_masters):
                    early[key] = start(key)
        while pending:
            while pending:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in done:
                    key = pending.pop(fut)
                    try:
                        res = fut.result()
                    except (OrchestratorError, FlavorError) as e:
                        # FlavorError: the server answered in a shape we cannot read; one such
                        # server must not stop the crawl of the others.
                        result.failed[key] = str(e) if isinstance(e, OrchestratorError) else f"{key}: {e}"
                        if isinstance(e, TopologyTimeoutError):
                            result.timed_out.add(key)
                        log.info("%s: probe failed: %s", key, e)
                    else:
                        result.probed[res.key] = res
                        result.aliases[key] = res.key
                        if res.probed_as.hostname != res.key.hostname:
                            result.hostnames[res.probed_as.hostname] = res.key.hostname
                        result.normalised.update(res.normalised)
                        seen.add(res.key)
                        if follow:
                            for replica in res.replica_keys:
                                submit(replica)
                            if res.master_key and not any(r.search(str(res.master_key)) for r in ignore_masters):
                                submit(res.master_key)
                    if progress:
                        progress(len(result.probed) + len(result.failed), len(seen), str(key))
            if follow:
                for known in _known_members(backend, list(result.probed), seen):
                    submit(known)
        _drop_unreached(early, access)
    _finish(result, backend, config)
    for met, normalised in origins.items():
        # callers look their seeds up by the key they gave (written above under the normalised key only)
        if normalised in result.aliases:
            result.aliases.setdefault(met, result.aliases[normalised])
        elif normalised in result.failed:
            result.failed.setdefault(met, result.failed[normalised])
    return result


def _normalise(key: InstanceKey, result: CrawlResult, config: Mapping[str, Any]) -> InstanceKey | None:
    """`key` as HostnameResolveMethod names it, the change noted in `result.normalised`; None for a
    name no method can resolve (empty, or with a comma), noted as a failure and never probed."""
    if not resolve.active(config):
        return key
    try:
        normalised = resolve.normalise_key(key, config)
    except resolve.ResolveError as e:
        result.failed[key] = f"{key}: {e}"
        result.ignored.add(key)  # not a check of a known instance: nothing is recorded for it
        return None
    if normalised.hostname != key.hostname:
        result.normalised[key.hostname] = normalised.hostname
    return normalised


def _drop_unreached(early: Mapping[InstanceKey, Future[ProbeResult]], access: TopologyAccess) -> None:
    """Early probes the crawl never reached (the seed failed, or a known member left the topology):
    their results are not used, so they are cancelled, or cut short when running, instead of making
    the crawl wait out a slow server it had no reason to contact."""
    for key, fut in early.items():
        if not fut.cancel() and not fut.done():
            access.abort_server(key)


class Probed:
    """One server probed and written on its own (continuous mode): what it told us."""

    __slots__ = ("key", "result", "error", "neighbours", "timed_out")

    def __init__(
        self,
        key: InstanceKey,
        result: ProbeResult | None,
        error: str = "",
        neighbours: list[InstanceKey] | None = None,
        timed_out: bool = False,
    ) -> None:
        self.key = key  # the key probed
        self.result = result  # None: the probe failed
        self.error = error
        self.neighbours: list[InstanceKey] = neighbours if neighbours is not None else []  # replicas, master
        self.timed_out = timed_out  # the probe failed because the server did not answer (it may be hung)


def probe_one(
    key: InstanceKey,
    access: Any,
    backend: Backend,
    config: Mapping[str, Any],
    *,
    record_failure: Callable[[], bool] | None = None,
    answered: Callable[[], None] | None = None,
) -> Probed:
    """Probe one server and write what it found to the backend at once, without waiting for others.

    Cluster facts (name, depth, ancestry, alias) come from the server's master's backend row, as in
    a crawl that reaches the master only through the backend. A failed probe is recorded as a failed
    check of a known instance, unless `record_failure` says otherwise (a probe cut short at shutdown).

    The server is probed before the backend is touched, and the backend's read and write run on one
    connection of `backend.lease()`: a `BackendPool` lends it only for them, never while the server
    is talked to. `answered` is called when the server has answered or failed, before the backend
    is waited for (the scheduler's hung-probe watch judges servers, not the backend).
    """
    result = CrawlResult()
    ignore = [str(p) for p in config.get("DiscoveryIgnoreHostnameFilters") or []]
    if ignored_host(key, ignore):
        # Never probed nor written, as the original skips such keys before touching them (a row
        # written before the filter was set ages out like any unseen instance).
        if answered is not None:
            answered()
        return Probed(key, None, f"{key}: ignored, matches DiscoveryIgnoreHostnameFilters")
    target = _normalise(key, result, config)
    if target is None:
        if answered is not None:
            answered()
        return Probed(key, None, result.failed[key])
    try:
        res = probe(access.server(target, discovery=True), config)
    except (OrchestratorError, FlavorError) as e:
        if answered is not None:
            answered()
        error = str(e) if isinstance(e, OrchestratorError) else f"{key}: {e}"
        timed_out = isinstance(e, TopologyTimeoutError)
        result.failed[target] = error
        if timed_out:
            result.timed_out.add(target)
        if record_failure is not None and not record_failure():
            return Probed(key, None, error, timed_out=timed_out)
        log.info("%s: probe failed: %s", key, error)
        with backend.lease() as held:
            _write(result, {}, {}, {}, held, config)
        return Probed(key, None, error, timed_out=timed_out)
    if answered is not None:
        answered()
    if str(config.get("MySQLHostnameResolveMethod", "")).lower() != "none":
        # the process's cache: the table is read once per ExpiryHostnameResolvesMinutes, not per probe
        # (outside the lease: a reload holds the cache's lock while it borrows a connection of its own)
        result.hostnames.update(resolve_cache.for_backend(backend).mapping(backend, config))
    result.probed[res.key] = res
    result.aliases[target] = res.key
    if res.probed_as.hostname != res.key.hostname:
        result.hostnames[res.probed_as.hostname] = res.key.hostname
    result.normalised.update(res.normalised)
    master = result.resolved(res.master_key) if res.master_key else None
    with backend.lease() as held:
        _finish(result, held, config, probe_context.read(held, res.key, master))
    ignore_masters = [re.compile(p) for p in config.get("DiscoveryIgnoreMasterHostnameFilters") or []]
    neighbours = list(res.replica_keys)
    if res.master_key and not any(r.search(str(res.master_key)) for r in ignore_masters):
        neighbours.append(res.master_key)
    return Probed(key, res, neighbours=[k for k in neighbours if not ignored_host(k, ignore)])


def ignored_host(key: InstanceKey, filters: Collection[str]) -> bool:
    """Whether `key` matches DiscoveryIgnoreHostnameFilters: a filter that is an IP address matches
    that host exactly; any other is a regular expression searched in `host:port` (spec §1.1).

    >>> ip, other = InstanceKey("10.0.0.1", 3306), InstanceKey("10.0.0.10", 3306)
    >>> ignored_host(ip, ["10.0.0.1"]), ignored_host(other, ["10.0.0.1"]), ignored_host(other, ["^10[.]0"])
    (True, False, True)
    >>> ignored_host(InstanceKey("db2", 3307), [":3306$"])
    False
    """
    text = str(key)
    for pattern in filters:
        pattern = str(pattern)
        try:
            ipaddress.ip_address(pattern)
        except ValueError:
            if re.search(pattern, text):
                return True
        else:
            if key.hostname == pattern:
                return True
    return False


_PATTERN_KEYS = ("DataCenterPattern", "RegionPattern", "PhysicalEnvironmentPattern", "RejectHostnameResolvePattern")
_FILTER_KEYS = (
    "DiscoveryIgnoreHostnameFilters",
    "DiscoveryIgnoreMasterHostnameFilters",
    "DiscoveryIgnoreReplicaHostnameFilters",
)


def check_patterns(config: Mapping[str, Any]) -> None:
    """Every regular expression discovery uses, checked before any server is touched: a typo in
    the config is the operator's to fix, named as such, not a failure halfway through a crawl."""
    named: list[tuple[str, str]] = [(k, str(config.get(k) or "")) for k in _PATTERN_KEYS]
    named += [(k, str(p)) for k in _FILTER_KEYS for p in config.get(k) or []]
    named += [("ClusterNameToAlias", str(p)) for p in config.get("ClusterNameToAlias") or {}]
    for key, pattern in named:
        try:
            re.compile(pattern)
        except re.error as e:
            raise ConfigError(f"{key}: invalid regular expression {pattern!r}: {e}") from e


def _known_members(backend: Backend, probed: list[InstanceKey], seen: set[InstanceKey]) -> list[InstanceKey]:
    """Backend members of the clusters of `probed`, and backend replicas of `probed`, not yet `seen`.

    A replica that died or stopped being listed by its master (SHOW SLAVE HOSTS forgets it) must be
    probed too, so that its row turns invalid instead of keeping its last good state forever; the
    original's poller does the same for every known row. Cluster by cluster (by name), then the
    replicas of each probed key, each by host name and port.
    """
    known = instances.neighbourhood(backend, probed)
    wanted = set(probed)
    clusters = {cluster for key, cluster, _ in known if key in wanted} - {""}
    missing: list[InstanceKey] = []
    for name in sorted(clusters):
        missing += [key for key, cluster, _ in known if cluster == name and key not in seen]
    listed = set(missing)
    for key in probed:
        for replica, _, master in known:
            if master == key and replica not in seen and replica not in listed:
                missing.append(replica)
                listed.add(replica)
    return missing


class _Placement(NamedTuple):
    """What a crawl derives for one probed instance over the whole graph (written into its row)."""

    cluster_name: str
    depth: int
    co_master: bool
    ancestry: str


def _finish(
    result: CrawlResult,
    backend: Backend,
    config: Mapping[str, Any],
    context: probe_context.ProbeContext | None = None,
) -> None:
    """Derive cluster facts over the whole graph, then write everything in one transaction.

    `context`: what the backend knows around a single probed server, read up front in one statement
    (continuous mode); without it each fact is read on its own.
    """
    rows = {k: r.row for k, r in result.probed.items()}
    facts = {k: instance_from_row(r) for k, r in rows.items()}  # the probe's own facts, read once
    _resolve_references(result, rows)
    known: dict[InstanceKey, Instance] = {}
    for key in {result.resolved(r.master_key) for r in result.probed.values() if r.master_key} - set(rows):
        if context is not None and key == context.master_key:
            row = context.master_row
        else:
            row = instances.read_instance(backend, key)
        if row:
            known[key] = instance_from_row(row)

    def master_of(key: InstanceKey) -> InstanceKey | None:
        if key in rows:
            res = result.probed[key]
            return result.resolved(res.master_key) if res.master_key else None
        inst = known.get(key)
        if inst is not None and inst.master_host and inst.master_port:
            return InstanceKey(inst.master_host, inst.master_port)
        return None

    connected = _connected_masters(result)
    placements: dict[InstanceKey, _Placement] = {}
    for key in rows:
        chain = [key]
        cursor = master_of(key)
        while cursor is not None and cursor not in chain and cursor in rows and len(chain) < 64:
            chain.append(cursor)
            cursor = master_of(cursor)
        anchor = known.get(cursor) if cursor is not None and cursor not in rows else None
        if anchor is not None and cursor is not None:
            # The chain continues in the backend: inherit from the last known row instead of walking it.
            chain.append(cursor)
            beyond = master_of(cursor)
            cursor = beyond if beyond in chain else None
        elif cursor is not None and cursor not in chain:
            # A master we could not reach and have no row for: the root when a replica is connected
            # to it (it gets a placeholder row, see `_write`); otherwise, as in the original, nothing
            # says that server exists and the replica heads its own cluster.
            if cursor in connected:
                chain.append(cursor)
            cursor = None
        if cursor is not None and cursor in chain:
            # A cycle: the members of the loop are co-masters; the smallest key names the cluster.
            loop = chain[chain.index(cursor) :]
            root = min(loop)
            co_master = key in loop
            depth = 0 if key == root else 1
            cluster = str(root)
            prefix = ""
        elif anchor is not None:
            co_master = False
            depth = anchor.replication_depth + len(chain) - 1
            cluster = anchor.cluster_name or str(chain[-1])
            prefix = anchor.ancestry_uuid
        else:
            co_master = False
            depth = len(chain) - 1
            cluster = str(chain[-1])
            prefix = ""
        own = [facts[k].server_uuid for k in reversed(chain) if k in facts and facts[k].server_uuid]
        placements[key] = _Placement(cluster, depth, co_master, ",".join(u for u in [prefix, *own] if u))
        set_cluster_facts(
            rows[key], cluster_name=cluster, depth=depth, co_master=co_master, ancestry=placements[key].ancestry
        )
    if config.get("AutoPseudoGTID"):
        from orchestrator_cli.backend import pseudo_gtid

        fresh = pseudo_gtid.recently_injected(backend)
        for key, row in rows.items():
            set_pseudo_gtid(row, placements[key].cluster_name in fresh)
    _errant_gtids(result, rows, facts, known, placements)
    aliases = _aliases(result, placements, backend, config, context)
    for key, row in rows.items():
        set_suggested_alias(row, aliases[key])
    _write(result, rows, placements, aliases, backend, config, known, context)


def _connected_masters(result: CrawlResult) -> set[InstanceKey]:
    """Masters some probed replica's IO thread is connected to (Slave_IO_Running: Yes)."""
    return {
        result.resolved(res.master_key)
        for res in result.probed.values()
        if res.master_key and res.row.get("slave_io_running")
    }


def _resolve_references(result: CrawlResult, rows: dict[InstanceKey, dict[str, Any]]) -> None:
    """Store masters and replicas under the names their own probes resolved to, as the original's
    hostname cache does: a replica's Master_Host 127.0.0.1 names the master row `db1` when the
    master's @@hostname is db1, or replicas would point at a row that does not exist."""
    for key, row in rows.items():
        res = result.probed[key]
        master = result.resolved(res.master_key) if res.master_key else None
        set_neighbours(row, master, [result.resolved(k) for k in res.replica_keys])


def _errant_gtids(
    result: CrawlResult,
    rows: dict[InstanceKey, dict[str, Any]],
    facts: Mapping[InstanceKey, Instance],
    known: Mapping[InstanceKey, Instance],
    placements: Mapping[InstanceKey, _Placement],
) -> None:
    """Oracle GTID only; the master's set comes from this crawl or, when it was not probed, the backend.
    The GTID module is imported only when a pair of sets is compared (never for MariaDB topologies)."""
    masters = {**known, **facts}
    for key, row in rows.items():
        master = result.probed[key].master_key
        master_facts = masters.get(result.resolved(master)) if master else None
        own = facts[key]
        if master_facts is None or not own.executed_gtid_set or not master_facts.executed_gtid_set:
            continue
        placement = placements[key]
        from orchestrator_cli.model.gtid import errant

        try:
            set_gtid_errant(row, str(errant(
                own.executed_gtid_set, master_facts.executed_gtid_set, replica_uuid=own.server_uuid,
                master_uuid=master_facts.server_uuid, ancestry=placement.ancestry,
                is_co_master=placement.co_master,
            )))  # fmt: skip
        except ValueError as e:
            log.warning("%s: cannot compute errant GTIDs: %s", key, e)


def _aliases(
    result: CrawlResult,
    placements: Mapping[InstanceKey, _Placement],
    backend: Backend,
    config: Mapping[str, Any],
    context: probe_context.ProbeContext | None = None,
) -> dict[InstanceKey, str]:
    """The suggested cluster alias of every probed instance."""
    by_cluster: dict[str, list[InstanceKey]] = {}
    for key, placement in placements.items():
        by_cluster.setdefault(placement.cluster_name, []).append(key)
    name_map = config.get("ClusterNameToAlias") or {}
    aliases: dict[InstanceKey, str] = {}
    for cluster, members in by_cluster.items():
        members.sort(key=lambda k: (placements[k].depth, k))
        read = context if context is not None and context.cluster_name == cluster else None
        alias = read.alias_override if read is not None else clusters.alias_override(backend, cluster)
        if not alias:
            alias = next((result.probed[k].detected_alias for k in members if result.probed[k].detected_alias), "")
        if not alias:
            alias = next((a for pattern, a in name_map.items() if re.search(pattern, cluster)), "")
        if not alias and all(placements[k].depth > 0 for k in members):
            # Replicas probed without their master (continuous mode writes each probe on its own):
            # the alias the master's discovery registered stays theirs.
            if read is not None:
                alias = read.registered_alias.value or ""
            else:
                alias = clusters.registered_alias(backend, cluster)
        for k in members:
            aliases[k] = alias
    return aliases


def _write(
    result: CrawlResult,
    rows: dict[InstanceKey, dict[str, Any]],
    placements: Mapping[InstanceKey, _Placement],
    aliases: Mapping[InstanceKey, str],
    backend: Backend,
    config: Mapping[str, Any],
    known: Collection[InstanceKey] = (),
    context: probe_context.ProbeContext | None = None,
) -> None:
    """Write what the probes found, in one transaction (retried whole when MySQL resolves a deadlock
    against it); a single statement, the common case of a continuous-mode probe, runs on its own.

    `known`: masters whose backend rows were read (they need no placeholder row). Registrations
    `context` shows as current (same value, refreshed recently) are not written again; nor are host
    name resolves the process's resolve cache holds as fresh (`resolve_cache.ResolveCache.should_write`).
    """
    writes: list[tuple[Callable[[], object], bool]] = []  # (write, is one statement)
    if rows:
        writes.append((partial(instances.write_instances, backend, list(rows.values())), len(rows) == 1))
    cache = resolve_cache.for_backend(backend)
    learned = dict(result.normalised)  # HostnameResolveMethod's names, then MySQLHostnameResolveMethod's
    learned.update((a.hostname, k.hostname) for a, k in result.aliases.items() if a.hostname != k.hostname)
    resolves = {
        hostname: resolved
        for hostname, resolved in learned.items()
        if hostname != resolved and cache.should_write(hostname, resolved, config)
    }
    for hostname, resolved in resolves.items():
        writes.append((partial(hostnames.register_resolve, backend, hostname, resolved), True))
    for key in result.failed:
        if key not in result.ignored:  # an unknown key updates nothing
            writes.append(
                (
                    partial(
                        instances.record_failed_check, backend, key, partial=False, timed_out=key in result.timed_out
                    ),
                    True,
                )
            )
    unseen: set[InstanceKey] = set()
    connected = _connected_masters(result)
    for res in result.probed.values():
        master = result.resolved(res.master_key) if res.master_key else None
        if (
            master is not None
            and master not in rows
            and master not in known
            and master not in unseen
            and master in connected
        ):
            # A master that a connected replica points at but that could not be probed: known, never
            # seen (so: invalid). As the original's unseen-master injection, only when the replica's
            # IO thread runs: a replica retrying a host that is gone or misspelt must not give a
            # never-seen server a row, which analysis would call a DeadMaster and recovery fail over.
            unseen.add(master)
            writes.append((partial(instances.insert_unseen, backend, master), True))
        own = context if context is not None and context.key == res.key else None
        if res.promotion_rule in CLI_RULES and not (own and own.candidate.current(res.promotion_rule)):
            writes.append((partial(candidates.register, backend, res.key, res.promotion_rule), True))
        if res.detected_domain and not (own and own.domain.current(res.detected_domain)):
            writes.append((partial(clusters.register_domain, backend, str(res.key), res.detected_domain), True))
    for key in rows:
        if aliases[key] and placements[key].depth == 0:
            cluster = placements[key].cluster_name
            registered = context.registered_alias if context is not None and context.cluster_name == cluster else None
            if registered is not None and registered.current(aliases[key]):
                continue
            writes.append((partial(clusters.register_alias, backend, cluster, aliases[key], registered), False))
    if len(writes) == 1 and writes[0][1]:
        writes[0][0]()
    elif writes:
        backend.run_transaction(lambda: [write() for write, _ in writes])
    for hostname, resolved in resolves.items():
        cache.learned(hostname, resolved, config)
