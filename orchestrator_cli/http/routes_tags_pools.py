"""Tags, pools and key-value publication, through the CLI's `tag*`, `*pool*` and
`submit-masters-to-kv-stores` commands."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from orchestrator_cli.errors import NotFoundError
from orchestrator_cli.http import shapes
from orchestrator_cli.http.clusters import cluster_name
from orchestrator_cli.http.invoke import Service, instance_text, keys_of_output, rows_for_keys, run, service_of
from orchestrator_cli.http.routing import add, data, ok

router = APIRouter()
SVC = Depends(service_of)
HP = "{hostname}/{port}"


def _keys(texts: list[str]) -> list[dict[str, object]]:
    return [shapes.key_text_json(t) for t in texts]


def tags(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    return data(list(run(svc, "tags", instance=instance_text(hostname, port)).lines))


def tag_value(hostname: str, port: str, tag: str = "", svc: Service = SVC) -> JSONResponse:
    text = instance_text(hostname, port)
    out = run(svc, "tag-value", instance=text, tag=tag)
    if not out.lines:
        raise NotFoundError(f"tag {tag} not found on {text}")
    return data(out.lines[0])


def tagged(tag: str = "", svc: Service = SVC) -> JSONResponse:
    return data(_keys(run(svc, "tagged", tag=tag).lines))


def tag_route(hostname: str, port: str, tag: str = "", svc: Service = SVC) -> JSONResponse:
    out = run(svc, "tag", instance=instance_text(hostname, port), tag=tag)
    return ok(f"{instance_text(hostname, port)} tagged with {tag}", shapes.key_text_json(out.lines[0]))


def untag(hostname: str, port: str, tag: str = "", svc: Service = SVC) -> JSONResponse:
    out = run(svc, "untag", instance=instance_text(hostname, port), tag=tag)
    return ok(f"{tag} removed from {len(out.lines)} instances", _keys(out.lines))


def untag_all(tag: str = "", svc: Service = SVC) -> JSONResponse:
    out = run(svc, "untag-all", tag=tag)
    return ok(f"{tag} removed from {len(out.lines)} instances", _keys(out.lines))


def submit_pool_instances(pool: str, instances: str = "", svc: Service = SVC) -> JSONResponse:
    out = run(svc, "submit-pool-instances", pool=pool, instance=instances)
    submitted = (out.data or {}).get("Instances", [])
    return ok(f"Applied {pool} pool instances", ",".join(submitted))


def cluster_pool_instances(clusterName: str, pool: str = "", svc: Service = SVC) -> JSONResponse:  # noqa: N803
    out = run(svc, "cluster-pool-instances", alias=cluster_name(svc, clusterName), pool=pool)
    return data(out.data if out.data is not None else list(out.lines))


def cluster_pool_instances_of(clusterName: str, pool: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return cluster_pool_instances(clusterName, pool, svc)


def heuristic_cluster_pool_instances(clusterName: str, pool: str = "", svc: Service = SVC) -> JSONResponse:  # noqa: N803
    out = run(svc, "which-heuristic-cluster-pool-instances", alias=cluster_name(svc, clusterName), pool=pool)
    rows = rows_for_keys(svc, keys_of_output(out))
    return ok("Heuristic cluster pool instances", shapes.instances_json(rows, svc.reasonable_lag))


def heuristic_cluster_pool_instances_of(clusterName: str, pool: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return heuristic_cluster_pool_instances(clusterName, pool, svc)


def submit_masters_to_kv_stores(svc: Service = SVC) -> JSONResponse:
    return submit_masters_of_cluster("", svc)


def submit_masters_of_cluster(clusterHint: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    alias = cluster_name(svc, clusterHint) if clusterHint else ""
    out = run(svc, "submit-masters-to-kv-stores", alias=alias)
    pairs = [{"Key": k, "Value": v} for k, v in (out.data or {}).items()]
    return ok(f"Submitted {len(pairs)} masters", pairs)


add(router, f"/tags/{HP}", tags, summary="Tags of an instance (name=value)")
add(router, f"/tag-value/{HP}", tag_value, summary="Value of ?tag= on an instance")
add(router, "/tagged", tagged, summary="Keys of instances matching ?tag=")
add(router, f"/tag/{HP}", tag_route, changes=True, summary="Tag an instance with ?tag=name[=value]")
add(router, f"/untag/{HP}", untag, changes=True, summary="Remove ?tag= from an instance")
add(router, "/untag-all", untag_all, changes=True, summary="Remove ?tag=name=value from every instance")
add(router, "/submit-pool-instances/{pool}", submit_pool_instances, changes=True, summary="?instances=a,b")
add(router, "/cluster-pool-instances/{clusterName}", cluster_pool_instances, summary="Pooled instances")
add(router, "/cluster-pool-instances/{clusterName}/{pool}", cluster_pool_instances_of, summary="One pool's")
add(router, "/heuristic-cluster-pool-instances/{clusterName}", heuristic_cluster_pool_instances, summary="Healthy")
add(router, "/heuristic-cluster-pool-instances/{clusterName}/{pool}", heuristic_cluster_pool_instances_of)
add(router, "/submit-masters-to-kv-stores", submit_masters_to_kv_stores, changes=True, summary="All masters to KV")
add(router, "/submit-masters-to-kv-stores/{clusterHint}", submit_masters_of_cluster, changes=True)
