"""Greedy generation of the explanation that follows a (predicted) label."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from transformers import PreTrainedTokenizerBase

from lvlm_var.lvlm.scoring import pad_sequences

__all__ = ["generate_continuations"]


@torch.no_grad()
def generate_continuations(
    model: nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    prefixes: Sequence[Sequence[int]],
    max_new_tokens: int,
) -> list[str]:
    """Greedily continue every prefix (prompt + label ids) until EOS or ``max_new_tokens``.

    Args:
        model: a causal LM with ``generate`` (LLaVA, optionally peft-wrapped).
        tokenizer: decodes the new tokens (special tokens, ``<act_i>`` included, are dropped).
        prefixes: ``B`` id lists.
        max_new_tokens: generation budget per prefix.

    Returns:
        ``B`` decoded continuations, stripped.
    """
    if max_new_tokens == 0:
        return ["" for _ in prefixes]
    ids, mask = pad_sequences(prefixes, tokenizer.pad_token_id, next(model.parameters()).device, "left")
    out = model.generate(
        input_ids=ids,
        attention_mask=mask,
        max_new_tokens=max_new_tokens,
        do_sample=False,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return [text.strip() for text in tokenizer.batch_decode(out[:, ids.shape[1] :], skip_special_tokens=True)]
