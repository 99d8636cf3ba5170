"""Topology history snapshots (`database_instance_topology_history`)."""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend


def snapshot_topologies(backend: Backend) -> int:
    d = backend.dialect
    return backend.execute(
        d.insert_ignore(
            "database_instance_topology_history",
            {
                "snapshot_unix_timestamp": d.unix_timestamp(),
                "hostname": "hostname",
                "port": "port",
                "master_host": "master_host",
                "master_port": "master_port",
                "cluster_name": "cluster_name",
                "version": "version",
            },
        )
        .replace("VALUES (", "SELECT ")
        .rstrip(")")
        + " FROM database_instance"
    )
