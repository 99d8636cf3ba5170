"""Tag expressions of `--tag`: `name`, `name=value`, `name=`, negation with `~` or `!`, AND-lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_cli.model.tags import Tag, parse_tag, parse_tag_expression


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("role", Tag("role")),
        ("role=backup", Tag("role", "backup", has_value=True)),
        ("role=", Tag("role", "", has_value=True)),
        (" role = backup ", Tag("role", "backup", has_value=True)),
        ("~role", Tag("role", negate=True)),
        ("!role=backup", Tag("role", "backup", has_value=True, negate=True)),
        ("a=b=c", Tag("a", "b=c", has_value=True)),
        ("in service", Tag("in service")),
    ],
)
def test_parse_tag(text: str, expected: Tag) -> None:
    assert parse_tag(text) == expected


@pytest.mark.parametrize("text", ["", "  ", "=value", "~", "!", "~=x", "~~role", "a,b"])
def test_parse_tag_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_tag(text)


def test_negation_can_be_refused() -> None:
    with pytest.raises(ValueError, match="negation is not supported"):
        parse_tag("~role", allow_negation=False)
    assert parse_tag("role", allow_negation=False) == Tag("role")


def test_expression_is_an_and_list() -> None:
    assert parse_tag_expression("role=backup,~candidate, dc=") == [
        Tag("role", "backup", has_value=True),
        Tag("candidate", negate=True),
        Tag("dc", "", has_value=True),
    ]
    assert parse_tag_expression("role,") == [Tag("role")]


@pytest.mark.parametrize("text", ["", ",", " , ", "role,=x"])
def test_expression_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_tag_expression(text)


def test_display_form_omits_empty_values() -> None:
    assert Tag("in_service").display() == "in_service"
    assert Tag("in_service", "", has_value=True).display() == "in_service"
    assert Tag("role", "backup", has_value=True).display() == "role=backup"


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-0123456789", min_size=1, max_size=20)
values = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-0123456789.:", max_size=20)


@given(names, values, st.booleans())
def test_round_trip(name: str, value: str, negate: bool) -> None:
    text = ("~" if negate else "") + f"{name}={value}"
    tag = parse_tag(text)
    assert (tag.name, tag.value, tag.has_value, tag.negate) == (name, value, True, negate)
    assert parse_tag(tag.display()).name == name


def test_tag_is_an_immutable_value() -> None:
    """A written-out class (no dataclass import on the `topology-tags` path) keeps the value semantics."""
    import copy
    import pickle

    tag = Tag("role", "backup", has_value=True)
    assert tag == Tag("role", "backup", True, False) and hash(tag) == hash(Tag("role", "backup", has_value=True))
    assert tag != Tag("role", "backup") and tag != Tag("role", "backup", has_value=True, negate=True)
    assert repr(tag) == "Tag(name='role', value='backup', has_value=True, negate=False)"
    assert pickle.loads(pickle.dumps(tag)) == tag and copy.deepcopy(tag) == tag
    with pytest.raises(AttributeError, match="immutable"):
        tag.name = "other"
    match tag:
        case Tag(name, value):
            assert (name, value) == ("role", "backup")
