"""`HostnameResolveMethod`: how a host name orchestrator meets is normalised (spec §1.11 item 2).

Probe targets, a replica's `Master_Host`, the replicas a master lists and the `-i`/`-d` keys of a
command all pass through `normalise()`:

* `none` / `default` (and anything unknown): the name unchanged, at no cost: nothing is looked up
  and no socket or DNS code is imported;
* `cname`: the canonical name a DNS lookup gives (trailing dot trimmed);
* `ip`: the first IPv4 address the name resolves to, else the first IPv6 one.

With `cname` or `ip`: an empty name or one containing a comma is an error (`ResolveError`); a detached
name (`//...`) and an IP literal are left as they are; a result matching `RejectHostnameResolvePattern`
leaves the name unchanged and is not cached; a failed lookup leaves it unchanged too, and that answer
is cached for a minute; a successful one is cached for `ExpiryHostnameResolvesMinutes` (at least one
minute). The cache is the process's (`HostnameResolver`), on an injectable clock and lookup; discovery
records a name that changed in `hostname_resolve` as it does `MySQLHostnameResolveMethod`'s mappings.
"""

from __future__ import annotations

import threading
import time

from orchestrator_cli.model.keys import InstanceKey

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (this module is on probe's path)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

METHODS = ("cname", "ip")  # the methods that change a name; any other leaves it as it is
MIN_EXPIRY_SECONDS = 60
ERROR_SECONDS = 60.0  # how long a failed lookup's answer (the name unchanged) is kept


class ResolveError(ValueError):
    """A host name that cannot be resolved by any method (empty, or containing a comma)."""


def method_of(config: Mapping[str, Any]) -> str:
    return str(config.get("HostnameResolveMethod") or "default").strip().lower()


def active(config: Mapping[str, Any]) -> bool:
    """Whether `HostnameResolveMethod` may change a name (`cname` or `ip`).

    >>> active({}), active({"HostnameResolveMethod": "none"}), active({"HostnameResolveMethod": "IP"})
    (False, False, True)
    """
    return method_of(config) in METHODS


def expiry_seconds(config: Mapping[str, Any]) -> float:
    """`ExpiryHostnameResolvesMinutes` in seconds, at least a minute (as the original).

    >>> expiry_seconds({})
    3600.0
    >>> expiry_seconds({"ExpiryHostnameResolvesMinutes": 0})
    60.0
    """
    minutes = config.get("ExpiryHostnameResolvesMinutes")
    return float(max(MIN_EXPIRY_SECONDS, int(60 if minutes is None else minutes) * 60))


def rejected(config: Mapping[str, Any], resolved: str) -> bool:
    """Whether `RejectHostnameResolvePattern` vetoes a resolved name (an empty pattern vetoes nothing).

    >>> rejected({"RejectHostnameResolvePattern": "^localhost"}, "localhost.localdomain")
    True
    >>> rejected({}, "localhost")
    False
    """
    pattern = str(config.get("RejectHostnameResolvePattern") or "")
    if not pattern:
        return False
    import re

    return re.search(pattern, resolved) is not None


def is_ip_literal(host: str) -> bool:
    """
    >>> is_ip_literal("127.0.0.1"), is_ip_literal("::1"), is_ip_literal("db1"), is_ip_literal("10.0.0")
    (True, True, False, False)
    """
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def lookup_cname(host: str) -> str:
    """The canonical name of `host`, perhaps with a trailing dot (raises OSError when the lookup fails)."""
    import socket

    return socket.gethostbyname_ex(host)[0]


def lookup_ip(host: str) -> str:
    """The first IPv4 address of `host`, else its first IPv6 one (raises OSError when there is none)."""
    import socket

    infos = socket.getaddrinfo(host, None)
    for family in (socket.AF_INET, socket.AF_INET6):
        for info in infos:
            if info[0] == family:
                return str(info[4][0])
    raise OSError(f"{host}: no IPv4 or IPv6 address")


LOOKUPS: dict[str, Callable[[str], str]] = {"cname": lookup_cname, "ip": lookup_ip}


class HostnameResolver:
    """`HostnameResolveMethod` with the process's in-memory cache; thread-safe.

    `lookups` (method -> function raising OSError on failure) and `clock` are injectable for tests.
    """

    def __init__(
        self,
        lookups: Mapping[str, Callable[[str], str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookups = LOOKUPS if lookups is None else lookups
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}  # (method, name) -> (result, until)
        self.lookups = 0  # lookups made so far (what the tests count)

    def resolve(self, host: str, config: Mapping[str, Any]) -> str:
        method = method_of(config)
        if method not in METHODS:
            return host
        if not host:
            raise ResolveError("cannot resolve an empty host name")
        if "," in host:
            raise ResolveError(f"invalid host name {host!r}: contains a comma")
        if host.startswith("//") or is_ip_literal(host):
            return host
        now = self._clock()
        with self._lock:
            hit = self._cache.get((method, host))
            if hit is not None and now < hit[1]:
                return hit[0]
        self.lookups += 1
        try:
            name = self._lookups[method](host)
        except (OSError, UnicodeError):
            name = ""
        if name.endswith("."):
            name = name[:-1]
        if not name:
            with self._lock:
                self._cache[(method, host)] = (host, now + ERROR_SECONDS)
            return host
        if rejected(config, name):
            return host
        with self._lock:
            self._cache[(method, host)] = (name, now + expiry_seconds(config))
        return name

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


_resolver = HostnameResolver()


def resolver() -> HostnameResolver:
    """The process's resolver."""
    return _resolver


def normalise(host: str, config: Mapping[str, Any]) -> str:
    """`host` as `HostnameResolveMethod` names it (see the module's notes); raises ResolveError."""
    if not active(config):
        return host
    return _resolver.resolve(host, config)


def normalise_key(key: InstanceKey, config: Mapping[str, Any]) -> InstanceKey:
    """`key` with its host name normalised (the same object when unchanged); raises ResolveError."""
    host = normalise(key.hostname, config)
    return key if host == key.hostname else InstanceKey(host, key.port)


def forget() -> None:
    """Empty the process's cache (reset-hostname-resolve-cache)."""
    _resolver.clear()
