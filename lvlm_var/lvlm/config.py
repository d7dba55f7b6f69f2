"""Typed hyperparameters of the LLM classifier: backbone, quantization, LoRA, action-token route."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "QUANTIZATIONS",
    "TOKEN_ROUTES",
    "DTYPES",
    "EXPLANATION_SOURCES",
    "TINY_LLAVA_ID",
    "LoRAConfig",
    "LLMClassifierConfig",
]

QUANTIZATIONS: tuple[str, ...] = ("none", "nf4", "int8")
EXPLANATION_SOURCES: tuple[str, ...] = ("attribution", "generation")
TOKEN_ROUTES: tuple[str, ...] = ("new_tokens", "existing_vocab")
DTYPES: tuple[str, ...] = ("float32", "bfloat16", "float16")
# The model_id of the in-code tiny LLaVA (lvlm_var.lvlm.tiny_llava): built on first use, never downloaded.
TINY_LLAVA_ID = "tiny-llava"


def _check_choice(field_name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{field_name}={value!r} is not supported; choose one of {', '.join(choices)}")


@dataclass
class LoRAConfig:
    """Low-rank adapters on the language model.

    Attributes:
        r: adapter rank.
        alpha: scaling numerator (the update is scaled by ``alpha / r``).
        dropout: dropout on the adapter input.
        target_modules: short names of the linear layers to adapt (``["q_proj", "v_proj"]``); ``None``
            adapts every linear layer of the language model. The vision tower and projector are
            never adapted: the classifier reads text only.
    """

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] | None = None

    def __post_init__(self) -> None:
        if self.r < 1:
            raise ValueError(f"LoRAConfig.r must be >= 1, got {self.r}")
        if self.alpha <= 0:
            raise ValueError(f"LoRAConfig.alpha must be > 0, got {self.alpha}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"LoRAConfig.dropout must be in [0, 1), got {self.dropout}")
        if self.target_modules is not None and not self.target_modules:
            raise ValueError("LoRAConfig.target_modules is empty; use None to adapt every linear layer")


@dataclass
class LLMClassifierConfig:
    """The LLaVA classifier that reads action narratives.

    Attributes:
        model_id: Hugging Face model directory (or hub id already in the local cache) of a LLaVA model,
            or ``"tiny-llava"`` (:data:`TINY_LLAVA_ID`) for the in-code tiny LLaVA, built once into
            ``tiny_llava_cache`` by :func:`~lvlm_var.lvlm.tiny_llava.ensure_tiny_llava`.
        tiny_llava_cache: where the tiny LLaVA is kept when ``model_id`` is ``"tiny-llava"``; ``None`` is
            ``$XDG_CACHE_HOME/lvlm_var/tiny-llava`` (``~/.cache/...``). Ignored for other models.
        quantization: ``"nf4"`` (4-bit QLoRA, double quantization), ``"int8"`` or ``"none"``.
        dtype: compute dtype of the quantized layers and storage dtype of the unquantized weights.
        lora: the adapters.
        token_route: ``"new_tokens"`` adds one ``<act_i>`` token per codebook entry, its embedding and
            LM-head rows initialised from its name and trained; ``"existing_vocab"`` (LLM-AR) maps
            codes onto existing vocabulary tokens, with no resize and only LoRA trained.
        gradient_checkpointing: recompute activations in the backward pass.
        lr: AdamW learning rate (the adapters; decayed to zero by a cosine over the fit).
        action_row_lr_scale: the new ``<act_i>`` rows learn at ``lr`` times this (no weight decay): they
            start from their names, and codes that share a name are told apart by their rows alone.
        weight_decay: AdamW weight decay on the adapters.
        instruction: what the model is asked to do, before the narrative.
        question: asked after the narrative; the answer starts with the class name.
        score_chunk_size: (clip, class) continuations scored per forward pass; bounds the memory of
            the copied prompt cache.
        explanation_source: where a test / predict explanation's citations come from. ``"attribution"``:
            the segments the classifier itself used for the predicted class, by exact leave-one-segment-out
            (:mod:`~lvlm_var.lvlm.attribution`); ``"generation"`` (the paper's): the segments the LLM's
            generated "because ..." cites. Either way the text is rendered from the cited segments.
        min_attribution: with ``"attribution"``, a segment is cited when leaving it out lowers the
            predicted class's log-probability (log-softmax over the classes) by more than this, in nats;
            the largest drop is cited even below it (so with ``max_cited_segments`` 1 this has no effect).
        max_cited_segments: with ``"attribution"``, the most segments an explanation cites. 1 (the
            segment whose removal costs the class most) was the most faithful on training clips of two
            seeds; see :mod:`~lvlm_var.lvlm.attribution`.
        explanation_max_new_tokens: generated explanation length after the predicted label (``"generation"``).
        explanation_segments: narrative segments a training explanation cites (by index and time span):
            those whose action tokens speak most for the true class (the VST's bag-of-codes probe).
        top_k: predictions kept in an explanation record.
        attn_implementation: ``"sdpa"`` or ``"eager"``.
    """

    model_id: str = "llava-hf/llava-1.5-13b-hf"
    tiny_llava_cache: str | None = None
    quantization: str = "nf4"
    dtype: str = "bfloat16"
    lora: LoRAConfig = field(default_factory=LoRAConfig)
    token_route: str = "new_tokens"
    gradient_checkpointing: bool = True
    lr: float = 2e-4
    action_row_lr_scale: float = 1.0
    weight_decay: float = 0.0
    instruction: str = (
        "The action narrative lists the semantic action tokens of a skeleton clip in temporal order, "
        "each with its name and duration."
    )
    question: str = "Which action is the person performing, and why?"
    score_chunk_size: int = 64
    explanation_source: str = "attribution"
    min_attribution: float = 1.0
    max_cited_segments: int = 1
    explanation_max_new_tokens: int = 32
    explanation_segments: int = 1
    top_k: int = 5
    attn_implementation: str = "sdpa"

    def __post_init__(self) -> None:
        if isinstance(self.lora, dict):
            self.lora = LoRAConfig(**self.lora)
        _check_choice("quantization", self.quantization, QUANTIZATIONS)
        _check_choice("token_route", self.token_route, TOKEN_ROUTES)
        _check_choice("dtype", self.dtype, DTYPES)
        _check_choice("attn_implementation", self.attn_implementation, ("sdpa", "eager"))
        _check_choice("explanation_source", self.explanation_source, EXPLANATION_SOURCES)
        if not self.model_id:
            raise ValueError("model_id is empty; give a LLaVA model directory or hub id")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.action_row_lr_scale <= 0:
            raise ValueError(f"action_row_lr_scale must be > 0, got {self.action_row_lr_scale}")
        if self.score_chunk_size < 1:
            raise ValueError(f"score_chunk_size must be >= 1, got {self.score_chunk_size}")
        if self.explanation_max_new_tokens < 0:
            raise ValueError(
                f"explanation_max_new_tokens must be >= 0, got {self.explanation_max_new_tokens}"
            )
        if not 0.0 <= self.min_attribution < float("inf"):
            raise ValueError(
                f"min_attribution must be a finite number of nats >= 0, got {self.min_attribution}"
            )
        if self.max_cited_segments < 1:
            raise ValueError(f"max_cited_segments must be >= 1, got {self.max_cited_segments}")
        if self.explanation_segments < 1:
            raise ValueError(f"explanation_segments must be >= 1, got {self.explanation_segments}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k}")

    @classmethod
    def llava_13b(cls) -> LLMClassifierConfig:
        """The paper's setting: LLaVA-1.5-13B in NF4 with LoRA on every linear layer."""
        return cls()

    @classmethod
    def tiny(cls, model_dir: str = TINY_LLAVA_ID) -> LLMClassifierConfig:
        """The in-code tiny LLaVA (tests, demos): a directory written by
        :func:`~lvlm_var.lvlm.tiny_llava.ensure_tiny_llava`, or ``"tiny-llava"`` to build it on first use."""
        return cls(
            model_id=model_dir,
            quantization="nf4",
            dtype="float32",
            lora=LoRAConfig(r=4, alpha=8, dropout=0.0),
            gradient_checkpointing=False,
            score_chunk_size=256,
            explanation_max_new_tokens=8,
        )
