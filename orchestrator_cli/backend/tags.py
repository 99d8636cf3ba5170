"""Instance tags (`database_instance_tags`)."""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.tags import Tag


def put(backend: Backend, key: InstanceKey, tag: Tag) -> None:
    d = backend.dialect
    backend.execute(
        d.upsert(
            "database_instance_tags",
            {"hostname": "?", "port": "?", "tag_name": "?", "tag_value": "?", "last_updated": d.now()},
            ["hostname", "port", "tag_name"],
        ),
        (key.hostname, key.port, tag.name, tag.value),
    )


def _stored(row: Row) -> Tag:
    return Tag(str(row["tag_name"]), str(row["tag_value"] or ""), has_value=True)


def read(backend: Backend, key: InstanceKey) -> list[Tag]:
    """The instance's tags, by name."""
    rows = backend.query(
        "SELECT tag_name, tag_value FROM database_instance_tags WHERE hostname = ? AND port = ? ORDER BY tag_name",
        (key.hostname, key.port),
    )
    return [_stored(r) for r in rows]


def read_all(backend: Backend) -> dict[InstanceKey, list[Tag]]:
    """Every instance's tags, by name."""
    out: dict[InstanceKey, list[Tag]] = {}
    for r in backend.query("SELECT hostname, port, tag_name, tag_value FROM database_instance_tags ORDER BY tag_name"):
        out.setdefault(InstanceKey(r["hostname"], int(r["port"])), []).append(_stored(r))
    return out


def tagged(backend: Backend, conditions: list[Tag]) -> list[InstanceKey]:
    """Instances that satisfy every condition, as the original reads each form:

    `name` carries the tag (any value); `name=value` carries it with that value; `~name` does not
    carry it at all; `~name=value` carries it with a *different* value (an instance without the tag
    does not match). A list is the intersection.
    """
    clauses: list[str] = []
    params: list[object] = []
    for tag in conditions:
        match = "t.tag_name = ?"
        if tag.has_value:
            match += " AND t.tag_value <> ?" if tag.negate else " AND t.tag_value = ?"
        sub = (
            "EXISTS (SELECT 1 FROM database_instance_tags t"
            f" WHERE t.hostname = k.hostname AND t.port = k.port AND {match})"
        )
        clauses.append(f"NOT {sub}" if tag.negate and not tag.has_value else sub)
        params.append(tag.name)
        if tag.has_value:
            params.append(tag.value)
    rows = backend.query(
        "SELECT k.hostname, k.port FROM (SELECT DISTINCT hostname, port FROM database_instance_tags"
        " UNION SELECT hostname, port FROM database_instance) k"
        f" WHERE {' AND '.join(clauses)} ORDER BY k.hostname, k.port",
        params,
    )
    return [InstanceKey(r["hostname"], int(r["port"])) for r in rows]


def remove(backend: Backend, tag: Tag, key: InstanceKey | None = None) -> list[InstanceKey]:
    """Delete a tag from one instance or from all; returns the instances it was removed from."""
    where = "tag_name = ?"
    params: list[object] = [tag.name]
    if tag.has_value:
        where += " AND tag_value = ?"
        params.append(tag.value)
    if key is not None:
        where += " AND hostname = ? AND port = ?"
        params += [key.hostname, key.port]
    with backend.transaction():
        rows = backend.query(
            f"SELECT hostname, port FROM database_instance_tags WHERE {where} ORDER BY hostname, port", params
        )
        backend.execute(f"DELETE FROM database_instance_tags WHERE {where}", params)
    return [InstanceKey(r["hostname"], int(r["port"])) for r in rows]


def read_cluster(backend: Backend, cluster_name: str) -> dict[InstanceKey, list[Tag]]:
    """The tags of the members of `cluster_name`, by name: what `topology-tags` shows of `read_all`,
    without reading the tags of every other cluster."""
    out: dict[InstanceKey, list[Tag]] = {}
    rows = backend.query(
        """SELECT t.hostname, t.port, t.tag_name, t.tag_value
           FROM database_instance_tags t
             JOIN database_instance di ON (di.hostname = t.hostname AND di.port = t.port)
           WHERE di.cluster_name = ?
           ORDER BY t.tag_name""",
        (cluster_name,),
    )
    for r in rows:
        out.setdefault(InstanceKey(r["hostname"], int(r["port"])), []).append(_stored(r))
    return out
