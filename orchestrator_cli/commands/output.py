"""What a command returns: plain lines in the original's format, structured data for JSON, an optional rich view."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any


class Output:
    """A command's result. A plain class: `dataclasses` is not imported on the cron path."""

    __slots__ = ("lines", "data", "rich")

    def __init__(self, lines: list[str] | None = None, data: Any = None, rich: Callable[[], Any] | None = None) -> None:
        self.lines: list[str] = [] if lines is None else lines
        self.data = data
        self.rich = rich  # builds a rich renderable for terminals

    def __repr__(self) -> str:
        return f"Output(lines={self.lines!r}, data={self.data!r}, rich={self.rich!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Output):
            return NotImplemented
        return (self.lines, self.data, self.rich) == (other.lines, other.data, other.rich)

    __hash__ = None  # type: ignore[assignment]

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
