"""Tag expressions of `--tag`: `name`, `name=value`, `name=`, negation with `~`/`!`, AND-lists."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

_NAME = r"^[^=~!,\s][^=,]*$"  # compiled on first use (`re` caches it): `topology-tags` needs no `re`


class Tag:
    """One tag or tag condition. `has_value` distinguishes `name` (any value) from `name=`.

    An immutable value, equal and hashed by its four fields; written out rather than a frozen
    dataclass, because `topology-tags` reads tags and the `dataclasses` import cost it ~5 ms.

    >>> Tag("role", "backup", has_value=True)
    Tag(name='role', value='backup', has_value=True, negate=False)
    """

    __slots__ = ("name", "value", "has_value", "negate")
    __match_args__ = ("name", "value", "has_value", "negate")
    name: str
    value: str
    has_value: bool
    negate: bool

    def __init__(self, name: str, value: str = "", has_value: bool = False, negate: bool = False) -> None:
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "value", value)
        set_(self, "has_value", has_value)
        set_(self, "negate", negate)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: Tag is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: Tag is immutable")

    def _fields(self) -> tuple[str, str, bool, bool]:
        return (self.name, self.value, self.has_value, self.negate)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Tag:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"Tag(name={self.name!r}, value={self.value!r}, has_value={self.has_value!r}, negate={self.negate!r})"

    def __reduce__(self) -> tuple[type[Tag], tuple[str, str, bool, bool]]:
        return (Tag, self._fields())

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
    import re

    if not name or not re.match(_NAME, name):
        raise ValueError(f"cannot parse tag {text!r}")
    return Tag(name=name, value=value.strip(), has_value=bool(sep), negate=negate)


def parse_tag_expression(text: str) -> list[Tag]:
    """Comma-separated conditions, all of which must hold."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError("empty tag expression")
    return [parse_tag(p) for p in parts]
