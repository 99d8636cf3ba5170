"""Runs one registered command: config, context, one call per `-i` token, render, clean up."""

from __future__ import annotations

import logging
import sys

from orchestrator_cli import __version__
from orchestrator_cli.cli.render import render
from orchestrator_cli.commands import registry
from orchestrator_cli.commands.context import Context, Options
from orchestrator_cli.commands.output import Output, combine
from orchestrator_cli.config import load_config
from orchestrator_cli.errors import OrchestratorError, UsageError
from orchestrator_cli.model.keys import split_keys

log = logging.getLogger("orchestrator")


def run_command(cmd: registry.Command, options: Options) -> int:
    config = load_config(options.config or None)
    if config.get("Debug") and not options.quiet:
        logging.getLogger("orchestrator").setLevel(logging.DEBUG)
    if config.get("RaftEnabled") and not options.ignore_raft_setup:
        raise UsageError("RaftEnabled is set: use the raft leader's API, or pass --ignore-raft-setup")
    if options.enable_database_update and config.get("SkipOrchestratorDatabaseUpdate"):
        config = load_config(options.config or None, {"SkipOrchestratorDatabaseUpdate": False})
    context = Context(options, config)
    tokens = split_keys(options.instance) if cmd.multi_instance and options.instance else [options.instance]
    outputs: list[Output] = []
    try:
        if cmd.access == "L" and not options.skip_continuous_registration:
            from orchestrator_cli.backend import health

            health.register(context.backend, "CLIMode", cmd.name, __version__)
        for token in tokens:
            try:
                outputs.append(cmd.func(context.for_instance(token)))
            except OrchestratorError:
                if outputs:
                    render(combine(outputs), options.format)
                raise
        render(combine(outputs) if outputs else Output(), options.format)
    finally:
        context.close()
        sys.stdout.flush()
    return 0
