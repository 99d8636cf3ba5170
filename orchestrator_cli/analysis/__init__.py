"""Failure analysis: pure classification of typed facts (no SQL, no I/O, no column names).

``build_facts`` groups ``Instance`` snapshots per potential master, ``analysable`` completes the
facts the backend aggregated,
``analyze`` applies the decision chain and structure warnings, and
``replication_analysis`` adds the listing filters used by the CLI, API and recovery.
"""

from orchestrator_cli.analysis.codes import AnalysisCode, StructureWarning
from orchestrator_cli.analysis.facts import analysable, build_facts
from orchestrator_cli.analysis.report import format_line, listed_analysis, replication_analysis, to_json
from orchestrator_cli.analysis.rules import Analysis, analyze, is_skippable_due_to_downtime
from orchestrator_cli.model.analysis_facts import AnalysisFacts
from orchestrator_cli.model.keys import InstanceKey

__all__ = [
    "Analysis",
    "AnalysisCode",
    "AnalysisFacts",
    "InstanceKey",
    "StructureWarning",
    "analysable",
    "analyze",
    "build_facts",
    "format_line",
    "is_skippable_due_to_downtime",
    "listed_analysis",
    "replication_analysis",
    "to_json",
]
