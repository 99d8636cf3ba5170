from orchestrator_cli.cli.main import entry

entry()
