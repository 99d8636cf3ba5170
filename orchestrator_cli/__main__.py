import gc

# Off before the CLI's own imports, not only from entry() on: see entry() (cli/main.py) for why, and
# for the runs that turn it back on.
gc.disable()

from orchestrator_cli.cli.main import entry  # noqa: E402  (after gc.disable, on purpose)

entry()
