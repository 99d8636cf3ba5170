"""Sharing discovery between the continuous-mode daemons of one backend (ours; the original's
followers probe nothing): each daemon probes its share of the instances, so capacity grows with
the number of daemons, while only the elected leader analyses and recovers.

The partition is rendezvous hashing (highest random weight) of the instance key over the live
daemons: every daemon computes the same owner from the same node list, with no coordination; when
a daemon joins, it takes over only the keys it now wins (about 1/n of them), and when one dies, only
its keys move, spread over the others. The node list is read from `node_health` (the daemons that
registered as sharing discovery), each node judged alive by the backend's clock, so clock skew
between hosts does not matter.

What is *not* shared: the leader's first pass after it was elected, the re-probes that confirm a
failure (observers of a failed master, the failed master itself, the recovery's live re-check) and
instances nobody refreshed for too long (an owner that is registered but stuck): the leader probes
those itself, whoever owns them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Sequence

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.errors import OrchestratorError
from orchestrator_cli.model.keys import InstanceKey

log = logging.getLogger("orchestrator.discovery")

# A node that has not renewed its node_health row for this long (backend clock) no longer owns a
# share. Rows are renewed every second, and timestamps have one-second resolution: 3 s tolerates
# one late renewal without moving shares back and forth, and hands a dead node's share over before
# the election (5 s) replaces a dead leader.
NODE_EXPIRY_SECONDS = 3


def weight(node: str, key: str) -> int:
    """The rendezvous weight of `key` on `node`: a stable 64-bit hash of both (never Python's
    `hash`, which is salted per process)."""
    digest = hashlib.blake2b(f"{node}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner_of(key: str, nodes: Sequence[str]) -> str:
    """The node that probes `key`: the one with the highest weight (ties broken by node name).

    >>> owner_of("db1:3306", ["a"])
    'a'
    >>> owner_of("db1:3306", ["a", "b", "c"]) == owner_of("db1:3306", ["c", "b", "a"])
    True
    """
    if not nodes:
        raise ValueError("no node to own the key")
    return max(nodes, key=lambda node: (weight(node, key), node))


class DiscoveryShare:
    """Which instances this node probes, from the live node list it last read.

    This node is always on its own list (it knows it is alive, even when its registration failed),
    and a failed read keeps the previous list: a backend hiccup must not leave keys without owner.
    """

    def __init__(self, node: str, *, expiry_seconds: int = NODE_EXPIRY_SECONDS) -> None:
        self.node = node
        self.expiry_seconds = expiry_seconds
        self._nodes: tuple[str, ...] = (node,)
        self._owned: dict[InstanceKey, bool] = {}  # for the current node list: a key's hash is paid once
        self._lock = threading.Lock()

    @property
    def nodes(self) -> tuple[str, ...]:
        with self._lock:
            return self._nodes

    def set_nodes(self, nodes: Iterable[str]) -> bool:
        """Use this node list (this node is added); True when it changed."""
        new = tuple(sorted({*nodes, self.node}))
        with self._lock:
            changed, self._nodes = new != self._nodes, new
            if changed:
                self._owned = {}
        return changed

    def refresh(self, backend: Backend) -> bool:
        """Read the live sharing nodes from `node_health`; True when the list changed."""
        from orchestrator_cli.backend import health

        try:
            nodes = health.discovery_nodes(backend, self.expiry_seconds)
        except OrchestratorError as e:
            log.warning("discovery sharing: could not read the live nodes, keeping %d: %s", len(self.nodes), e)
            return False
        return self.set_nodes(nodes)

    def owns(self, key: InstanceKey) -> bool:
        with self._lock:
            nodes, owned = self._nodes, self._owned
        if len(nodes) == 1:
            return True
        mine = owned.get(key)
        if mine is None:
            mine = owned[key] = owner_of(str(key), nodes) == self.node
        return mine
