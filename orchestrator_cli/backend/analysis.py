"""Backend facts for failure analysis: instance rows plus maintenance, stale coordinates, aliases, domains.

The original computes analysis in one large SQL aggregation. Here the backend hands the pure
`analysis` package plain rows (one per `database_instance`, with the derived validity and downtime
flags of `instances._select`) annotated with the few facts that live in other tables, so the
decision rules stay testable without a database and the SQL stays small and portable.

Also owns the analysis history tables (`database_instance_last_analysis`,
`database_instance_analysis_changelog`) and the stale-binlog-coordinates record that turns a
`LockedSemiSyncMasterHypothesis` into a `LockedSemiSyncMaster`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from orchestrator_cli.backend import clusters, instances
from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.model.coerce import to_int, to_str
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey

_STALE_COORDINATES_MIN_EXPIRY_SECONDS = 60


def _key(row: Row) -> InstanceKey:
    return InstanceKey(to_str(row["hostname"]), to_int(row["port"]))


def _self_coordinates(row: Row) -> BinlogCoordinates:
    return BinlogCoordinates(to_str(row.get("binary_log_file")), max(0, to_int(row.get("binary_log_pos"))))


def _in_maintenance(backend: Backend) -> set[InstanceKey]:
    """Instances with an active maintenance row are invisible to analysis, whatever its end time.

    The recovery paths release expired locks first (`maintenance.release_expired`), so a lock left
    by a crashed process hides its instance only until the next recovery attempt.
    """
    rows = backend.query("SELECT hostname, port FROM database_instance_maintenance WHERE maintenance_active = 1")
    return {_key(r) for r in rows}


def _stale_coordinates(backend: Backend) -> dict[InstanceKey, BinlogCoordinates]:
    """The recorded coordinates of each instance, for those first seen there long enough ago."""
    d = backend.dialect
    seconds = _locked_semi_sync_seconds(backend.config)
    rows = backend.query(
        f"""SELECT hostname, port, binary_log_file, binary_log_pos,
                   CASE WHEN first_seen <= {d.seconds_ago("?")} THEN 1 ELSE 0 END AS is_old
            FROM database_instance_stale_binlog_coordinates""",
        (seconds,),
    )
    return {
        _key(r): BinlogCoordinates(to_str(r["binary_log_file"]), max(0, to_int(r["binary_log_pos"])))
        for r in rows
        if to_int(r["is_old"]) == 1
    }


def _locked_semi_sync_seconds(config: Mapping[str, Any]) -> int:
    seconds = int(config.get("ReasonableLockedSemiSyncMasterSeconds") or 0)
    return seconds or int(config.get("ReasonableReplicationLagSeconds", 10))


def _downtime_remaining(backend: Backend) -> dict[InstanceKey, int]:
    d = backend.dialect
    rows = backend.query(
        f"""SELECT hostname, port, {d.unix_timestamp("end_timestamp")} - {d.unix_timestamp()} AS remaining
            FROM database_instance_downtime
            WHERE downtime_active IS NOT NULL AND end_timestamp > {d.now()}"""
    )
    return {_key(r): max(0, to_int(r["remaining"])) for r in rows}


def _resolved_names(backend: Backend) -> dict[str, str]:
    rows = backend.query("SELECT hostname, resolved_hostname FROM hostname_resolve")
    return {str(r["hostname"]): str(r["resolved_hostname"]) for r in rows if r["resolved_hostname"]}


def _domains(backend: Backend) -> dict[str, str]:
    rows = backend.query("SELECT cluster_name, domain_name FROM cluster_domain_name")
    return {str(r["cluster_name"]): str(r["domain_name"]) for r in rows}


def analysis_rows(backend: Backend, unreachable: Collection[str] = ()) -> list[Row]:
    """Every instance row, annotated with what `analysis.build_facts` reads beyond `database_instance`.

    Added keys: `in_maintenance`, `is_stale_binlog_coordinates`, `cluster_alias`, `cluster_domain`,
    `resolved_hostname`, `downtime_remaining_seconds`. All clusters are read: a replica whose row
    already names a new cluster still counts as a replica of its (dead) old master.

    `unreachable`: "host:port" keys whose last check (and analysis) count as invalid whatever the
    timestamps say.
    """
    rows = instances.read_where(backend, "1 = 1", order="ORDER BY di.hostname, di.port")
    if not rows:
        return rows
    maintenance = _in_maintenance(backend)
    stale = _stale_coordinates(backend)
    remaining = _downtime_remaining(backend)
    resolved = _resolved_names(backend)
    aliases = {str(c["cluster_name"]): str(c["alias"]) for c in clusters.clusters_info(backend)}
    domains = _domains(backend)
    for row in rows:
        key = _key(row)
        cluster = to_str(row.get("cluster_name"))
        recorded = stale.get(key)
        row["in_maintenance"] = int(key in maintenance)
        row["is_stale_binlog_coordinates"] = int(recorded is not None and recorded == _self_coordinates(row))
        row["cluster_alias"] = aliases.get(cluster, cluster)
        row["cluster_domain"] = domains.get(cluster, "")
        row["resolved_hostname"] = resolved.get(key.hostname, "")
        row["downtime_remaining_seconds"] = remaining.get(key, 0)
        if unreachable and str(key) in unreachable:
            row["is_last_check_valid"] = 0
            row["is_analysis_valid"] = 0
    return rows


# -- analysis history ---------------------------------------------------------------------------------


def record_changes(backend: Backend, entries: Iterable[tuple[InstanceKey, str]]) -> int:
    """Append to the changelog every instance whose analysis code differs from the last one recorded.

    `entries` are (instance, code) pairs, typically every analysed instance with replicas. Returns
    the number of changes written.
    """
    pairs = list(entries)
    if not pairs:
        return 0
    last = {
        _key(r): str(r["analysis"])
        for r in backend.query("SELECT hostname, port, analysis FROM database_instance_last_analysis")
    }
    d = backend.dialect
    changed = [(k, code) for k, code in pairs if last.get(k) != code]
    if not changed:
        return 0
    upsert = d.upsert(
        "database_instance_last_analysis",
        {"hostname": "?", "port": "?", "analysis_timestamp": d.now(), "analysis": "?"},
        ["hostname", "port"],
    )
    insert = (
        "INSERT INTO database_instance_analysis_changelog (hostname, port, analysis_timestamp, analysis)"
        f" VALUES (?, ?, {d.now()}, ?)"
    )
    with backend.transaction():
        for key, code in changed:
            backend.execute(upsert, (key.hostname, key.port, code))
            backend.execute(insert, (key.hostname, key.port, code))
    return len(changed)


def expire_changelog(backend: Backend) -> int:
    """Drop changelog rows older than UnseenInstanceForgetHours."""
    d = backend.dialect
    hours = int(backend.config.get("UnseenInstanceForgetHours", 240))
    return backend.execute(
        f"DELETE FROM database_instance_analysis_changelog WHERE analysis_timestamp < {d.seconds_ago('?')}",
        (hours * 3600,),
    )


def changelog(backend: Backend, key: InstanceKey | None = None, limit: int = 100) -> list[Row]:
    where, params = ("", ()) if key is None else ("WHERE hostname = ? AND port = ?", (key.hostname, key.port))
    return backend.query(
        f"""SELECT changelog_id, hostname, port, analysis_timestamp, analysis
            FROM database_instance_analysis_changelog {where}
            ORDER BY changelog_id DESC LIMIT {int(limit)}""",
        params,
    )


# -- stale binlog coordinates (LockedSemiSyncMaster confirmation) ----------------------------------------


def record_stale_coordinates(backend: Backend, key: InstanceKey, log_file: str, log_pos: int) -> None:
    """Remember when a master's binlog coordinates were first seen at this position.

    A row with the same coordinates is kept (its `first_seen` is what ages); a different position
    replaces it, restarting the clock.
    """
    d = backend.dialect
    with backend.transaction():
        backend.execute(
            "DELETE FROM database_instance_stale_binlog_coordinates"
            " WHERE hostname = ? AND port = ? AND (binary_log_file <> ? OR binary_log_pos <> ?)",
            (key.hostname, key.port, log_file, log_pos),
        )
        backend.execute(
            d.insert_ignore(
                "database_instance_stale_binlog_coordinates",
                {"hostname": "?", "port": "?", "binary_log_file": "?", "binary_log_pos": "?", "first_seen": d.now()},
            ),
            (key.hostname, key.port, log_file, log_pos),
        )


def expire_stale_coordinates(backend: Backend) -> int:
    d = backend.dialect
    lag = int(backend.config.get("ReasonableReplicationLagSeconds", 10))
    seconds = max(2 * lag, _STALE_COORDINATES_MIN_EXPIRY_SECONDS)
    return backend.execute(
        f"DELETE FROM database_instance_stale_binlog_coordinates WHERE first_seen < {d.seconds_ago('?')}",
        (seconds,),
    )
