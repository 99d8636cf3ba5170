"""Renders a command's Output: the original's plain lines when piped, rich on a terminal, or JSON."""

from __future__ import annotations

import sys

from orchestrator_cli.commands.output import Output

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import TextIO


def render(output: Output, fmt: str, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    if fmt == "json":
        import json  # `json` imports `re`: only the JSON form pays for it

        stream.write(json.dumps(output.json_data(), indent=2, default=str) + "\n")
        return
    if output.rich is not None and stream.isatty():
        from rich.console import Console

        Console(file=stream).print(output.rich())
        return
    if output.lines:
        stream.write("\n".join(output.lines) + "\n")
