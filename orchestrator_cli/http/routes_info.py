"""Reads of instances and clusters: `instance`, `cluster`, `clusters-info`, `masters`, `search`...

Instance lists answer raw arrays of Instance objects, as the original's data routes do. Which
instances a list holds is decided by the CLI command of the same meaning (e.g. `which-replicas` for
`instance-replicas`); the route then reads those instances' rows to shape them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from orchestrator_cli.http import shapes
from orchestrator_cli.http.clusters import cluster_info, cluster_name, clusters_info
from orchestrator_cli.http.invoke import (
    Service,
    instance_row,
    key_text,
    keys_of_output,
    parse_key,
    rows_for_keys,
    run,
    service_of,
)
from orchestrator_cli.http.routing import add, data, ok

router = APIRouter()
SVC = Depends(service_of)


def _instances(svc: Service, rows: list[dict[str, object]]) -> JSONResponse:
    return data(shapes.instances_json(rows, svc.reasonable_lag))


def _listed(svc: Service, command: str, **options: str) -> JSONResponse:
    """The instances a key-listing CLI command lists, as Instance objects, in its order."""
    return _instances(svc, rows_for_keys(svc, keys_of_output(run(svc, command, **options))))


def instance(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    key = parse_key(svc, hostname, port)
    return data(shapes.instance_json(instance_row(svc, key), svc.reasonable_lag))


def instance_replicas(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    key = parse_key(svc, hostname, port)
    instance_row(svc, key)
    return _listed(svc, "which-replicas", instance=key_text(key))


def cluster(clusterHint: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803  (the original's name)
    from orchestrator_cli.backend import instances

    name = cluster_name(svc, clusterHint)
    return _instances(svc, instances.cluster_instances(svc.backend, name))


def cluster_by_instance(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    return cluster(f"{hostname}:{port}", svc)


def cluster_info_route(clusterHint: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return data(cluster_info(svc, cluster_name(svc, clusterHint)))


def cluster_info_by_instance(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    return cluster_info_route(f"{hostname}:{port}", svc)


def clusters(svc: Service = SVC) -> JSONResponse:
    out = run(svc, "clusters")
    return data(list(out.lines))


def clusters_info_route(svc: Service = SVC) -> JSONResponse:
    return data(clusters_info(svc))


def masters(svc: Service = SVC) -> JSONResponse:
    return _listed(svc, "all-clusters-masters")


def master(clusterHint: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    out = run(svc, "which-cluster-master", alias=cluster_name(svc, clusterHint))
    rows = rows_for_keys(svc, keys_of_output(out))
    return data(shapes.instance_json(rows[0], svc.reasonable_lag))


def all_instances(svc: Service = SVC) -> JSONResponse:
    from orchestrator_cli.backend import instances

    return _instances(svc, instances.all_instances(svc.backend))


def downtimed(svc: Service = SVC) -> JSONResponse:
    return _listed(svc, "which-downtimed-instances")


def downtimed_cluster(clusterHint: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return _listed(svc, "which-downtimed-instances", alias=cluster_name(svc, clusterHint))


def search(s: str = "", svc: Service = SVC) -> JSONResponse:
    return _listed(svc, "search", instance=s)


def search_path(searchString: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return search(searchString, svc)


def cluster_osc_replicas(clusterHint: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return _listed(svc, "which-cluster-osc-replicas", alias=cluster_name(svc, clusterHint))


def problems(svc: Service = SVC) -> JSONResponse:
    return problems_cluster("", svc)


def problems_cluster(clusterName: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    """Instances with a problem (invalid or stale check, not replicating, lag, errant GTID), not downtimed."""
    from orchestrator_cli.backend import instances

    rows = instances.all_instances(svc.backend)
    if clusterName:
        name = cluster_name(svc, clusterName)
        rows = [r for r in rows if r.get("cluster_name") == name]
    shaped = shapes.instances_json(rows, svc.reasonable_lag)
    return data([i for i in shaped if i["Problems"] and not i["IsDowntimed"]])


def bulk_instances(svc: Service = SVC) -> JSONResponse:
    out = run(svc, "bulk-instances")
    return data([shapes.key_text_json(k) for k in out.lines])


def bulk_promotion_rules(svc: Service = SVC) -> JSONResponse:
    out = run(svc, "bulk-promotion-rules")
    rows = out.data or []
    return data(
        [{"Key": shapes.key_json_of(r["hostname"], r["port"]), "PromotionRule": r["promotion_rule"]} for r in rows]
    )


def _topology(command: str, hint: str, svc: Service) -> JSONResponse:
    name = cluster_name(svc, hint)
    out = run(svc, command, alias=name)
    return ok(f"Topology for {name}", "\n".join(out.lines))


def topology(clusterHint: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return _topology("topology", clusterHint, svc)


def topology_tabulated(clusterHint: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return _topology("topology-tabulated", clusterHint, svc)


def topology_tags(clusterHint: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
    return _topology("topology-tags", clusterHint, svc)


def topology_by_instance(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    return topology(f"{hostname}:{port}", svc)


def topology_tabulated_by_instance(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    return topology_tabulated(f"{hostname}:{port}", svc)


def topology_tags_by_instance(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
    return topology_tags(f"{hostname}:{port}", svc)


HP = "{hostname}/{port}"
add(router, f"/instance/{HP}", instance, summary="One instance as the backend knows it")
add(router, f"/instance-replicas/{HP}", instance_replicas, summary="Direct replicas of an instance")
add(router, "/cluster/{clusterHint}", cluster, summary="Instances of a cluster (name, alias or member key)")
add(router, "/cluster/alias/{clusterHint}", cluster, summary="Instances of a cluster, by alias")
add(router, f"/cluster/instance/{HP}", cluster_by_instance, summary="Instances of an instance's cluster")
add(router, "/cluster-info/{clusterHint}", cluster_info_route, summary="ClusterInfo of one cluster")
add(router, "/cluster-info/alias/{clusterHint}", cluster_info_route, summary="ClusterInfo by alias")
add(router, f"/cluster-info/instance/{HP}", cluster_info_by_instance, summary="ClusterInfo of an instance's cluster")
add(router, "/clusters", clusters, summary="Names of all clusters")
add(router, "/clusters-info", clusters_info_route, summary="ClusterInfo of every cluster")
add(router, "/masters", masters, summary="The writeable master of each cluster")
add(router, "/master/{clusterHint}", master, summary="The master of a cluster")
add(router, "/all-instances", all_instances, summary="Every known instance")
add(router, "/downtimed", downtimed, summary="Downtimed instances")
add(router, "/downtimed/{clusterHint}", downtimed_cluster, summary="Downtimed instances of a cluster")
add(router, "/search", search, summary="Instances whose key matches ?s=")
add(router, "/search/{searchString}", search_path, summary="Instances whose key matches the string")
add(router, "/cluster-osc-replicas/{clusterHint}", cluster_osc_replicas, summary="pt-osc control replicas")
add(router, "/problems", problems, summary="Instances with problems")
add(router, "/problems/{clusterName}", problems_cluster, summary="Instances with problems in one cluster")
add(router, "/bulk-instances", bulk_instances, summary="Keys of every instance, sorted")
add(router, "/bulk-promotion-rules", bulk_promotion_rules, summary="Registered promotion rules")
add(router, "/topology/{clusterHint}", topology, summary="ASCII topology (Details)")
add(router, "/topology-tabulated/{clusterHint}", topology_tabulated, summary="Tabulated topology (Details)")
add(router, "/topology-tags/{clusterHint}", topology_tags, summary="Topology with tags (Details)")
add(router, f"/topology/{HP}", topology_by_instance, summary="ASCII topology of an instance's cluster")
add(router, f"/topology-tabulated/{HP}", topology_tabulated_by_instance, summary="Tabulated topology by instance")
add(router, f"/topology-tags/{HP}", topology_tags_by_instance, summary="Topology with tags by instance")
