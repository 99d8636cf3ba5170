"""Reading what topology servers return: rows, and the coercion of their values.

Rows are dictionaries keyed by column name, as a ``mysql.connector`` dictionary cursor returns them;
values may be ``str``, ``bytes``, ``int`` or ``None`` and column names are matched case-insensitively
(:class:`Columns`).  The ``to_*`` helpers never raise: a value that cannot be read as the wanted type
reads as the type's empty value, because a server that answers oddly must not break a probe.

These helpers are local to the mysql layer (the values servers return); they read server flags the
way MySQL prints them (``ON``/``OFF``, ``Yes``/``No``, enum levels).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Row = Mapping[str, Any]


class FlavorError(ValueError):
    """An operation the flavor cannot perform, an invalid argument for a statement, or an answer
    from a server that cannot be read."""


def to_str(value: Any) -> str:
    """Text of a column value; ``None`` is ``""`` and bytes are decoded as UTF-8.

    >>> to_str(None), to_str(b"mysql-bin.000001"), to_str(3306)
    ('', 'mysql-bin.000001', '3306')
    """
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def to_int(value: Any, default: int = 0) -> int:
    """An integer column value; ``default`` for ``None``, empty or unreadable text.

    >>> to_int("42"), to_int(b"7"), to_int("1.9"), to_int(None), to_int("n/a", -1)
    (42, 7, 1, 0, -1)
    """
    if value is None:
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = to_str(value).strip()
    if text == "":
        return default
    try:
        return int(text)
    except ValueError:
        try:
            return int(float(text))
        except ValueError:
            return default


def to_opt_int(value: Any) -> int | None:
    """An integer that may be absent: ``None``, empty text and ``NULL`` read as ``None``.

    >>> to_opt_int(None), to_opt_int(""), to_opt_int("NULL"), to_opt_int("0"), to_opt_int(12)
    (None, None, None, 0, 12)
    """
    if value is None:
        return None
    text = to_str(value).strip()
    if text == "" or text.upper() == "NULL":
        return None
    return to_int(value)


def to_bool(value: Any) -> bool:
    """A server flag: ``ON``/``1``/``YES``/``TRUE`` and enum levels such as ``NO_LOCK`` are true;
    ``None``, empty, ``0``, ``OFF``, ``NO`` and ``FALSE`` are false.

    >>> to_bool("ON"), to_bool(1), to_bool("NO_LOCK"), to_bool("OFF"), to_bool(None), to_bool("0")
    (True, True, True, False, False, False)
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    text = to_str(value).strip().upper()
    return text not in ("", "0", "OFF", "NO", "FALSE")


def gtid_text(value: Any) -> str:
    """A GTID set as one line: Oracle servers separate entries with ``,\\n``.

    >>> gtid_text("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\\n8f8d5a6e-1e2b-11ee-b9a4-0242ac120002:1")
    '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,8f8d5a6e-1e2b-11ee-b9a4-0242ac120002:1'
    """
    return "".join(to_str(value).split("\n")).replace("\r", "").strip()


class Columns:
    """Case-insensitive read access to one result row.

    >>> Columns({"Master_Host": "db1"}).get("master_host")
    'db1'
    >>> Columns({"Source_Host": "db2"}).get("Master_Host", "Source_Host")
    'db2'
    """

    def __init__(self, row: Row) -> None:
        self._row = {str(k).lower(): v for k, v in row.items()}

    def get(self, *names: str) -> Any:
        """The value of the first of ``names`` the row has, else ``None``."""
        for name in names:
            key = name.lower()
            if key in self._row:
                return self._row[key]
        return None

    def has(self, *names: str) -> bool:
        return any(name.lower() in self._row for name in names)


def rows_to_dict(rows: Iterable[Row]) -> dict[str, str]:
    """``SHOW VARIABLES`` / ``SHOW STATUS`` rows (``Variable_name``, ``Value``) as a dict.

    >>> rows_to_dict([{"Variable_name": "Uptime", "Value": 86400}, {"Variable_name": "", "Value": "x"}])
    {'Uptime': '86400'}
    """
    out: dict[str, str] = {}
    for row in rows:
        cols = Columns(row)
        name = to_str(cols.get("Variable_name"))
        if name:
            out[name] = to_str(cols.get("Value"))
    return out
