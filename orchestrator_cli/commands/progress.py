"""Progress for long operations: a rich bar on a terminal, nothing in cron."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from orchestrator_cli.commands.context import Context

Update = Callable[[int, int, str], None]


@contextlib.contextmanager
def progress(ctx: Context, title: str) -> Iterator[Update | None]:
    if not ctx.interactive or ctx.options.format == "json":
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[current]}"),
        console=Console(stderr=True), transient=True,
    )  # fmt: skip
    task = bar.add_task(title, total=None, current="")
    with bar:

        def update(done: int, total: int, current: str) -> None:
            bar.update(task, completed=done, total=total, current=current)

        yield update


def note(ctx: Context, text: str) -> None:
    """A human summary on stderr, shown only to a person at a terminal."""
    if ctx.interactive and ctx.options.format != "json":
        import sys

        print(text, file=sys.stderr)


def notice(ctx: Context, text: str) -> None:
    """One line on stderr, in cron too, for an answer that prints nothing on stdout (why nothing was
    done); --quiet silences it."""
    if not ctx.options.quiet:
        import sys

        print(f"orchestrator: {ctx.options.command}: {text}", file=sys.stderr)
