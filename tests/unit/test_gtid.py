"""Oracle GTID sets and MariaDB GTID positions: recorded server output plus property tests."""

from __future__ import annotations

import doctest
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_cli.model import gtid as gtid_module
from orchestrator_cli.model.gtid import (
    MAX_GNO,
    Gtid,
    MariadbGtid,
    MariadbGtidPosition,
    OracleGtidSet,
    errant,
    purged_missing,
)

U1 = "0c3ea5b8-7ccb-11e6-9b9a-0242ac110002"
U2 = "2a4b3c6e-7ccb-11e6-9b9b-0242ac110003"
U3 = "a98ab1d0-3e35-11e7-8af8-0242ac110004"

# SHOW SLAVE STATUS\G on a 5.7 replica: Executed_Gtid_Set spans lines, uppercase from one source.
MYSQL57_EXECUTED = (
    "0C3EA5B8-7CCB-11E6-9B9A-0242AC110002:1-12,\n"
    "2a4b3c6e-7ccb-11e6-9b9b-0242ac110003:1-3:5-7,\n"
    "a98ab1d0-3e35-11e7-8af8-0242ac110004:1-100"
)
# SELECT @@gtid_executed on 8.0 after a failover: same UUID listed in two places, out of order.
MYSQL80_EXECUTED = (
    "a98ab1d0-3e35-11e7-8af8-0242ac110004:101-250,\n"
    " 0c3ea5b8-7ccb-11e6-9b9a-0242ac110002:1-12:14 ,\n"
    "a98ab1d0-3e35-11e7-8af8-0242ac110004:1-100:251\n"
)
# 8.4 with tagged GTIDs, as typed by a user (mixed case) and as printed back by the server.
# Intervals after a tag belong to that tag, so untagged ranges must come first in an element.
MYSQL84_TAGGED_INPUT = (
    "3E11FA47-71CA-11E1-9E33-C80AA9429562:Domain_2:8-17,3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:DOMAIN_1:47-49:1-3:11"
)
MYSQL84_TAGGED_CANONICAL = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:domain_1:1-3:11:47-49:domain_2:8-17"


def run_doctests() -> None:
    assert doctest.testmod(gtid_module).failed == 0


class TestOracleParsing:
    def test_doctests(self) -> None:
        run_doctests()

    def test_mysql57_multiline(self) -> None:
        s = OracleGtidSet.parse(MYSQL57_EXECUTED)
        assert s.uuids() == (U1, U2, U3)
        assert s.intervals(U2) == ((1, 3), (5, 7))
        assert str(s) == f"{U1}:1-12,{U2}:1-3:5-7,{U3}:1-100"
        assert s.render(",\n") == MYSQL57_EXECUTED.replace("0C3EA5B8-7CCB-11E6-9B9A-0242AC110002", U1)
        assert s.count() == 12 + 6 + 100

    def test_mysql80_repeated_uuid_is_merged(self) -> None:
        s = OracleGtidSet.parse(MYSQL80_EXECUTED)
        assert str(s) == f"{U1}:1-12:14,{U3}:1-251"

    def test_mysql84_tagged(self) -> None:
        s = OracleGtidSet.parse(MYSQL84_TAGGED_INPUT)
        assert str(s) == MYSQL84_TAGGED_CANONICAL
        assert s.intervals("3E11FA47-71CA-11E1-9E33-C80AA9429562", "DOMAIN_1") == ((1, 3), (11, 11), (47, 49))
        assert OracleGtidSet.parse(MYSQL84_TAGGED_CANONICAL) == s
        assert s.uuids() == ("3e11fa47-71ca-11e1-9e33-c80aa9429562",)
        assert "3e11fa47-71ca-11e1-9e33-c80aa9429562:domain_2:9" in s
        assert "3e11fa47-71ca-11e1-9e33-c80aa9429562:9" not in s

    def test_tag_only_uuid_and_tag_across_elements(self) -> None:
        s = OracleGtidSet.parse(f"{U1}:tx:1-2, {U1}:tx:3")
        assert str(s) == f"{U1}:tx:1-3"

    def test_tag_is_sticky_within_an_element(self) -> None:
        s = OracleGtidSet.parse(f"{U1}:1:t:2:3")
        assert s.intervals(U1) == ((1, 1),) and s.intervals(U1, "t") == ((2, 3),)

    @pytest.mark.parametrize("text", ["", "   ", "\n", ",", " , ,\n"])
    def test_empty(self, text: str) -> None:
        s = OracleGtidSet.parse(text)
        assert s.is_empty() and not s and str(s) == ""
        assert s == OracleGtidSet()

    def test_whitespace_between_tokens(self) -> None:
        assert str(OracleGtidSet.parse(f"  {U1} : 1 - 3 : 5 ,\n\t{U2}:7  ")) == f"{U1}:1-3:5,{U2}:7"

    def test_bare_uuid_contributes_nothing(self) -> None:
        assert OracleGtidSet.parse(U1).is_empty()

    def test_max_gno(self) -> None:
        s = OracleGtidSet.parse(f"{U1}:{MAX_GNO}")
        assert s.count() == 1
        with pytest.raises(ValueError, match="maximum"):
            OracleGtidSet.parse(f"{U1}:1-{MAX_GNO + 1}")

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("not-a-uuid:1-5", "server UUID"),
            (f"{U1[:-1]}:1", "server UUID"),
            (f"{U1}x:1", "server UUID"),
            (f"{U1}:0", "start at 1"),
            (f"{U1}:0-3", "start at 1"),
            (f"{U1}:5-3", "start is greater than end"),
            (f"{U1}:1-", "transaction number"),
            (f"{U1}:1-2-3", "transaction number"),
            (f"{U1}:-3", "GTID tag"),
            (f"{U1}:", "empty interval"),
            (f"{U1}::1", "empty interval"),
            (f"{U1}:1x", "transaction number"),
            (f"{U1}:+5", "GTID tag"),
            (f"{U1}:9tag:1", "transaction number"),
            (f"{U1}:bad-tag:1", "GTID tag"),
            (f"{U1}:{'t' * 33}:1", "GTID tag"),
            (f"{U1}:\u0661", "GTID tag"),
            (f"{U1}:1 2", "transaction number"),
        ],
    )
    def test_malformed(self, text: str, fragment: str) -> None:
        with pytest.raises(ValueError, match="invalid GTID set") as info:
            OracleGtidSet.parse(text)
        assert fragment in str(info.value)

    def test_not_a_string(self) -> None:
        with pytest.raises(TypeError):
            OracleGtidSet.parse(None)  # type: ignore[arg-type]

    def test_long_text_is_truncated_in_error(self) -> None:
        with pytest.raises(ValueError) as info:
            OracleGtidSet.parse(",".join([f"{U1}:1"] * 200) + ",junk:1")
        assert len(str(info.value)) < 400

    def test_constructor_normalises_and_validates(self) -> None:
        mixed: dict[str | tuple[str, str], list[tuple[int, int]]] = {
            U1.upper(): [(5, 9), (1, 4), (20, 20)],
            (U1, "T"): [(1, 1)],
            U2: [],
        }
        s = OracleGtidSet(mixed)
        assert str(s) == f"{U1}:1-9:20:t:1"
        with pytest.raises(ValueError):
            OracleGtidSet({U1: [(0, 1)]})
        with pytest.raises(TypeError):
            OracleGtidSet({U1: [(1.0, 2)]})  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            OracleGtidSet({U1: [(True, 2)]})

    def test_hash_and_repr(self) -> None:
        a = OracleGtidSet.parse(MYSQL80_EXECUTED)
        b = OracleGtidSet.parse(str(a))
        assert hash(a) == hash(b) and len({a, b}) == 1
        assert repr(a) == f"OracleGtidSet({str(a)!r})"
        assert a != str(a)


class TestGtid:
    def test_parse_and_render(self) -> None:
        assert Gtid.parse(f"{U1.upper()}:23") == Gtid(U1, 23)
        assert str(Gtid.parse(f"{U1}:Tag_1:5")) == f"{U1}:tag_1:5"

    @pytest.mark.parametrize("text", [U1, f"{U1}:0", f"{U1}:1-2", f"{U1}:a:b:1", f"{U1}:x", "x:1"])
    def test_malformed(self, text: str) -> None:
        with pytest.raises(ValueError, match="invalid GTID"):
            Gtid.parse(text)


class TestOracleArithmetic:
    def test_subtract_like_gtid_subtract(self) -> None:
        executed = OracleGtidSet.parse(MYSQL57_EXECUTED)
        assert str(executed - OracleGtidSet.parse(f"{U2}:2-6,{U3}:1-99")) == f"{U1}:1-12,{U2}:1:7,{U3}:100"
        assert executed.subtract(MYSQL57_EXECUTED).is_empty()
        assert executed.subtract("") == executed

    def test_union_intersection(self) -> None:
        a = OracleGtidSet.parse(f"{U1}:1-5,{U2}:1-3")
        b = OracleGtidSet.parse(f"{U1}:6-8:10,{U3}:1")
        assert str(a | b) == f"{U1}:1-8:10,{U2}:1-3,{U3}:1"
        assert str(a.union(f"{U1}:4-20")) == f"{U1}:1-20,{U2}:1-3"
        assert (a & b).is_empty() and a.is_disjoint(b)
        assert str(a.intersection(f"{U1}:3-9,{U2}:3")) == f"{U1}:3-5,{U2}:3"

    def test_subset(self) -> None:
        small = OracleGtidSet.parse(f"{U1}:2-3")
        big = OracleGtidSet.parse(f"{U1}:1-5,{U2}:1")
        assert small <= big and small < big and big >= small and big > small
        assert small.is_subset(f"{U1}:1-5") and not big.is_subset(f"{U1}:1-5")
        assert not big < big and big <= big
        assert OracleGtidSet().is_subset(small)

    def test_tags_are_distinct_from_untagged(self) -> None:
        a = OracleGtidSet.parse(f"{U1}:1-5")
        b = OracleGtidSet.parse(f"{U1}:t:1-5")
        assert (a & b).is_empty() and a - b == a
        assert str(a | b) == f"{U1}:1-5:t:1-5"

    def test_operators_reject_text(self) -> None:
        a = OracleGtidSet.parse(f"{U1}:1")
        with pytest.raises(TypeError):
            _ = a | f"{U1}:2"  # type: ignore[operator]
        with pytest.raises(TypeError):
            _ = a <= f"{U1}:2"  # type: ignore[operator]

    def test_contains(self) -> None:
        s = OracleGtidSet.parse(f"{U1}:1-5:9")
        assert Gtid(U1, 9) in s and s.contains(f"{U1.upper()}:3")
        assert not s.contains(Gtid(U1, 6)) and Gtid(U1, 10) not in s and Gtid(U2, 1) not in s
        assert 3 not in s

    def test_uuid_filters(self) -> None:
        s = OracleGtidSet.parse(f"{MYSQL57_EXECUTED},{U1}:tag:1")
        assert str(s.remove_uuids([U1.upper(), "", "garbage"])) == f"{U2}:1-3:5-7,{U3}:1-100"
        assert str(s.remove_uuids(U3)) == f"{U1}:1-12:tag:1,{U2}:1-3:5-7"
        assert str(s.only_uuids([U1])) == f"{U1}:1-12:tag:1"
        assert s.only_uuids([]).is_empty()

    def test_explode_and_next_gtid(self) -> None:
        s = OracleGtidSet.parse(f"{U1}:1-2:5,{U2}:t:7")
        assert [str(g) for g in s.explode()] == [f"{U1}:1", f"{U1}:2", f"{U1}:5", f"{U2}:t:7"]
        assert s.next_gtid(U1) == Gtid(U1, 6)
        assert s.next_gtid(U2) == Gtid(U2, 1)
        assert s.next_gtid(U2, "T") == Gtid(U2, 8, "t")


class TestErrant:
    MASTER = "aaaaaaaa-0000-0000-0000-000000000001"
    REPLICA = "bbbbbbbb-0000-0000-0000-000000000002"
    OLD_MASTER = "cccccccc-0000-0000-0000-000000000003"
    STRAY = "dddddddd-0000-0000-0000-000000000004"

    def test_clean_replica_ahead_of_stored_master_row(self) -> None:
        # The replica was probed later than its master: more master GTIDs, none errant.
        replica = f"{self.MASTER}:1-120,{self.OLD_MASTER}:1-50"
        master = f"{self.MASTER}:1-100,{self.OLD_MASTER}:1-50"
        ancestry = f"{self.OLD_MASTER},{self.MASTER},{self.REPLICA}"
        result = errant(replica, master, replica_uuid=self.REPLICA, master_uuid=self.MASTER, ancestry=ancestry)
        assert result.is_empty()

    def test_local_writes_are_errant(self) -> None:
        replica = f"{self.MASTER}:1-120,{self.REPLICA}:1-2"
        master = f"{self.MASTER}:1-100"
        ancestry = [self.MASTER, self.REPLICA]
        result = errant(replica, master, replica_uuid=self.REPLICA, master_uuid=self.MASTER, ancestry=ancestry)
        assert str(result) == f"{self.REPLICA}:1-2"

    def test_foreign_uuid_missing_on_master(self) -> None:
        replica = OracleGtidSet.parse(f"{self.MASTER}:1-10,{self.STRAY}:1-4")
        master = OracleGtidSet.parse(f"{self.MASTER}:1-10,{self.STRAY}:1-3")
        result = errant(replica, master, replica_uuid=self.REPLICA, master_uuid=self.MASTER, ancestry=[self.MASTER])
        assert str(result) == f"{self.STRAY}:4"

    def test_co_master_ignores_its_own_uuid(self) -> None:
        replica = f"{self.MASTER}:1-10,{self.REPLICA}:1-7"
        master = f"{self.MASTER}:1-10,{self.REPLICA}:1-5"
        ancestry = f"{self.MASTER},{self.REPLICA}"
        kwargs = {"replica_uuid": self.REPLICA, "master_uuid": self.MASTER, "ancestry": ancestry}
        assert str(errant(replica, master, **kwargs)) == f"{self.REPLICA}:6-7"  # type: ignore[arg-type]
        assert errant(replica, master, is_co_master=True, **kwargs).is_empty()

    def test_empty_inputs_mean_unknown(self) -> None:
        assert errant("", f"{self.MASTER}:1").is_empty()
        assert errant(f"{self.REPLICA}:1", "").is_empty()
        assert str(errant(f"{self.REPLICA}:1", f"{self.MASTER}:1")) == f"{self.REPLICA}:1"

    def test_tagged_errant(self) -> None:
        replica = f"{self.MASTER}:1-5:ops:1-2,{self.REPLICA}:maint:1"
        master = f"{self.MASTER}:1-5:ops:1-2"
        result = errant(replica, master, replica_uuid=self.REPLICA, master_uuid=self.MASTER)
        assert str(result) == f"{self.REPLICA}:maint:1"

    def test_purged_missing(self) -> None:
        purged = f"{self.MASTER}:1-500,{self.OLD_MASTER}:1-20"
        assert purged_missing(f"{self.MASTER}:1-900,{self.OLD_MASTER}:1-20", purged).is_empty()
        missing = purged_missing(OracleGtidSet.parse(f"{self.MASTER}:1-300"), purged)
        assert str(missing) == f"{self.MASTER}:301-500,{self.OLD_MASTER}:1-20"


# ---------------------------------------------------------------------------------------------
# Property tests against a brute-force model (small GNOs so that sets overlap often).
# ---------------------------------------------------------------------------------------------

UUIDS = [U1, U2, U3, "ffffffff-ffff-ffff-ffff-ffffffffffff"]
TAGS = ["", "", "a", "domain_1"]
SMALL = 40

tsids = st.tuples(st.sampled_from(UUIDS), st.sampled_from(TAGS))
small_intervals = st.tuples(st.integers(1, SMALL), st.integers(0, 6)).map(lambda t: (t[0], t[0] + t[1]))
small_sets = st.dictionaries(tsids, st.lists(small_intervals, max_size=5), max_size=5).map(OracleGtidSet)

huge_intervals = st.tuples(st.integers(1, MAX_GNO), st.integers(1, MAX_GNO)).map(lambda t: (min(t), max(t)))
huge_sets = st.dictionaries(tsids, st.lists(huge_intervals, max_size=4), max_size=4).map(OracleGtidSet)
any_sets = st.one_of(small_sets, huge_sets)


def model(s: OracleGtidSet) -> set[tuple[str, str, int]]:
    return {(g.uuid, g.tag, g.gno) for g in s.explode()}


def is_normal(s: OracleGtidSet) -> bool:
    for _, _, intervals in s.entries():
        if not intervals:
            return False
        for (_, end), (next_start, _) in zip(intervals, intervals[1:], strict=False):
            if next_start <= end + 1:
                return False
    return True


PROPS = settings(max_examples=200, deadline=None)


@PROPS
@given(any_sets)
def test_render_parse_roundtrip(s: OracleGtidSet) -> None:
    assert is_normal(s)
    assert OracleGtidSet.parse(str(s)) == s
    assert OracleGtidSet.parse(s.render(",\n")) == s
    assert OracleGtidSet.parse(str(s).upper()) == s
    assert str(OracleGtidSet.parse(str(s))) == str(s)


@PROPS
@given(small_sets, small_sets)
def test_operations_match_python_sets(a: OracleGtidSet, b: OracleGtidSet) -> None:
    ma, mb = model(a), model(b)
    assert model(a | b) == ma | mb
    assert model(a - b) == ma - mb
    assert model(a & b) == ma & mb
    assert (a <= b) == (ma <= mb)
    assert a.count() == len(ma)
    for result in (a | b, a - b, a & b):
        assert is_normal(result)
    for uuid, tag, gno in ma | mb:
        assert a.contains(Gtid(uuid, gno, tag)) == ((uuid, tag, gno) in ma)


@PROPS
@given(any_sets, any_sets)
def test_set_laws(a: OracleGtidSet, b: OracleGtidSet) -> None:
    assert (a - b).is_disjoint(b)
    assert (a - b) | (a & b) == a
    assert a.is_subset(b) == (a - b).is_empty()
    assert a | b == b | a
    assert a & b == b & a
    assert a <= a | b and b <= a | b
    assert a & b <= a and a & b <= b
    assert (a | b) - b == a - b
    assert a - a == OracleGtidSet()


@PROPS
@given(any_sets, any_sets, any_sets)
def test_associativity_and_distributivity(a: OracleGtidSet, b: OracleGtidSet, c: OracleGtidSet) -> None:
    assert (a | b) | c == a | (b | c)
    assert (a & b) & c == a & (b & c)
    assert a & (b | c) == (a & b) | (a & c)
    assert a - (b | c) == (a - b) - c


@PROPS
@given(any_sets, st.lists(st.sampled_from(UUIDS), max_size=3))
def test_uuid_filters_partition(s: OracleGtidSet, uuids: list[str]) -> None:
    removed, kept = s.remove_uuids(uuids), s.only_uuids(uuids)
    assert removed | kept == s
    assert removed.is_disjoint(kept)
    assert not set(removed.uuids()) & set(uuids)
    assert set(kept.uuids()) <= set(uuids)


@PROPS
@given(st.dictionaries(tsids, st.lists(small_intervals, max_size=6), max_size=4), st.randoms())
def test_constructor_ignores_interval_order(
    raw: dict[tuple[str, str], list[tuple[int, int]]], rnd: random.Random
) -> None:
    shuffled = {key: rnd.sample(value, len(value)) for key, value in raw.items()}
    assert OracleGtidSet(raw) == OracleGtidSet(shuffled)


@PROPS
@given(small_sets, small_sets)
def test_errant_never_contains_master_or_ancestors(replica: OracleGtidSet, master: OracleGtidSet) -> None:
    result = errant(replica, master, replica_uuid=U3, master_uuid=U1, ancestry=[U2, U1, U3])
    assert not {U1, U2} & set(result.uuids())
    assert result <= replica
    assert purged_missing(replica, master) == master - replica


# ---------------------------------------------------------------------------------------------
# MariaDB
# ---------------------------------------------------------------------------------------------


class TestMariadbParsing:
    def test_single_and_multi_domain(self) -> None:
        # SELECT @@gtid_binlog_pos on a 10.6 primary with two domains (one per data centre).
        pos = MariadbGtidPosition.parse("0-101-4527,1-201-88")
        assert pos.domains() == (0, 1)
        assert pos.get(0) == MariadbGtid(0, 101, 4527)
        assert pos.get(5) is None
        assert str(pos) == "0-101-4527,1-201-88"
        assert len(pos) == 2 and list(pos)[1].seqno == 88

    def test_order_and_whitespace(self) -> None:
        # gtid_slave_pos as shown by SHOW ALL SLAVES STATUS (Gtid_Slave_Pos), domains unordered.
        pos = MariadbGtidPosition.parse(" 10-3-7 ,\n0-1-100, 2-1-3")
        assert str(pos) == "0-1-100,2-1-3,10-3-7"
        assert repr(pos) == "MariadbGtidPosition('0-1-100,2-1-3,10-3-7')"

    @pytest.mark.parametrize("text", ["", "  ", "\n"])
    def test_empty(self, text: str) -> None:
        pos = MariadbGtidPosition.parse(text)
        assert pos.is_empty() and not pos and str(pos) == "" and pos == MariadbGtidPosition()

    def test_extremes(self) -> None:
        text = f"{2**32 - 1}-{2**32 - 1}-{2**64 - 1}"
        assert str(MariadbGtidPosition.parse(text)) == text

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("0-1", "domain-server-sequence"),
            ("0-1-2-3", "domain-server-sequence"),
            ("0-1-x", "domain-server-sequence"),
            ("0--1-5", "domain-server-sequence"),
            ("-1-1-5", "domain-server-sequence"),
            ("0-1-5,", "domain-server-sequence"),
            ("0-1-5,,1-1-1", "domain-server-sequence"),
            ("0-1-5 1-1-1", "domain-server-sequence"),
            ("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", "domain-server-sequence"),
            (f"0-1-{2**64}", "seqno"),
            (f"{2**32}-1-1", "domain_id"),
            (f"0-{2**32}-1", "server_id"),
            ("0-1-100,0-2-50", "duplicate domain 0"),
        ],
    )
    def test_malformed(self, text: str, fragment: str) -> None:
        with pytest.raises(ValueError, match="invalid MariaDB GTID position") as info:
            MariadbGtidPosition.parse(text)
        assert fragment in str(info.value)

    def test_gtid_validation(self) -> None:
        with pytest.raises(ValueError):
            MariadbGtid(0, 1, -1)
        with pytest.raises(TypeError):
            MariadbGtid(0, 1, "5")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            MariadbGtidPosition(["0-1-1"])  # type: ignore[list-item]


class TestMariadbComparison:
    def test_behind_or_equal(self) -> None:
        replica = MariadbGtidPosition.parse("0-1-100,1-2-5")
        assert replica.is_behind_or_equal("0-1-100,1-2-5")
        assert replica.is_behind_or_equal("0-1-150,1-2-5,2-9-1")
        assert not replica.is_behind_or_equal("0-1-150")
        assert not replica.is_behind_or_equal("0-1-99,1-2-5")
        assert MariadbGtidPosition().is_behind_or_equal(replica)

    def test_domains(self) -> None:
        a = MariadbGtidPosition.parse("0-1-100,1-2-5,7-7-7")
        assert a.contains_all_domains_of("1-9-9,7-1-1") and not a.contains_all_domains_of("3-1-1")
        assert str(a.subtract_domains([1, 42])) == "0-1-100,7-7-7"
        assert str(a.subtract_domains(MariadbGtidPosition.parse("7-1-1"))) == "0-1-100,1-2-5"
        assert str(a.only_domains([1, 42])) == "1-2-5"

    def test_merge_max(self) -> None:
        a = MariadbGtidPosition.parse("0-1-100,1-2-5")
        b = MariadbGtidPosition.parse("0-3-90,1-4-9,2-1-1")
        assert str(a.merge_max(b)) == "0-1-100,1-4-9,2-1-1"
        assert str(a.merge_max("0-9-100")) == "0-1-100,1-2-5"

    def test_move_below_checks(self) -> None:
        replica = MariadbGtidPosition.parse("0-1-100,1-2-5")
        assert replica.can_replicate_from("0-1-100,1-2-5")
        assert replica.can_replicate_from("0-3-130,1-2-6,4-4-4")
        blockers = replica.replication_blockers("0-7-100")
        assert len(blockers) == 2
        assert "domain 0" in blockers[0] and "diverged" in blockers[0]
        assert "domain 1" in blockers[1] and "no GTID" in blockers[1]
        assert "ahead" in replica.replication_blockers("0-1-99,1-2-5")[0]
        assert replica.diverged_domains("0-7-100,1-2-5") == (0,)
        assert replica.diverges_from("0-7-100") and not replica.diverges_from("0-1-100,1-3-6")


mariadb_gtids = st.builds(
    MariadbGtid,
    st.integers(0, 5),
    st.integers(0, 2**32 - 1),
    st.one_of(st.integers(0, 50), st.integers(0, 2**64 - 1)),
)
positions = st.lists(mariadb_gtids, max_size=6, unique_by=lambda g: g.domain_id).map(MariadbGtidPosition)


@PROPS
@given(positions)
def test_mariadb_roundtrip(pos: MariadbGtidPosition) -> None:
    assert MariadbGtidPosition.parse(str(pos)) == pos
    assert MariadbGtidPosition.parse(", ".join(reversed(str(pos).split(",")))) == pos
    assert hash(MariadbGtidPosition.parse(str(pos))) == hash(pos)
    for gtid in pos:
        assert MariadbGtid.parse(str(gtid)) == gtid


@PROPS
@given(positions, positions)
def test_mariadb_laws(a: MariadbGtidPosition, b: MariadbGtidPosition) -> None:
    merged = a.merge_max(b)
    assert a.is_behind_or_equal(merged) and b.is_behind_or_equal(merged)
    assert set(merged.domains()) == set(a.domains()) | set(b.domains())
    assert a.is_behind_or_equal(a) and a.can_replicate_from(a) and not a.diverges_from(a)
    assert a.subtract_domains(b).domains() == tuple(d for d in a.domains() if d not in b.domains())
    assert a.subtract_domains(b).merge_max(a.only_domains(b.domains())) == a
    if a.can_replicate_from(b):
        assert a.is_behind_or_equal(b) and b.contains_all_domains_of(a) and not a.diverges_from(b)
    if a.is_behind_or_equal(b) and b.is_behind_or_equal(a):
        assert a.domains() == b.domains()
