"""A tiny LLaVA built in code, with a tokenizer trained in code: the test and demo backbone.

It is saved with ``save_pretrained`` and then loaded through the same
:func:`~lvlm_var.lvlm.loading.load_backbone` path as LLaVA-1.5-13B (NF4, LoRA), so every test of the
real path runs on CPU in seconds without downloading weights.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import string
import tempfile
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    CLIPVisionConfig,
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    PreTrainedTokenizerFast,
)

__all__ = ["TINY_LLAVA_VERSION", "build_tiny_tokenizer", "build_tiny_llava", "ensure_tiny_llava"]

# Bump when the recipe changes: a cached model of another version is rebuilt.
TINY_LLAVA_VERSION = "2"

_LM_HEAD_INIT_GAIN = 25.0
_SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
_CORPUS = """
USER: ASSISTANT: The action narrative lists the semantic action tokens of a skeleton clip in temporal order,
each with its name and duration. Which action is the person performing, and why? Action narrative:
because then and finally the person while seconds s 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0 1.5 2.0 3.0
left right both head neck spine torso chest shoulder shoulders elbow arm arms wrist hand hands finger thumb
hip hips knee leg legs ankle foot feet body pelvis back upper lower
rises raises lifts lowers drops falls moves stretches bends turns twists swings waves shakes kicks steps
forward backward up down sideways inward outward fast slow still quickly slowly stays holds reaches
drink water eat meal brush teeth hair throw sit down stand up clapping reading writing tear paper
wear jacket take off shoe glasses hat cap cheer hand waving kicking something reach into pocket hopping
jump phone call playing with tablet typing on keyboard pointing to taking selfie check time rub hands
nod bow shake head wipe face salute put palms together cross in front sneeze cough staggering falling
touch chest back neck nausea vomiting fan self punch slap pushing pat on back point finger hugging giving
object touch pocket handshake walking towards apart walk run hop pick up put
right hand rises, left hand lowers, both hands move forward, both arms move back, right foot moves sideways,
both feet, both legs, whole body, torso straightens up, bends down, bends forward, leans back, leans sideways,
stands still, sits still, crouches still, crouching, sitting, knees bent, bending, arms raised,
right arm raised
"""


def build_tiny_tokenizer(vocab_size: int = 600) -> PreTrainedTokenizerFast:
    """A Llama-style BPE tokenizer trained on a small built-in corpus.

    Like Llama's, it marks word starts with ``▁`` (Metaspace) so a piece encoded on its own
    (a class name, an explanation) tokenizes as it would after a space. Every printable ASCII
    character is in the alphabet, so any ASCII text encodes without ``<unk>``.

    Args:
        vocab_size: target vocabulary size including the special tokens.

    Returns:
        The tokenizer, with ``<s>`` prepended by its post-processor and ``<image>`` as special token.
    """
    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.normalizer = normalizers.NFKC()
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=_SPECIAL_TOKENS,
        initial_alphabet=list(string.printable.strip()),
        show_progress=False,
    )
    backend.train_from_iterator(_CORPUS.split("\n"), trainer=trainer)
    bos_id = backend.token_to_id("<s>")
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos_id)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        extra_special_tokens={"image_token": "<image>"},
        padding_side="left",
    )


def build_tiny_llava(tokenizer: PreTrainedTokenizerFast, seed: int = 0) -> LlavaForConditionalGeneration:
    """A randomly initialised LLaVA: 2-layer Llama text model (hidden 64) and a 2-layer CLIP vision tower.

    Args:
        tokenizer: its vocabulary sets the text model's vocabulary and the image / pad token ids.
        seed: weight initialisation seed.
    """
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=28,
        patch_size=14,
        projection_dim=32,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        image_seq_length=4,
    )
    config.pad_token_id = tokenizer.pad_token_id
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LlavaForConditionalGeneration(config)
    # With the default 0.02 init the logits of a hidden-64 model span about +-1.3, so no adapter can make
    # any token likely (the loss plateaus near log(vocab)) and class scores only reflect name lengths. A
    # pretrained LLM's output layer spans a wide logit range: give the frozen LM head that range.
    with torch.no_grad():
        model.lm_head.weight.mul_(_LM_HEAD_INIT_GAIN)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model


def _default_cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "lvlm_var" / "tiny-llava"


def ensure_tiny_llava(cache_dir: str | Path | None = None) -> Path:
    """Build and save the tiny LLaVA and its tokenizer once; return the directory.

    The directory is complete or absent: the model is written to a temporary sibling and renamed,
    so concurrent processes (DDP ranks, parallel tests) never read a half-written model.

    Args:
        cache_dir: where to keep it; default ``$XDG_CACHE_HOME/lvlm_var/tiny-llava`` (``~/.cache/...``).

    Returns:
        A directory that ``LlavaForConditionalGeneration.from_pretrained`` and
        ``AutoTokenizer.from_pretrained`` read.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    stamp = hashlib.sha1(f"{TINY_LLAVA_VERSION}{_CORPUS}".encode()).hexdigest()[:10]
    target = cache_dir / f"v{TINY_LLAVA_VERSION}-{stamp}"
    if (target / "config.json").is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tiny-llava-", dir=cache_dir))
    try:
        tokenizer = build_tiny_tokenizer()
        build_tiny_llava(tokenizer).save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        try:
            staging.rename(target)
        except OSError:
            if not (target / "config.json").is_file():  # not another process winning the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
