"""The partition of shared discovery (rendezvous hashing over the live nodes): every key has exactly
one owner among the live nodes, every node computes the same owner, and a node joining or leaving
moves only the keys it takes or gives up."""

from __future__ import annotations

import doctest

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_cli.backend.instance_rows import key_of
from orchestrator_cli.backend.instances import keys_unanswered
from orchestrator_cli.discovery import sharing
from orchestrator_cli.discovery.sharing import DiscoveryShare, owner_of
from orchestrator_cli.model.keys import InstanceKey

node_names = st.text(alphabet="0123456789abcdef", min_size=8, max_size=16)
nodes_lists = st.lists(node_names, min_size=1, max_size=8, unique=True)
instance_keys = st.builds(
    InstanceKey, st.from_regex(r"db[0-9]{1,4}\.example", fullmatch=True), st.integers(min_value=1, max_value=65535)
)
key_lists = st.lists(instance_keys, min_size=1, max_size=200, unique=True)


def test_doctests() -> None:
    assert doctest.testmod(sharing).failed == 0


@given(nodes_lists, key_lists)
def test_every_key_is_owned_by_exactly_one_live_node(nodes: list[str], keys: list[InstanceKey]) -> None:
    shares = [DiscoveryShare(node) for node in nodes]
    for share in shares:
        share.set_nodes(nodes)
    for key in keys:
        owners = [share.node for share in shares if share.owns(key)]
        assert owners == [owner_of(str(key), nodes)]


@given(nodes_lists, key_lists, st.randoms(use_true_random=False))
def test_the_owner_does_not_depend_on_the_order_of_the_node_list(
    nodes: list[str], keys: list[InstanceKey], rnd: object
) -> None:
    shuffled = list(nodes)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert [owner_of(str(k), nodes) for k in keys] == [owner_of(str(k), shuffled) for k in keys]


@given(nodes_lists, node_names, key_lists)
def test_a_joining_node_takes_keys_only_for_itself(nodes: list[str], joining: str, keys: list[InstanceKey]) -> None:
    if joining in nodes:
        return
    after = [*nodes, joining]
    for key in keys:
        before_owner, after_owner = owner_of(str(key), nodes), owner_of(str(key), after)
        assert after_owner in (before_owner, joining)  # nothing moves between the old nodes


@given(nodes_lists.filter(lambda n: len(n) >= 2), key_lists, st.data())
def test_a_leaving_node_gives_up_only_its_own_keys(
    nodes: list[str], keys: list[InstanceKey], data: st.DataObject
) -> None:
    leaving = data.draw(st.sampled_from(nodes))
    after = [n for n in nodes if n != leaving]
    for key in keys:
        before_owner = owner_of(str(key), nodes)
        if before_owner != leaving:
            assert owner_of(str(key), after) == before_owner
        else:
            assert owner_of(str(key), after) in after


@settings(max_examples=20)
@given(st.integers(min_value=2, max_value=5))
def test_shares_are_balanced(n: int) -> None:
    """Each of n nodes owns about 1/n of 3,000 keys (within 25 %), and a join moves about 1/(n+1)."""
    nodes = [f"node-{i}" for i in range(n)]
    keys = [f"db{i}.example:3306" for i in range(3000)]
    counts = {node: 0 for node in nodes}
    for key in keys:
        counts[owner_of(key, nodes)] += 1
    for count in counts.values():
        assert abs(count - len(keys) / n) < 0.25 * len(keys) / n, counts
    moved = sum(owner_of(k, nodes) != owner_of(k, [*nodes, "newcomer"]) for k in keys)
    assert abs(moved - len(keys) / (n + 1)) < 0.25 * len(keys) / (n + 1)


def test_this_node_is_always_on_its_own_list_and_a_change_is_reported() -> None:
    share = DiscoveryShare("me")
    key = InstanceKey("db1", 3306)
    assert share.nodes == ("me",) and share.owns(key)
    assert share.set_nodes(["other"])  # this node's registration not read back (yet): still a member
    assert share.nodes == ("me", "other")
    assert not share.set_nodes(["other", "me"])
    assert share.owns(key) == (owner_of(str(key), ["me", "other"]) == "me")


def _row(attempted: str, checked: str, seen: str | None) -> dict[str, object]:
    return {
        "hostname": "db1",
        "port": 3306,
        "last_attempted_check": attempted,
        "last_checked": checked,
        "last_seen": seen,
    }


def test_a_probe_that_got_no_answer_is_told_from_one_that_failed_with_an_answer() -> None:
    answered = _row("2026-01-01 10:00:05", "2026-01-01 10:00:05", "2026-01-01 10:00:05")
    refused = _row("2026-01-01 10:00:04", "2026-01-01 10:00:05", "2026-01-01 10:00:04")  # failed with an answer
    timed_out = _row("2026-01-01 10:00:05", "2026-01-01 10:00:05", "2026-01-01 10:00:04")
    waiting = _row("2026-01-01 10:00:09", "2026-01-01 10:00:05", "2026-01-01 10:00:05")  # a probe still running
    never_seen = _row("2026-01-01 10:00:05", "2026-01-01 10:00:05", None)
    assert keys_unanswered([answered, refused]) == []
    assert (
        keys_unanswered([timed_out])
        == keys_unanswered([waiting])
        == keys_unanswered([never_seen])
        == [key_of(timed_out)]
    )


def _scheduler_row(port: int, *, valid: bool, attempted: str, checked: str, seen: str) -> dict[str, object]:
    return {
        "hostname": "db",
        "port": port,
        "is_last_check_valid": int(valid),
        "is_recently_checked": 1,
        "master_host": "",
        "master_port": 0,
        "last_attempted_check": attempted,
        "last_checked": checked,
        "last_seen": seen,
    }


def test_a_node_learns_from_the_backend_which_servers_of_other_shares_hang() -> None:
    """Shared discovery: a server whose probe by another node timed out is marked unresponsive here
    (the leader's recoveries must not wait out a timeout on it); the mark goes once the backend shows
    an answered probe; a failure with an answer (refused login) never marks."""
    from orchestrator_cli.discovery.scheduler import DiscoveryScheduler
    from orchestrator_cli.mysql.access import Unresponsive

    marks = Unresponsive()
    scheduler = DiscoveryScheduler({"InstancePollSeconds": 1}, marks, share=DiscoveryShare("me"))
    try:
        t0, t1 = "2026-01-01 10:00:04", "2026-01-01 10:00:05"
        hung = _scheduler_row(1, valid=False, attempted=t1, checked=t1, seen=t0)
        refused = _scheduler_row(2, valid=False, attempted=t0, checked=t1, seen=t0)
        scheduler._learn_from_others([hung, refused], now=100.0)
        assert marks.marked() == {InstanceKey("db", 1)}
        answered = _scheduler_row(1, valid=True, attempted=t1, checked=t1, seen=t1)
        scheduler._learn_from_others([answered, refused], now=101.0)
        assert marks.marked() == set()
    finally:
        scheduler.close()
        scheduler.join()
