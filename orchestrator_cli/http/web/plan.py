"""What an action of the web interface will do, computed before the operator confirms it.

Refactoring moves (`relocate`, `move-up`) run through the same command functions as the CLI with
`--noop`: the answer lists the exact statements each server would receive, or the reason the move is
refused (a destination below the replica, a server in maintenance, replication that cannot work),
and nothing changes. Actions without a dry run (recoveries, takeovers, backend-only changes) are
described by the command registry's own help text, after the arguments are checked the way the
command checks them, so the dialog never promises something the command would refuse outright.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator_cli.errors import OrchestratorError

if TYPE_CHECKING:
    from orchestrator_cli.commands.context import Context
    from orchestrator_cli.http.invoke import Service

# Actions the web interface offers, and whether the command has a dry run.
DRY_RUN = frozenset({"relocate", "move-up"})
DESCRIBED = frozenset(
    {
        "begin-downtime",
        "end-downtime",
        "register-candidate",
        "graceful-master-takeover",
        "recover",
        "ack-cluster-recoveries",
        "ack-all-recoveries",
        "enable-global-recoveries",
        "disable-global-recoveries",
    }
)
ACTIONS = DRY_RUN | DESCRIBED


@dataclass(frozen=True)
class Request:
    """The arguments of one action, named as the CLI's flags."""

    command: str
    instance: str = ""
    destination: str = ""
    alias: str = ""
    promotion_rule: str = ""
    duration: str = ""
    reason: str = ""
    owner: str = ""


@dataclass
class Plan:
    command: str
    summary: str
    details: str
    touches_servers: bool
    dry_run: bool
    statements: list[dict[str, str]] = field(default_factory=list)
    refused: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "Command": self.command,
            "Summary": self.summary,
            "Details": self.details,
            "TouchesServers": self.touches_servers,
            "DryRun": self.dry_run,
            "Statements": self.statements,
            "Refused": self.refused,
        }


def plan(svc: Service, request: Request) -> Plan:
    """The dry run or description of `request`; an unknown action is a UsageError."""
    from orchestrator_cli.commands import registry
    from orchestrator_cli.errors import UsageError

    registry.load_all()
    cmd = registry.lookup(request.command)
    if cmd is None or cmd.name not in ACTIONS:
        raise UsageError(f"the web interface offers no action named {request.command!r}")
    result = Plan(
        command=cmd.name,
        summary=cmd.summary,
        details=cmd.details.strip(),
        touches_servers=cmd.access == "L",
        dry_run=cmd.name in DRY_RUN,
    )
    ctx = _context(svc, request)
    try:
        if result.dry_run:
            output = cmd.func(ctx)
            result.statements = list(output.data["Statements"])
        else:
            _check_arguments(ctx, request)
    except OrchestratorError as refusal:
        result.refused = str(refusal)
    finally:
        ctx.close()
    return result


def _context(svc: Service, request: Request) -> Context:
    """The Context the API's route for this command would build (shared backend, the caller as owner)."""
    from orchestrator_cli.http import invoke

    return invoke.context(
        svc,
        request.command,
        instance=request.instance,
        destination=request.destination,
        alias=request.alias,
        owner=request.owner,
        reason=request.reason,
        duration=request.duration,
        promotion_rule=request.promotion_rule or "prefer",
        noop=request.command in DRY_RUN,
    )


def _check_arguments(ctx: Context, request: Request) -> None:
    """Refuse what the command itself would refuse before touching anything: unknown instance or cluster."""
    from orchestrator_cli.errors import UsageError
    from orchestrator_cli.model.promotion import parse_promotion_rule

    if request.command in {"begin-downtime", "end-downtime", "register-candidate", "recover"}:
        ctx.known_instance(ctx.instance_key(local_default=False))
    if request.command == "begin-downtime":
        from orchestrator_cli.model.durations import parse_duration

        ctx.require(request.reason, "reason")
        try:
            seconds = parse_duration(request.duration)
        except ValueError as e:
            raise UsageError(str(e)) from e
        if seconds <= 0:
            raise UsageError(f"the duration must be positive, got {request.duration!r}")
    if request.command == "register-candidate":
        try:
            parse_promotion_rule(request.promotion_rule)
        except ValueError as e:
            raise UsageError(str(e)) from e
    if request.command in {"graceful-master-takeover", "ack-cluster-recoveries"}:
        ctx.cluster_name()
    if request.command == "graceful-master-takeover" and request.destination:
        destination = ctx.destination_key()
        assert destination is not None  # required=True raises instead
        ctx.known_instance(destination)
