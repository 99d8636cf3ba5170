"""The web interface in a real browser against a live service on the MariaDB sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from orchestrator_cli.sandbox.topology import Sandbox
from tests.browser.conftest import PHONE, READ_ONLY_USER, PageFactory, Service, screenshot
from tests.support import run_cli

EDGES_JS = """() => [...document.querySelectorAll('.tree li[data-key]')].map((li) => {
  const parent = li.parentElement.closest('li[data-key]');
  return [li.dataset.key, parent ? parent.dataset.key : null];
})"""


def cluster_path(name: str) -> str:
    return "/#/cluster/" + quote(name, safe="")


def node(key: str) -> str:
    return f'.tree .node[data-key="{key}"]'


def nested(parent: str, child: str) -> str:
    return f'.tree li[data-key="{parent}"] > ul > li > .node[data-key="{child}"]'


def expected_edges(sb: Sandbox) -> dict[str, str | None]:
    return {sb.key(i): (None if p is None else sb.key(p)) for i, p in sb.replication_parents().items()}


def shown_edges(page: Any) -> dict[str, str | None]:
    return {key: parent for key, parent in page.evaluate(EDGES_JS)}


def open_cluster(open_page: PageFactory, service: Service, sb: Sandbox, **kwargs: Any) -> Any:
    page = open_page(service, path=cluster_path(sb.key(0)), **kwargs)
    page.wait_for_function("n => document.querySelectorAll('.tree .node').length === n", arg=len(sb.ports))
    return page


def test_dashboard_lists_the_sandbox_cluster(open_page: PageFactory, service: Service, sandbox: Sandbox) -> None:
    page = open_page(service)
    row = page.locator(f'tr[data-cluster="{sandbox.key(0)}"]')
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == sandbox.key(0)
    assert cells[2] == "4"
    assert "master" in cells[4]  # RecoverMasterClusterFilters matches it
    screenshot(page, "dashboard")
    phone = open_page(service, viewport=PHONE)
    phone.locator(f'tr[data-cluster="{sandbox.key(0)}"]').wait_for()
    screenshot(phone, "dashboard-phone")


def test_tree_shows_the_four_instances_and_their_edges(
    open_page: PageFactory, service: Service, sandbox: Sandbox
) -> None:
    page = open_cluster(open_page, service, sandbox)
    assert (
        shown_edges(page)
        == expected_edges(sandbox)
        == {
            sandbox.key(0): None,
            **{sandbox.key(i): sandbox.key(0) for i in (1, 2, 3)},
        }
    )
    master = page.locator(node(sandbox.key(0)))
    assert "writable" in master.inner_text()
    read_only = int(sandbox.query(1, "SELECT @@GLOBAL.read_only AS r")[0]["r"])
    assert ("read_only" if read_only else "writable") in page.locator(node(sandbox.key(1))).inner_text()
    assert "MariaDB GTID" in page.locator(node(sandbox.key(1))).inner_text()
    screenshot(page, "cluster-tree")
    phone = open_cluster(open_page, service, sandbox, viewport=PHONE)
    screenshot(phone, "cluster-tree-phone")


def test_a_refused_move_shows_why_and_changes_nothing(
    open_page: PageFactory, service: Service, sandbox: Sandbox
) -> None:
    before = sandbox.replication_parents()
    page = open_cluster(open_page, service, sandbox)
    page.drag_and_drop(node(sandbox.key(0)), node(sandbox.key(1)))  # the master below its own replica
    refusal = page.locator("#confirm [data-testid=refused]")
    refusal.wait_for()
    assert "Refused" in refusal.inner_text() and "Nothing was changed" in refusal.inner_text()
    assert page.locator("#confirm-ok").is_hidden()
    screenshot(page, "relocate-refused")
    page.click("#confirm-cancel")
    assert sandbox.replication_parents() == before
    status, audit = service.get("/api/audit")
    assert status == 200 and not [a for a in audit if a["AuditType"].startswith("relocate")]


def test_drag_and_drop_relocate_changes_the_topology_and_the_tree(
    open_page: PageFactory, service: Service, sandbox: Sandbox, wait_until: Callable[..., object]
) -> None:
    moved, target = sandbox.key(3), sandbox.key(2)
    page = open_cluster(open_page, service, sandbox)
    page.drag_and_drop(node(moved), node(target))
    statements = page.locator("#confirm [data-testid=statements]")
    statements.wait_for()
    assert f"{moved}: " in statements.inner_text() and str(sandbox.ports[2]) in statements.inner_text()
    assert sandbox.replication_parents()[3] == 0  # the dry run changed nothing
    screenshot(page, "relocate-confirm")
    page.click("#confirm-ok")
    try:
        wait_until(lambda: sandbox.replication_parents()[3] == 2, timeout=30, message="replica 3 below replica 2")
        page.locator(nested(target, moved)).wait_for()  # the tree follows without a reload
        assert shown_edges(page) == expected_edges(sandbox)
        screenshot(page, "relocate-done")
        # and back with the node's action menu: move-up, also dry-run first
        menu_action(page, moved, "Move up")
        assert f"{moved}: " in page.locator("#confirm [data-testid=statements]").inner_text()
        page.click("#confirm-ok")
        page.locator(nested(sandbox.key(0), moved)).wait_for()
        assert sandbox.replication_parents()[3] == 0
    finally:
        if sandbox.replication_parents()[3] != 0:
            assert run_cli("-c", "relocate", "-i", moved, "-d", sandbox.key(0), config=service.config).code == 0


def menu_action(page: Any, key: str, entry: str) -> None:
    """Open the node's ⋯ menu, pick `entry`, and wait for the dialog's dry run or description."""
    page.click(f"{node(key)} .menu-button")
    page.get_by_role("menuitem", name=entry).click()
    page.locator("#confirm .plan .summary, #confirm [data-testid=refused]").first.wait_for()


def test_relocate_from_the_keyboard(open_page: PageFactory, service: Service, sandbox: Sandbox) -> None:
    """The keyboard alternative to dragging: focus a node, press r, pick the new master, see the dry run."""
    page = open_cluster(open_page, service, sandbox)
    page.focus(node(sandbox.key(1)))
    page.keyboard.press("r")
    page.locator("#f-destination").select_option(sandbox.key(2))
    statements = page.locator("#confirm [data-testid=statements]")
    statements.wait_for()
    assert f"{sandbox.key(1)}: " in statements.inner_text()
    page.keyboard.press("Escape")
    page.locator("#confirm").wait_for(state="hidden")
    assert sandbox.replication_parents()[1] == 0
    # arrow keys walk the tree; Enter opens the focused instance
    page.focus(node(sandbox.key(0)))
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("() => document.activeElement.dataset.key")
    assert focused == page.evaluate("() => document.querySelector('.tree ul .node').dataset.key")
    assert focused in sandbox.keys[1:]
    page.keyboard.press("Enter")
    page.locator("[data-testid=fields]").wait_for()
    assert page.evaluate("() => location.hash") == "#/instance/" + focused.replace(":", "/")


def test_downtime_promotion_rule_and_global_recoveries_from_the_page(
    open_page: PageFactory, service: Service, sandbox: Sandbox
) -> None:
    key = sandbox.key(2)
    page = open_cluster(open_page, service, sandbox)
    menu_action(page, key, "Begin downtime…")
    assert "Backend only" in page.inner_text("#confirm .plan")
    page.fill("#f-reason", "disk swap")
    page.fill("#f-duration", "15m")
    page.locator("#confirm .plan .summary").wait_for()
    page.click("#confirm-ok")
    page.locator(f"{node(key)} .badge.p-downtimed").wait_for()
    status, inst = service.get(f"/api/instance/{key.replace(':', '/')}")
    assert inst["IsDowntimed"] and inst["DowntimeReason"] == "disk swap" and inst["DowntimeOwner"] == "dba"
    menu_action(page, key, "Promotion rule…")
    page.locator("#f-rule").select_option("prefer_not")
    page.click("#confirm-ok")
    page.locator(node(key), has_text="prefer_not").wait_for()
    screenshot(page, "cluster-downtimed")
    menu_action(page, key, "End downtime")
    page.click("#confirm-ok")
    page.locator(f"{node(key)} .badge.p-downtimed").wait_for(state="detached")
    menu_action(page, key, "Promotion rule…")
    page.locator("#f-rule").select_option("neutral")
    page.click("#confirm-ok")
    page.locator(node(key), has_text="neutral").wait_for()
    # actions without a dry run say what they do; nothing runs until confirmed
    menu_action(page, sandbox.key(1), "Make master (graceful takeover)…")
    assert "no dry run" in page.inner_text("#confirm .plan")
    screenshot(page, "takeover-confirm")
    page.click("#confirm-cancel")
    assert sandbox.current_master() == 0
    page.click("#global-recoveries button")
    page.locator("#confirm .plan .summary").wait_for()
    page.click("#confirm-ok")
    page.locator("#global-recoveries", has_text="recoveries disabled").wait_for()
    assert service.get("/api/check-global-recoveries")[1]["Details"] == "disabled"
    page.click("#global-recoveries button")
    page.locator("#confirm .plan .summary").wait_for()
    page.click("#confirm-ok")
    page.locator("#global-recoveries", has_text="recoveries enabled").wait_for()


def test_pages_for_instance_analysis_recoveries_audit_and_search(
    open_page: PageFactory, service: Service, sandbox: Sandbox
) -> None:
    host, port = sandbox.key(2).rsplit(":", 1)  # downtimed and re-ranked by an earlier test: it has audit rows
    page = open_page(service, path=f"/#/instance/{host}/{port}")
    fields = page.locator("[data-testid=fields]")
    fields.wait_for()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=fields] dt').length > 50")
    for name in ("ServerID", "ReplicationLagSeconds", "PromotionRule", "GtidErrant", "IsDowntimed", "MasterKey"):
        assert page.locator("[data-testid=fields] dt", has_text=name).count() >= 1, name
    screenshot(page, "instance")
    for name, ready in (
        ("analysis", "[data-testid=analysis] tbody tr"),
        ("recoveries", "[data-testid=recoveries] p, [data-testid=recoveries] details"),
        ("audit", "[data-testid=audit] tbody tr"),
        (f"search/{port}", "[data-testid=search-results] li a"),
    ):
        page.goto(f"{service.base}/#/{name}")
        page.locator(ready).first.wait_for()
        screenshot(page, name.split("/")[0])
    assert page.locator("[data-testid=search-results] li a", has_text=sandbox.key(2)).count() == 1


def test_problems_are_shown_with_colour_and_icon(
    open_page: PageFactory, service: Service, sandbox: Sandbox, wait_until: Callable[..., object]
) -> None:
    broken = sandbox.key(3)
    page = open_cluster(open_page, service, sandbox)
    sandbox.execute(3, "STOP SLAVE")
    try:
        badge = page.locator(f"{node(broken)} .badge.p-broken", has_text="not replicating")
        badge.wait_for()
        assert page.locator(f"{node(broken)}.p-broken .icon").inner_text() == "⊘"
        assert "SQL✗" in page.locator(node(broken)).inner_text()
        screenshot(page, "cluster-problem")
        page.goto(service.base + "/#/clusters")
        page.locator(f'tr[data-cluster="{sandbox.key(0)}"] td.p-broken', has_text="not_replicating").wait_for()
        screenshot(page, "dashboard-problem")
    finally:
        sandbox.execute(3, "START SLAVE")
    page.goto(service.base + cluster_path(sandbox.key(0)))
    page.locator(f"{node(broken)}.p-ok").wait_for()


def test_a_read_only_user_sees_no_controls(open_page: PageFactory, service: Service, sandbox: Sandbox) -> None:
    page = open_cluster(open_page, service, sandbox, user=READ_ONLY_USER)
    assert "read-only" in page.inner_text("#whoami")
    assert page.locator(".menu-button").count() == 0
    assert page.locator('.node[draggable="true"]').count() == 0
    assert page.locator("main button").count() == 0
    assert page.locator("#global-recoveries button").count() == 0
    screenshot(page, "cluster-read-only")
    page.drag_and_drop(node(sandbox.key(3)), node(sandbox.key(2)))
    assert page.locator("#confirm").is_hidden()
    # and the service refuses them anyway
    status, body = service.get(
        f"/api/relocate/{sandbox.key(3).replace(':', '/')}/{sandbox.key(2).replace(':', '/')}", READ_ONLY_USER
    )
    assert status >= 400 and body["Code"] == "ERROR"
    assert sandbox.replication_parents()[3] == 0


def test_a_killed_master_is_shown_as_a_recovery_without_reload(
    open_page: PageFactory, service: Service, sandbox: Sandbox
) -> None:
    """Last in the module (it breaks the star; the module's teardown rebuilds it)."""
    page = open_cluster(open_page, service, sandbox)
    page.evaluate("() => { window.__sameDocument = 'yes'; }")
    killed_at = time.monotonic()
    sandbox.kill(0)
    toast = page.locator("[data-testid=toast]", has_text=f"Recovered: DeadMaster on {sandbox.key(0)}")
    toast.wait_for(timeout=90_000)
    seen_after = time.monotonic() - killed_at
    print(f"failover shown in the browser {seen_after:.1f}s after kill -9 of the master")
    assert page.evaluate("() => window.__sameDocument") == "yes"  # no reload happened
    # the page followed the failover to the promoted master's cluster, and its tree is the new topology
    banner = page.locator(".follow .banner")
    banner.wait_for()
    assert f"DeadMaster on {sandbox.key(0)}" in banner.inner_text()
    parents = sandbox.replication_parents()
    promoted = next(i for i, p in parents.items() if p is None)
    page.wait_for_function(
        """([k, n]) => document.querySelectorAll('.tree .node').length === n
          && document.querySelector('.tree > li > .node')?.dataset.key === k""",
        arg=[sandbox.key(promoted), len(parents)],
    )
    assert shown_edges(page) == expected_edges(sandbox)
    recovery = page.locator('[data-testid=cluster-recoveries] details[data-analysis="DeadMaster"]')
    recovery.wait_for()
    assert recovery.get_attribute("data-status") == "successful"
    assert recovery.get_attribute("data-successor") == sandbox.key(promoted)
    screenshot(page, "failover-followed")
    page.click("main >> text=Acknowledge recoveries…")
    page.locator("#confirm .plan .summary").wait_for()
    page.click("#confirm-ok")
    recovery.locator(".badge", has_text="acked by dba").wait_for()
    page.click(".follow .banner a")  # back to the failed master's cluster: it is shown unreachable
    page.locator(f"{node(sandbox.key(0))}.p-down").wait_for()
    screenshot(page, "failover-old-cluster")
    page.goto(f"{service.base}/#/analysis")
    page.locator("[data-testid=analysis] tbody tr").first.wait_for()
    screenshot(page, "analysis-after-failover")
    page.goto(f"{service.base}/#/recoveries")
    details = page.locator("[data-testid=recoveries] details").first
    details.wait_for()
    failed_hook = details.locator(".hook-failed")
    failed_hook.first.wait_for()
    assert "exit 3" in failed_hook.first.inner_text()
    assert details.locator(".hook-ok").count() >= 1
    screenshot(page, "recoveries-after-failover")


def test_another_site_cannot_make_a_logged_in_browser_change_things(
    open_page: PageFactory, service: Service, sandbox: Sandbox
) -> None:
    """A link, image or frame on another site reaches a changing GET route with the user's credentials
    (here the proxy's header); the browser says `Sec-Fetch-Site: cross-site` and the service refuses."""
    page = open_page(service)  # the power user, as the other tests
    key = sandbox.key(3)
    target = f"{service.base}/api/begin-downtime/{key.replace(':', '/')}/mallory/csrf/1h"
    # the service under another name is another site (sites are told apart by host name)
    page.goto(service.base.replace("127.0.0.1", "localhost") + "/web/static/favicon.svg")
    with page.expect_response(lambda r: "/api/begin-downtime/" in r.url) as answered:
        page.evaluate(
            "url => { const f = document.createElementNS('http://www.w3.org/1999/xhtml', 'iframe');"
            " f.src = url; document.documentElement.append(f); }",
            target,
        )
    response = answered.value
    assert response.request.all_headers().get("x-forwarded-user") == "dba"  # the caller may change things
    assert response.status == 403 and "cross-site" in response.text()
    status, inst = service.get(f"/api/instance/{key.replace(':', '/')}")
    assert status == 200 and inst["IsDowntimed"] is False
    status, audit = service.get("/api/audit")
    assert not [a for a in audit if a["AuditType"] == "begin-downtime" and "csrf" in a["Message"]]
