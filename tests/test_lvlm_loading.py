"""The real loading path on CPU: NF4 / int8 through bitsandbytes, LoRA, gradients, clear config errors."""

from __future__ import annotations

import bitsandbytes as bnb
import pytest
import torch
from lvlm_helpers import CODE_NAMES, narratives, tiny_config

from lvlm_var.lvlm.config import LLMClassifierConfig, LoRAConfig
from lvlm_var.lvlm.loading import (
    ModelPathError,
    QuantizationUnavailableError,
    check_quantization_available,
    count_parameters,
    load_backbone,
)
from lvlm_var.lvlm.prompts import PromptBuilder
from lvlm_var.lvlm.scoring import pad_sequences, score_classes, score_classes_naive
from lvlm_var.lvlm.tiny_llava import TINY_LLAVA_VERSION

pytest_plugins = ["lvlm_helpers"]  # the tiny_llava_dir and vst_checkpoint fixtures


def _module_types(model: torch.nn.Module, part: str) -> set[type]:
    return {type(m) for n, m in model.named_modules() if part in n and isinstance(m, (torch.nn.Linear,))}


def test_nf4_quantizes_only_the_language_model(tiny_llava_dir):
    backbone = load_backbone(tiny_config(tiny_llava_dir), CODE_NAMES)
    model = backbone.model
    language = [m for n, m in model.named_modules() if ".language_model." in n and n.endswith("base_layer")]
    assert language and all(isinstance(m, bnb.nn.Linear4bit) for m in language)
    assert all(m.weight.dtype == torch.uint8 and m.weight.quant_state.quant_type == "nf4" for m in language)
    assert all(m.weight.quant_state.nested for m in language)  # double quantization
    for part in ("vision_tower", "multi_modal_projector", "lm_head"):
        assert _module_types(model, part) == {torch.nn.Linear}, part
        assert all(
            p.dtype == torch.float32 for n, p in model.named_parameters() if part in n and "lora" not in n
        )
    assert not any(
        "lora" in n for n, _ in model.named_parameters() if "vision_tower" in n or "projector" in n
    )


def test_trainable_parameters_are_lora_and_action_rows(tiny_llava_dir):
    config = tiny_config(tiny_llava_dir)
    backbone = load_backbone(config, CODE_NAMES)
    trainable = {n: p.numel() for n, p in backbone.model.named_parameters() if p.requires_grad}
    hidden, layers, r = 64, 2, config.lora.r
    # per layer, in -> out of q, k, v, o, gate, up, down; LoRA adds r * (in + out) each
    shapes = [(64, 64), (64, 32), (64, 32), (64, 64), (64, 128), (64, 128), (128, 64)]
    lora = layers * sum(r * (i + o) for i, o in shapes)
    rows = 2 * len(CODE_NAMES) * hidden  # input-embedding rows + LM-head rows
    assert sum(v for n, v in trainable.items() if "lora_" in n) == lora
    assert sum(v for n, v in trainable.items() if n.endswith("new_rows")) == rows
    assert len(trainable) == layers * len(shapes) * 2 + 2
    assert backbone.parameters == count_parameters(backbone.model)
    assert backbone.parameters.trainable == lora + rows


def test_int8_loads_on_cpu(tiny_llava_dir):
    backbone = load_backbone(tiny_config(tiny_llava_dir, quantization="int8"), CODE_NAMES)
    language = [
        m for n, m in backbone.model.named_modules() if ".language_model." in n and n.endswith("base_layer")
    ]
    assert language and all(isinstance(m, bnb.nn.Linear8bitLt) for m in language)
    assert _module_types(backbone.model, "vision_tower") == {torch.nn.Linear}


@pytest.mark.parametrize(
    ("quantization", "dtype"),
    [("nf4", "bfloat16"), ("nf4", "float32"), ("int8", "float32"), ("none", "float32")],
)
def test_eval_forward_then_training_step_reaches_every_lora_b(tiny_llava_dir, quantization, dtype):
    """bitsandbytes 0.49-0.50 on AVX512-BF16 CPUs repacks 4-bit weights at the first no-grad eval
    forward (Lightning's sanity check), after which LoRA would silently get no gradient."""
    config = tiny_config(tiny_llava_dir, quantization=quantization, dtype=dtype)
    backbone = load_backbone(config, CODE_NAMES)
    model, prompts = (
        backbone.model,
        PromptBuilder(backbone.tokenizer, backbone.vocabulary, "Classify.", "Which?"),
    )
    ids, mask = pad_sequences([prompts.encode_prompt(n).ids for n in narratives()], 0, torch.device("cpu"))
    model.eval()
    with torch.no_grad():
        model(input_ids=ids, attention_mask=mask)
    model.train()
    logits = model(input_ids=ids, attention_mask=mask).logits
    torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1).float(), ids[:, 1:].flatten()).backward()
    lora_b = {n: p.grad for n, p in model.named_parameters() if "lora_B" in n}
    assert len(lora_b) == 14
    assert all(g is not None and g.abs().sum() > 0 for g in lora_b.values()), [
        n for n, g in lora_b.items() if g is None or g.abs().sum() == 0
    ]
    rows = [p for n, p in model.named_parameters() if n.endswith("new_rows")]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in rows)


def test_unknown_model_path_names_the_path_and_the_files(tmp_path):
    missing = tmp_path / "no-such-llava"
    with pytest.raises(
        ModelPathError,
        match=r"no-such-llava.*neither a directory, a Hugging Face hub id .* nor 'tiny-llava'.*config\.json",
    ):
        load_backbone(LLMClassifierConfig(model_id=str(missing)), CODE_NAMES)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(
        ModelPathError, match=r"half.*incomplete.*expected config\.json.*found \['config\.json'\]"
    ):
        load_backbone(LLMClassifierConfig(model_id=str(tmp_path / "half")), CODE_NAMES)


def test_tiny_llava_id_builds_the_model_once_into_its_cache(tmp_path):
    config = LLMClassifierConfig.tiny()
    config.tiny_llava_cache = str(tmp_path)
    backbone = load_backbone(config, CODE_NAMES)
    assert backbone.parameters.trainable > 0
    (built,) = tmp_path.glob(f"v{TINY_LLAVA_VERSION}-*")
    assert (built / "config.json").is_file()
    load_backbone(config, CODE_NAMES)
    assert list(tmp_path.glob(f"v{TINY_LLAVA_VERSION}-*")) == [built]


def test_tiny_llava_logits_span_a_range_adapters_can_use(tiny_llava_dir):
    """The frozen LM head must let LoRA make tokens likely (the default init caps logits near +-1.3)."""
    backbone = load_backbone(tiny_config(tiny_llava_dir, quantization="none"), CODE_NAMES)
    ids = torch.arange(5, 45)[None]
    logits = backbone.model(input_ids=ids).logits
    assert float(logits.std()) > 2.0


def test_bad_config_values_are_named():
    with pytest.raises(
        ValueError, match=r"quantization='fp4' is not supported; choose one of none, nf4, int8"
    ):
        LLMClassifierConfig(quantization="fp4")
    with pytest.raises(ValueError, match=r"token_route='words' is not supported"):
        LLMClassifierConfig(token_route="words")
    with pytest.raises(ValueError, match=r"LoRAConfig.r must be >= 1, got 0"):
        LoRAConfig(r=0)
    assert LLMClassifierConfig(lora={"r": 2}).lora == LoRAConfig(r=2)


def test_lora_targets_that_match_nothing_are_named(tiny_llava_dir):
    config = tiny_config(tiny_llava_dir, lora=LoRAConfig(r=2, target_modules=["qkv"]))
    with pytest.raises(ValueError, match=r"target_modules=\['qkv'\] match no linear layer.*'q_proj'"):
        load_backbone(config, CODE_NAMES)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("quantization", ["nf4", "int8"])
def test_quantization_bitsandbytes_cannot_serve_is_an_error_not_a_fallback(quantization):
    with pytest.raises(
        QuantizationUnavailableError, match=rf"bitsandbytes cannot run {quantization} .* 'cuda:0'"
    ):
        check_quantization_available(quantization, torch.device("cuda:0"))


def test_quantization_available_on_cpu():
    for quantization in ("none", "nf4", "int8"):
        check_quantization_available(quantization, torch.device("cpu"))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_nf4_on_cuda_scores_like_the_naive_reference(tiny_llava_dir):
    backbone = load_backbone(tiny_config(tiny_llava_dir), CODE_NAMES, device="cuda:0")
    model = backbone.model.eval()
    assert all(p.device.type == "cuda" for p in model.parameters())
    prompts = PromptBuilder(backbone.tokenizer, backbone.vocabulary, "Classify.", "Which?")
    encoded = [prompts.encode_prompt(n).ids for n in narratives()]
    labels = [prompts.encode_label(name) for name in ("sit down", "hand waving", "nod head")]
    batched = score_classes(model, encoded, labels, backbone.tokenizer.pad_token_id, chunk_size=2)
    torch.testing.assert_close(batched, score_classes_naive(model, encoded, labels), atol=1e-3, rtol=0)
