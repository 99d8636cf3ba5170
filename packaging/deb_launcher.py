#!/usr/bin/python3 -IS
"""/usr/bin/orchestrator of the Debian package (installed by packaging/build.sh).

The package installs the same vendored tree as the zipapp, unpacked under /usr/lib/orchestrator and
byte-compiled by its postinst for the host's python3: plain imports from a directory start faster
than the zipapp's runpy and zipimport (see packaging/README.md). `-I` keeps PYTHONPATH and user
site-packages out, `-S` skips `site`, which nothing here needs.

Kept free of newer syntax so an old interpreter reaches the version check and says what is wrong
instead of failing on a SyntaxError deep inside the tree.
"""

import sys

if sys.version_info < (3, 11):  # noqa: UP036  (the point: run on older interpreters too)
    sys.stderr.write(
        "orchestrator: needs Python 3.11 or newer, but %s is %d.%d\n"  # noqa: UP031  (no f-strings before 3.6)
        % (sys.executable or "python3", sys.version_info[0], sys.version_info[1])
    )
    sys.exit(1)

sys.path.insert(0, "/usr/lib/orchestrator")

import gc  # noqa: E402

# The cyclic collector is off for a one-shot run, from before the CLI's own imports on (entry() in
# cli/main.py says why, and turns it back on for the service and `continuous`).
gc.disable()

from orchestrator_cli.cli.main import entry  # noqa: E402  (after the version check and the path, on purpose)

entry()
