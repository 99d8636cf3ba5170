"""Meta commands: the backend itself, configuration, process registry and hostname caches."""

from __future__ import annotations

import json

from orchestrator_cli.commands.context import Context
from orchestrator_cli.commands.output import Output, line, lines, nothing
from orchestrator_cli.commands.registry import NO_INSTANCE, RAW_INSTANCE, command

SECTION = "Meta"


@command(
    "dump-config",
    SECTION,
    "Print the effective configuration as one line of JSON (secrets redacted)",
    target=NO_INSTANCE,
)
def dump_config(ctx: Context) -> Output:
    data = ctx.config.redacted()
    return line(json.dumps(data, sort_keys=True, separators=(",", ":")), data=data)


@command(
    "redeploy-internal-db",
    "Meta, internal",
    "Deploy the backend schema now, even if it looks current",
    target=NO_INSTANCE,
)
def redeploy_internal_db(ctx: Context) -> Output:
    from orchestrator_cli.backend.connection import Backend
    from orchestrator_cli.backend.deploy import ensure_schema

    backend = Backend(ctx.config, deploy=False)
    try:
        ensure_schema(backend, force=True)
    finally:
        backend.close()
    return line("Redeployed internal db")


@command(
    "snapshot-topologies",
    SECTION,
    "Record every instance's master and cluster in the history table",
    target=NO_INSTANCE,
)
def snapshot_topologies(ctx: Context) -> Output:
    from orchestrator_cli.backend import history

    count = history.snapshot_topologies(ctx.backend)
    return nothing(data={"Instances": count})


@command("active-nodes", SECTION, "List orchestrator processes seen in the last seconds", target=NO_INSTANCE)
def active_nodes(ctx: Context) -> Output:
    from orchestrator_cli.backend import health

    rows = health.active_nodes(ctx.backend)
    return lines(
        [f"{r['hostname']}\t{r['token'][:12]}\t{r['app_version']}\t{r['extra_info']}\t{r['command']}" for r in rows],
        data=rows,
    )


@command(
    "access-token",
    SECTION,
    "Generate a one-time HTTP access token (AuthenticationMethod: token); prints its public half",
    target=NO_INSTANCE,
    flags=("--owner <name> (default: the OS user)",),
    details="""
Prints 64 hexadecimal characters. The token is stored in the backend (`access_token`); a service
with `"AuthenticationMethod": "token"` on the same backend accepts it once, within
AccessTokenUseExpirySeconds (default 60): open
`http://<service>/web/access-token?publicToken=<token>` and the answer sets the cookie that lets the
browser (or a client sending that cookie) make changes, as the owner, until AccessTokenExpiryMinutes
(default 1440) after generation. Reads need no token.""",
    examples=("orchestrator -c access-token --owner dba-on-call",),
)
def access_token(ctx: Context) -> Output:
    from orchestrator_cli.backend import access_tokens
    from orchestrator_cli.commands.progress import note

    owner = ctx.options.effective_owner()
    token = access_tokens.generate(ctx.backend, owner)
    method = str(ctx.config.get("AuthenticationMethod") or "").strip().lower()
    if method != "token":
        note(ctx, f'note: AuthenticationMethod is "{method}" here; only a service using "token" accepts access tokens')
    return line(token.public, data={"PublicToken": token.public, "Owner": owner})


@command("reset-hostname-resolve-cache", SECTION, "Clear the hostname resolve cache", target=NO_INSTANCE)
def reset_hostname_resolve_cache(ctx: Context) -> Output:
    from orchestrator_cli.backend import hostnames
    from orchestrator_cli.discovery import resolve, resolve_cache

    hostnames.clear_resolve_cache(ctx.backend)
    resolve_cache.forget(ctx.backend)  # this process's copy too (`orchestrator http` probes in-process)
    resolve.forget()  # and its HostnameResolveMethod lookups
    return line("hostname resolve cache cleared")


@command("show-resolve-hosts", SECTION, "List cached hostname resolves: hostname resolved", target=NO_INSTANCE)
def show_resolve_hosts(ctx: Context) -> Output:
    from orchestrator_cli.backend import hostnames

    rows = hostnames.resolves(ctx.backend)
    return lines([f"{r['hostname']} {r['resolved_hostname']}" for r in rows], data=rows)


@command("show-unresolve-hosts", SECTION, "List registered unresolve names: hostname unresolved", target=NO_INSTANCE)
def show_unresolve_hosts(ctx: Context) -> Output:
    from orchestrator_cli.backend import hostnames

    rows = hostnames.unresolves(ctx.backend)
    return lines([f"{r['hostname']} {r['unresolved_hostname']}" for r in rows], data=rows)


@command("bulk-promotion-rules", "", "List every registered promotion rule: host:port rule", target=NO_INSTANCE)
def bulk_promotion_rules(ctx: Context) -> Output:
    from orchestrator_cli.backend import candidates

    rows = candidates.bulk_rules(ctx.backend)
    return lines([f"{r['hostname']}:{r['port']} {r['promotion_rule']}" for r in rows], data=rows)


@command(
    "resolve",
    SECTION,
    "Check that host:port accepts TCP connections and print it under its canonical host name",
    target=RAW_INSTANCE,
)
def resolve(ctx: Context) -> Output:
    import socket

    from orchestrator_cli.errors import TopologyError

    key = ctx.instance_key(local_default=False, fuzzy=False)
    timeout = float(ctx.config["MySQLConnectTimeoutSeconds"])
    try:
        with socket.create_connection((key.hostname, key.port), timeout=timeout):
            pass
        canonical = socket.gethostbyname_ex(key.hostname)[0]
    except OSError as e:
        raise TopologyError(f"cannot resolve {key}: {e.strerror or e}") from e
    return line(f"{canonical}:{key.port}")


@command(
    "custom-command",
    "Agent",
    "Run a custom command on an orchestrator-agent host and print its output",
    target=NO_INSTANCE,
    access="X",
    flags=("--hostname <agent host> (required)", "--pattern <command name> (required)"),
    details="""
Calls the agent registered for the host (the `host_agent` table: the port its API listens on and its
token; agents register with a service that has ServeAgentsHttp) at
`/api/custom-commands/<name>`, over HTTPS with AgentsUseSSL, and prints what the command printed.
The command itself is configured on the agent (its CustomCommands); the agent runs it when called.
Fails with one line when no agent is registered for the host, the agent is unreachable (60 s per
network operation), or it answers with an error.""",
    examples=("orchestrator -c custom-command --hostname db-1.example.net --pattern disk-usage",),
)
def custom_command(ctx: Context) -> Output:
    from orchestrator_cli.agent import client
    from orchestrator_cli.errors import UsageError

    hostname = ctx.require(ctx.options.hostname.strip(), "--hostname", "the host whose orchestrator-agent runs it")
    name = ctx.require(ctx.options.pattern.strip(), "--pattern", "the name of the agent's custom command")
    if ctx.options.noop:
        raise UsageError("custom-command has no dry run (--noop): the agent runs the command when called")
    output = client.custom_command(ctx.backend, ctx.config, hostname, name)
    return Output(lines=output.splitlines(), data={"Hostname": hostname, "Command": name, "Output": output})
