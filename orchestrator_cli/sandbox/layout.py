"""Replication layouts as parent lists: pure functions, no server involved.

A layout is ``parents[i]`` = the index of the server that server i replicates from, or None for a
master.  The same shape describes the *live* topology (see :mod:`.replication`), which is why the
graph helpers here take a mapping: dead servers are simply absent from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orchestrator_cli.sandbox.errors import SandboxError

LAYOUT_NAMES = ("star", "chain", "tree")

Layout = str | Sequence[int | None]
"""A layout name from :data:`LAYOUT_NAMES` or an explicit parent list."""


def resolve_layout(layout: Layout, servers: int) -> list[int | None]:
    """Turn a layout name or parent list into ``parents[i]`` = index server i replicates from.

    ``star``: everyone replicates from server 0.  ``chain``: server i replicates from i-1.
    ``tree``: star, except the last server replicates from server 1, an intermediate master.
    An explicit list may hold several roots (independent clusters) but no cycles.

    >>> resolve_layout("tree", 4)
    [None, 0, 0, 1]
    >>> resolve_layout([None, 0, None, 2], 4)
    [None, 0, None, 2]
    """
    if servers < 1:
        raise SandboxError("a sandbox needs at least one server")
    if isinstance(layout, str):
        return _named_layout(layout, servers)
    parents = list(layout)
    if len(parents) != servers:
        raise SandboxError(f"layout has {len(parents)} entries for {servers} servers")
    for index, parent in enumerate(parents):
        if parent is None:
            continue
        if not 0 <= parent < servers or parent == index:
            raise SandboxError(f"layout entry {index}: invalid parent {parent!r}")
    for index in range(servers):
        seen = {index}
        current = parents[index]
        while current is not None:
            if current in seen:
                raise SandboxError(f"layout {parents} has a replication cycle through server {index}")
            seen.add(current)
            current = parents[current]
    return parents


def _named_layout(name: str, servers: int) -> list[int | None]:
    if name == "star":
        return [None] + [0] * (servers - 1)
    if name == "chain":
        return [None] + list(range(servers - 1))
    if name == "tree":
        parents: list[int | None] = [None] + [0] * (servers - 1)
        if servers >= 3:
            parents[-1] = 1
        return parents
    raise SandboxError(f"unknown layout {name!r}; expected one of {', '.join(LAYOUT_NAMES)}")


def root_of(i: int, parents: Mapping[int, int | None]) -> int | None:
    """Follow parents up from ``i``; None when the chain leaves the known set or loops.

    >>> root_of(3, {0: None, 1: 0, 3: 1})
    0
    >>> root_of(3, {1: 0, 3: 1}) is None  # server 0 is down
    True
    """
    seen = {i}
    current = i
    while True:
        if current not in parents:
            return None
        parent = parents[current]
        if parent is None:
            return current
        if parent in seen:
            return None
        seen.add(parent)
        current = parent


def busiest_root(parents: Mapping[int, int | None]) -> int:
    """The root with the most servers beneath it (ties: the lowest index): the "current master".

    >>> busiest_root({0: None, 1: None, 2: 1, 3: 1})
    1
    """
    roots = {i: 0 for i, parent in parents.items() if parent is None}
    if not roots:
        raise SandboxError("no live server is a master: the topology has a cycle or all are down")
    for i in parents:
        root = root_of(i, parents)
        if root is not None and root != i:
            roots[root] += 1
    return max(roots, key=lambda i: (roots[i], -i))
