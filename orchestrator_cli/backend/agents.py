"""The orchestrator-agent registry (`host_agent`): where each agent listens and the token it expects.

Agents register themselves with an orchestrator service that serves them (`ServeAgentsHttp`, on
`AgentsServerPort`); this module only reads what they registered.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.model.coerce import to_int, to_str


@dataclass(frozen=True)
class AgentRegistration:
    hostname: str
    port: int  # where the agent's own HTTP API listens
    token: str  # what the agent expects with every call
    last_seen: str  # "" when never seen


def read_agent(backend: Backend, hostname: str) -> AgentRegistration | None:
    row = backend.query_one("SELECT hostname, port, token, last_seen FROM host_agent WHERE hostname = ?", (hostname,))
    if row is None:
        return None
    return AgentRegistration(
        hostname=to_str(row["hostname"]),
        port=to_int(row["port"]),
        token=to_str(row["token"]),
        last_seen=to_str(row["last_seen"]),
    )
