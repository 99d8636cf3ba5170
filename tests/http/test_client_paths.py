"""Every path orchestrator-client builds (cli-catalog §5.2) reaches a route: on an instance nobody runs,
each answers what its command answers there (mostly its own ERROR; never a 404, never an internal
error), and a refusal leaves the topology tables as they were (an attempted operation that failed is
still audited, as the CLI audits it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.http.test_bad_input import snapshot

pytestmark = pytest.mark.sandbox

I = "127.0.0.1/1"  # noqa: E741  (parses, is not in the backend, refuses connections)
D = "127.0.0.1/2"
C = "no.such.cluster"

# The client's command -> the path it requests, as it builds it (-i I, -d D, --alias C, ...).
CLIENT_PATHS = {
    "discover": f"discover/{I}",
    "forget": f"forget/{I}",
    "forget-cluster": f"forget-cluster/{C}",
    "topology": f"topology/{C}",
    "topology-tabulated": f"topology-tabulated/{C}",
    "topology-tags": f"topology-tags/{C}",
    "instance": f"instance/{I}",
    "which-replicas": f"instance-replicas/{I}",
    "which-cluster": f"cluster-info/{C}",
    "which-cluster-master": f"master/{C}",
    "which-cluster-instances": f"cluster/{C}",
    "which-cluster-osc-replicas": f"cluster-osc-replicas/{C}",
    "downtimed": f"downtimed/{C}",
    "submit-masters-to-kv-stores": f"submit-masters-to-kv-stores/{C}",
    "relocate": f"relocate/{I}/{D}",
    "match": f"match/{I}/{D}",
    "move-below": f"move-below/{I}/{D}",
    "move-equivalent": f"move-equivalent/{I}/{D}",
    "repoint": f"repoint/{I}/{D}",
    "match-up": f"match-up/{I}",
    "move-up": f"move-up/{I}",
    "make-co-master": f"make-co-master/{I}",
    "take-master": f"take-master/{I}",
    "take-siblings": f"take-siblings/{I}",
    "relocate-replicas": f"relocate-replicas/{I}/{D}",
    "move-replicas-gtid": f"move-replicas-gtid/{I}/{D}",
    "match-up-replicas": f"match-up-replicas/{I}/",
    "move-up-replicas": f"move-up-replicas/{I}/",
    "repoint-replicas": f"repoint-replicas/{I}/",
    "tags": f"tags/{I}",
    "tag-value": f"tag-value/{I}?tag=a",
    "tag": f"tag/{I}?tag=",
    "untag": f"untag/{I}?tag=",
    "untag-all": "untag-all?tag=a",
    "tagged": "tagged/?tag=",
    "submit-pool-instances": "submit-pool-instances/p?instances=bad:key:1",
    "which-heuristic-cluster-pool-instances": f"heuristic-cluster-pool-instances/{C}/",
    "begin-downtime": f"begin-downtime/{I}/me/why/10x",
    "end-downtime": f"end-downtime/{I}",
    "begin-maintenance": f"begin-maintenance/{I}/me/why",
    "register-candidate": f"register-candidate/{I}/bogus",
    "register-hostname-unresolve": f"register-hostname-unresolve/{I}/vip",
    "stop-replica": f"stop-replica/{I}",
    "stop-replica-nice": f"stop-replica-nice/{I}",
    "start-replica": f"start-replica/{I}",
    "restart-replica": f"restart-replica/{I}",
    "reset-replica": f"reset-replica/{I}",
    "detach-replica": f"detach-replica/{I}",
    "reattach-replica": f"reattach-replica/{I}",
    "detach-replica-master-host": f"detach-replica-master-host/{I}",
    "reattach-replica-master-host": f"reattach-replica-master-host/{I}",
    "skip-query": f"skip-query/{I}",
    "gtid-errant-reset-master": f"gtid-errant-reset-master/{I}",
    "enable-semi-sync-master": f"enable-semi-sync-master/{I}",
    "disable-semi-sync-master": f"disable-semi-sync-master/{I}",
    "enable-semi-sync-replica": f"enable-semi-sync-replica/{I}",
    "disable-semi-sync-replica": f"disable-semi-sync-replica/{I}",
    "set-read-only": f"set-read-only/{I}",
    "set-writeable": f"set-writeable/{I}",
    "flush-binary-logs": f"flush-binary-logs/{I}",
    "purge-binary-logs": f"purge-binary-logs/{I}/mysql-bin.000001",
    "locate-gtid-errant": f"locate-gtid-errant/{I}",
    "last-pseudo-gtid": f"last-pseudo-gtid/{I}",
    "restart-replica-statements": f"restart-replica-statements/{I}?q=select%201",
    "delay-replication": f"delay-replication/{I}/5",
    "can-replicate-from": f"can-replicate-from/{I}/{D}",
    "can-replicate-from-gtid": f"can-replicate-from-gtid/{I}/{D}",
    "recover": f"recover/{I}",
    "graceful-master-takeover": f"graceful-master-takeover/{C}",
    "graceful-master-takeover-auto": f"graceful-master-takeover-auto/{C}/{D}",
    "force-master-failover": f"force-master-failover/{C}",
    "force-master-takeover": f"force-master-takeover/{C}/{D}",
    "ack-cluster-recoveries": f"ack-recovery/cluster/{C}?comment=",
    "ack-all-recoveries": "ack-all-recoveries?comment=",
    "raft-leader": "raft-leader",
    "raft-health": "raft-health",
    "raft-elect-leader": "raft-yield-hint/h1",
}


@pytest.mark.parametrize("command", sorted(CLIENT_PATHS))
def test_the_clients_path_reaches_its_command(command: str, copy_config: Path, changing_client: TestClient) -> None:
    before = snapshot(copy_config)
    response = changing_client.get(f"/api/{CLIENT_PATHS[command]}")
    body = response.json()
    assert response.status_code in (200, 500), (command, response.text)
    if response.status_code == 500:
        assert body["Code"] == "ERROR", (command, response.text)
        assert not body["Message"].startswith(("Unknown API path", "internal error")), (command, body["Message"])
        after = snapshot(copy_config)
        for bookkeeping in ("audit", "node_health"):
            before.pop(bookkeeping), after.pop(bookkeeping)
        assert after == before, command


# Data routes the client reads that answer successfully even for nothing.
READS = ["clusters-info", "search?s=nothing", "masters", "all-instances", "downtimed/", "replication-analysis",
         "check-global-recoveries", "snapshot-topologies"]  # fmt: skip


@pytest.mark.parametrize("path", READS)
def test_the_clients_reads_answer(path: str, client: TestClient) -> None:
    response = client.get(f"/api/{path}")
    assert response.status_code == 200, response.text
