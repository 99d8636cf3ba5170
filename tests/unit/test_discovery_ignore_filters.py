"""DiscoveryIgnoreHostnameFilters: an IP filter names one host exactly, any other is a regex on host:port."""

from __future__ import annotations

import pytest

from orchestrator_cli.discovery.crawl import ignored_host
from orchestrator_cli.model.keys import InstanceKey


@pytest.mark.parametrize(
    "host, filters, expected",
    [
        ("10.0.0.1", ["10.0.0.1"], True),
        # As a regex "10.0.0.1" would also match 10.0.0.10-19, 10.0.0.100-199 and 10x0y0z1: not an IP filter.
        ("10.0.0.10", ["10.0.0.1"], False),
        ("10.0.0.123", ["10.0.0.1"], False),
        ("fe80::1", ["fe80::1"], True),
        ("10.0.0.10", [r"^10\.0\.0\.1"], True),  # a regex still searches host:port
        ("db-backup-1", ["backup"], True),
        ("db1", [":3306$"], True),
        ("db1", [], False),
    ],
)
def test_filters(host: str, filters: list[str], expected: bool) -> None:
    assert ignored_host(InstanceKey(host, 3306), filters) is expected
