"""Lightning callbacks that only read what the modules return and log or write it."""

from .explanation_faithfulness import ExplanationFaithfulness
from .explanation_writer import ExplanationWriter
from .narrative_writer import NarrativeWriter
from .token_retention import TokenRetentionLogger

__all__ = ["ExplanationFaithfulness", "ExplanationWriter", "NarrativeWriter", "TokenRetentionLogger"]
