"""Relocation families: smart, classic file:pos, GTID and Pseudo-GTID moves and regroups, one CLI command each.

Single moves answer the moved instance (`Details`, the client prints `key<master` from it); bulk
moves answer the moved replicas. Paths follow the original: `/<cmd>/H/P` or `/<cmd>/H/P/DH/DP`;
each `replica` path is also served under its `slave` name, each `take-*` under `enslave-*`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from orchestrator_cli.http import shapes
from orchestrator_cli.http.changes import answer_moved, on_instance, on_instance_and_destination
from orchestrator_cli.http.invoke import Service, run
from orchestrator_cli.http.routing import add, ok
from orchestrator_cli.model.keys import parse_printed

router = APIRouter()
HP = "{hostname}/{port}"
DHP = "{belowHost}/{belowPort}"

# path name -> CLI command. No `move-gtid` path: the original registers only `move-below-gtid`, so its
# client's `move-gtid` fails there as it does here.
# path name -> CLI command (they differ where the original's API and CLI names differ)
_SINGLE_WITH_DESTINATION = {
    "relocate": "relocate",
    "relocate-below": "relocate-below",
    "move-below": "move-below",
    "move-equivalent": "move-equivalent",
    "repoint": "repoint",
    "move-below-gtid": "move-gtid",
    "match": "match",
    "match-below": "match",
}
_SINGLE = {
    "move-up": "move-up",
    "match-up": "match-up",
    "rematch": "rematch",
    "make-co-master": "make-co-master",
    "take-master": "take-master",
    "take-siblings": "take-siblings",
    "repoint": "repoint",
}
_BULK_WITH_DESTINATION = {
    "relocate-replicas": "relocate-replicas",
    "move-replicas-gtid": "move-replicas-gtid",
    "match-replicas": "match-replicas",
}
_BULK_OPTIONAL_DESTINATION = {  # the client leaves the destination segments empty
    "repoint-replicas": "repoint-replicas",
}
_BULK = {
    "move-up-replicas": "move-up-replicas",
    "match-up-replicas": "match-up-replicas",
    "repoint-replicas": "repoint-replicas",
}

for path, command in _SINGLE_WITH_DESTINATION.items():
    add(router, f"/{path}/{HP}/{DHP}", on_instance_and_destination(command), changes=True, summary=f"CLI {command}")
for path, command in _SINGLE.items():
    add(router, f"/{path}/{HP}", on_instance(command), changes=True, summary=f"CLI {command}")
for path, command in {**_BULK_WITH_DESTINATION, **_BULK_OPTIONAL_DESTINATION}.items():
    endpoint = on_instance_and_destination(command, answer_moved)
    add(router, f"/{path}/{HP}/{DHP}", endpoint, changes=True, summary=f"CLI {command}")
for path, command in _BULK.items():
    add(router, f"/{path}/{HP}", on_instance(command, answer_moved), changes=True, summary=f"CLI {command}")


# -- regroup (one block: regroup-replicas, -gtid, -pgtid, -bls; each also under its `slave` name) --------
# The original answers the promoted replica's key as Details and the counts in the Message:
# `promoted replica: H:P, lost: N, trivial: N, pseudo-gtid: N` (regroup-replicas, -pgtid),
# `promoted replica: H:P, lost: N, moved: N` (-gtid), `promoted binlog server: H:P` (-bls).


def answer_regroup(svc: Service, command: str, text: str, **options: Any) -> JSONResponse:
    """The CLI prints the promoted replica, then (except -bls) `<promoted> lost: N, ...`: the Message
    carries those counts after the promoted key; replicas that could not be moved are named too."""
    out = run(svc, command, instance=text, **options)
    promoted = out.lines[0].strip()
    if command == "regroup-replicas-bls":
        note = f"promoted binlog server: {promoted}"
    else:
        note = f"promoted replica: {promoted}, {out.lines[-1].strip().removeprefix(promoted).strip()}"
    failed = out.data.get("Failed") if isinstance(out.data, dict) else None
    if failed:
        note += "; failed: " + "; ".join(f"{k}: {why}" for k, why in failed.items())
    return ok(note, shapes.key_json(parse_printed(promoted)))


for command in ("regroup-replicas", "regroup-replicas-gtid", "regroup-replicas-pgtid", "regroup-replicas-bls"):
    add(router, f"/{command}/{HP}", on_instance(command, answer_regroup), changes=True, summary=f"CLI {command}")
