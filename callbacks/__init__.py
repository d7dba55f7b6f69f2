"""Lightning callbacks that only read what the modules return and log or write it, and the run report
(``callbacks.report``) drawn from what they wrote. The callbacks are imported on first use, so the report
reads a run folder without importing Lightning."""

from lvlm_var.lazy_exports import lazy_exports

__all__ = ["ExplanationFaithfulness", "ExplanationWriter", "NarrativeWriter", "TokenRetentionLogger"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ExplanationFaithfulness": ".explanation_faithfulness",
        "ExplanationWriter": ".explanation_writer",
        "NarrativeWriter": ".narrative_writer",
        "TokenRetentionLogger": ".token_retention",
    },
)
