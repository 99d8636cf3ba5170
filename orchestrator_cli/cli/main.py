"""The `orchestrator` entry point: parse flags, dispatch through the registry, render, map errors to exits."""

from __future__ import annotations

import gc
import os
import sys
import time

from orchestrator_cli import GIT_COMMIT, __version__, logs
from orchestrator_cli.cli.flags import flags_usage, parse_args
from orchestrator_cli.commands.context import Options
from orchestrator_cli.errors import OrchestratorError, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import NoReturn

log = logs.getLogger("orchestrator")
# Commands that run until stopped: the cyclic garbage collector stays on for them (see entry()).
LONG_RUNNING = frozenset({"continuous"})


def entry() -> None:
    """The `orchestrator` command: a one-shot process, run without cyclic garbage collection and left
    without the interpreter's teardown (see `_exit`).

    A `topology` or cron command allocates little and exits within milliseconds, but its imports alone
    set off several collections (~1 ms), and tearing the interpreter down costs ~2 ms more: together a
    fifth of such a run. Reference counting still frees what the command drops; the long-running modes
    (`LONG_RUNNING` commands, `http`) turn collection back on when they start.
    """
    gc.disable()
    _exit(main(sys.argv[1:]))


def _exit(code: int) -> NoReturn:
    """Exit now with `code` (`os._exit`) when the teardown has nothing left to do: output flushed, no
    `threading` (whose shutdown joins threads) and no `atexit` hook (`logging` registers one, for
    instance); otherwise the ordinary `sys.exit`."""
    import atexit

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # e.g. a closed pipe: the ordinary exit reports it as it always did
        sys.exit(code)
    ncallbacks = getattr(atexit, "_ncallbacks", None)  # CPython's count of registered hooks
    if "threading" in sys.modules or ncallbacks is None or ncallbacks() != 0:
        sys.exit(code)
    os._exit(code)


def main(argv: list[str]) -> int:
    options = None
    try:
        parsed = parse_args(argv)
        options = parsed.options
        if parsed.version:
            print(__version__)
            print(GIT_COMMIT)
            return 0
        if parsed.help:
            print(flags_usage(), file=sys.stderr)
            return 0
        _setup_logging(options.debug, options.verbose, options.quiet)
        return _dispatch(parsed.positional, options)
    except OrchestratorError as e:
        _report(e, options)
        return e.exit_code
    except KeyboardInterrupt:
        print("orchestrator: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # a bug or an unwrapped driver error: still one line, traceback only on request
        _report(OrchestratorError(f"internal error: {type(e).__name__}: {e}"), options, e)
        return 1


def _dispatch(positional: list[str], options: Options) -> int:
    if positional and positional[0] == "help":
        from orchestrator_cli.cli import helptext

        if len(positional) == 1:
            print(helptext.command_listing())
            return 0
        return _help_topic(positional[1])
    if options.command == "help" and positional and positional[0] != "cli":
        return _help_topic(positional[0])  # `-c help relocate` means `help relocate`
    if (positional and positional[0] == "http") or options.command == "http":
        if positional[1:]:
            raise UsageError(f"unexpected argument {positional[1]!r} after http")
        from orchestrator_cli.http.service import serve  # the service's packages load only here

        gc.enable()  # a long-running process (see `entry`)
        return serve(options)
    if positional and positional[0] != "cli":
        raise UsageError(f"unexpected argument {positional[0]!r} (flags must come before it; see orchestrator -h)")
    if not options.command:
        from orchestrator_cli.cli import helptext

        print(helptext.PROMPT)
        return 0
    if options.command == "help":
        from orchestrator_cli.cli import helptext

        print(helptext.command_listing(), file=sys.stderr)
        return 0
    if options.format not in ("text", "json"):
        raise UsageError(f"unknown --format {options.format!r}: expected text or json")
    from orchestrator_cli.model.promotion import parse_promotion_rule

    try:
        parse_promotion_rule(options.promotion_rule)
    except ValueError as e:
        raise UsageError(str(e)) from e
    from orchestrator_cli.commands import registry

    cmd = registry.lookup(options.command)
    if cmd is None:
        raise UsageError(
            f"unknown command {options.command!r}{_did_you_mean(options.command)} (see orchestrator -c help)"
        )
    from orchestrator_cli.cli.run import run_command

    if cmd.name in LONG_RUNNING:
        gc.enable()
    started = time.monotonic()
    code = run_command(cmd, options)
    log.debug("%s done in %.1f ms", cmd.name, (time.monotonic() - started) * 1000)
    return code


def _help_topic(name: str) -> int:
    from orchestrator_cli.cli import helptext

    text = helptext.topic(name)
    if text is None:
        raise UsageError(f"no such command: {name}{_did_you_mean(name)} (see orchestrator -c help)")
    print(text)
    return 0


def _did_you_mean(name: str) -> str:
    """`; did you mean relocate?` with the nearest command names (synonyms included), or nothing."""
    import difflib

    from orchestrator_cli.commands import registry

    canonical = {**{cmd.name: cmd.name for cmd in registry.all_commands()}, **registry.synonyms()}
    wanted = name.lower()
    matches = difflib.get_close_matches(wanted, list(canonical), n=6, cutoff=0.6)
    if not matches and len(wanted) >= 3:  # a prefix, e.g. `relocate-rep`
        matches = sorted(n for n in canonical if n.startswith(wanted))
    close = list(dict.fromkeys(canonical[m] for m in matches))[:3]  # legacy names shown as today's
    return f"; did you mean {' or '.join(close)}?" if close else ""


def _setup_logging(debug: bool, verbose: bool, quiet: bool) -> None:
    """Records from `level` up go to stderr; `logging` itself is imported only once one is logged."""
    level = logs.ERROR
    if debug:
        level = logs.DEBUG
    elif verbose:
        level = logs.INFO
    if quiet:
        level = logs.ERROR
    logs.configure(level)


def _report(error: OrchestratorError, options: Options | None, cause: BaseException | None = None) -> None:
    what = f"{options.command}: " if options is not None and options.command else ""
    text = " ".join(str(error).split())  # one line, whatever the message carried
    print(escape_controls(f"orchestrator: {what}{text}"), file=sys.stderr)
    if options is not None and (options.debug or options.stack):
        import traceback

        traceback.print_exception(cause or error, file=sys.stderr)


def escape_controls(text: str) -> str:
    """Control characters (from argv, say an ESC sequence) are shown as `\\x1b`, never sent to the terminal.

    >>> escape_controls("unknown command 'a\\x1b[2J'")
    "unknown command 'a\\\\x1b[2J'"
    """
    if text.isprintable():  # the common case, without compiling a pattern
        return text
    import re

    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", text)
