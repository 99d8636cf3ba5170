"""Cluster-master key-value pairs: what service discovery (Consul, ZooKeeper, scripts) reads to find masters."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from typing import Any

from orchestrator_cli.model.keys import InstanceKey


def master_pairs(prefix: str, cluster_alias: str, master: InstanceKey) -> list[tuple[str, str]]:
    """`<prefix><alias>` = host:port, plus `/hostname`, `/port`, `/ipv4`, `/ipv6` as the original writes them.

    >>> master_pairs("mysql/master/", "shop", InstanceKey("127.0.0.1", 3306))[:2]
    [('mysql/master/shop', '127.0.0.1:3306'), ('mysql/master/shop/hostname', '127.0.0.1')]
    """
    base = f"{prefix}{cluster_alias}"
    ipv4, ipv6 = addresses(master.hostname)
    return [
        (base, str(master)),
        (f"{base}/hostname", master.hostname),
        (f"{base}/port", str(master.port)),
        (f"{base}/ipv4", ipv4),
        (f"{base}/ipv6", ipv6),
    ]


def addresses(hostname: str) -> tuple[str, str]:
    """First IPv4 and IPv6 address of a host; literals are used as they are (no lookup)."""
    try:
        ip = ipaddress.ip_address(hostname)
    except ValueError:
        pass
    else:
        return (str(ip), "") if ip.version == 4 else ("", str(ip))
    v4 = v6 = ""
    try:
        infos: list[Any] = socket.getaddrinfo(hostname, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return "", ""
    for family, *_rest, sockaddr in infos:
        if family == socket.AF_INET and not v4:
            v4 = str(sockaddr[0])
        elif family == socket.AF_INET6 and not v6:
            v6 = str(sockaddr[0])
    return v4, v6


def prefix(config: Mapping[str, Any]) -> str:
    return str(config.get("KVClusterMasterPrefix") or "mysql/master/")
