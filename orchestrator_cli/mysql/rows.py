"""Reading what topology servers return: rows, and the coercion of their values.

Rows are dictionaries keyed by column name, as a ``mysql.connector`` dictionary cursor returns them;
values may be ``str``, ``bytes``, ``int`` or ``None`` and column names are matched case-insensitively
(:class:`Columns`).  Values are coerced by `orchestrator_cli.model.coerce` (the one place that says what
a cell means; server flags such as ``ON``/``OFF`` and enum levels through ``to_server_flag``): a value
that cannot be read as the wanted type reads as the type's empty value, because a server that answers
oddly must not break a probe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from orchestrator_cli.model.coerce import to_str

Row = Mapping[str, Any]


class FlavorError(ValueError):
    """An operation the flavor cannot perform, an invalid argument for a statement, or an answer
    from a server that cannot be read."""


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
