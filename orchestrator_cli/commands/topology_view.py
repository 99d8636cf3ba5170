"""The `topology*` tree: built from the backend's tree rows only, printed in the original's exact layout.

Every form (plain, tabulated, tags, JSON, terminal) reads `TreeMember`s, never full `Instance`
snapshots: this module and what it imports stay off `dataclasses` and `typing` at run time, which
cost a `topology -i` run more than its reading and rendering (see `backend/tree_rows.py`).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from orchestrator_cli.model.keys import InstanceKey
    from orchestrator_cli.model.tree_member import TreeMember


class Node:
    """One line of the tree: a member at its depth (written out: a dataclass costs the import)."""

    __slots__ = ("view", "depth")

    def __init__(self, view: TreeMember, depth: int) -> None:
        self.view = view
        self.depth = depth

    def __repr__(self) -> str:
        return f"Node({self.view!r}, depth={self.depth})"

    @property
    def marker(self) -> str:
        v = self.view
        return "+" if v.replication_running and v.last_check_valid and v.recently_checked else "-"

    def label(self) -> str:
        alias = self.view.instance_alias
        return f"{self.view.key}" + (f" ({alias})" if alias else "")

    def prefix(self) -> str:
        return "" if self.depth == 0 else "  " * (self.depth - 1) + self.marker + " "


def build_tree(rows: Sequence[Mapping[str, Any] | TreeMember]) -> list[Node]:
    """Flattened depth-first order; co-masters (no single root) each start their own branch at depth 1.

    `rows` are tree members, or instance rows (mapped by `backend.tree_rows`).
    """
    from orchestrator_cli.backend.tree_rows import tree_member_from_row
    from orchestrator_cli.model.tree_member import TreeMember

    views = [r if isinstance(r, TreeMember) else tree_member_from_row(r) for r in rows]
    by_key = {v.key: v for v in views}
    children: dict[InstanceKey, list[TreeMember]] = {}
    roots = []
    for v in views:
        mk = v.master_key
        if mk is not None and mk in by_key:
            children.setdefault(mk, []).append(v)
        else:
            roots.append(v)
    root_depth = 0
    if not roots:
        roots = [v for v in views if v.is_co_master or v.replication_depth == 0]
        roots = roots or views[:1]
        root_depth = 1
    ordered: list[Node] = []
    visited: set[InstanceKey] = {r.key for r in roots}

    def walk(v: TreeMember, depth: int) -> None:
        ordered.append(Node(v, depth))
        for child in sorted(children.get(v.key, []), key=lambda c: (c.key.hostname, c.key.port)):
            if child.key in visited:
                continue
            visited.add(child.key)
            walk(child, depth + 1)

    for root in sorted(roots, key=lambda r: (r.key.hostname, r.key.port)):
        walk(root, root_depth)
    return ordered


def render_plain(
    nodes: list[Node], reasonable_lag: int, tags: Mapping[InstanceKey, list[str]] | None = None
) -> list[str]:
    heads = [n.prefix() + n.label() for n in nodes]
    width = max((len(h) for h in heads), default=0)
    out = []
    for node, head in zip(nodes, heads, strict=True):
        line = f"{head.ljust(width)} [{','.join(node.view.description_tokens(reasonable_lag))}]"
        if tags is not None:
            line += f" [{','.join(tags.get(node.view.key, []))}]"
        out.append(line)
    return out


def render_tabulated(nodes: list[Node], reasonable_lag: int) -> list[str]:
    rows = []
    for node in nodes:
        tokens = node.view.description_tokens(reasonable_lag)
        fixed, extras = tokens[:5], ",".join(tokens[5:])
        rows.append([node.prefix() + node.label(), *fixed, extras])
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [cell.rjust(widths[i]) if i == 1 else cell.ljust(widths[i]) for i, cell in enumerate(r)]
        out.append("|".join(cells))
    return out


def as_json(nodes: list[Node], reasonable_lag: int) -> list[dict[str, Any]]:
    return [
        {
            "Key": str(n.view.key),
            "MasterKey": str(n.view.master_key) if n.view.master_key else "",
            "Depth": n.depth,
            "ReplicationRunning": n.view.replication_running,
            "Description": n.view.description_tokens(reasonable_lag),
            "InstanceAlias": n.view.instance_alias,
        }
        for n in nodes
    ]


def rich_tree(
    nodes: list[Node], reasonable_lag: int, title: str, tags: Mapping[InstanceKey, list[str]] | None = None
) -> Any:
    """A coloured tree for terminals; the same content as the plain form.

    The box lines draw the hierarchy, so the plain form's `+`/`-` markers are left out; a replica whose
    replication is not healthy shows its key in red, and its status token says why.
    """
    from rich.text import Text
    from rich.tree import Tree

    tree = Tree(Text(title, style="bold"))
    stack: list[tuple[int, Any]] = [(-1, tree)]
    for n in nodes:
        tokens = n.view.description_tokens(reasonable_lag)
        status = tokens[1] if len(tokens) > 1 else ""
        style = {"ok": "green", "lag": "yellow", "nonreplicating": "red", "invalid": "bold red"}.get(status, "dim")
        label = Text()
        label.append(n.label(), style="bold" if n.depth == 0 or n.marker == "+" else "bold red")
        label.append("  " + " ".join(tokens), style=style)
        if tags is not None:
            label.append("  [" + ",".join(tags.get(n.view.key, [])) + "]", style="cyan")
        while stack[-1][0] >= n.depth:
            stack.pop()
        branch = stack[-1][1].add(label)
        stack.append((n.depth, branch))
    return tree
