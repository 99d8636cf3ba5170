"""Instance keys: the `host:port` identity used everywhere (backend rows, flags, output)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Matched with fullmatch: `$` would also accept a trailing newline inside the host part.
_HOST_PORT = re.compile(r"([^:]+):([0-9]+)", re.ASCII)
_BRACKETED_V6 = re.compile(r"\[([0-9a-fA-F:.]+)\]:([0-9]+)", re.ASCII)
_BARE_V6 = re.compile(r"[0-9a-fA-F:]+", re.ASCII)
_VALID_HOST = re.compile(r"(//)?[A-Za-z0-9_.\-]+", re.ASCII)


@dataclass(frozen=True, order=True)
class InstanceKey:
    """A MySQL server as orchestrator names it.

    >>> InstanceKey.parse("db1:3307")
    InstanceKey(hostname='db1', port=3307)
    >>> str(InstanceKey.parse("db2", default_port=3306))
    'db2:3306'
    """

    hostname: str
    port: int

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
        m = _BRACKETED_V6.fullmatch(raw)
        if m:
            return cls(m.group(1), _port(m.group(2), raw))
        m = _HOST_PORT.fullmatch(raw)
        if m:
            host = m.group(1)
            if not _VALID_HOST.fullmatch(host):
                raise ValueError(f"cannot parse instance key {raw!r}: invalid host name")
            return cls(host, _port(m.group(2), raw))
        if ":" not in raw:
            if not _VALID_HOST.fullmatch(raw):
                raise ValueError(f"cannot parse instance key {raw!r}: invalid host name")
            return cls(raw, _port(str(default_port), raw))
        if _BARE_V6.fullmatch(raw) and raw.count(":") >= 2:
            return cls(raw, _port(str(default_port), raw))
        raise ValueError(f"cannot parse instance key {raw!r}: expected host:port")


def _port(text: str, raw: str) -> int:
    port = int(text)
    if not 0 < port < 65536:
        raise ValueError(f"cannot parse instance key {raw!r}: port out of range")
    return port


def split_keys(text: str) -> list[str]:
    """The original splits a multi-instance `-i` on commas and whitespace."""
    return [t for t in re.split(r"[\s,]+", text) if t]
