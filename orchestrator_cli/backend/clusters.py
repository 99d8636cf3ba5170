"""Cluster names, aliases and domains as the backend knows them."""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend, Row

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from orchestrator_cli.backend.probe_context import Registered


def cluster_by_name_or_alias(backend: Backend, hint: str) -> str | None:
    """Exact cluster name first, then an exact alias (override, registered, or suggested by members)."""
    row = backend.query_one("SELECT cluster_name FROM database_instance WHERE cluster_name = ? LIMIT 1", (hint,))
    if row:
        return str(row["cluster_name"])
    now = backend.dialect.now()
    for sql in (
        "SELECT cluster_name FROM cluster_alias_override WHERE alias = ?",
        "SELECT cluster_name FROM cluster_alias WHERE alias = ?",
        # a master lost in a failover keeps suggesting the alias it had: never resolve to its old cluster
        "SELECT cluster_name FROM database_instance di WHERE suggested_cluster_alias = ? AND NOT EXISTS"
        " (SELECT 1 FROM database_instance_downtime dt WHERE dt.hostname = di.hostname AND dt.port = di.port"
        f" AND dt.reason = 'lost-in-recovery' AND dt.end_timestamp > {now}) ORDER BY replication_depth LIMIT 1",
    ):
        row = backend.query_one(sql, (hint,))
        if row:
            return str(row["cluster_name"])
    return None


def clusters_info(backend: Backend) -> list[Row]:
    """(cluster_name, alias) per cluster, as the original reads them: the operator's override, else the
    registered alias (`cluster_alias`, written when discovery meets a master whose cluster has an alias
    from `DetectClusterAliasQuery` or `ClusterNameToAlias`), else the cluster name itself.

    A member's `suggested_cluster_alias` alone is not an alias (the original's fixture rows suggest the
    bare host name, and its `clusters-alias` prints the cluster name twice). A cluster whose only member
    is a master lost in a failover is still listed (under its own name, as the original lists it), so
    `which-downtimed-instances` per cluster keeps showing that master.
    """
    rows = backend.query(
        """
        SELECT DISTINCT di.cluster_name, cao.alias AS override_alias, ca.alias AS registered_alias
        FROM database_instance di
          LEFT JOIN cluster_alias_override cao ON (cao.cluster_name = di.cluster_name)
          LEFT JOIN cluster_alias ca ON (ca.cluster_name = di.cluster_name)
        ORDER BY di.cluster_name
        """
    )
    info: dict[str, Row] = {}
    for r in rows:
        name = str(r["cluster_name"])
        alias = r["override_alias"] or r["registered_alias"] or name
        info.setdefault(name, {"cluster_name": name, "alias": alias})
    return sorted(info.values(), key=lambda e: e["cluster_name"])


def cluster_names(backend: Backend) -> list[str]:
    """Every cluster name, sorted (the names of :func:`clusters_info`, without reading aliases)."""
    rows = backend.query_values("SELECT DISTINCT cluster_name FROM database_instance")
    return sorted(str(name) for (name,) in rows)


def cluster_aliases(backend: Backend) -> dict[str, str]:
    """Cluster name -> alias, in name order (see :func:`clusters_info`)."""
    return {str(c["cluster_name"]): str(c["alias"]) for c in clusters_info(backend)}


def cluster_alias(backend: Backend, cluster_name: str) -> str:
    for entry in clusters_info(backend):
        if entry["cluster_name"] == cluster_name:
            return str(entry["alias"])
    return cluster_name


def cluster_domain(backend: Backend, cluster_name: str) -> str:
    row = backend.query_one("SELECT domain_name FROM cluster_domain_name WHERE cluster_name = ?", (cluster_name,))
    return str(row["domain_name"]) if row else ""


def register_domain(backend: Backend, cluster_name: str, domain: str) -> None:
    d = backend.dialect
    backend.execute(
        d.upsert(
            "cluster_domain_name",
            {"cluster_name": "?", "domain_name": "?", "last_registered": d.now()},
            ["cluster_name"],
        ),
        (cluster_name, domain),
    )


def register_alias(backend: Backend, cluster_name: str, alias: str, registered: Registered | None = None) -> None:
    """Keep `cluster_alias` current so the original's daemons and readers agree with us.

    Written only when it changes or has not been refreshed for `REFRESH_SECONDS` (`registered`: the row
    as the caller already read it; else it is read here). Concurrent probes registering new clusters
    used to deadlock on MySQL: an unconditional `DELETE ... WHERE alias = ?` took gap locks on the
    unique alias index that the next INSERT then waited for, each transaction on the other's. Now a
    holder of the alias is deleted by its primary key, and only when there is one.
    """
    if registered is None:
        registered = registered_alias_row(backend, cluster_name)
    if registered.current(alias):
        return
    d = backend.dialect
    if registered.value != alias:
        holders = backend.query_values(
            "SELECT cluster_name FROM cluster_alias WHERE alias = ? AND cluster_name <> ?", (alias, cluster_name)
        )
        for (holder,) in holders:
            backend.execute("DELETE FROM cluster_alias WHERE cluster_name = ?", (holder,))
    backend.execute(
        d.upsert("cluster_alias", {"cluster_name": "?", "alias": "?", "last_registered": d.now()}, ["cluster_name"]),
        (cluster_name, alias),
    )


def registered_alias_row(backend: Backend, cluster_name: str) -> Registered:
    """A cluster's `cluster_alias` row: its alias (None: no row) and whether it was refreshed recently."""
    from orchestrator_cli.backend.probe_context import REFRESH_SECONDS, Registered  # off `clusters`' start-up

    fresh = backend.dialect.seconds_ago(str(REFRESH_SECONDS))
    row = backend.query_one(
        f"SELECT alias, CASE WHEN last_registered >= {fresh} THEN 1 ELSE 0 END AS fresh"
        " FROM cluster_alias WHERE cluster_name = ?",
        (cluster_name,),
    )
    return Registered(None, False) if row is None else Registered(str(row["alias"]), bool(row["fresh"]))


def registered_alias(backend: Backend, cluster_name: str) -> str:
    """The alias last registered for a cluster (by the discovery of its master), or ""."""
    row = backend.query_one("SELECT alias FROM cluster_alias WHERE cluster_name = ?", (cluster_name,))
    return str(row["alias"]) if row else ""


def alias_override(backend: Backend, cluster_name: str) -> str:
    """The operator's manual alias for a cluster (wins over every detected alias), or ""."""
    row = backend.query_one("SELECT alias FROM cluster_alias_override WHERE cluster_name = ?", (cluster_name,))
    return str(row["alias"]) if row else ""


def alias_holder(backend: Backend, alias: str, cluster_name: str) -> str | None:
    """Another cluster that `alias` already names (as its name or its alias), or None."""
    for entry in clusters_info(backend):
        if entry["cluster_name"] != cluster_name and alias in (entry["cluster_name"], entry["alias"]):
            return str(entry["cluster_name"])
    return None


def set_alias_override(backend: Backend, cluster_name: str, alias: str) -> None:
    """The operator's manual alias for a cluster (the API's `set-cluster-alias`)."""
    backend.execute(
        backend.dialect.upsert("cluster_alias_override", ["cluster_name", "alias"], ["cluster_name"]),
        (cluster_name, alias),
    )


def clear_alias_override(backend: Backend, cluster_name: str) -> int:
    return backend.execute("DELETE FROM cluster_alias_override WHERE cluster_name = ?", (cluster_name,))


def instance_counts(backend: Backend) -> dict[str, int]:
    """Cluster name -> number of known instances (the API's `CountInstances`)."""
    rows = backend.query("SELECT cluster_name, COUNT(*) AS n FROM database_instance GROUP BY cluster_name")
    return {str(r["cluster_name"]): int(r["n"]) for r in rows}


def members_by_cluster(backend: Backend) -> dict[str, list[Row]]:
    """Cluster name -> its instance rows (with the derived flags), from one query over every cluster:
    what a per-cluster figure for all clusters at once (the API's `HeuristicLag`) is computed from."""
    from orchestrator_cli.backend.instances import read_where

    members: dict[str, list[Row]] = {}
    for row in read_where(backend, "1 = 1", order="ORDER BY di.cluster_name, di.hostname, di.port"):
        members.setdefault(str(row["cluster_name"]), []).append(row)
    return members
