"""LVLM-VAR's LLM classifier: action narratives -> 4-bit QLoRA LLaVA -> class likelihoods + explanation.

Needs the ``[lvlm]`` extra (transformers, peft, bitsandbytes); importing it without them is an
``ImportError`` that says so.
"""

from lvlm_var.extras import require_extra

require_extra("lvlm", "lvlm_var.lvlm (the LLaVA classifier)", "transformers", "peft", "bitsandbytes")

from lvlm_var.lvlm.config import TINY_LLAVA_ID, LLMClassifierConfig, LoRAConfig  # noqa: E402
from lvlm_var.lvlm.loading import (  # noqa: E402
    Backbone,
    ModelPathError,
    QuantizationUnavailableError,
    load_backbone,
)
from lvlm_var.lvlm.module import LVLMClassifierModule, NarrativeSource  # noqa: E402
from lvlm_var.lvlm.prompts import PromptBuilder  # noqa: E402
from lvlm_var.lvlm.scoring import score_classes, score_classes_naive  # noqa: E402
from lvlm_var.lvlm.tiny_llava import ensure_tiny_llava  # noqa: E402
from lvlm_var.lvlm.vocabulary import ActionVocabulary  # noqa: E402

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
