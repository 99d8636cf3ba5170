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

    def extend(self, other: Output) -> None:
        """Several `-i` tokens: the original concatenates their output."""
        self.lines.extend(other.lines)
        if other.data is not None or self.data is not None:
            mine = self.json_data()
            theirs = other.json_data()
            mine = mine if isinstance(mine, list) else [mine]
            self.data = [*mine, *(theirs if isinstance(theirs, list) else [theirs])]


def lines(items: Iterable[object], data: Any = None) -> Output:
    return Output(lines=[str(i) for i in items], data=data)


def line(text: object, data: Any = None) -> Output:
    return Output(lines=[str(text)], data=str(text) if data is None else data)


def nothing(data: Any = None) -> Output:
    return Output(lines=[], data=data)
