"""`tagged --tag <expression>`: every form of cli-catalog §2.13, on a real SQLite backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator_cli.backend import instances
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from orchestrator_cli.model.keys import InstanceKey
from tests.support import run_cli, sqlite_config

BACKUP, WEB, BARE, UNTAGGED = "db1:3306", "db2:3306", "db3:3306", "db4:3306"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    c = sqlite_config(tmp_path_factory.mktemp("tags"))
    backend = Backend(load_config(str(c)))
    for key in (BACKUP, WEB, BARE, UNTAGGED):  # all four are known instances
        instances.insert_unseen(backend, InstanceKey.parse(key))
    backend.close()
    for key, tag in (
        (BACKUP, "role=backup"),
        (BACKUP, "in_service"),
        (WEB, "role=web"),
        (BARE, "role="),  # the tag with an empty value
        (UNTAGGED, "in_service"),
    ):
        assert run_cli("-c", "tag", "-i", key, "--tag", tag, config=c).lines == [key]
    assert run_cli("-c", "untag", "-i", UNTAGGED, "--tag", "in_service", config=c).lines == [UNTAGGED]
    return c


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("role", [BACKUP, WEB, BARE]),
        ("role=backup", [BACKUP]),
        ("role=", [BARE]),
        ("~role", [UNTAGGED]),
        ("!role", [UNTAGGED]),
        # the role tag exists, with another value: an instance without a role tag is not listed
        ("~role=backup", [WEB, BARE]),
        ("!role=backup", [WEB, BARE]),
        ("~role=", [BACKUP, WEB]),
        ("role,~in_service", [WEB, BARE]),
        ("role,in_service", [BACKUP]),
        ("~role=web,~role=backup", [BARE]),
        ("in_service,~role=backup", []),
        ("nosuchtag", []),
    ],
)
def test_tagged_expression(config: Path, expression: str, expected: list[str]) -> None:
    result = run_cli("-c", "tagged", "--tag", expression, config=config)
    assert (result.code, result.lines, result.err) == (0, expected, "")
