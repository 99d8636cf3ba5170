"""Who replicates from whom, read from the servers themselves.

The backend may be minutes old and the original's descendant guard used server UUIDs, which MariaDB
does not have: moving a server below its own descendant then created a replication cycle. Here the
chain above a destination is walked live, hop by hop through ``SHOW SLAVE STATUS``, and a hop is
recognised by its key or by its server_id, so a server reached under another name still counts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator_cli.errors import OrchestratorError, UnsafeOperationError
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.topology.env import TopologyEnv
from orchestrator_cli.topology.primitives import Live

log = logging.getLogger("orchestrator.topology")

MAX_HOPS = 32


@dataclass(frozen=True)
class Hop:
    """One ancestor: its key as the replica below names it, and what identifies the server."""

    key: InstanceKey
    server_id: int | None = None
    server_uuid: str = ""
    live: bool = True  # False: the server did not answer and the backend row was used

    def same_server(self, key: InstanceKey, server_id: int | None) -> bool:
        if key == self.key:
            return True
        return server_id is not None and self.server_id is not None and server_id == self.server_id


def hop_of(live: Live) -> Hop:
    """The server of a live read, as a hop (for comparing it with chains)."""
    return Hop(live.key, _server_id(live), live.instance.server_uuid)


def _server_id(live: Live) -> int | None:
    """The server id the live read found; None when unknown (0 is no usable replication id either)."""
    return live.instance.server_id or None


def upstream(env: TopologyEnv, start: Live, limit: int = MAX_HOPS) -> list[Hop]:
    """Ancestors of `start`, nearest first, as the servers report them right now.

    A server that does not answer contributes its backend row (marked not live) so the walk can go
    on above it. The walk ends at a server that replicates from nobody, at an unknown server, or at
    the first repeated server (a co-master ring): that repeated hop is included.
    """
    from orchestrator_cli.backend import instances

    hops: list[Hop] = []
    status = start.status
    seen: set[InstanceKey] = {start.key}
    next_key = start.master_key
    next_id: int | None = status.confirmed_master_server_id or None
    next_uuid = status.master_uuid
    while next_key is not None and len(hops) < limit:
        key = next_key
        if key in seen:
            hops.append(Hop(key, next_id, next_uuid))
            break
        seen.add(key)
        try:
            server = env.server(key)
            core = server.core_variables()
            status = server.replica_status()
        except (OrchestratorError, fl.FlavorError) as e:
            log.info("%s: not readable while walking up from %s (%s); using its backend row", key, start.key, e)
            known = instances.read_snapshot(env.backend, key)
            if known is None:
                hops.append(Hop(key, next_id, next_uuid, live=False))
                break
            hops.append(Hop(key, known.server_id or next_id, known.server_uuid, live=False))
            next_key, next_id, next_uuid = known.master_key, None, ""
            continue
        hops.append(Hop(key, core.server_id, next_uuid))
        if not status.is_replica or status.is_detached:
            break
        next_key = InstanceKey(status.master_host, status.master_port)
        next_id = status.confirmed_master_server_id or None
        next_uuid = status.master_uuid
    return hops


def is_same_server(a: Live, b: Live) -> bool:
    return a.key == b.key


def position_in(chain: Sequence[Hop], live: Live) -> int | None:
    """Index of `live`'s server in `chain`, or None."""
    server_id = _server_id(live)
    for index, hop in enumerate(chain):
        if hop.same_server(live.key, server_id):
            return index
    return None


def refuse_cycle(env: TopologyEnv, instance: Live, destination: Live) -> list[Hop]:
    """Refuse moving `instance` below itself or one of its descendants; returns the chain above the destination."""
    if is_same_server(instance, destination):
        raise UnsafeOperationError(f"cannot move {instance.key} below itself")
    chain = upstream(env, destination)
    if position_in(chain, instance) is not None:
        raise UnsafeOperationError(
            f"{destination.key} is a descendant of {instance.key}: moving it there would create a replication cycle"
        )
    return chain
