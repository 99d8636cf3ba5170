"""Instance keys: the `host:port` identity used everywhere (backend rows, flags, output)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

# Matched with fullmatch (`$` would also accept a trailing newline), compiled on first use: only IPv6
# keys need them, and compiling patterns at import costs every cron run.
_BRACKETED_V6 = r"\[([0-9a-fA-F:.]+)\]:([0-9]+)"
_BARE_V6 = r"[0-9a-fA-F:]+"
_HOST_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def _valid_host(host: str) -> bool:
    """`(//)?[A-Za-z0-9_.-]+`: a host name (or a detached `//host`)."""
    name = host[2:] if host.startswith("//") else host
    return bool(name) and all(c in _HOST_CHARS for c in name)


def _digits(text: str) -> bool:
    """`[0-9]+`"""
    return text.isascii() and text.isdigit()


class InstanceKey:
    """A MySQL server as orchestrator names it: an immutable value, equal, hashed and ordered as the
    (hostname, port) pair.

    Written out rather than a frozen dataclass: it is on every command's start-up path, and the
    `dataclasses` import alone costs a cron job about 4 ms.

    >>> InstanceKey.parse("db1:3307")
    InstanceKey(hostname='db1', port=3307)
    >>> str(InstanceKey.parse("db2", default_port=3306))
    'db2:3306'
    >>> sorted([InstanceKey("b", 1), InstanceKey("a", 2)])[0]
    InstanceKey(hostname='a', port=2)
    """

    __slots__ = ("hostname", "port")
    __match_args__ = ("hostname", "port")
    hostname: str
    port: int

    def __init__(self, hostname: str, port: int) -> None:
        object.__setattr__(self, "hostname", hostname)
        object.__setattr__(self, "port", port)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: InstanceKey is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: InstanceKey is immutable")

    def __reduce__(self) -> tuple[type[InstanceKey], tuple[str, int]]:
        return (InstanceKey, (self.hostname, self.port))

    def __repr__(self) -> str:
        return f"InstanceKey(hostname={self.hostname!r}, port={self.port!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not InstanceKey:
            return NotImplemented
        return self.hostname == other.hostname and self.port == other.port

    def __hash__(self) -> int:
        return hash((self.hostname, self.port))

    def _pair(self, other: object) -> tuple[tuple[str, int], tuple[str, int]] | None:
        if other.__class__ is not InstanceKey:
            return None
        return (self.hostname, self.port), (other.hostname, other.port)

    def __lt__(self, other: object) -> bool:
        pair = self._pair(other)
        return NotImplemented if pair is None else pair[0] < pair[1]

    def __le__(self, other: object) -> bool:
        pair = self._pair(other)
        return NotImplemented if pair is None else pair[0] <= pair[1]

    def __gt__(self, other: object) -> bool:
        pair = self._pair(other)
        return NotImplemented if pair is None else pair[0] > pair[1]

    def __ge__(self, other: object) -> bool:
        pair = self._pair(other)
        return NotImplemented if pair is None else pair[0] >= pair[1]

    def __str__(self) -> str:
        return f"{self.hostname}:{self.port}"

    @property
    def is_detached(self) -> bool:
        return self.hostname.startswith("//")

    @classmethod
    def parse(cls, text: str, default_port: int = 3306) -> InstanceKey:
        """Parse `host:port`, bare `host`, `[v6]:port` or bare IPv6; refuse anything else.

        Unlike the original, a value that does not parse is an error, never the local host.
        """
        raw = text.strip()
        if not raw:
            raise ValueError("empty instance key")
        if raw.startswith("["):
            import re  # IPv6 only: `re` stays off the start-up of every other command

            m = re.fullmatch(_BRACKETED_V6, raw, re.ASCII)
            if m:
                return cls(m.group(1), _port(m.group(2), raw))
        host, colon, port = raw.partition(":")
        if colon and host and _digits(port):  # `([^:]+):([0-9]+)`: one colon, digits after it
            if not _valid_host(host):
                raise ValueError(f"cannot parse instance key {raw!r}: invalid host name")
            return cls(host, _port(port, raw))
        if not colon:
            if not _valid_host(raw):
                raise ValueError(f"cannot parse instance key {raw!r}: invalid host name")
            return cls(raw, _port(str(default_port), raw))
        import re

        if re.fullmatch(_BARE_V6, raw, re.ASCII) and raw.count(":") >= 2:
            return cls(raw, _port(str(default_port), raw))
        raise ValueError(f"cannot parse instance key {raw!r}: expected host:port")


def parse_printed(text: str, default_port: int = 3306) -> InstanceKey:
    """A key as this program prints it, `host:port` with an IPv6 host unbracketed (`::1:3307`): the
    port is what follows the last colon. `InstanceKey.parse` would read `::1:3307` as a bare IPv6 host
    on the default port; anything else (a bracketed or bare host) is parsed as `-i` is.

    >>> parse_printed("::1:3307"), parse_printed("db1:3306")
    (InstanceKey(hostname='::1', port=3307), InstanceKey(hostname='db1', port=3306))
    """
    raw = text.strip()
    host, colon, port = raw.rpartition(":")
    if colon and host and not host.startswith("[") and _digits(port):
        return InstanceKey(host, _port(port, raw))
    return InstanceKey.parse(raw, default_port)


def _port(text: str, raw: str) -> int:
    port = int(text)
    if not 0 < port < 65536:
        raise ValueError(f"cannot parse instance key {raw!r}: port out of range")
    return port


def split_keys(text: str) -> list[str]:
    """The original splits a multi-instance `-i` on commas and whitespace."""
    return text.replace(",", " ").split()
