"""The written-out immutable values (model/frozen.py) keep what the frozen dataclasses they replaced
gave: equality and hash by fields within one class, the dataclass repr, immutability, `replace`, and
copying and pickling (a slotted class that refuses `setattr` needs `__reduce__` for those)."""

from __future__ import annotations

import copy
import pickle

import pytest

from orchestrator_cli.model.coordinates import BinlogCoordinates, LogType
from orchestrator_cli.model.frozen import Frozen
from orchestrator_cli.model.instance import Instance
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.facts import BinlogEvent, CoreVariables, GtidFacts, ReplicaStatus, SemiSyncFacts

VALUES: list[Frozen] = [
    BinlogCoordinates("mysql-bin.000007", 120, LogType.RELAY),
    ReplicaStatus.none().replace(master_host="db1", master_port=3306, seconds_behind_master=4),
    BinlogEvent("mysql-bin.000007", 4, "Format_desc", 1, 120, "Server ver: 10.11.6"),
    SemiSyncFacts(True, True, 10000, 1, True, 2, False, False, source_names=True),
    GtidFacts(gtid_mode="ON", server_uuid="u", gtid_executed="u:1-5"),
    CoreVariables("db1", "", 1, "8.4.2", "MySQL Community Server - GPL", True, "ROW", True, True, False),
    Instance(key=InstanceKey("db2", 3306), master_host="db1", master_port=3306, server_id=2),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_copies_and_pickles_are_equal_values(value: object) -> None:
    for other in (copy.copy(value), copy.deepcopy(value), pickle.loads(pickle.dumps(value))):
        assert other == value and hash(other) == hash(value) and type(other) is type(value)


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_immutable_and_slotted(value: Frozen) -> None:
    name = type(value).__slots__[0]
    with pytest.raises(AttributeError, match="immutable"):
        setattr(value, name, getattr(value, name))
    with pytest.raises(AttributeError, match="immutable"):
        delattr(value, name)
    assert not hasattr(value, "__dict__")


def test_equality_is_by_fields_within_one_class() -> None:
    assert GtidFacts() == GtidFacts() and GtidFacts() != GtidFacts(gtid_mode="ON")
    assert GtidFacts().__eq__(object()) is NotImplemented
    assert BinlogCoordinates("a.1", 4) != BinlogCoordinates("a.1", 4, LogType.RELAY)
    assert len({BinlogCoordinates("a.1", 4), BinlogCoordinates("a.1", 4)}) == 1


def test_repr_is_the_dataclass_repr() -> None:
    assert (
        repr(BinlogCoordinates("a.1", 4)) == "BinlogCoordinates(file='a.1', pos=4, log_type=<LogType.BINARY: 'binary'>)"
    )
    assert repr(GtidFacts()).startswith("GtidFacts(gtid_mode='', server_uuid='', ")


def test_replace_checks_like_the_constructor() -> None:
    c = BinlogCoordinates("a.1", 4)
    assert c.replace(pos=9) == BinlogCoordinates("a.1", 9) and c.pos == 4
    with pytest.raises(ValueError, match="negative"):
        c.replace(pos=-1)
    with pytest.raises(TypeError, match="no field colour"):
        c.replace(colour="red")
