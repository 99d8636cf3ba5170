"""Failure analysis: pure classification of backend rows (no SQL, no I/O).

``build_facts`` aggregates ``database_instance`` rows per potential master,
``analyze`` applies the decision chain and structure warnings, and
``replication_analysis`` adds the listing filters used by the CLI, API and recovery.
"""

from orchestrator_cli.analysis.codes import AnalysisCode, StructureWarning
from orchestrator_cli.analysis.facts import AnalysisFacts, build_facts, facts_from_aggregates
from orchestrator_cli.analysis.report import format_line, listed_analysis, replication_analysis, to_json
from orchestrator_cli.analysis.rules import Analysis, analyze, is_skippable_due_to_downtime
from orchestrator_cli.model.keys import InstanceKey

__all__ = [
    "Analysis",
    "AnalysisCode",
    "AnalysisFacts",
    "InstanceKey",
    "StructureWarning",
    "analyze",
    "build_facts",
    "facts_from_aggregates",
    "format_line",
    "is_skippable_due_to_downtime",
    "listed_analysis",
    "replication_analysis",
    "to_json",
]
