"""`database_instance` reads and writes, with the derived flags computed on the backend's clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.model.keys import InstanceKey

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

    from orchestrator_cli.model.instance import Instance

# Columns a probe writes (everything except the check timestamps, which the write sets itself).
PROBE_COLUMNS = (
    "hostname", "port", "uptime", "server_id", "server_uuid", "version", "binlog_server", "read_only",
    "binlog_format", "log_bin", "log_slave_updates", "binary_log_file", "binary_log_pos", "master_host",
    "master_port", "slave_sql_running", "slave_io_running", "replication_sql_thread_state",
    "replication_io_thread_state", "has_replication_filters", "oracle_gtid", "master_uuid", "ancestry_uuid",
    "executed_gtid_set", "gtid_purged", "gtid_errant", "supports_oracle_gtid", "mariadb_gtid", "pseudo_gtid",
    "master_log_file", "read_master_log_pos", "relay_master_log_file", "exec_master_log_pos",
    "relay_log_file", "relay_log_pos", "last_sql_error", "last_io_error", "seconds_behind_master",
    "slave_lag_seconds", "sql_delay", "allow_tls", "num_slave_hosts", "slave_hosts", "cluster_name",
    "suggested_cluster_alias", "data_center", "region", "physical_environment", "instance_alias",
    "semi_sync_enforced", "semi_sync_available", "replication_depth", "is_co_master",
    "replication_credentials_available", "has_replication_credentials", "version_comment", "major_version",
    "binlog_row_image", "last_discovery_latency", "semi_sync_master_enabled", "semi_sync_master_timeout",
    "semi_sync_master_wait_for_slave_count", "semi_sync_master_status", "semi_sync_master_clients",
    "semi_sync_replica_status", "semi_sync_replica_enabled", "gtid_mode", "replication_group_name",
    "replication_group_is_single_primary_mode", "replication_group_member_state",
    "replication_group_member_role", "replication_group_members", "replication_group_primary_host",
    "replication_group_primary_port",
)  # fmt: skip


def _select(backend: Backend, where: str, order: str = "") -> str:
    d = backend.dialect
    poll = int(backend.config.get("InstancePollSeconds", 5))
    reasonable = int(backend.config.get("ReasonableInstanceCheckSeconds", 1))
    now = d.now()
    return f"""
        SELECT di.*,
          CASE WHEN di.last_seen IS NOT NULL AND di.last_checked <= di.last_seen THEN 1 ELSE 0 END
            AS is_last_check_valid,
          CASE WHEN di.last_seen IS NOT NULL AND di.last_checked <= di.last_seen
                AND di.last_attempted_check <= {d.add_seconds("di.last_seen", str(poll + reasonable))}
               THEN 1 ELSE 0 END AS is_analysis_valid,
          CASE WHEN di.last_checked >= {d.seconds_ago(str(5 * poll))} THEN 1 ELSE 0 END AS is_recently_checked,
          CASE WHEN di.last_checked >= {d.seconds_ago(str(poll))} THEN 1 ELSE 0 END AS is_up_to_date,
          COALESCE(NULLIF(cdi.promotion_rule, ''), 'neutral') AS promotion_rule,
          CASE WHEN cdi.promotion_rule IN ('must', 'prefer') THEN 1 ELSE 0 END AS is_candidate,
          COALESCE(hu.unresolved_hostname, '') AS unresolved_hostname,
          CASE WHEN dt.downtime_active IS NOT NULL AND (dt.end_timestamp IS NULL OR dt.end_timestamp > {now})
               THEN 1 ELSE 0 END AS is_downtimed,
          COALESCE(dt.reason, '') AS downtime_reason,
          COALESCE(dt.owner, '') AS downtime_owner,
          dt.end_timestamp AS downtime_end_timestamp
        FROM database_instance di
          LEFT JOIN candidate_database_instance cdi ON (cdi.hostname = di.hostname AND cdi.port = di.port)
          LEFT JOIN hostname_unresolve hu ON (hu.hostname = di.hostname)
          LEFT JOIN database_instance_downtime dt ON (dt.hostname = di.hostname AND dt.port = di.port)
        WHERE {where}
        {order}"""


def exists(backend: Backend, key: InstanceKey) -> bool:
    row = backend.query_one(
        "SELECT 1 AS found FROM database_instance WHERE hostname = ? AND port = ?", (key.hostname, key.port)
    )
    return row is not None


def fuzzy_matches(backend: Backend, key: InstanceKey) -> list[InstanceKey]:
    rows = backend.query(
        "SELECT hostname, port FROM database_instance WHERE hostname LIKE ? ESCAPE '!' AND port = ? ORDER BY hostname",
        (_like_literal(key.hostname), key.port),
    )
    return [InstanceKey(r["hostname"], int(r["port"])) for r in rows]


def known_by_resolve(backend: Backend, key: InstanceKey) -> InstanceKey | None:
    """The known instance `key`'s host name was resolved to by discovery (`hostname_resolve`: the name
    a server was probed by -> the name it calls itself, MySQLHostnameResolveMethod), or None."""
    row = backend.query_one(
        "SELECT di.hostname, di.port FROM hostname_resolve hr"
        " JOIN database_instance di ON (di.hostname = hr.resolved_hostname AND di.port = ?)"
        " WHERE hr.hostname = ?",
        (key.port, key.hostname),
    )
    return None if row is None else InstanceKey(str(row["hostname"]), int(row["port"]))


def read_instance(backend: Backend, key: InstanceKey) -> Row | None:
    return backend.query_one(_select(backend, "di.hostname = ? AND di.port = ?"), (key.hostname, key.port))


def read_snapshot(backend: Backend, key: InstanceKey) -> Instance | None:
    """The typed snapshot of one instance (None when it is unknown)."""
    from orchestrator_cli.backend.instance_rows import instance_from_row

    row = read_instance(backend, key)
    return None if row is None else instance_from_row(row)


def read_where(backend: Backend, where: str, params: Sequence[Any] = (), order: str = "") -> list[Row]:
    return backend.query(_select(backend, where, order), params)


# How the original lists instances (all-instances, find, search): depth, most replicas, cluster, host, port.
TOPOLOGY_ORDER = "ORDER BY di.replication_depth, di.num_slave_hosts DESC, di.cluster_name, di.hostname, di.port"


def _like_literal(text: str) -> str:
    """`%text%` for `LIKE ? ESCAPE '!'`: the text matches literally (host names often contain `_`)."""
    return "%" + text.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def all_instances(backend: Backend) -> list[Row]:
    return read_where(backend, "1 = 1", order=TOPOLOGY_ORDER)


# What continuous discovery's once-a-second scan reads: keys, freshness and what observers report.
SCAN_COLUMNS = (
    "hostname", "port", "master_host", "master_port", "slave_io_running", "last_io_error",
    "last_checked", "last_seen", "last_attempted_check",
    "is_last_check_valid", "is_recently_checked", "is_up_to_date",
)  # fmt: skip


def scan_rows(backend: Backend) -> list[Row]:
    """`all_instances` narrowed to `SCAN_COLUMNS`, without the candidate, unresolve and downtime joins:
    the scheduler reads this every second, and the whole row of a 1,000-instance fleet cost it ~56 ms
    of CPU per scan on MySQL (`bench/probe_cost.py`). Plus `seconds_since_check` (by the backend's
    clock; NULL when never checked): the scheduler probes the stalest instances first."""
    d = backend.dialect
    poll = int(backend.config.get("InstancePollSeconds", 5))
    return backend.query(
        f"""SELECT di.hostname, di.port, di.master_host, di.master_port, di.slave_io_running, di.last_io_error,
              di.last_checked, di.last_seen, di.last_attempted_check,
              CASE WHEN di.last_seen IS NOT NULL AND di.last_checked <= di.last_seen THEN 1 ELSE 0 END
                AS is_last_check_valid,
              CASE WHEN di.last_checked >= {d.seconds_ago(str(5 * poll))} THEN 1 ELSE 0 END AS is_recently_checked,
              CASE WHEN di.last_checked >= {d.seconds_ago(str(poll))} THEN 1 ELSE 0 END AS is_up_to_date,
              {d.unix_timestamp()} - {d.unix_timestamp("di.last_checked")} AS seconds_since_check
            FROM database_instance di {TOPOLOGY_ORDER}"""
    )


def check_ages(backend: Backend) -> list[tuple[str, int, int | None]]:
    """(hostname, port, seconds since the last check by the backend's clock, None when never checked)
    of every instance, unordered: the scan of a continuous-mode daemon that probes every instance
    itself (no shared discovery), once a second; three columns as tuples instead of `scan_rows`'
    thirteen as dicts (a quarter of the driver's work at 2,000 instances)."""
    d = backend.dialect
    rows = backend.query_values(
        f"SELECT hostname, port, {d.unix_timestamp()} - {d.unix_timestamp('last_checked')} FROM database_instance"
    )
    return [(str(h), int(p), None if age is None else int(age)) for h, p, age in rows]


def all_keys(backend: Backend) -> list[str]:
    """Every instance's "host:port", in the order `all_instances` lists them; reads two columns only."""
    rows = backend.query_values("SELECT di.hostname, di.port FROM database_instance di " + TOPOLOGY_ORDER)
    return [f"{hostname}:{port}" for hostname, port in rows]


def cluster_instances(backend: Backend, cluster_name: str) -> list[Row]:
    return read_where(backend, "di.cluster_name = ?", (cluster_name,), "ORDER BY di.hostname, di.port")


def replicas_of(backend: Backend, key: InstanceKey) -> list[Row]:
    return read_where(
        backend,
        "di.master_host = ? AND di.master_port = ?",
        (key.hostname, key.port),
        "ORDER BY di.hostname, di.port",
    )


_KEYS_PER_STATEMENT = 200


def neighbourhood(backend: Backend, keys: Sequence[InstanceKey]) -> list[tuple[InstanceKey, str, InstanceKey]]:
    """(key, cluster name, master key) of every instance in the clusters of `keys` (a cluster name
    of "" is no cluster) and of every instance whose master is one of `keys`, ordered by host name and
    port: what a crawl must also probe, in one keys-only statement instead of three full-row reads per
    key. A master key is ("", 0) when the row names none.

    Past `_KEYS_PER_STATEMENT` keys (SQLite refuses an expression tree deeper than 1,000, and each key
    deepens the OR chains) it takes a statement per chunk, and the rows come chunk by chunk.
    """
    out: list[tuple[InstanceKey, str, InstanceKey]] = []
    seen: set[InstanceKey] = set()
    for start in range(0, len(keys), _KEYS_PER_STATEMENT):
        chunk = keys[start : start + _KEYS_PER_STATEMENT]
        own = " OR ".join(["(o.hostname = ? AND o.port = ?)"] * len(chunk))
        replicas = " OR ".join(["(di.master_host = ? AND di.master_port = ?)"] * len(chunk))
        pairs = [v for k in chunk for v in (k.hostname, k.port)]
        rows = backend.query_values(
            f"""SELECT di.hostname, di.port, di.cluster_name, di.master_host, di.master_port
                FROM database_instance di
                WHERE di.cluster_name IN (SELECT o.cluster_name FROM database_instance o
                                          WHERE ({own}) AND o.cluster_name <> '')
                   OR {replicas}
                ORDER BY di.hostname, di.port""",
            pairs + pairs,
        )
        for hostname, port, cluster, master_host, master_port in rows:
            key = InstanceKey(str(hostname), int(port))
            if key not in seen:
                seen.add(key)
                out.append((key, str(cluster or ""), InstanceKey(str(master_host or ""), int(master_port or 0))))
    return out


def search(backend: Backend, text: str) -> list[Row]:
    """Substring of host, cluster, version, version comment, host:port or suggested alias; exact id or port."""
    text = text.strip()
    like = _like_literal(text)
    concat = "(di.hostname || ':' || di.port)" if backend.is_sqlite else "CONCAT(di.hostname, ':', di.port)"
    matches = " OR ".join(
        f"{column} LIKE ? ESCAPE '!'"
        for column in (
            "di.hostname", "di.cluster_name", "di.version", "di.version_comment", concat, "di.suggested_cluster_alias"
        )
    )  # fmt: skip
    return read_where(
        backend,
        f"{matches} OR CAST(di.server_id AS CHAR) = ? OR CAST(di.port AS CHAR) = ?",
        (like, like, like, like, like, like, text, text),
        TOPOLOGY_ORDER,
    )


def keys_of(rows: Sequence[Mapping[str, Any]]) -> list[InstanceKey]:
    from orchestrator_cli.backend.instance_rows import keys_of as mapped

    return mapped(rows)


def forget(backend: Backend, key: InstanceKey) -> int:
    return backend.execute("DELETE FROM database_instance WHERE hostname = ? AND port = ?", (key.hostname, key.port))


def write_instances(backend: Backend, rows: Sequence[Mapping[str, Any]]) -> None:
    """Upsert successful probes: checked, attempted and seen now."""
    if not rows:
        return
    d = backend.dialect
    columns: dict[str, str] = {c: "?" for c in PROBE_COLUMNS}
    columns.update(
        last_checked=d.now(), last_attempted_check=d.now(), last_seen=d.now(), last_check_partial_success="1"
    )
    sql = d.upsert("database_instance", columns, ["hostname", "port"])
    values = [[_value(r, c) for c in PROBE_COLUMNS] for r in rows]
    if len(values) == 1:  # a continuous-mode probe: one statement, no transaction around it
        backend.execute(sql, values[0])
    else:
        backend.execute_many(sql, values)


def _value(row: Mapping[str, Any], column: str) -> Any:
    value = row.get(column)
    if value is None:
        if column in ("seconds_behind_master", "slave_lag_seconds"):
            return None
        return "" if column in _TEXT_COLUMNS else 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | dict):
        import json  # off the start-up of commands that only read

        return json.dumps(value, separators=(",", ":"))
    return value


# Columns whose missing value is written as "" (the rest get 0). Named by suffix; the two integer columns
# whose names end like text ones are excluded (MySQL in strict mode refuses "" for an integer).
_TEXT_COLUMNS = frozenset(
    c
    for c in PROBE_COLUMNS
    if c not in ("num_slave_hosts", "replication_group_is_single_primary_mode")
    and c.endswith(
        (
            "host",
            "uuid",
            "_set",
            "purged",
            "errant",
            "file",
            "error",
            "hosts",
            "name",
            "alias",
            "center",
            "region",
            "environment",
            "version",
            "format",
            "comment",
            "image",
            "mode",
            "state",
            "role",
            "members",
        )
    )
)


def record_failed_check(backend: Backend, key: InstanceKey, partial: bool, *, timed_out: bool = False) -> None:
    """A probe that failed: checked now but not seen, so the last check becomes invalid.

    Timestamps have one-second resolution: a failure in the same second as the last success would
    still look valid, so `last_seen` is then moved one second back. A probe that timed out (the
    server did not answer) also moves `last_attempted_check` to now, as a probe still waiting
    does: `keys_unanswered` then tells the other daemons of a shared backend that it hangs. Any
    other failure keeps `last_attempted_check` before `last_checked` (moved back a second, like
    `last_seen`, when it is this second's): the server answered.
    """
    d = backend.dialect
    attempted = (
        f"CASE WHEN ? = 1 THEN {d.now()} WHEN last_attempted_check >= {d.now()} THEN {d.seconds_ago('1')}"
        " ELSE last_attempted_check END"
    )
    backend.execute(
        f"""UPDATE database_instance
            SET last_seen = CASE WHEN last_seen >= {d.now()} THEN {d.seconds_ago("1")} ELSE last_seen END,
                last_checked = {d.now()}, last_check_partial_success = ?, last_attempted_check = {attempted}
            WHERE hostname = ? AND port = ?""",
        (int(partial), int(timed_out), key.hostname, key.port),
    )


def record_attempt(backend: Backend, key: InstanceKey) -> None:
    d = backend.dialect
    backend.execute(
        f"UPDATE database_instance SET last_attempted_check = {d.now()} WHERE hostname = ? AND port = ?",
        (key.hostname, key.port),
    )


def update_cluster_fields(backend: Backend, key: InstanceKey, fields: Mapping[str, Any]) -> None:
    sets = ", ".join(f"{c} = ?" for c in fields)
    backend.execute(
        f"UPDATE database_instance SET {sets} WHERE hostname = ? AND port = ?",
        (*[_value(fields, c) for c in fields], key.hostname, key.port),
    )


def cluster_master(backend: Backend, cluster_name: str) -> Row | None:
    """The cluster's master: a writeable co-master first, but a single master even when read-only."""
    rows = read_where(
        backend,
        "di.cluster_name = ? AND (di.replication_depth = 0 OR di.is_co_master = 1)",
        (cluster_name,),
        "ORDER BY di.read_only, di.replication_depth, di.hostname, di.port",
    )
    return rows[0] if rows else None


def keys_due(rows: Sequence[Mapping[str, Any]]) -> list[InstanceKey]:
    """The keys of `rows` (as `all_instances` reads them) that are not up to date: due for a probe."""
    from orchestrator_cli.backend.instance_rows import key_of
    from orchestrator_cli.model.coerce import to_int

    return [key_of(r) for r in rows if not to_int(r.get("is_up_to_date"))]


def keys_unanswered(rows: Sequence[Mapping[str, Any]]) -> list[InstanceKey]:
    """The keys of `rows` whose latest probe got no answer: it timed out, or it is still waiting past
    InstancePollSeconds + ReasonableInstanceCheckSeconds (`last_attempted_check` moved forward
    after the last time the server was seen, and not before the last check). A probe that failed
    with an answer (a refused login) leaves `last_attempted_check` behind `last_checked`."""
    from orchestrator_cli.backend.instance_rows import key_of

    out = []
    for r in rows:
        attempted, checked, seen = r.get("last_attempted_check"), r.get("last_checked"), r.get("last_seen")
        if attempted is None or checked is None or attempted < checked:
            continue
        if seen is None or attempted > seen:
            out.append(key_of(r))
    return out


def masters(backend: Backend) -> list[Row]:
    """One writeable master per cluster (the shallowest one)."""
    rows = read_where(
        backend,
        "di.read_only = 0 AND (di.replication_depth = 0 OR di.is_co_master = 1)",
        order="ORDER BY di.cluster_name, di.replication_depth, di.hostname, di.port",
    )
    seen: set[str] = set()
    out = []
    for r in rows:
        if r["cluster_name"] not in seen:
            seen.add(r["cluster_name"])
            out.append(r)
    return out


def downtimed(backend: Backend, cluster_name: str | None = None) -> list[Row]:
    d = backend.dialect
    where = f"dt.downtime_active = 1 AND dt.end_timestamp > {d.now()}"
    params: tuple[Any, ...] = ()
    if cluster_name:
        where += " AND di.cluster_name = ?"
        params = (cluster_name,)
    return read_where(backend, where, params, "ORDER BY di.hostname, di.port")


def lost_in_recovery(backend: Backend) -> list[Row]:
    d = backend.dialect
    return read_where(
        backend,
        f"dt.downtime_active = 1 AND dt.end_timestamp > {d.now()} AND dt.reason = 'lost-in-recovery'",
        order="ORDER BY di.hostname, di.port",
    )


def parse_hosts_list(text: str | None) -> list[InstanceKey]:
    """`slave_hosts` JSON; tolerate the backslash-escaped form SQLite fixtures store, and garbage."""
    if not text:
        return []
    import json

    for candidate in (text, text.replace('\\"', '"')):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, list):
            return [InstanceKey(str(h.get("Hostname", "")), int(h.get("Port", 0))) for h in data if isinstance(h, dict)]
    return []


def known_cluster_of(backend: Backend, key: InstanceKey) -> str | None:
    """The instance's cluster name, or None when the instance is unknown."""
    row = backend.query_one(
        "SELECT cluster_name FROM database_instance WHERE hostname = ? AND port = ?", (key.hostname, key.port)
    )
    return None if row is None else str(row["cluster_name"] or "")


def cluster_of(backend: Backend, key: InstanceKey) -> str:
    """The instance's cluster name, or "" when the instance is unknown (for audit rows)."""
    return known_cluster_of(backend, key) or ""


def insert_unseen(backend: Backend, key: InstanceKey) -> None:
    """A minimal row for a server referenced but never reached: checked now, never seen, so invalid."""
    d = backend.dialect
    columns: dict[str, str] = {c: "?" for c in PROBE_COLUMNS}
    columns.update(last_checked=d.now(), last_attempted_check=d.now(), last_check_partial_success="0")
    row = {
        "hostname": key.hostname,
        "port": key.port,
        "version": "Unknown",
        "cluster_name": str(key),
        "slave_hosts": "[]",
        "replication_group_members": "[]",
        "replication_sql_thread_state": -1,
        "replication_io_thread_state": -1,
        "replication_group_is_single_primary_mode": 1,
    }
    backend.execute(d.insert_ignore("database_instance", columns), [_value(row, c) for c in PROBE_COLUMNS])


def read_instances(backend: Backend, keys: Sequence[InstanceKey]) -> list[Row]:
    """The rows of `keys` (those the backend knows), in one statement of a fixed depth whatever their
    number (`Dialect.in_values`): a page of keys read one by one costs a round trip per key."""
    if not keys:
        return []
    where, params = backend.dialect.in_values(("di.hostname", "di.port"), [(k.hostname, k.port) for k in keys])
    return read_where(backend, where, params)
