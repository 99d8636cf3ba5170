"""`Frozen`: the base of the written-out immutable value classes on the CLI's start-up paths.

Generating a frozen dataclass costs the import of its module: ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` and ``__setattr__`` are built from source text and, with ``slots=True``, the class is made
twice. For the facts a probe reads (mysql/facts.py) and the binlog coordinates that cost every
`discover` about 30 M instructions, ~8 % of the whole process. A subclass lists its fields, in order,
in ``__slots__``, annotates them, and writes its ``__init__`` out (``set_fields(self, locals())``);
this base gives it what ``@dataclass(frozen=True)`` gave: immutability, equality and hash by the fields
(between instances of the same class only), the dataclass ``repr``, copying and pickling, and
``replace`` (``dataclasses.replace``'s counterpart).

>>> class Point(Frozen):
...     __slots__ = ("x", "y")
...     x: int
...     y: int
...
...     def __init__(self, x: int, y: int = 0) -> None:
...         set_fields(self, locals())
>>> p = Point(1, 2)
>>> p, p == Point(1, 2), p.replace(y=5), hash(p) == hash(Point(1, 2))
(Point(x=1, y=2), True, Point(x=1, y=5), True)
>>> p.x = 3
Traceback (most recent call last):
...
AttributeError: cannot assign to field 'x': Point is immutable
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import Any, Self


__all__ = ["Frozen", "set_fields"]

_setattr = object.__setattr__


def set_fields(obj: Frozen, values: dict[str, Any]) -> None:
    """Set every field of `obj` from `values` (an ``__init__``'s ``locals()``)."""
    for name in obj.__slots__:
        _setattr(obj, name, values[name])


def _rebuild(cls: type[Frozen], values: tuple[Any, ...]) -> Frozen:
    """Unpickle (and copy) without calling ``__init__``: the values were checked when first made."""
    obj = object.__new__(cls)
    for name, value in zip(cls.__slots__, values, strict=True):
        _setattr(obj, name, value)
    return obj


class Frozen:
    """An immutable value whose fields are its ``__slots__``; see the module's docstring.

    Not a dataclass, to type checkers either: ``dataclasses.replace`` (which fails on these at run
    time) is then a type error, and ``.replace`` is what to call. Assigning a field is refused at
    run time only."""

    __slots__: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is immutable")

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self.__slots__])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._values()))

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed, built through ``__init__`` (so its checks apply)."""
        values = {name: getattr(self, name) for name in self.__slots__}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(sorted(unknown))}")
        values.update(changes)
        return type(self)(**values)
