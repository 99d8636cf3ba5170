"""Calling an orchestrator-agent's HTTP API: `custom-command` runs one of its configured commands.

An agent registers itself (`host_agent`: its host, the port its API listens on, and the token it
expects) with an orchestrator service that serves agents (`ServeAgentsHttp`, on `AgentsServerPort`).
Calls go to ``http(s)://<host>:<registered port>/api/<path>?token=<token>``; `AgentsUseSSL` switches
to HTTPS, verified against `AgentSSLCAFile` (or the system's CAs) unless `AgentSSLSkipVerify`, with
a client certificate (`AgentSSLCertFile`, `AgentSSLPrivateKeyFile`) under `AgentsUseMutualTLS`.
The token is never shown in errors or logs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orchestrator_cli.errors import ConfigError, NotFoundError, OrchestratorError

if TYPE_CHECKING:
    import ssl

    from orchestrator_cli.backend.agents import AgentRegistration
    from orchestrator_cli.backend.connection import Backend

# Per socket operation: a custom command answers only once it has run, which may take a while.
AGENT_TIMEOUT_SECONDS = 60.0
_SHOWN_BODY = 200  # characters of an error answer quoted in the message


class AgentError(OrchestratorError):
    """The agent could not be reached, or answered with an error."""


def agent_of(backend: Backend, hostname: str) -> AgentRegistration:
    """The registration of the agent on `hostname`, or a NotFoundError that says how agents get there."""
    from orchestrator_cli.backend import agents

    found = agents.read_agent(backend, hostname)
    if found is None:
        raise NotFoundError(
            f"no orchestrator-agent registered for {hostname} (agents register with an orchestrator service"
            " that has ServeAgentsHttp: true, on AgentsServerPort)"
        )
    return found


def _tls_context(config: Mapping[str, Any]) -> ssl.SSLContext:
    import ssl

    try:
        if config.get("AgentSSLSkipVerify"):
            context = ssl._create_unverified_context()  # the operator's explicit choice  # noqa: S323
        else:
            context = ssl.create_default_context(cafile=str(config.get("AgentSSLCAFile") or "") or None)
        if config.get("AgentsUseMutualTLS"):
            cert, key = str(config.get("AgentSSLCertFile") or ""), str(config.get("AgentSSLPrivateKeyFile") or "")
            if not cert or not key:
                raise ConfigError("AgentsUseMutualTLS needs AgentSSLCertFile and AgentSSLPrivateKeyFile")
            context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(f"cannot set up TLS to agents: {e}") from e
    return context


def agent_url(config: Mapping[str, Any], agent: AgentRegistration, path: str, *, with_token: bool = True) -> str:
    """The address of `path` on `agent`'s API; `with_token=False` for showing it.

    >>> from orchestrator_cli.backend.agents import AgentRegistration
    >>> agent = AgentRegistration("db-1.example.net", 3002, "t0k", "")
    >>> agent_url({}, agent, "custom-commands/disk%20usage")
    'http://db-1.example.net:3002/api/custom-commands/disk%20usage?token=t0k'
    >>> agent_url({"AgentsUseSSL": True}, agent, "status", with_token=False)
    'https://db-1.example.net:3002/api/status'
    """
    from urllib.parse import quote

    scheme = "https" if config.get("AgentsUseSSL") else "http"
    host = f"[{agent.hostname}]" if ":" in agent.hostname else agent.hostname
    url = f"{scheme}://{host}:{agent.port}/api/{path}"
    return f"{url}?token={quote(agent.token, safe='')}" if with_token else url


def call(config: Mapping[str, Any], agent: AgentRegistration, path: str, timeout: float = AGENT_TIMEOUT_SECONDS) -> str:
    """GET `path` on the agent's API; the answer's body as text. An unreachable agent, or one that
    answers with an HTTP error, is an AgentError naming the address without the token."""
    import urllib.error
    import urllib.request

    shown = agent_url(config, agent, path, with_token=False)
    context = _tls_context(config) if config.get("AgentsUseSSL") else None
    request = urllib.request.Request(agent_url(config, agent, path), headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # noqa: S310
            body: bytes = answer.read()
    except urllib.error.HTTPError as e:
        text = e.read().decode("utf-8", errors="replace").strip().replace("\n", " ")[:_SHOWN_BODY]
        raise AgentError(f"agent {shown} answered HTTP {e.code}{': ' + text if text else ''}") from e
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", None) or e
        raise AgentError(f"agent {shown} unreachable: {reason}") from e
    return body.decode("utf-8", errors="replace")


def command_output(body: str) -> str:
    """What the agent's command printed: the agent answers it as a JSON string; other answers are
    shown as they came.

    >>> command_output('"Filesystem  Size\\\\n/dev/sda1  20G\\\\n"')
    'Filesystem  Size\\n/dev/sda1  20G\\n'
    >>> command_output('{"Code": "OK"}')
    '{"Code": "OK"}'
    """
    try:
        value = json.loads(body)
    except ValueError:
        return body
    return value if isinstance(value, str) else body


def custom_command(backend: Backend, config: Mapping[str, Any], hostname: str, name: str) -> str:
    """Run the agent's custom command `name` (configured on the agent) on `hostname`; its output."""
    from urllib.parse import quote

    agent = agent_of(backend, hostname)
    return command_output(call(config, agent, f"custom-commands/{quote(name, safe='')}"))
