"""`help` listings and topics, generated from the command registry."""

from __future__ import annotations

from orchestrator_cli.commands import registry

PROMPT = """orchestrator: MySQL replication topology management and high availability.

Usage: orchestrator -c <command> [-i host:port] [-d host:port] [--alias ..] [flags]
       orchestrator [--config FILE] http   (the service: the API on ListenAddress plus continuous mode)

Run `orchestrator -c help` for the list of commands, `orchestrator help <command>` for one command,
and `orchestrator -h` for the flags."""


def command_listing() -> str:
    out = ["Available commands (-c):"]
    for section, commands in registry.sections():
        out.append(f"  {section}:")
        for cmd in commands:
            out.append(f"\t{cmd.name:<40}{cmd.summary}")
    return "\n".join(out)


def _argument_lines(cmd: registry.Command) -> list[str]:
    target = {
        registry.INSTANCE: "-i host:port (default: this host)",
        registry.RAW_INSTANCE: "-i host:port (required)",
        registry.CLUSTER: "--alias <cluster alias or name> or -i <any member>",
    }.get(cmd.target)
    out = [target] if target else []
    if cmd.destination:
        out.append(f"-d host:port ({cmd.destination})")
    out.extend(cmd.flags)
    return out


def topic(name: str) -> str | None:
    cmd = registry.lookup(name)
    if cmd is None:
        return None
    out = [f"{cmd.name}: {cmd.summary}"]
    if cmd.details:
        out += ["", cmd.details.strip()]
    args = _argument_lines(cmd)
    if args:
        out += ["", "Arguments:"] + [f"  {a}" for a in args]
    if cmd.synonyms:
        out += ["", "Also accepted as: " + ", ".join(cmd.synonyms)]
    for example in cmd.examples:
        out += ["", "Example:", f"  {example}"]
    return "\n".join(out)
