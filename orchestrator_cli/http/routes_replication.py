"""Replication on one server: stop/start/reset, detach, skip-query, GTID and semi-sync switches,
read-only, binary logs. Each runs the CLI command of the same meaning and answers the instance as
the backend knows it afterwards; the client prints its key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from orchestrator_cli.commands.context import Context
from orchestrator_cli.errors import UsageError
from orchestrator_cli.http import shapes
from orchestrator_cli.http.changes import answer_instance, on_instance
from orchestrator_cli.http.invoke import Service, instance_text, parse_key, run, service_of, with_context
from orchestrator_cli.http.routing import add, instance_details, ok

router = APIRouter()
SVC = Depends(service_of)
HP = "{hostname}/{port}"

# path name -> CLI command
_ON_INSTANCE = {
    "stop-replica": "stop-replica",
    "start-replica": "start-replica",
    "restart-replica": "restart-replica",
    "reset-replica": "reset-replica",
    "detach-replica": "detach-replica-master-host",
    "reattach-replica": "reattach-replica-master-host",
    "detach-replica-master-host": "detach-replica-master-host",
    "reattach-replica-master-host": "reattach-replica-master-host",
    "skip-query": "skip-query",
    "enable-gtid": "enable-gtid",
    "disable-gtid": "disable-gtid",
    "gtid-errant-reset-master": "gtid-errant-reset-master",
    "enable-semi-sync-master": "enable-semi-sync-master",
    "disable-semi-sync-master": "disable-semi-sync-master",
    "enable-semi-sync-replica": "enable-semi-sync-replica",
    "disable-semi-sync-replica": "disable-semi-sync-replica",
    "set-read-only": "set-read-only",
    "set-writeable": "set-writeable",
    "flush-binary-logs": "flush-binary-logs",
}


def purge_binary_logs(hostname: str, port: str, logFile: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return answer_instance(svc, "purge-binary-logs", instance_text(hostname, port), binlog=logFile)


def restart_replica_statements(hostname: str, port: str, q: str = "", svc: Service = SVC) -> JSONResponse:
    out = run(svc, "restart-replica-statements", instance=instance_text(hostname, port), statement=q)
    return ok("statements", list(out.data or []))


def locate_gtid_errant(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    out = run(svc, "locate-gtid-errant", instance=instance_text(hostname, port))
    return ok("binary logs with errant GTIDs", list(out.data or []))


def last_pseudo_gtid(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    out = run(svc, "last-pseudo-gtid", instance=instance_text(hostname, port))
    return ok("last Pseudo-GTID", out.data if out.data is not None else "\n".join(out.lines))


def can_replicate_from(hostname: str, port: str, belowHost: str, belowPort: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803, E501
    destination = parse_key(svc, belowHost, belowPort, "destination")
    out = run(
        svc,
        "can-replicate-from",
        instance=instance_text(hostname, port),
        destination=instance_text(belowHost, belowPort),
    )
    # The client greps the Message for "true", so it is exactly "true" or "false", as the original's.
    return ok("true" if (out.data or {}).get("CanReplicate") else "false", shapes.key_json(destination))


# -- client-only operations (orchestrator-client has them, the CLI does not): the domain functions directly


def _on_live(svc: Service, name: str, hostname: str, port: str, action: Any) -> JSONResponse:
    """Run `action(env, key)` under a request Context (locks, audit, backend refresh as for CLI commands)."""

    def run_it(ctx: Context) -> JSONResponse:
        key = ctx.instance_key()
        result = action(ctx.topology_env(), key)
        ctx.register_process()
        return instance_details(svc, key, f"{name}: {key}" + (f": {result}" if isinstance(result, str) else ""))

    return with_context(svc, name, run_it, instance=instance_text(hostname, port))


def stop_replica_nice(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    from orchestrator_cli.topology import replication

    timeout = float(svc.config.get("ReasonableMaintenanceReplicationLagSeconds", 20))
    return _on_live(
        svc, "stop-replica-nice", hostname, port, lambda env, key: replication.stop_replica_nice(env, key, timeout)
    )


def delay_replication(hostname: str, port: str, seconds: str, svc: Service = SVC) -> JSONResponse:
    from orchestrator_cli.topology import replication

    if not seconds.isdigit():
        raise UsageError(f"invalid delay {seconds!r}: expected a non-negative number of seconds")
    return _on_live(
        svc, "delay-replication", hostname, port, lambda env, key: replication.delay_replication(env, key, int(seconds))
    )


def gtid_errant_inject_empty(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    """Empty transactions on the cluster's master for the instance's errant GTIDs (Oracle GTID only);
    Details are the instance, whose key the client prints."""
    from orchestrator_cli.topology import replication

    def inject(env: Any, key: Any) -> str:
        master, count = replication.gtid_errant_inject_empty(env, key)
        return f"Have injected {count} transactions on cluster master {master}"

    return _on_live(svc, "gtid-errant-inject-empty", hostname, port, inject)


def can_replicate_from_gtid(
    hostname: str, port: str, belowHost: str, belowPort: str, svc: Service = SVC
) -> JSONResponse:  # noqa: N803, E501
    """As can-replicate-from, and both servers must replicate by GTID (Oracle or MariaDB)."""
    from orchestrator_cli.backend import instances

    verdict = can_replicate_from(hostname, port, belowHost, belowPort, svc)
    if b'"true"' not in bytes(verdict.body):
        return verdict
    replica = instances.read_snapshot(svc.backend, parse_key(svc, hostname, port))
    source = instances.read_snapshot(svc.backend, parse_key(svc, belowHost, belowPort, "destination"))
    by_gtid = (
        replica is not None
        and source is not None
        and replica.uses_gtid  # the replica replicates by GTID now ...
        and (source.supports_oracle_gtid or "mariadb" in source.version.lower())  # ... and the source can serve it
    )
    return ok("true" if by_gtid else "false", shapes.key_json(parse_key(svc, belowHost, belowPort, "destination")))


for _path, _command in _ON_INSTANCE.items():
    add(router, f"/{_path}/{HP}", on_instance(_command), changes=True, summary=f"CLI {_command}")
add(router, f"/purge-binary-logs/{HP}/{{logFile}}", purge_binary_logs, changes=True, summary="Purge binary logs")
add(router, f"/restart-replica-statements/{HP}", restart_replica_statements, summary="Statements to apply ?q=")
add(router, f"/locate-gtid-errant/{HP}", locate_gtid_errant, summary="Binary logs holding errant GTIDs")
add(router, f"/last-pseudo-gtid/{HP}", last_pseudo_gtid, summary="Last Pseudo-GTID entry")
add(router, f"/can-replicate-from/{HP}/{{belowHost}}/{{belowPort}}", can_replicate_from, summary="Message true/false")
add(
    router, f"/can-replicate-from-gtid/{HP}/{{belowHost}}/{{belowPort}}", can_replicate_from_gtid, summary="... by GTID"
)
add(router, f"/stop-replica-nice/{HP}", stop_replica_nice, changes=True, summary="Stop once relay logs are applied")
add(router, f"/delay-replication/{HP}/{{seconds}}", delay_replication, changes=True, summary="MASTER_DELAY")
add(
    router,
    f"/gtid-errant-inject-empty/{HP}",
    gtid_errant_inject_empty,
    changes=True,
    summary="Inject empty transactions for errant GTIDs on the cluster master (Oracle GTID)",
)
