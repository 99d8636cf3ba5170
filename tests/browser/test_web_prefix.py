"""The web interface served below `URLPrefix`, as behind a reverse proxy that forwards a sub-path."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.browser.conftest import PageFactory, Service, start_service
from tests.browser.test_web_ui import open_cluster, shown_edges

PREFIX = "/tools/orchestrator"


@pytest.fixture(scope="module")
def service(browser: object, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    sandbox.reset_replication()
    running = start_service(sandbox, Path(tmp_path_factory.mktemp("web-prefix")), URLPrefix=PREFIX + "/")
    try:
        yield running
    finally:
        running.stop()
        sandbox.reset_replication()


def test_pages_work_below_the_prefix(open_page: PageFactory, service: Service, sandbox: Sandbox) -> None:
    assert service.base.endswith(PREFIX)
    page = open_page(service)
    page.locator(f'tr[data-cluster="{sandbox.key(0)}"]').wait_for()
    assert page.url.startswith(service.base + "/")
    tree = open_cluster(open_page, service, sandbox)
    assert shown_edges(tree) == {sandbox.key(0): None, **{sandbox.key(i): sandbox.key(0) for i in (1, 2, 3)}}
    assert "dba" in tree.inner_text("#whoami")
    bare = open_page(service, path="")  # `/tools/orchestrator` redirects to `/tools/orchestrator/`
    bare.locator(f'tr[data-cluster="{sandbox.key(0)}"]').wait_for()
    assert bare.url.startswith(service.base + "/")
    outside = service.base.removesuffix(PREFIX) + "/api/clusters-info"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(outside, timeout=10)
    assert refused.value.code == 404
