"""Tolerant coercion of stored or fetched cell values: the one place that says what a cell means.

Drivers disagree on types (``1`` vs ``'1'`` vs ``Decimal('1')`` vs ``b'1'``; ``None`` for SQL NULL), so
every reader of a backend row goes through these functions instead of its own ``int()``/``bool()``.

>>> from decimal import Decimal
>>> to_int("12"), to_int(None), to_int("", default=-1), to_int(Decimal("3.0")), to_int(b"7")
(12, 0, -1, 3, 7)
>>> to_opt_int(None) is None, to_opt_int("NULL") is None, to_opt_int("4.9")
(True, True, 4)
>>> to_bool("ON"), to_bool("0"), to_bool(None), to_bool(Decimal("1")), to_bool("maybe")
(True, False, False, True, False)
>>> to_server_flag("NO_LOCK"), to_server_flag("OFF"), to_server_flag(None)
(True, False, False)
>>> to_str(None), to_str(b"db1"), to_str(3306)
('', 'db1', '3306')
>>> to_opt_str(None) is None, to_opt_str(b"x")
(True, 'x')
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["to_bool", "to_int", "to_opt_int", "to_opt_str", "to_server_flag", "to_str"]

_TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE_WORDS = frozenset({"", "0", "false", "f", "no", "n", "off", "null", "none"})
_SERVER_OFF_WORDS = frozenset({"", "0", "OFF", "NO", "FALSE"})


def _is_decimal(value: Any) -> bool:
    """A `decimal.Decimal` (a MySQL driver's DECIMAL cell). `decimal` is imported here, only once a
    cell of a type other than int, float, str or bytes is met: at start-up it costs every CLI run ~1 ms,
    and the backend's reads never return one (`connection._plain`)."""
    if type(value) in (str, bytes, bytearray):
        return False
    from decimal import Decimal

    return isinstance(value, Decimal)


def to_bool(value: Any) -> bool:
    """A backend cell as a boolean; ``None`` and unparsable text are false.

    >>> [to_bool(v) for v in (1, 0, True, "yes", "No", " 2 ", "0.0", b"on", [])]
    [True, False, True, True, False, True, False, True, False]
    """
    if type(value) is int:  # the common case first: snapshots coerce dozens of cells per row
        return value != 0
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, bytes | bytearray):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_WORDS:
            return True
        if text in _FALSE_WORDS:
            return False
        try:
            return float(text) != 0
        except ValueError:
            return False
    if _is_decimal(value):
        return bool(value != 0)
    return bool(value)


def to_server_flag(value: Any) -> bool:
    """A server variable as a flag: anything but empty/``0``/``OFF``/``NO``/``FALSE`` is on.

    Enum levels such as ``NO_LOCK`` count as on, unlike :func:`to_bool`.

    >>> [to_server_flag(v) for v in ("ON", "off", "1", 0, 2, "FORCE_PLUS_PERMANENT", " ")]
    [True, False, True, False, True, True, False]
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    return to_str(value).strip().upper() not in _SERVER_OFF_WORDS


def to_opt_int(value: Any) -> int | None:
    """A backend cell as an integer, keeping ``None`` (SQL NULL) distinct; unparsable text is ``None``.

    >>> [to_opt_int(v) for v in (5, True, "  7 ", "1e3", "x", "", "none", 2.9, float("inf"))]
    [5, 1, 7, 1000, None, None, None, 2, None]
    """
    if type(value) is int:
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) or _is_decimal(value):
        try:
            return int(value)
        except (ValueError, OverflowError):
            return None
    if isinstance(value, bytes | bytearray):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        text = value.strip()
        if not text or text.lower() in ("null", "none"):
            return None
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return int(float(text))
        except (ValueError, OverflowError):
            return None
    return None


def to_int(value: Any, default: int = 0) -> int:
    """Like :func:`to_opt_int` but with a default for NULL or unparsable cells.

    >>> to_int("abc", default=9), to_int(-3)
    (9, -3)
    """
    if type(value) is int:  # the common case, without the dispatch
        return value
    result = to_opt_int(value)
    return default if result is None else result


def to_str(value: Any) -> str:
    """A backend cell as text; ``None`` becomes ``''`` and bytes are decoded as UTF-8."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", errors="replace")
    return str(value)


def to_opt_str(value: Any) -> str | None:
    """Like :func:`to_str` but keeping ``None`` (SQL NULL) distinct."""
    return None if value is None else to_str(value)
