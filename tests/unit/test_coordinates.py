"""Binlog coordinates: parsing, ordering across file-number rollover, detach/reattach."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_cli.model import coordinates as coordinates_module
from orchestrator_cli.model.coordinates import BinlogCoordinates, LogType

PROPS = settings(max_examples=200, deadline=None)


def test_doctests() -> None:
    assert doctest.testmod(coordinates_module).failed == 0


class TestParsing:
    def test_parse(self) -> None:
        c = BinlogCoordinates.parse("mysql-bin.000012:1234")
        assert c == BinlogCoordinates("mysql-bin.000012", 1234, LogType.BINARY)
        assert str(c) == "mysql-bin.000012:1234"

    def test_parse_relay_and_whitespace(self) -> None:
        c = BinlogCoordinates.parse("  relay-bin.000003 : 4 \n", LogType.RELAY)
        assert c == BinlogCoordinates("relay-bin.000003", 4, LogType.RELAY)
        assert c != BinlogCoordinates("relay-bin.000003", 4)

    def test_log_type_from_string(self) -> None:
        assert BinlogCoordinates("f.1", 4, "relay").log_type is LogType.RELAY  # type: ignore[arg-type]

    @pytest.mark.parametrize("text", ["", "mysql-bin.000012", ":12", "mysql-bin.000012:", "f:-1", "f:1x", "f:+1"])
    def test_malformed(self, text: str) -> None:
        with pytest.raises(ValueError, match="invalid binlog coordinates"):
            BinlogCoordinates.parse(text)

    def test_validation(self) -> None:
        with pytest.raises(ValueError):
            BinlogCoordinates("f.1", -1)
        with pytest.raises(TypeError):
            BinlogCoordinates("f.1", "4")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            BinlogCoordinates("f.1", 4, "bogus")  # type: ignore[arg-type]

    def test_empty(self) -> None:
        assert BinlogCoordinates("", 0).is_empty
        assert not BinlogCoordinates("mysql-bin.000001", 0).is_empty

    def test_frozen_and_hashable(self) -> None:
        c = BinlogCoordinates("mysql-bin.000001", 4)
        with pytest.raises(AttributeError):
            c.pos = 5
        assert len({c, BinlogCoordinates("mysql-bin.000001", 4)}) == 1


class TestOrdering:
    def test_position_within_file(self) -> None:
        assert BinlogCoordinates("mysql-bin.000012", 4) < BinlogCoordinates("mysql-bin.000012", 1234)

    def test_file_before_position(self) -> None:
        assert BinlogCoordinates("mysql-bin.000012", 99999) < BinlogCoordinates("mysql-bin.000013", 4)

    def test_rollover_past_six_digits(self) -> None:
        older = BinlogCoordinates("mysql-bin.999999", 500)
        newer = BinlogCoordinates("mysql-bin.1000000", 4)
        assert older < newer and newer > older and older <= newer and newer >= older
        assert older.file_smaller_than(newer)
        assert older.next_file_name() == "mysql-bin.1000000"

    def test_different_prefixes_compare_as_strings(self) -> None:
        assert BinlogCoordinates("binlog.000900", 4) < BinlogCoordinates("mysql-bin.000001", 4)

    def test_sorting(self) -> None:
        files = ["mysql-bin.000010", "mysql-bin.000002", "mysql-bin.1000000", "mysql-bin.999999"]
        ordered = sorted(BinlogCoordinates(f, 4) for f in files)
        assert [c.file for c in ordered] == [
            "mysql-bin.000002",
            "mysql-bin.000010",
            "mysql-bin.999999",
            "mysql-bin.1000000",
        ]

    def test_same_position_ignores_log_type(self) -> None:
        a = BinlogCoordinates("x.000001", 4)
        b = BinlogCoordinates("x.000001", 4, LogType.RELAY)
        assert a != b and a.same_position(b) and (a < b) != (b < a)

    def test_not_comparable_with_other_types(self) -> None:
        with pytest.raises(TypeError):
            _ = BinlogCoordinates("x.1", 4) < "x.1:5"  # type: ignore[operator]


class TestFileNumbers:
    def test_numbers(self) -> None:
        c = BinlogCoordinates("mysql-bin.000012", 1234)
        assert c.file_number() == 12
        assert c.next_file_name() == "mysql-bin.000013"
        assert c.previous_file_name() == "mysql-bin.000011"
        assert BinlogCoordinates("mysql-bin.000099", 4).next_file_name() == "mysql-bin.000100"
        assert c.file_number_delta(BinlogCoordinates("mysql-bin.000009", 4)) == 3

    def test_errors(self) -> None:
        with pytest.raises(ValueError, match="no numeric suffix"):
            BinlogCoordinates("mysql-bin.index", 4).file_number()
        with pytest.raises(ValueError, match="no log file precedes"):
            BinlogCoordinates("mysql-bin.000001", 4).previous_file_name()
        with pytest.raises(ValueError, match="different prefixes"):
            BinlogCoordinates("a.000002", 4).file_number_delta(BinlogCoordinates("b.000001", 4))


class TestDetach:
    def test_detach_reattach(self) -> None:
        c = BinlogCoordinates("mysql-bin.000012", 1234)
        d = c.detach()
        assert d.file == "//mysql-bin.000012:1234" and d.pos == 1234 and d.is_detached
        assert not c.is_detached
        assert d.reattach() == c
        assert d.detach() == d
        assert c.reattach() == c

    def test_detached_text_from_show_slave_status(self) -> None:
        # Relay_Master_Log_File of a detached replica, parsed back from "file:pos" text.
        c = BinlogCoordinates.parse("//mysql-bin.000012:1234:1234")
        assert c.is_detached and c.reattach() == BinlogCoordinates("mysql-bin.000012", 1234)

    def test_relay_type_survives(self) -> None:
        c = BinlogCoordinates("relay.000002", 7, LogType.RELAY)
        assert c.detach().log_type is LogType.RELAY and c.detach().reattach() == c


file_names = st.builds(
    lambda prefix, number, width: f"{prefix}{str(number).zfill(width)}",
    st.sampled_from(["mysql-bin.", "binlog.", "relay-log.", "host-1-bin."]),
    st.integers(1, 10**7),
    st.integers(1, 8),
)
coordinates = st.builds(BinlogCoordinates, file_names, st.integers(0, 2**40), st.sampled_from(LogType))


@PROPS
@given(coordinates)
def test_roundtrip(c: BinlogCoordinates) -> None:
    assert BinlogCoordinates.parse(str(c), c.log_type) == c
    assert c.detach().reattach() == c
    assert BinlogCoordinates.parse(str(c.detach()), c.log_type) == c.detach()


@PROPS
@given(coordinates, coordinates, coordinates)
def test_total_order(a: BinlogCoordinates, b: BinlogCoordinates, c: BinlogCoordinates) -> None:
    assert sum([a < b, a == b, a > b]) == 1
    assert (a <= b) == (a < b or a == b)
    if a <= b and b <= c:
        assert a <= c


@PROPS
@given(st.sampled_from(["mysql-bin.", "binlog."]), st.integers(1, 10**7), st.integers(1, 10**7), st.integers(0, 9))
def test_same_prefix_orders_by_number(prefix: str, m: int, n: int, pos: int) -> None:
    a = BinlogCoordinates(f"{prefix}{m:06d}", pos)
    b = BinlogCoordinates(f"{prefix}{n:06d}", pos)
    assert (a < b) == (m < n)
    assert a.file_number_delta(b) == m - n


@PROPS
@given(coordinates)
def test_next_previous_inverse(c: BinlogCoordinates) -> None:
    following = BinlogCoordinates(c.next_file_name(), 4, c.log_type)
    assert following.file_number() == c.file_number() + 1
    assert following.file_smaller_than(c) is False and c.file_smaller_than(following)
    back = BinlogCoordinates(following.previous_file_name(), 4)
    assert back.file_number() == c.file_number()
    if len(following.file) == len(c.file):  # no extra digit was needed
        assert back.file == c.file
