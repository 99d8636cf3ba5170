"""`orchestrator_cli.logs`: the CLI's loggers import `logging` only when a record is emitted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import sys
from orchestrator_cli import logs
log = logs.getLogger("orchestrator.test")
logs.configure(int(sys.argv[1]))
log.debug("debug %s", 1)
log.info("info %s", 2)
before = "logging" in sys.modules
log.error("error %s", 3)
print(before, "logging" in sys.modules)
"""


def _run(level: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _PROBE, str(level)], capture_output=True, text=True, check=True, cwd=ROOT
    )


def test_records_below_the_level_import_nothing_and_print_nothing() -> None:
    proc = _run(40)
    assert proc.stdout.split() == ["False", "True"]  # `logging` loaded by the error record only
    [line] = proc.stderr.splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ERROR error 3", line)


def test_a_lower_level_prints_every_record_in_the_cli_format() -> None:
    proc = _run(10)
    assert proc.stdout.split() == ["True", "True"]
    assert [line.split(" ", 2)[2] for line in proc.stderr.splitlines()] == [
        "DEBUG debug 1",
        "INFO info 2",
        "ERROR error 3",
    ]


_DIRECT = """
import sys
from orchestrator_cli import logs
logs.configure(int(sys.argv[1]))
import logging  # after configure, as a module imported later by a command would
logging.getLogger("orchestrator.elsewhere").info("direct %s", 4)
logging.getLogger("orchestrator.elsewhere").warning("direct %s", 5)
logging.getLogger("orchestrator.elsewhere").error("direct %s", 6)
"""


def test_modules_using_logging_directly_get_the_cli_handler() -> None:
    """Not every module goes through `logs` (the service's, say): they print in the same format."""
    for level, expected in ((20, ["INFO direct 4", "WARNING direct 5", "ERROR direct 6"]), (40, ["ERROR direct 6"])):
        proc = subprocess.run(
            [sys.executable, "-c", _DIRECT, str(level)], capture_output=True, text=True, check=True, cwd=ROOT
        )
        assert [line.split(" ", 2)[2] for line in proc.stderr.splitlines()] == expected
