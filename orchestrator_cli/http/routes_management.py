"""Instance management: discover, forget, downtime, maintenance, promotion rules, unresolve names.

These are what crontab lines on every MySQL host call (`discover`, `register-candidate`,
`begin-downtime`); each runs the CLI command of the same name, so the backend rows and audit rows are
the CLI's. `discover` answers the discovered instance; the others answer its key.
"""

from __future__ import annotations

import logging
import threading

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from orchestrator_cli.errors import NotFoundError, UsageError
from orchestrator_cli.http import shapes
from orchestrator_cli.http.changes import answer_instance, answer_key, on_instance
from orchestrator_cli.http.clusters import cluster_name
from orchestrator_cli.http.invoke import Service, instance_text, key_text, parse_key, run, service_of
from orchestrator_cli.http.routing import add, data, ok

log = logging.getLogger("orchestrator.http")
router = APIRouter()
SVC = Depends(service_of)
HP = "{hostname}/{port}"
MAX_ALIAS_LENGTH = 128  # cluster_alias_override.alias is varchar(128)


def discover(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    return answer_instance(svc, "discover", instance_text(hostname, port))


def async_discover(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    """Start `discover` in the background (bulk loads of servers): the key is checked now, the crawl
    runs on and is audited as the synchronous one is."""
    key = parse_key(svc, hostname, port)

    def crawl() -> None:
        try:
            run(svc, "discover", instance=key_text(key))
        except Exception as e:  # nobody waits for the answer: the log is where a failure shows
            log.warning("async-discover %s: %s", key, e)

    threading.Thread(target=crawl, name=f"async-discover {key}", daemon=True).start()
    return ok("Asynchronous discovery initiated", shapes.key_json(key))


def forget(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    return answer_key(svc, "forget", instance_text(hostname, port))


def forget_cluster(clusterHint: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    """Every instance of the cluster, each through the CLI's `forget` (one audit row per instance)."""
    from orchestrator_cli.backend import instances

    name = cluster_name(svc, clusterHint)
    keys = instances.keys_of(instances.cluster_instances(svc.backend, name))
    for key in keys:
        run(svc, "forget", instance=key_text(key))
    return ok(f"Forgot cluster {name}: {len(keys)} instances", [shapes.key_json(k) for k in keys])


def begin_downtime(
    hostname: str, port: str, owner: str, reason: str, duration: str = "", svc: Service = SVC
) -> JSONResponse:  # noqa: E501
    text = instance_text(hostname, port)
    return answer_key(svc, "begin-downtime", text, owner=owner, reason=reason, duration=duration)


def begin_downtime_for(
    hostname: str, port: str, owner: str, reason: str, duration: str, svc: Service = SVC
) -> JSONResponse:  # noqa: E501
    return begin_downtime(hostname, port, owner, reason, duration, svc)


def begin_maintenance(hostname: str, port: str, owner: str, reason: str, svc: Service = SVC) -> JSONResponse:
    return answer_key(svc, "begin-maintenance", instance_text(hostname, port), owner=owner, reason=reason)


def end_maintenance_by_key(maintenanceKey: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    """End a lock by the token `begin-maintenance` took (`maintenance` lists them), whoever holds it."""
    from orchestrator_cli.backend import audit, instances
    from orchestrator_cli.backend import maintenance as store

    if not maintenanceKey.isdecimal():
        raise UsageError(f"invalid maintenance key {maintenanceKey!r}: expected the number `maintenance` lists")
    token = int(maintenanceKey)
    lock = store.active_by_id(svc.backend, token)
    if lock is None or not store.end_by_id(svc.backend, token):
        raise NotFoundError(f"no active maintenance with key {token}")
    cluster = instances.cluster_of(svc.backend, lock.key)
    audit.audit(svc.backend, "end-maintenance", lock.key, f"maintenanceToken: {token}", cluster)
    return ok(f"Maintenance ended: {token}", shapes.key_json(lock.key))


def set_cluster_alias(clusterName: str, alias: str = "", svc: Service = SVC) -> JSONResponse:  # noqa: N803
    """The operator's alias for a cluster (`cluster_alias_override`): it wins over every detected alias,
    at once. An alias another cluster already answers to is refused; an empty one removes the override."""
    from orchestrator_cli.backend import audit, clusters

    name = cluster_name(svc, clusterName)
    if not alias:
        clusters.clear_alias_override(svc.backend, name)
        audit.audit(svc.backend, "set-cluster-alias", None, "alias override removed", name)
        return ok(f"Cluster {name} alias override removed")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise UsageError(f"alias is longer than {MAX_ALIAS_LENGTH} characters")
    holder = clusters.alias_holder(svc.backend, alias, name)
    if holder is not None:
        raise UsageError(f"alias {alias!r} already names cluster {holder}")
    clusters.set_alias_override(svc.backend, name, alias)
    audit.audit(svc.backend, "set-cluster-alias", None, f"alias: {alias}", name)
    return ok(f"Cluster {name} now has alias '{alias}'")


def in_maintenance(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    out = run(svc, "in-maintenance", instance=instance_text(hostname, port))
    return ok("in maintenance" if out.data else "not in maintenance", bool(out.data))


def maintenance(svc: Service = SVC) -> JSONResponse:
    from orchestrator_cli.backend import maintenance as store

    return data(
        [
            {
                "MaintenanceId": lock.maintenance_id,
                "Key": shapes.key_json(lock.key),
                "Owner": lock.owner,
                "Reason": lock.reason,
                "EndTimestamp": lock.until,
                "ProcessingNodeHostname": lock.node[0],
                "ProcessingNodeToken": lock.node[1],
                "ExplicitlyBounded": lock.explicit,
            }
            for lock in store.active_all(svc.backend)
        ]
    )


def register_candidate(hostname: str, port: str, promotionRule: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    from orchestrator_cli.model.promotion import parse_promotion_rule

    try:  # the CLI validates the rule before dispatch; so does this route
        rule = parse_promotion_rule(promotionRule)
    except ValueError as e:
        raise UsageError(str(e)) from e
    return answer_key(svc, "register-candidate", instance_text(hostname, port), promotion_rule=rule)


def register_hostname_unresolve(hostname: str, port: str, virtualname: str, svc: Service = SVC) -> JSONResponse:
    return answer_key(svc, "register-hostname-unresolve", instance_text(hostname, port), hostname=virtualname)


add(router, f"/discover/{HP}", discover, changes=True, summary="Probe an instance and crawl its topology")
add(router, f"/async-discover/{HP}", async_discover, changes=True, summary="discover, in the background")
add(router, f"/forget/{HP}", forget, changes=True, summary="Remove an instance from the backend")
add(router, "/forget-cluster/{clusterHint}", forget_cluster, changes=True, summary="Forget every instance of a cluster")
add(router, f"/begin-downtime/{HP}/{{owner}}/{{reason}}", begin_downtime, changes=True, summary="Downtime (10m)")
add(router, f"/begin-downtime/{HP}/{{owner}}/{{reason}}/{{duration}}", begin_downtime_for, changes=True)
add(router, f"/end-downtime/{HP}", on_instance("end-downtime", answer_key), changes=True, summary="End downtime")
add(router, f"/begin-maintenance/{HP}/{{owner}}/{{reason}}", begin_maintenance, changes=True)
add(router, f"/end-maintenance/{HP}", on_instance("end-maintenance", answer_key), changes=True)
add(
    router,
    "/end-maintenance/{maintenanceKey}",
    end_maintenance_by_key,
    changes=True,
    summary="End a maintenance lock by its key (as `maintenance` lists it)",
)
add(
    router,
    "/set-cluster-alias/{clusterName}",
    set_cluster_alias,
    changes=True,
    summary="Set (`?alias=`) or remove (empty) a cluster's manual alias",
)
add(router, "/maintenance", maintenance, summary="Active maintenance locks")
add(router, f"/in-maintenance/{HP}", in_maintenance, summary="Whether an instance holds a maintenance lock")
add(router, f"/register-candidate/{HP}/{{promotionRule}}", register_candidate, changes=True)
add(router, f"/register-hostname-unresolve/{HP}/{{virtualname}}", register_hostname_unresolve, changes=True)
add(
    router,
    f"/deregister-hostname-unresolve/{HP}",
    on_instance("deregister-hostname-unresolve", answer_key),
    changes=True,
)
