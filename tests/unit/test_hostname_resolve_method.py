"""HostnameResolveMethod (discovery/resolve.py): the pure normalisation, with an injected lookup and a
fake clock (no DNS is asked anything here)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from orchestrator_cli.discovery import resolve
from orchestrator_cli.discovery.resolve import HostnameResolver, ResolveError
from orchestrator_cli.model.keys import InstanceKey


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Lookups:
    """A fake DNS: `names[method][host]` answers, a missing host fails like an unknown name."""

    def __init__(self, **names: dict[str, str]) -> None:
        self.names = names
        self.asked: list[tuple[str, str]] = []

    def lookup(self, method: str) -> Any:
        def answer(host: str) -> str:
            self.asked.append((method, host))
            try:
                return self.names[method][host]
            except KeyError:
                raise OSError(f"{host}: unknown host") from None

        return answer

    def table(self) -> dict[str, Any]:
        return {"cname": self.lookup("cname"), "ip": self.lookup("ip")}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dns() -> Lookups:
    return Lookups(
        cname={"db1": "db1.example.com.", "www": "web.example.com", "lo": "localhost"},
        ip={"db1": "10.0.0.1", "v6only": "fd00::1", "lo": "127.0.0.1"},
    )


@pytest.fixture
def resolver(dns: Lookups, clock: Clock) -> HostnameResolver:
    return HostnameResolver(dns.table(), clock)


def _config(method: str, **more: Any) -> dict[str, Any]:
    return {"HostnameResolveMethod": method, "ExpiryHostnameResolvesMinutes": 5, **more}


@pytest.mark.parametrize("method", ["none", "default", "", "NONE", "something-else"])
def test_none_and_default_leave_every_name_as_it_is_and_look_nothing_up(
    method: str, resolver: HostnameResolver, dns: Lookups
) -> None:
    for host in ("db1", "", "a,b", "//db1", "127.0.0.1"):
        assert resolver.resolve(host, _config(method)) == host
    assert dns.asked == []


def test_cname_gives_the_canonical_name_without_its_trailing_dot(resolver: HostnameResolver) -> None:
    assert resolver.resolve("db1", _config("cname")) == "db1.example.com"
    assert resolver.resolve("www", _config("CName")) == "web.example.com"


def test_ip_gives_the_address_ipv4_first(resolver: HostnameResolver) -> None:
    assert resolver.resolve("db1", _config("ip")) == "10.0.0.1"
    assert resolver.resolve("v6only", _config("ip")) == "fd00::1"


@pytest.mark.parametrize("method", ["cname", "ip"])
def test_ip_literals_and_detached_names_are_left_alone(method: str, resolver: HostnameResolver, dns: Lookups) -> None:
    for host in ("10.1.2.3", "::1", "//db1"):
        assert resolver.resolve(host, _config(method)) == host
    assert dns.asked == []


@pytest.mark.parametrize("method", ["cname", "ip"])
@pytest.mark.parametrize("host", ["", "db1,db2"])
def test_empty_names_and_names_with_a_comma_are_errors(method: str, host: str, resolver: HostnameResolver) -> None:
    with pytest.raises(ResolveError):
        resolver.resolve(host, _config(method))


def test_a_failed_lookup_keeps_the_name_for_a_minute(resolver: HostnameResolver, dns: Lookups, clock: Clock) -> None:
    config = _config("cname")
    assert resolver.resolve("nosuch", config) == "nosuch"
    clock.now += 59
    assert resolver.resolve("nosuch", config) == "nosuch"
    assert dns.asked == [("cname", "nosuch")]
    dns.names["cname"]["nosuch"] = "nosuch.example.com"
    clock.now += 1
    assert resolver.resolve("nosuch", config) == "nosuch.example.com"


def test_a_rejected_result_keeps_the_name_and_is_not_cached(resolver: HostnameResolver, dns: Lookups) -> None:
    config = _config("cname", RejectHostnameResolvePattern="^localhost")
    assert resolver.resolve("lo", config) == "lo"
    assert resolver.resolve("lo", config) == "lo"
    assert dns.asked == [("cname", "lo"), ("cname", "lo")]  # asked again: nothing was cached
    assert resolver.resolve("db1", config) == "db1.example.com"  # other names still resolve


def test_a_success_is_cached_for_the_expiry_period(resolver: HostnameResolver, dns: Lookups, clock: Clock) -> None:
    config = _config("ip")  # ExpiryHostnameResolvesMinutes: 5
    assert resolver.resolve("db1", config) == "10.0.0.1"
    dns.names["ip"]["db1"] = "10.0.0.2"  # moved
    clock.now += 5 * 60 - 1
    assert resolver.resolve("db1", config) == "10.0.0.1"
    assert resolver.lookups == 1
    clock.now += 1
    assert resolver.resolve("db1", config) == "10.0.0.2"
    assert resolver.lookups == 2


def test_the_expiry_is_at_least_a_minute(resolver: HostnameResolver, dns: Lookups, clock: Clock) -> None:
    config = _config("ip", ExpiryHostnameResolvesMinutes=0)
    resolver.resolve("db1", config)
    clock.now += 59
    resolver.resolve("db1", config)
    assert resolver.lookups == 1
    clock.now += 1
    resolver.resolve("db1", config)
    assert resolver.lookups == 2


def test_the_cache_is_per_method_and_cleared_on_demand(resolver: HostnameResolver, dns: Lookups) -> None:
    assert resolver.resolve("db1", _config("ip")) == "10.0.0.1"
    assert resolver.resolve("db1", _config("cname")) == "db1.example.com"
    resolver.clear()
    assert resolver.resolve("db1", _config("ip")) == "10.0.0.1"
    assert resolver.lookups == 3


def test_normalise_key_keeps_the_port_and_the_same_key_when_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resolve, "_resolver", HostnameResolver({"ip": lambda h: "10.0.0.9", "cname": lambda h: h}))
    key = InstanceKey("db9", 3307)
    assert resolve.normalise_key(key, _config("ip")) == InstanceKey("10.0.0.9", 3307)
    assert resolve.normalise_key(key, _config("cname")) is key
    assert resolve.normalise_key(key, _config("default")) is key


def test_the_real_lookups_answer_for_localhost() -> None:
    """The stdlib lookups themselves, on the one name every machine resolves (its /etc/hosts)."""
    assert resolve.lookup_ip("localhost") in ("127.0.0.1", "::1")
    assert resolve.lookup_cname("localhost")
    with pytest.raises(OSError):
        resolve.lookup_ip("no-such-host.invalid")


def test_default_methods_import_no_socket_or_resolve_code() -> None:
    """`none`/`default` cost nothing: normalising through the context imports neither module."""
    code = (
        "import sys\n"
        "from orchestrator_cli.commands.context import Context, Options\n"
        "config = {'DefaultInstancePort': 3306, 'HostnameResolveMethod': 'default'}\n"
        "ctx = Context(Options(instance='db1:3306'), config)\n"
        "key = ctx.resolve_key('db1:3306')\n"
        "print(key, 'socket' in sys.modules, 'orchestrator_cli.discovery.resolve' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["db1:3306", "False", "False"]
