"""Retention: what the continuous leader deletes once a minute so the backend stays small."""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend

MAINTENANCE_PURGE_DAYS = 7  # ended maintenance rows kept this long (the original's fixed constant)


def purge(backend: Backend) -> dict[str, int]:
    """Delete expired history; returns rows deleted per table (for the log)."""
    c = backend.config
    d = backend.dialect
    audit_seconds = int(c.get("AuditPurgeDays", 7)) * 86400
    forget_seconds = int(c.get("UnseenInstanceForgetHours", 240)) * 3600
    resolve_seconds = int(c.get("ExpiryHostnameResolvesMinutes", 60)) * 60
    pool_seconds = int(c.get("InstancePoolExpiryMinutes", 60)) * 60
    token_seconds = int(c.get("AccessTokenExpiryMinutes", 1440)) * 60
    ago = d.seconds_ago("?")
    statements: list[tuple[str, str, int]] = [
        ("audit", f"audit_timestamp < {ago}", audit_seconds),
        ("topology_recovery", f"start_active_period < {ago}", audit_seconds),
        ("topology_recovery_steps", f"audit_at < {ago}", audit_seconds),
        ("topology_failure_detection", f"start_active_period < {ago}", audit_seconds),
        ("database_instance_maintenance", f"maintenance_active IS NULL AND end_timestamp < {ago}",
         MAINTENANCE_PURGE_DAYS * 86400),
        ("database_instance",
         f"(last_seen < {ago} OR (last_seen IS NULL AND last_checked < {ago}))", forget_seconds),
        ("node_health_history", f"first_seen_active < {ago}", forget_seconds),
        ("hostname_resolve", f"resolved_timestamp < {ago}", 2 * resolve_seconds),
        ("hostname_unresolve", f"last_registered < {ago}", resolve_seconds),
        ("database_instance_pool", f"registered_at < {ago}", pool_seconds),
        ("access_token", f"is_reentrant = 0 AND generated_at < {ago}", token_seconds),
    ]  # fmt: skip
    deleted: dict[str, int] = {}
    for table, where, seconds in statements:
        params = (seconds, seconds) if table == "database_instance" else (seconds,)
        deleted[table] = backend.execute(f"DELETE FROM {table} WHERE {where}", params)
    return deleted
