"""The run report: one self-contained HTML page drawn from what a run folder already holds (metrics CSV,
resolved config, explanation and narrative JSONL). It reads files, never a model, so it runs anywhere the
run folder is, without Lightning."""

from .page import render_report, write_report
from .run_outputs import ReportInputError, RunOutputs, read_run

__all__ = ["ReportInputError", "RunOutputs", "read_run", "render_report", "write_report"]
