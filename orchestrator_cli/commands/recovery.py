"""Recovery commands: failure analysis, recoveries and takeovers, acknowledgements, the global switch.

Each command is thin: it resolves its arguments, calls `recovery/` (or the backend for the pure
bookkeeping commands) and shapes the original's output.
"""

from __future__ import annotations

from orchestrator_cli.commands.context import Context
from orchestrator_cli.commands.output import Output
from orchestrator_cli.commands.registry import NO_INSTANCE, command

SECTION = "Recovery"


@command(
    "replication-analysis",
    SECTION,
    "List current replication problems of all clusters (downtimed and problem-free entries omitted)",
    target=NO_INSTANCE,
    details=(
        "One line per problem: `host:port (cluster C): Code[, Warning...]`. Empty output means no\n"
        "problems. `--format json` prints the original API's ReplicationAnalysis objects."
    ),
)
def replication_analysis(ctx: Context) -> Output:
    from orchestrator_cli.analysis import format_line, to_json
    from orchestrator_cli.recovery.detection import current_analysis

    entries = current_analysis(ctx.backend, ctx.config)
    return Output(lines=[format_line(a) for a in entries], data=[to_json(a) for a in entries])
