"""`--noop`: the statements the access layer recorded instead of sending, shown as `host:port: STATEMENT`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from orchestrator_cli.commands.context import Context


@contextlib.contextmanager
def recorded(ctx: Context) -> Iterator[list[tuple[str, str]]]:
    """Collect what the body would have sent, as (key, statement) pairs with passwords masked."""
    from orchestrator_cli.mysql.server import redact_statement

    statements = ctx.topology.noop_statements
    before = len(statements)
    taken: list[tuple[str, str]] = []
    try:
        yield taken
    finally:
        taken.extend((str(key), redact_statement(sql)) for key, sql in statements[before:])
        del statements[before:]  # several -i tokens share one access object


def lines_of(taken: list[tuple[str, str]]) -> list[str]:
    return [f"{key}: {sql}" for key, sql in taken]
