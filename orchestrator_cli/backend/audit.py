"""The audit trail: every change to a topology server or to the backend leaves a row (and a log line)."""

from __future__ import annotations

import time

from orchestrator_cli import logs
from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.model.keys import InstanceKey

log = logs.getLogger("orchestrator.audit")


def audit(backend: Backend, audit_type: str, key: InstanceKey | None, message: str, cluster_name: str = "") -> None:
    host, port = (key.hostname, key.port) if key else ("", 0)
    log.info("auditType:%s instance:%s:%s cluster:%s message:%s", audit_type, host, port, cluster_name, message)
    logfile = backend.config.get("AuditLogFile")
    if logfile:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        try:
            with open(logfile, "a", encoding="utf-8") as fh:
                fh.write(f"{stamp}\t{audit_type}\t{host}\t{port}\t[{cluster_name}]\t{message}\n")
        except OSError as e:
            # The change is made: a log file this user cannot write (a cron job's account, a missing
            # directory) must not turn it into a failure, nor keep the row from the audit table.
            log.error("cannot write AuditLogFile %s: %s", logfile, e.strerror or e)
    if backend.config.get("AuditToBackendDB", True):
        d = backend.dialect
        backend.execute(
            "INSERT INTO audit (audit_timestamp, audit_type, hostname, port, cluster_name, message)"
            f" VALUES ({d.now()}, ?, ?, ?, ?, ?)",
            (audit_type, host, port, cluster_name, message),
        )


def read_audit(backend: Backend, key: InstanceKey | None = None, limit: int = 100, offset: int = 0) -> list[Row]:
    """Newest first; `offset` pages through older rows (the API's `audit/:page`)."""
    where, params = ("", ()) if key is None else ("WHERE hostname = ? AND port = ?", (key.hostname, key.port))
    return backend.query(
        f"SELECT audit_id, audit_timestamp, audit_type, hostname, port, cluster_name, message FROM audit {where}"
        f" ORDER BY audit_id DESC LIMIT {int(limit)} OFFSET {max(0, int(offset))}",
        params,
    )
