"""`--duration`: digits plus exactly one of s, m, h, d, w; anything else is refused with a clear message."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_cli.model.durations import MAX_SECONDS, format_duration, parse_duration

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("3h", 10800), ("2d", 172800), ("4w", 2419200), ("0s", 0), (" 10m ", 600)],
)
def test_examples(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    ["", "90", "s", "1.5h", "-5m", "+5m", "5 m", "5M", "5min", "1h30m", "5y", "5ms", "h5", "\u0665m", "1e3s", "5s\n5s"],
)
def test_refused(text: str) -> None:
    with pytest.raises(ValueError, match="cannot parse duration"):
        parse_duration(text)


def test_longer_than_the_backend_can_store_is_refused() -> None:
    assert parse_duration(f"{MAX_SECONDS}s") == MAX_SECONDS
    with pytest.raises(ValueError, match="too long"):
        parse_duration(f"{MAX_SECONDS + 1}s")
    with pytest.raises(ValueError, match="too long"):
        parse_duration("1000000000000000000000w")


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(sorted(UNIT_SECONDS)))
def test_value_times_unit(n: int, unit: str) -> None:
    expected = n * UNIT_SECONDS[unit]
    if expected > MAX_SECONDS:
        with pytest.raises(ValueError, match="too long"):
            parse_duration(f"{n}{unit}")
    else:
        assert parse_duration(f"{n}{unit}") == expected


@given(st.integers(min_value=0, max_value=MAX_SECONDS))
def test_format_round_trips(seconds: int) -> None:
    text = format_duration(seconds)
    assert parse_duration(text) == seconds
    assert text[-1] in UNIT_SECONDS


def test_format_picks_the_largest_exact_unit() -> None:
    assert [format_duration(s) for s in (0, 59, 60, 90, 3600, 86400, 604800, 1209600, 86401)] == [
        "0s",
        "59s",
        "1m",
        "90s",
        "1h",
        "1d",
        "1w",
        "2w",
        "86401s",
    ]


@given(st.text(max_size=12))
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except ValueError:
        return
    assert 0 <= seconds <= MAX_SECONDS
