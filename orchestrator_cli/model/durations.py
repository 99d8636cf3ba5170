"""`--duration` values: digits plus one unit, as the original accepts them (`90s`, `30m`, `2d`, `4w`)."""

from __future__ import annotations

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Longer spans overflow the backend: MySQL TIMESTAMP columns end in 2038, and on SQLite the end time
# becomes NULL, which reads as a downtime that never ends.
MAX_SECONDS = 5 * 365 * 86400


def parse_duration(text: str) -> int:
    """Return seconds.

    >>> parse_duration("90s"), parse_duration("3h")
    (90, 10800)
    """
    value = text.strip()
    digits, unit = value[:-1], value[-1:]
    if not (digits.isascii() and digits.isdigit() and unit in _UNITS):  # `^[0-9]+[smhdw]$`
        raise ValueError(f"cannot parse duration {text!r}: expected digits and one of s, m, h, d, w")
    seconds = int(digits) * _UNITS[unit]
    if seconds > MAX_SECONDS:
        raise ValueError(f"duration {text!r} is too long: at most {MAX_SECONDS // 86400}d")
    return seconds


def format_duration(seconds: int) -> str:
    """Largest exact unit, for messages.

    >>> format_duration(600), format_duration(90)
    ('10m', '90s')
    """
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
