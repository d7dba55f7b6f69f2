"""The real loading path of the LLaVA backbone: (4-bit) weights -> k-bit training prep -> LoRA.

The same function loads LLaVA-1.5-13B on a GPU rank and the in-code tiny LLaVA on CPU in tests.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training
from transformers import (
    AutoTokenizer,
    BitsAndBytesConfig,
    LlavaForConditionalGeneration,
    PreTrainedTokenizerBase,
)

from lvlm_var.lvlm.config import TINY_LLAVA_ID, LLMClassifierConfig
from lvlm_var.lvlm.tiny_llava import ensure_tiny_llava
from lvlm_var.lvlm.vocabulary import (
    ActionVocabulary,
    action_token_parameters,
    install_action_tokens,
    map_codes_to_existing_vocab,
)

__all__ = [
    "QUANTIZATION_SKIP_MODULES",
    "ModelPathError",
    "QuantizationUnavailableError",
    "Backbone",
    "ParameterCounts",
    "quantization_config",
    "check_quantization_available",
    "load_base_model",
    "load_tokenizer",
    "apply_lora",
    "count_parameters",
    "load_backbone",
]

log = logging.getLogger(__name__)

# Full module paths: bitsandbytes matches these against module names, and bare names
# ("vision_tower") leave the vision tower quantized. lm_head stays dense so its rows can grow.
QUANTIZATION_SKIP_MODULES: tuple[str, ...] = ("model.vision_tower", "model.multi_modal_projector", "lm_head")
_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")
_MODEL_FILES = "config.json and model.safetensors (or model.safetensors.index.json / pytorch_model.bin)"


class ModelPathError(FileNotFoundError):
    """``model_id`` is neither a LLaVA model directory nor a model in the local Hugging Face cache."""


class QuantizationUnavailableError(RuntimeError):
    """bitsandbytes cannot run the requested quantization on the requested device."""


@dataclass(frozen=True)
class ParameterCounts:
    """Parameter counts of a backbone; ``trainable`` is what the optimizer updates."""

    trainable: int
    total: int

    def __str__(self) -> str:
        return (
            f"trainable {self.trainable:,} / total {self.total:,} ({100 * self.trainable / self.total:.4f} %)"
        )


@dataclass
class Backbone:
    """A LoRA-wrapped LLaVA, its tokenizer and where the action codes live in its vocabulary."""

    model: PeftModel
    tokenizer: PreTrainedTokenizerBase
    vocabulary: ActionVocabulary
    parameters: ParameterCounts


def _torch_dtype(name: str) -> torch.dtype:
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def quantization_config(config: LLMClassifierConfig) -> BitsAndBytesConfig | None:
    """The bitsandbytes config of ``config.quantization`` (``None`` for ``"none"``).

    NF4 is QLoRA's: 4-bit NormalFloat, double quantization, compute in ``config.dtype``; the vision
    tower, projector and LM head stay unquantized.
    """
    skip = list(QUANTIZATION_SKIP_MODULES)
    if config.quantization == "nf4":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=_torch_dtype(config.dtype),
            llm_int8_skip_modules=skip,
        )
    if config.quantization == "int8":
        return BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=skip)
    return None


def check_quantization_available(
    quantization: str, device: torch.device | str, dtype: str = "bfloat16"
) -> None:
    """Quantize a small matrix with bitsandbytes on ``device`` to prove the request can be served.

    Raises:
        QuantizationUnavailableError: bitsandbytes is missing or has no kernel for ``quantization``
            on ``device``; the message names both and the original error.
    """
    if quantization == "none":
        return
    try:
        import bitsandbytes.functional as bnb_functional

        probe = torch.randn(64, 64, device=device, dtype=_torch_dtype(dtype))
        if quantization == "nf4":
            packed, state = bnb_functional.quantize_4bit(probe, quant_type="nf4", compress_statistics=True)
            bnb_functional.dequantize_4bit(packed, state)
        else:
            bnb_functional.int8_vectorwise_quant(probe.half())
    except Exception as error:  # any failure here means bitsandbytes cannot serve the request
        raise QuantizationUnavailableError(
            f"bitsandbytes cannot run {quantization} quantization on device {str(device)!r} "
            f"({type(error).__name__}: {error}); use quantization='none', or a device bitsandbytes "
            "supports (CUDA, or CPU with bitsandbytes >= 0.49)"
        ) from error


def _resolve_model_path(config: LLMClassifierConfig) -> str:
    """The tiny LLaVA's directory (built if absent) for ``"tiny-llava"``; otherwise ``model_id`` if it is
    a complete model directory or a hub id (which ``from_pretrained`` finds in the local HF cache)."""
    model_id = config.model_id
    if model_id == TINY_LLAVA_ID:
        return str(ensure_tiny_llava(config.tiny_llava_cache))
    path = Path(model_id).expanduser()
    if path.is_dir():
        weights = (
            "model.safetensors",
            "model.safetensors.index.json",
            "pytorch_model.bin",
            "pytorch_model.bin.index.json",
        )
        if (path / "config.json").is_file() and any((path / name).is_file() for name in weights):
            return str(path)
        raise ModelPathError(
            f"model directory {str(path)!r} is incomplete: expected {_MODEL_FILES}, found "
            f"{sorted(p.name for p in path.iterdir()) or 'nothing'}"
        )
    if _HUB_ID.fullmatch(model_id):
        return model_id
    raise ModelPathError(
        f"model {model_id!r} not found: it is neither a directory, a Hugging Face hub id (owner/name) nor "
        f"{TINY_LLAVA_ID!r} (the in-code tiny LLaVA); "
        f"expected a directory with {_MODEL_FILES} (for example one written by save_pretrained)"
    )


def _from_pretrained(loader: Callable[..., Any], model_id: str, **kwargs: Any) -> Any:
    """``loader.from_pretrained`` with a hub id that cannot be fetched turned into a ModelPathError."""
    try:
        return loader.from_pretrained(model_id, **kwargs)
    except OSError as error:
        if Path(model_id).is_dir():
            raise
        raise ModelPathError(
            f"model {model_id!r} could not be loaded from the Hugging Face hub or its local cache ({error}); "
            f"give a local directory with {_MODEL_FILES}"
        ) from error


def load_tokenizer(config: LLMClassifierConfig) -> PreTrainedTokenizerBase:
    """The model's tokenizer, left-padded (prompts are scored and continued at the right end)."""
    tokenizer = _from_pretrained(AutoTokenizer, _resolve_model_path(config))
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.unk_token or tokenizer.eos_token
    return tokenizer


def load_base_model(
    config: LLMClassifierConfig, device: torch.device | str = "cpu"
) -> LlavaForConditionalGeneration:
    """Load the frozen LLaVA, quantized as ``config.quantization`` asks, prepared for adapter training.

    Args:
        config: the classifier config.
        device: where this process keeps the weights; under DDP each rank passes its own device
            (4-bit weights cannot be moved after loading).

    Returns:
        The model with every base parameter frozen; for k-bit models prepared by
        ``prepare_model_for_kbit_training`` (norms in fp32, input gradients for checkpointing).

    Raises:
        ModelPathError: ``config.model_id`` is neither a model directory nor a loadable hub model.
        QuantizationUnavailableError: bitsandbytes cannot serve ``config.quantization`` on ``device``.
    """
    path = _resolve_model_path(config)
    device = torch.device(device)
    check_quantization_available(config.quantization, device, config.dtype)
    model = _from_pretrained(
        LlavaForConditionalGeneration,
        path,
        quantization_config=quantization_config(config),
        dtype=_torch_dtype(config.dtype),
        device_map={"": device.index if device.type == "cuda" and device.index is not None else str(device)},
        attn_implementation=config.attn_implementation,
    )
    checkpointing_kwargs = {"use_reentrant": False}
    if config.quantization != "none":
        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=config.gradient_checkpointing,
            gradient_checkpointing_kwargs=checkpointing_kwargs,
        )
        _disable_cpu_weight_repacking(model)
    else:
        model.requires_grad_(False)
        if config.gradient_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=checkpointing_kwargs)
            model.enable_input_require_grads()
    return model


def _disable_cpu_weight_repacking(model: torch.nn.Module) -> None:
    # On CPUs with AVX512-BF16, bitsandbytes 0.49-0.50 repacks 4-bit weights in place at the first
    # no-grad eval forward (Lightning's sanity check) and from then on no gradient reaches LoRA.
    import bitsandbytes as bnb

    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit) and hasattr(module, "support_avx512bf16_for_cpu"):
            module.support_avx512bf16_for_cpu = False


def _language_model_linear_names(model: torch.nn.Module, short_names: list[str] | None) -> list[str]:
    """Full names of the linear layers of the language model (optionally only some short names)."""
    import bitsandbytes as bnb

    linear_types = (torch.nn.Linear, bnb.nn.Linear4bit, bnb.nn.Linear8bitLt)
    names = [
        name
        for name, module in model.named_modules()
        if ".language_model." in f".{name}."
        and isinstance(module, linear_types)
        and (short_names is None or name.rsplit(".", 1)[-1] in short_names)
    ]
    if not names:
        available = sorted(
            {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, linear_types)}
        )
        raise ValueError(
            f"LoRA target_modules={short_names} match no linear layer of the language model; "
            f"its linear layers are {available}"
        )
    return names


def apply_lora(model: torch.nn.Module, config: LLMClassifierConfig) -> PeftModel:
    """Wrap ``model`` with LoRA adapters on the language model's linear layers.

    Raises:
        ValueError: ``config.lora.target_modules`` names no linear layer of the language model.
    """
    lora = config.lora
    peft_config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        bias="none",
        target_modules=_language_model_linear_names(model, lora.target_modules),
    )
    return get_peft_model(model, peft_config)


def count_parameters(model: torch.nn.Module) -> ParameterCounts:
    """Trainable and total parameters; a 4-bit weight counts as its unpacked number of elements."""
    trainable = total = 0
    for parameter in model.parameters():
        count = parameter.numel()
        if parameter.dtype == torch.uint8 and hasattr(parameter, "quant_state"):
            count *= 2  # two 4-bit values per byte
        total += count
        if parameter.requires_grad:
            trainable += count
    return ParameterCounts(trainable, total)


def load_backbone(
    config: LLMClassifierConfig, code_names: list[str], device: torch.device | str = "cpu"
) -> Backbone:
    """The whole path: base model -> action tokens (``config.token_route``) -> LoRA.

    Args:
        config: the classifier config.
        code_names: name of every VST codebook entry.
        device: this process's device (``cuda:<local_rank>`` under DDP, or ``cpu``).

    Raises:
        ModelPathError, QuantizationUnavailableError: see :func:`load_base_model`.
    """
    tokenizer = load_tokenizer(config)
    model = load_base_model(config, device)
    if config.token_route == "new_tokens":
        vocabulary = install_action_tokens(model, tokenizer, code_names)
    else:
        vocabulary = map_codes_to_existing_vocab(tokenizer, len(code_names))
    model = apply_lora(model, config)
    for rows in action_token_parameters(model):  # peft froze every non-adapter parameter
        rows.requires_grad_(True)
    counts = count_parameters(model)
    log.info("LLaVA %s (%s, %s route): %s", config.model_id, config.quantization, config.token_route, counts)
    return Backbone(model, tokenizer, vocabulary, counts)
