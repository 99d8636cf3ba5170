"""Entry point of the zipapp build of orchestrator (copied in as __main__.py by packaging/build.sh).

Kept free of newer syntax so an old interpreter reaches the version check and says what is wrong
instead of failing on a SyntaxError deep inside the bundle.
"""

import sys

if sys.version_info < (3, 11):  # noqa: UP036  (the point: run on older interpreters too)
    sys.stderr.write(
        "orchestrator: needs Python 3.11 or newer, but %s is %d.%d\n"  # noqa: UP031  (no f-strings before 3.6)
        % (sys.executable or "python3", sys.version_info[0], sys.version_info[1])
    )
    sys.exit(1)

import gc  # noqa: E402

# The cyclic collector is off for a one-shot run, from before the CLI's own imports on (entry() in
# cli/main.py says why, and turns it back on for the service and `continuous`).
gc.disable()

from orchestrator_cli.cli.main import entry  # noqa: E402  (after the version check, on purpose)

entry()
