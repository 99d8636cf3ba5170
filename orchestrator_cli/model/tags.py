"""Tag expressions of `--tag`: `name`, `name=value`, `name=`, negation with `~`/`!`, AND-lists."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^[^=~!,\s][^=,]*$")


@dataclass(frozen=True)
class Tag:
    """One tag or tag condition. `has_value` distinguishes `name` (any value) from `name=`."""

    name: str
    value: str = ""
    has_value: bool = False
    negate: bool = False

    def display(self) -> str:
        """Form used by `topology-tags`: a value-less tag shows as its bare name."""
        return f"{self.name}={self.value}" if self.value else self.name


def parse_tag(text: str, allow_negation: bool = True) -> Tag:
    raw = text.strip()
    if not raw:
        raise ValueError("empty tag")
    negate = raw[0] in "~!"
    if negate:
        if not allow_negation:
            raise ValueError(f"negation is not supported here: {text!r}")
        raw = raw[1:]
    name, sep, value = raw.partition("=")
    name = name.strip()
    if not name or not _NAME.match(name):
        raise ValueError(f"cannot parse tag {text!r}")
    return Tag(name=name, value=value.strip(), has_value=bool(sep), negate=negate)


def parse_tag_expression(text: str) -> list[Tag]:
    """Comma-separated conditions, all of which must hold."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError("empty tag expression")
    return [parse_tag(p) for p in parts]
