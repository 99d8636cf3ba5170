"""One module for value coercion (model/coerce.py); the thread states defined once (model/threads.py)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

import orchestrator_cli
from orchestrator_cli.model.coerce import to_bool, to_int, to_opt_int, to_str
from orchestrator_cli.model.threads import ThreadState

ROOT = Path(orchestrator_cli.__file__).parent
HELPER = re.compile(
    r"^def (_int|_opt_int|_bool|_to_int|_to_bool|to_int|to_opt_int|to_bool|to_str)\(value: Any\b", re.MULTILINE
)


def test_coercion_helpers_are_defined_only_in_model_coerce() -> None:
    defining = {
        str(path.relative_to(ROOT)) for path in ROOT.rglob("*.py") if HELPER.search(path.read_text(encoding="utf-8"))
    }
    assert defining == {"model/coerce.py"}


def test_thread_constants_are_defined_once() -> None:
    defining = {
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if re.search(r"^THREAD_[A-Z]+\s*=|^THREAD_[A-Z]+, ", path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    assert defining == set()


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(None, 0), ("", 0), ("12", 12), (b"12", 12), (Decimal("12"), 12), ("12.7", 12), (True, 1), ("x", 0)],
)
def test_to_int_reads_every_driver_shape(cell: object, expected: int) -> None:
    assert to_int(cell) == expected


def test_null_stays_distinct_from_zero() -> None:
    assert to_opt_int(None) is None and to_opt_int("NULL") is None and to_opt_int("0") == 0


def test_to_bool_and_to_str() -> None:
    assert [to_bool(v) for v in ("1", "0", "ON", "off", 2, 0.0, None)] == [True, False, True, False, True, False, False]
    assert to_str(bytearray(b"db")) == "db" and to_str(None) == ""


def test_thread_state_is_comparable_with_the_stored_integers() -> None:
    assert ThreadState.from_cell(1, default=ThreadState.NONE) is ThreadState.RUNNING
    assert ThreadState.from_cell("7", default=ThreadState.STOPPED) is ThreadState.STOPPED
    assert ThreadState.NONE == -1 and sorted([ThreadState.RUNNING, ThreadState.NONE])[0] is ThreadState.NONE
