"""LVLM-VAR's LLM classifier: action narratives -> 4-bit QLoRA LLaVA -> class likelihoods + explanation."""

from lvlm_var.lvlm.config import TINY_LLAVA_ID, LLMClassifierConfig, LoRAConfig
from lvlm_var.lvlm.loading import (
    Backbone,
    ModelPathError,
    QuantizationUnavailableError,
    load_backbone,
)
from lvlm_var.lvlm.module import LVLMClassifierModule, NarrativeSource
from lvlm_var.lvlm.prompts import PromptBuilder
from lvlm_var.lvlm.scoring import score_classes, score_classes_naive
from lvlm_var.lvlm.tiny_llava import ensure_tiny_llava
from lvlm_var.lvlm.vocabulary import ActionVocabulary

__all__ = [
    "TINY_LLAVA_ID",
    "LLMClassifierConfig",
    "LoRAConfig",
    "Backbone",
    "ModelPathError",
    "QuantizationUnavailableError",
    "load_backbone",
    "LVLMClassifierModule",
    "NarrativeSource",
    "PromptBuilder",
    "score_classes",
    "score_classes_naive",
    "ensure_tiny_llava",
    "ActionVocabulary",
]
