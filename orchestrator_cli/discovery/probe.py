"""Probe one server into a `database_instance` row (spec §1.2): what it is, whom it follows, who follows it."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any

from orchestrator_cli.discovery.resolve import ResolveError, normalise_key, rejected
from orchestrator_cli.errors import OrchestratorError, TopologyError
from orchestrator_cli.model.coerce import to_int
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.mysql.facts import CoreVariables, GtidFacts, ReplicaStatus
from orchestrator_cli.mysql.protocol import TopologyServer

log = logging.getLogger("orchestrator.discovery")


class ProbeResult:
    """One server as a probe read it: its `database_instance` row and whom it follows and is followed by.
    A plain class: generating a dataclass cost every discover's process ~0.5 ms at import."""

    __slots__ = (
        "key", "probed_as", "row", "master_key", "replica_keys", "detected_alias", "detected_domain",
        "promotion_rule", "errors", "flavor", "gtid", "normalised",
    )  # fmt: skip

    def __init__(
        self,
        key: InstanceKey,
        probed_as: InstanceKey,
        row: dict[str, Any],
        master_key: InstanceKey | None,
        replica_keys: list[InstanceKey] | None = None,
        detected_alias: str = "",
        detected_domain: str = "",
        promotion_rule: str = "",
        errors: list[str] | None = None,
        flavor: fl.Flavor | None = None,
        gtid: GtidFacts | None = None,
        normalised: dict[str, str] | None = None,
    ) -> None:
        self.key = key  # the key after MySQLHostnameResolveMethod
        self.probed_as = probed_as  # the key we connected to
        self.row = row
        self.master_key = master_key
        self.replica_keys: list[InstanceKey] = replica_keys if replica_keys is not None else []
        self.detected_alias = detected_alias
        self.detected_domain = detected_domain
        self.promotion_rule = promotion_rule
        self.errors: list[str] = errors if errors is not None else []
        self.flavor = flavor
        self.gtid = gtid
        # host names met (Master_Host, replica hosts) -> HostnameResolveMethod's name, when it differs
        self.normalised: dict[str, str] = normalised if normalised is not None else {}


def probe(server: TopologyServer, config: Mapping[str, Any]) -> ProbeResult:
    """Read everything about one server. Raises TopologyError when even the core variables cannot be read."""
    started = time.monotonic()
    key: InstanceKey = server.key
    # The core and GTID variables in one statement, uptime and semi-sync status in another: a probe
    # sends as few statements as the facts allow (each is a round trip, on every server, every poll).
    core, gtid = server.probe_variables()  # failure here: instance not found
    flavor: fl.Flavor = server.flavor
    errors: list[str] = []

    def optional(what: str, fn: Any, default: Any) -> Any:
        try:
            return fn()
        except (OrchestratorError, fl.FlavorError) as e:
            errors.append(f"{what}: {e}")
            return default

    uptime, semi = optional("uptime and semi-sync", server.uptime_and_semi_sync, (0, None))
    own = server.master_status() if core.log_bin else None
    binlog_file, binlog_pos = ("", 0) if own is None else (own.file, own.pos)
    status = _replication(server)  # failure aborts the probe, as in the original
    resolved = _resolve_hostname(key, core, config)
    normalised: dict[str, str] = {}
    master_key = None
    if status.is_replica and not status.is_detached:
        master_key = _normalised(InstanceKey(status.master_host, status.master_port), config, normalised, errors)
    lag = status.seconds_behind_master
    lag_query = config.get("ReplicationLagQuery")
    if lag_query:
        value = optional("ReplicationLagQuery", lambda: server.single_value(lag_query), None)
        if value is not None:
            try:
                lag = max(0, int(float(value)))
            except (TypeError, ValueError):
                # As in the original: a lag query that does not answer with a number is an error,
                # reported, and Seconds_Behind_Master stays the lag.
                errors.append(f"ReplicationLagQuery: not a number: {value!r}")
    replica_keys = optional("replicas", lambda: _replica_keys(server, resolved, config, normalised, errors), [])
    patterns = {
        "data_center": _pattern(config.get("DataCenterPattern"), resolved.hostname),
        "region": _pattern(config.get("RegionPattern"), resolved.hostname),
        "physical_environment": _pattern(config.get("PhysicalEnvironmentPattern"), resolved.hostname),
    }
    for column, query_key in (
        ("data_center", "DetectDataCenterQuery"),
        ("region", "DetectRegionQuery"),
        ("physical_environment", "DetectPhysicalEnvironmentQuery"),
    ):
        if config.get(query_key):
            patterns[column] = str(optional(query_key, lambda q=config[query_key]: server.single_value(q), "") or "")
    instance_alias = _detect(server, config, "DetectInstanceAliasQuery", optional)
    semi_enforced = _detect(server, config, "DetectSemiSyncEnforcedQuery", optional)
    pseudo = _detect(server, config, "DetectPseudoGTIDQuery", optional) == "1"
    promotion_rule = _detect(server, config, "DetectPromotionRuleQuery", optional)
    alias = _detect(server, config, "DetectClusterAliasQuery", optional)
    domain = _detect(server, config, "DetectClusterDomainQuery", optional) if master_key is None else ""
    version = core.version
    row: dict[str, Any] = {
        "hostname": resolved.hostname,
        "port": resolved.port,
        "uptime": uptime,
        "server_id": core.server_id,
        "server_uuid": gtid.server_uuid if gtid else "",
        "version": version,
        "version_comment": core.version_comment,
        "major_version": ".".join(version.split(".")[:2]),
        "binlog_server": 0,
        "read_only": int(core.read_only),
        "binlog_format": core.binlog_format,
        "binlog_row_image": gtid.binlog_row_image if gtid else "",
        "log_bin": int(core.log_bin),
        "log_slave_updates": int(core.log_slave_updates),
        "binary_log_file": binlog_file,
        "binary_log_pos": binlog_pos,
        "master_host": status.master_host,
        "master_port": status.master_port,
        "slave_sql_running": int(status.sql_running),
        "slave_io_running": int(status.io_running),
        "replication_sql_thread_state": status.sql_state,
        "replication_io_thread_state": status.io_state,
        "has_replication_filters": int(status.has_replication_filters),
        "oracle_gtid": int(status.auto_position),
        "mariadb_gtid": int(status.uses_mariadb_gtid),
        "master_uuid": status.master_uuid if status.master_uuid not in ("No",) else "",
        "executed_gtid_set": gtid.gtid_executed if gtid else "",
        "gtid_purged": gtid.gtid_purged if gtid else "",
        "gtid_errant": "",
        "supports_oracle_gtid": int(bool(gtid and gtid.supports_oracle_gtid)),
        "gtid_mode": gtid.gtid_mode if gtid else "",
        "pseudo_gtid": int(pseudo),
        "master_log_file": status.master_log_file,
        "read_master_log_pos": status.read_master_log_pos,
        "relay_master_log_file": status.relay_master_log_file,
        "exec_master_log_pos": status.exec_master_log_pos,
        "relay_log_file": status.relay_log_file,
        "relay_log_pos": status.relay_log_pos,
        "last_sql_error": status.last_sql_error,
        "last_io_error": status.last_io_error,
        "seconds_behind_master": status.seconds_behind_master,
        "slave_lag_seconds": lag,
        "sql_delay": status.sql_delay,
        "allow_tls": int(status.master_ssl_allowed),
        "num_slave_hosts": len(replica_keys),
        "slave_hosts": [{"Hostname": k.hostname, "Port": k.port} for k in replica_keys],
        "instance_alias": instance_alias,
        "semi_sync_enforced": to_int(semi_enforced),
        "semi_sync_available": int(bool(semi and semi.available)),
        "semi_sync_master_enabled": int(bool(semi and semi.master_enabled)),
        "semi_sync_master_timeout": semi.master_timeout if semi else 0,
        "semi_sync_master_wait_for_slave_count": semi.master_wait_for_slave_count if semi else 0,
        "semi_sync_master_status": int(bool(semi and semi.master_status)),
        "semi_sync_master_clients": semi.master_clients if semi else 0,
        "semi_sync_replica_enabled": int(bool(semi and semi.replica_enabled)),
        "semi_sync_replica_status": int(bool(semi and semi.replica_status)),
        "replication_credentials_available": int(bool(config.get("ReplicationCredentialsQuery"))),
        "has_replication_credentials": int(bool(status.master_user)),
        "replication_group_name": "",
        "replication_group_is_single_primary_mode": 1,
        "replication_group_member_state": "",
        "replication_group_member_role": "",
        "replication_group_members": [],
        "replication_group_primary_host": "",
        "replication_group_primary_port": 0,
        **patterns,
        "last_discovery_latency": int((time.monotonic() - started) * 1e9),
    }
    for e in errors:
        log.warning("%s: %s", key, e)
    return ProbeResult(
        key=resolved, probed_as=key, row=row, master_key=master_key, replica_keys=replica_keys,
        detected_alias=alias, detected_domain=domain, promotion_rule=promotion_rule, errors=errors,
        flavor=flavor, gtid=gtid, normalised=normalised,
    )  # fmt: skip


def _resolve_hostname(key: InstanceKey, core: CoreVariables, config: Mapping[str, Any]) -> InstanceKey:
    method = str(config.get("MySQLHostnameResolveMethod", "@@hostname")).lower()
    if method in ("default", "hostname", "@@hostname"):
        name = core.hostname
    elif method in ("report_host", "@@report_host"):
        if not core.report_host:
            raise TopologyError(f"{key}: MySQLHostnameResolveMethod is {method} but report_host is empty")
        name = core.report_host
    else:
        name = key.hostname
    if name and name != key.hostname and rejected(config, name):
        return key  # RejectHostnameResolvePattern: the name as probed, as for any vetoed resolve
    return InstanceKey(name or key.hostname, key.port)


def _normalised(key: InstanceKey, config: Mapping[str, Any], names: dict[str, str], errors: list[str]) -> InstanceKey:
    """`key` as HostnameResolveMethod names it, the change noted in `names`; a name no method can
    resolve (empty, or with a comma) is kept as read, with an error."""
    try:
        resolved = normalise_key(key, config)
    except ResolveError as e:
        errors.append(f"{key}: {e}")
        return key
    if resolved.hostname != key.hostname:
        names[key.hostname] = resolved.hostname
    return resolved


def _replica_keys(
    server: TopologyServer, key: InstanceKey, config: Mapping[str, Any], names: dict[str, str], errors: list[str]
) -> list[InstanceKey]:
    """SHOW SLAVE HOSTS when configured (report_host/report_port); else the processlist, on the master's
    port. Host names as HostnameResolveMethod names them (changes noted in `names`)."""
    keys: list[InstanceKey] = []
    if config.get("DiscoverByShowSlaveHosts"):
        keys = server.replica_hosts()
    if not keys:
        keys = [InstanceKey(h, key.port) for h in server.processlist_replica_hosts() if h]
    keys = [_normalised(k, config, names, errors) for k in keys]
    ignore = [re.compile(p) for p in config.get("DiscoveryIgnoreReplicaHostnameFilters") or []]
    # Processlist hosts get this server's own port, so replicas on the same host come out as the
    # server itself: a server is never its own replica.
    unique = sorted({k for k in keys if k != key and not any(r.search(str(k)) for r in ignore)})
    return unique


def _replication(server: TopologyServer) -> ReplicaStatus:
    """The replication connection the instance is recorded with.

    The original reads SHOW SLAVE STATUS (MariaDB's default connection only) and supports no
    multi-source replication. Here every connection is read in the same one statement (SHOW ALL
    SLAVES STATUS on MariaDB), so that a server replicating only through a named connection is
    recorded as the replica it is, not as a master of its own cluster; with several connections the
    default one (else the first by name) is recorded, and the others are named in a warning.
    """
    by_name = {name: status for name, status in server.replica_connections() if status.is_replica}
    if not by_name:
        return ReplicaStatus.none()
    chosen = "" if "" in by_name else min(by_name)
    if len(by_name) > 1:
        others = ", ".join(repr(n) for n in sorted(by_name) if n != chosen)
        log.warning(
            "%s: multi-source replication is not supported: recording connection %r, ignoring %s",
            server.key, chosen, others,
        )  # fmt: skip
    return by_name[chosen]


def _pattern(pattern: str | None, hostname: str) -> str:
    if not pattern:
        return ""
    m = re.search(pattern, hostname)
    return m.group(1) if m and m.groups() else ""


def _detect(server: TopologyServer, config: Mapping[str, Any], query_key: str, optional: Any) -> str:
    query = config.get(query_key)
    if not query:
        return ""
    value = optional(query_key, lambda: server.single_value(query), "")
    return "" if value is None else str(value)
