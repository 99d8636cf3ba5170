"""What a command returns: plain lines in the original's format, structured data for JSON, an optional rich view."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Output:
    lines: list[str] = field(default_factory=list)
    data: Any = None
    rich: Callable[[], Any] | None = None  # builds a rich renderable for terminals

    def json_data(self) -> Any:
        return self.lines if self.data is None else self.data


def combine(outputs: list[Output]) -> Output:
    """Several `-i` tokens: the original concatenates their output; JSON gets one entry per token."""
    if len(outputs) == 1:
        return outputs[0]
    return Output(lines=[ln for o in outputs for ln in o.lines], data=[o.json_data() for o in outputs])


def lines(items: Iterable[object], data: Any = None) -> Output:
    return Output(lines=[str(i) for i in items], data=data)


def line(text: object, data: Any = None) -> Output:
    return Output(lines=[str(text)], data=str(text) if data is None else data)


def nothing(data: Any = None) -> Output:
    return Output(lines=[], data=data)
