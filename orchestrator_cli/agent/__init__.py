"""orchestrator-agent: calls to the agents that registered with an orchestrator service (legacy feature)."""
