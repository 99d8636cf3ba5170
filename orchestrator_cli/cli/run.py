"""Runs one registered command: config, context, one call per `-i` token, render, clean up."""

from __future__ import annotations

import sys

from orchestrator_cli import logs
from orchestrator_cli.cli.render import render
from orchestrator_cli.commands import registry
from orchestrator_cli.commands.context import Context, Options
from orchestrator_cli.commands.output import Output, combine
from orchestrator_cli.config import load_config
from orchestrator_cli.errors import OrchestratorError, UsageError
from orchestrator_cli.model.keys import split_keys


def run_command(cmd: registry.Command, options: Options) -> int:
    if "instance" in options.given and not split_keys(options.instance):
        # `-i "$HOST"` with an empty variable, or only separators: never the local host, never nothing
        raise UsageError(f"-i {options.instance!r} names no instance: give host:port (several separated by commas)")
    config = load_config(options.config or None)
    if config.get("Debug") and not options.quiet:
        logs.set_level(logs.DEBUG)
    logs.install_if_loaded()  # the command's module may log through `logging` itself
    if config.get("RaftEnabled") and not options.ignore_raft_setup:
        raise UsageError("RaftEnabled is set: use the raft leader's API, or pass --ignore-raft-setup")
    if options.enable_database_update and config.get("SkipOrchestratorDatabaseUpdate"):
        config = load_config(options.config or None, {"SkipOrchestratorDatabaseUpdate": False})
    context = Context(options, config)
    tokens = split_keys(options.instance) if cmd.multi_instance and options.instance else [options.instance]
    if len(tokens) > 1 and cmd.target in (registry.INSTANCE, registry.RAW_INSTANCE):
        # A typo in a later token must not let the earlier ones run: check every key first.
        for token in tokens:
            context.parse_key(token)
    outputs: list[Output] = []
    try:
        for token in tokens:
            try:
                outputs.append(cmd.func(context.for_instance(token)))
            except OrchestratorError:
                if outputs:
                    render(combine(outputs), options.format)
                raise
        if cmd.access == "L":
            context.register_process()  # commands that took locks registered already, before them
        render(combine(outputs) if outputs else Output(), options.format)
    finally:
        context.close()
        sys.stdout.flush()
    return 0
