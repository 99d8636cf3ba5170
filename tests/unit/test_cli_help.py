"""`help` forms a newcomer types, answered from the registry without a config or a backend."""

from __future__ import annotations

from tests.support import run_cli


def test_dash_c_help_with_a_command_answers_with_its_help() -> None:
    """`orchestrator -c help relocate` is read as `orchestrator help relocate` (the topic on stdout)."""
    topic = run_cli("help", "relocate")
    assert (topic.code, topic.err) == (0, "")
    assert topic.lines[0].startswith("relocate: ")
    result = run_cli("-c", "help", "relocate")
    assert (result.code, result.out, result.err) == (0, topic.out, "")
    legacy = run_cli("-c", "help", "relocate-slaves")  # a legacy name answers with today's command
    assert (legacy.code, legacy.out, legacy.err) == (0, run_cli("help", "relocate-replicas").out, "")


def test_unknown_command_without_any_close_name_suggests_nothing() -> None:
    result = run_cli("-c", "xyzzy")
    assert result.code == 1
    assert result.err == "orchestrator: xyzzy: unknown command 'xyzzy' (see orchestrator -c help)\n"
