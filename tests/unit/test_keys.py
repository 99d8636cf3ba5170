"""InstanceKey parsing: the original's four accepted shapes, and everything else refused (never the local host)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import orchestrator_cli
from orchestrator_cli.model.keys import InstanceKey, split_keys

HOST_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
hostnames = st.text(alphabet=HOST_CHARS, min_size=1, max_size=60).filter(lambda h: h.strip())
ports = st.integers(min_value=1, max_value=65535)
ipv6_groups = st.lists(st.integers(min_value=0, max_value=0xFFFF).map(lambda n: f"{n:x}"), min_size=8, max_size=8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("db1:3307", InstanceKey("db1", 3307)),
        ("db1.example.com:3306", InstanceKey("db1.example.com", 3306)),
        ("10.0.0.5:13306", InstanceKey("10.0.0.5", 13306)),
        ("db1", InstanceKey("db1", 3306)),
        ("  db1:3307  ", InstanceKey("db1", 3307)),
        ("db1:03307", InstanceKey("db1", 3307)),
        ("[::1]:3307", InstanceKey("::1", 3307)),
        ("[fe80::1:2]:1", InstanceKey("fe80::1:2", 1)),
        ("[::ffff:10.0.0.1]:3306", InstanceKey("::ffff:10.0.0.1", 3306)),
        ("::1", InstanceKey("::1", 3306)),
        ("fe80::a:b", InstanceKey("fe80::a:b", 3306)),
        ("//db1:3306", InstanceKey("//db1", 3306)),  # a detached master host, as stored by detach-replica
        ("db:1", InstanceKey("db", 1)),
        ("db:65535", InstanceKey("db", 65535)),
    ],
)
def test_accepted_shapes(text: str, expected: InstanceKey) -> None:
    assert InstanceKey.parse(text) == expected


def test_bare_host_takes_the_given_default_port() -> None:
    assert InstanceKey.parse("db1", default_port=13306) == InstanceKey("db1", 13306)
    assert InstanceKey.parse("::1", default_port=13306) == InstanceKey("::1", 13306)
    assert InstanceKey.parse("db1:3307", default_port=13306) == InstanceKey("db1", 3307)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("db:33o6", "expected host:port"),
        ("host:abc", "expected host:port"),
        ("db7:33o6", "expected host:port"),
        ("", "empty"),
        ("   ", "empty"),
        ("db:0", "port out of range"),
        ("db:70000", "port out of range"),
        ("db:65536", "port out of range"),
        ("db:", "expected host:port"),
        (":3306", "expected host:port"),
        ("db:+5", "expected host:port"),
        ("db:-5", "expected host:port"),
        ("dbx:3306:1", "expected host:port"),
        ("dead:beef:zz", "expected host:port"),
        ("[::1]", "expected host:port"),
        ("[::1]:0", "port out of range"),
        ("[host1]:3306", "invalid host name"),
        ("a b:1", "invalid host name"),
        ("db\n:3306", "invalid host name"),
        ("db;drop:1", "invalid host name"),
        ("db/x:1", "invalid host name"),
        ("db:\u0663\u0663\u0660\u0666", "expected host:port"),  # Arabic-Indic digits are not a port
        ("abc:def", "expected host:port"),  # the original would read this as an IPv6 host; we refuse
    ],
)
def test_refused(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        InstanceKey.parse(text)


def test_error_names_the_input() -> None:
    with pytest.raises(ValueError, match="'db7:33o6'"):
        InstanceKey.parse("db7:33o6")


def test_printed_form_has_no_brackets() -> None:
    assert str(InstanceKey.parse("[::1]:3307")) == "::1:3307"
    assert str(InstanceKey("db1", 3306)) == "db1:3306"


def test_ordering_and_detached() -> None:
    assert sorted([InstanceKey("b", 1), InstanceKey("a", 2), InstanceKey("a", 1)]) == [
        InstanceKey("a", 1),
        InstanceKey("a", 2),
        InstanceKey("b", 1),
    ]
    assert InstanceKey("//db", 1).is_detached
    assert not InstanceKey("db", 1).is_detached


@given(hostnames, ports)
def test_host_port_round_trip(host: str, port: int) -> None:
    key = InstanceKey(host, port)
    assert InstanceKey.parse(str(key)) == key


@given(hostnames, ports, ports)
def test_bare_host_uses_default_port(host: str, default: int, other: int) -> None:
    assert InstanceKey.parse(host, default_port=default) == InstanceKey(host, default)
    assert InstanceKey.parse(f"{host}:{other}", default_port=default) == InstanceKey(host, other)


@given(ipv6_groups, ports)
def test_bracketed_ipv6_round_trip(groups: list[str], port: int) -> None:
    host = ":".join(groups)
    key = InstanceKey.parse(f"[{host}]:{port}")
    assert key == InstanceKey(host, port)
    assert InstanceKey.parse(f"[{key.hostname}]:{key.port}") == key
    assert InstanceKey.parse(host, default_port=port) == key


@given(hostnames, st.integers().filter(lambda p: not 0 < p < 65536))
def test_out_of_range_ports_are_refused(host: str, port: int) -> None:
    with pytest.raises(ValueError):
        InstanceKey.parse(f"{host}:{port}")


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    try:
        key = InstanceKey.parse(text)
    except ValueError:
        return
    assert 0 < key.port < 65536
    assert key.hostname and key.hostname == key.hostname.strip()
    assert not any(ch.isspace() for ch in key.hostname)


def test_split_keys() -> None:
    assert split_keys("a:1, b:2\tc:3\nd:4,,e") == ["a:1", "b:2", "c:3", "d:4", "e"]
    assert split_keys("") == []
    assert split_keys(" , ") == []


def test_one_instance_key_class_in_the_package() -> None:
    """Two key types compared unequal for the same host and port (issue 9): only model/keys.py defines one."""
    root = Path(orchestrator_cli.__file__).parent
    defining = [
        str(path.relative_to(root))
        for path in sorted(root.rglob("*.py"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*class InstanceKey\b", line)
    ]
    assert defining == ["model/keys.py"]


def test_analysis_keys_are_model_keys() -> None:
    from orchestrator_cli.model.analysis_facts import AnalysisFacts

    facts = AnalysisFacts(hostname="db1", port=3306, master_hostname="db0", master_port=3306)
    assert facts.key == InstanceKey("db1", 3306)
    assert facts.master_key in {InstanceKey("db0", 3306)}
    assert sorted([InstanceKey("b", 1), facts.key, InstanceKey("db1", 33)]) == [
        InstanceKey("b", 1),
        InstanceKey("db1", 33),
        InstanceKey("db1", 3306),
    ]
