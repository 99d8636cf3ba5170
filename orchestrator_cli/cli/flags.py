"""Go-style flag parsing, as the original's `flag` package does it: `-flag`, `--flag`, `-flag value`,
`-flag=value`; parsing stops at the first positional word."""

from __future__ import annotations

from orchestrator_cli.commands.context import OPTION_NAMES, Options
from orchestrator_cli.errors import FlagParseError, UsageError

# flag name -> (Options attribute, is boolean, help text)
FLAGS: dict[str, tuple[str, bool, str]] = {
    "c": ("command", False, "command, required for CLI work (see `orchestrator help`)"),
    "i": ("instance", False, "instance, host[:port]; several separated by commas or spaces"),
    "d": ("destination", False, "destination instance, host[:port]"),
    "s": ("destination", False, "sibling instance, host[:port] (synonym of -d)"),
    "config": ("config", False, "config file name"),
    "alias": ("alias", False, "cluster alias (or exact cluster name)"),
    "owner": ("owner", False, "operation owner (default: the OS user)"),
    "reason": ("reason", False, "operation reason"),
    "duration": ("duration", False, "maintenance or downtime duration, e.g. 90s, 30m, 3h, 2d, 1w"),
    "pattern": ("pattern", False, "regular expression pattern"),
    "promotion-rule": (
        "promotion_rule",
        False,
        "promotion rule for register-candidate (prefer|neutral|prefer_not|must_not)",
    ),
    "tag": ("tag", False, "tag name[=value] or tag expression"),
    "pool": ("pool", False, "pool logical name"),
    "hostname": ("hostname", False, "hostname, e.g. a virtual name for register-hostname-unresolve"),
    "binlog": ("binlog", False, "binary log file name, or file:pos"),
    "statement": ("statement", False, "statement to wrap, for restart-replica-statements"),
    "format": ("format", False, "output format: text (default) or json"),
    "strict": ("strict", True, "strict mode (more checks, slower)"),
    "debug": ("debug", True, "debug mode (very verbose)"),
    "verbose": ("verbose", True, "verbose"),
    "quiet": ("quiet", True, "quiet: errors only"),
    "stack": ("stack", True, "add stack traces to errors"),
    "noop": ("noop", True, "dry run: print the statements that would run, change nothing"),
    "ignore-raft-setup": ("ignore_raft_setup", True, "run despite RaftEnabled"),
    "skip-continuous-registration": (
        "skip_continuous_registration",
        True,
        "do not register this process in node_health",
    ),
    "enable-database-update": ("enable_database_update", True, "allow deploying or migrating the backend schema"),
    "skip-binlog-search": ("skip_binlog_search", True, "Pseudo-GTID matching uses relay logs only"),
    "skip-unresolve": ("skip_unresolve", True, "do not unresolve host names in CHANGE MASTER"),
    "skip-unresolve-check": ("skip_unresolve_check", True, "skip the unresolve round-trip check"),
    "grab-election": ("grab_election", True, "continuous mode: take leadership at start"),
    "discovery": ("discovery", True, "continuous mode: run discovery"),
    "version": ("version", True, "print version and exit"),
    "h": ("help", True, "print flags and exit"),
    "help": ("help", True, "print flags and exit"),
}
_TRUE = {"1", "t", "true", "T", "TRUE", "True"}
_FALSE = {"0", "f", "false", "F", "FALSE", "False"}


class ParsedArgs:
    def __init__(self) -> None:
        self.options = Options()
        self.positional: list[str] = []
        self.version = False
        self.help = False


def parse_args(argv: list[str]) -> ParsedArgs:
    result = ParsedArgs()
    opts = result.options
    known = OPTION_NAMES
    seen: set[str] = set()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            result.positional = argv[i + 1 :]
            break
        if not arg.startswith("-") or arg == "-":
            result.positional = argv[i:]
            break
        name = arg[2:] if arg.startswith("--") else arg[1:]
        value: str | None = None
        if "=" in name:
            name, value = name.split("=", 1)
        spec = FLAGS.get(name)
        if spec is None:
            raise FlagParseError(f"flag provided but not defined: -{name} (see orchestrator -h)")
        attr, is_bool, _ = spec
        if is_bool:
            if value is None or value in _TRUE:
                flag_value = True
            elif value in _FALSE:
                flag_value = False
            else:
                raise FlagParseError(f"invalid boolean value {value!r} for flag -{name}")
            if attr == "version":
                result.version = flag_value
            elif attr == "help":
                result.help = flag_value
            else:
                setattr(opts, attr, flag_value)
        else:
            if value is None:
                i += 1
                if i >= len(argv):
                    raise FlagParseError(f"flag needs an argument: -{name}")
                value = argv[i]
            if name in ("d", "s") and ({"d", "s"} - {name}) & seen:
                # the original refuses both (exit 1), even with equal values
                raise UsageError("-s and -d are synonyms, yet both were provided")
            assert attr in known
            setattr(opts, attr, value)
        opts.given.add(attr)
        seen.add(name)
        i += 1
    return result


def flags_usage() -> str:
    lines = ["Usage of orchestrator:"]
    for name, (_, is_bool, text) in FLAGS.items():
        if name in ("h", "help"):
            continue
        lines.append(f"  -{name}{'' if is_bool else ' string'}\n    \t{text}")
    return "\n".join(lines)
