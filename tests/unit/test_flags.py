"""Go-style flag parsing as the original's `flag` package does it, and the exit codes of its errors."""

from __future__ import annotations

import pytest

from orchestrator_cli.cli.flags import FLAGS, flags_usage, parse_args
from orchestrator_cli.errors import FlagParseError, UsageError
from tests.support import run_cli


@pytest.mark.parametrize(
    "argv",
    [
        ["-c", "topology"],
        ["--c", "topology"],
        ["-c=topology"],
        ["--c=topology"],
    ],
)
def test_value_flag_spellings(argv: list[str]) -> None:
    assert parse_args(argv).options.command == "topology"


def test_all_value_flags_reach_their_options() -> None:
    parsed = parse_args(
        [
            "-c", "relocate", "-i", "db1:3306", "-d", "db2", "--config", "/x.json", "--alias", "main",
            "--owner", "ops", "--reason", "why", "--duration", "1h", "--pattern", "^db", "--promotion-rule",
            "must_not", "--tag", "a=b", "--pool", "p", "--hostname", "vip", "--binlog", "bin.1:4",
            "--statement", "select 1", "--format", "json",
        ]
    )  # fmt: skip
    o = parsed.options
    assert (o.command, o.instance, o.destination, o.config, o.alias) == (
        "relocate",
        "db1:3306",
        "db2",
        "/x.json",
        "main",
    )
    assert (o.owner, o.reason, o.duration, o.pattern, o.promotion_rule) == ("ops", "why", "1h", "^db", "must_not")
    assert (o.tag, o.pool, o.hostname, o.binlog, o.statement, o.format) == (
        "a=b",
        "p",
        "vip",
        "bin.1:4",
        "select 1",
        "json",
    )
    assert {"command", "instance", "destination", "format"} <= o.given


def test_defaults() -> None:
    o = parse_args([]).options
    assert o.promotion_rule == "prefer"
    assert o.discovery is True
    assert (o.debug, o.noop, o.command, o.format) == (False, False, "", "text")
    assert o.given == set()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-debug"], True),
        (["--debug"], True),
        (["-debug=true"], True),
        (["-debug=1"], True),
        (["-debug=T"], True),
        (["-debug=false"], False),
        (["--debug=False"], False),
        (["-debug=0"], False),
        (["-debug", "-debug=false"], False),
    ],
)
def test_boolean_flags(argv: list[str], expected: bool) -> None:
    assert parse_args(argv).options.debug is expected


def test_boolean_flag_does_not_take_the_next_word() -> None:
    parsed = parse_args(["-debug", "false"])
    assert parsed.options.debug is True
    assert parsed.positional == ["false"]


def test_discovery_can_be_turned_off() -> None:
    assert parse_args(["--discovery=false"]).options.discovery is False


def test_value_may_start_with_a_dash() -> None:
    assert parse_args(["--reason", "-x-"]).options.reason == "-x-"
    assert parse_args(["-i="]).options.instance == ""


def test_parsing_stops_at_the_first_positional_word() -> None:
    parsed = parse_args(["-c", "help", "http", "--debug"])
    assert parsed.positional == ["http", "--debug"]
    assert parsed.options.debug is False
    assert parse_args(["--", "-c", "x"]).positional == ["-c", "x"]
    assert parse_args(["-", "x"]).positional == ["-", "x"]


def test_later_value_wins() -> None:
    assert parse_args(["-i", "a", "-i", "b"]).options.instance == "b"
    assert parse_args(["-d", "a", "-d", "b"]).options.destination == "b"


def test_sibling_is_a_synonym_of_destination() -> None:
    assert parse_args(["-s", "db2:3306"]).options.destination == "db2:3306"


@pytest.mark.parametrize("argv", [["-s", "a", "-d", "b"], ["-d", "a", "-s", "a"], ["--s=a", "--d=a"]])
def test_both_sibling_and_destination_is_exit_1(argv: list[str]) -> None:
    with pytest.raises(UsageError, match="-s and -d are synonyms") as err:
        parse_args(argv)
    assert err.value.exit_code == 1


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (["-x"], "flag provided but not defined: -x"),
        (["--nosuch=1"], "flag provided but not defined: -nosuch"),
        (["---c", "x"], "flag provided but not defined"),
        (["-c"], "flag needs an argument: -c"),
        (["-debug=maybe"], "invalid boolean value 'maybe' for flag -debug"),
    ],
)
def test_parse_errors_exit_2(argv: list[str], why: str) -> None:
    with pytest.raises(FlagParseError, match=why) as err:
        parse_args(argv)
    assert err.value.exit_code == 2


def test_version_and_help_flags() -> None:
    assert parse_args(["--version"]).version
    assert parse_args(["-h"]).help
    assert parse_args(["-help"]).help


def test_usage_lists_every_flag_once() -> None:
    usage = flags_usage()
    for name in FLAGS:
        if name not in ("h", "help"):
            assert f"  -{name}" in usage


# -- through main(): exit codes and the one stderr line ------------------------------------------------


def test_unknown_flag_through_main() -> None:
    result = run_cli("-nosuch", "-c", "clusters")
    assert result.code == 2
    assert result.out == ""
    assert result.err.splitlines() == ["orchestrator: flag provided but not defined: -nosuch (see orchestrator -h)"]


def test_both_s_and_d_through_main() -> None:
    result = run_cli("-s", "a:1", "-d", "b:1", "-c", "relocate")
    assert result.code == 1
    assert result.err.splitlines() == ["orchestrator: -s and -d are synonyms, yet both were provided"]


def test_help_flag_prints_usage_to_stderr_and_exits_0() -> None:
    result = run_cli("-h")
    assert result.code == 0
    assert result.out == ""
    assert result.err.startswith("Usage of orchestrator:")


def test_version_prints_two_lines() -> None:
    result = run_cli("--version")
    assert result.code == 0
    assert len(result.lines) == 2


def test_no_command_prints_the_prompt() -> None:
    result = run_cli()
    assert result.code == 0
    assert "orchestrator -c help" in result.out


def test_positional_word_other_than_cli_or_help_is_refused() -> None:
    result = run_cli("frobnicate")
    assert result.code == 1
    assert result.err.startswith("orchestrator: unexpected argument 'frobnicate'")


def test_unexpected_exception_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator_cli.cli import run

    def explode(cmd: object, options: object) -> int:
        raise RuntimeError("driver said:\nsomething\nlong")

    monkeypatch.setattr(run, "run_command", explode)
    result = run_cli("-c", "clusters")
    assert result.code == 1
    assert result.err.splitlines() == [
        "orchestrator: clusters: internal error: RuntimeError: driver said: something long"
    ]
    debug = run_cli("--debug", "-c", "clusters")
    assert "Traceback" in debug.err and "RuntimeError" in debug.err


def test_multi_line_error_messages_are_joined(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator_cli.cli import run
    from orchestrator_cli.errors import BackendError

    def fail(cmd: object, options: object) -> int:
        raise BackendError("first\nsecond")

    monkeypatch.setattr(run, "run_command", fail)
    result = run_cli("-c", "clusters")
    assert (result.code, result.err) == (1, "orchestrator: clusters: first second\n")
