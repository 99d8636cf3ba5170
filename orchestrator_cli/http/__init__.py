"""`orchestrator http`: the service (API, auth, TLS, metrics). Imported only by the service, never by the CLI."""
