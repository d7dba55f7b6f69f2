"""Classification by likelihood: the score of a class is log p(class continuation | prompt).

Every clip's prompt is encoded once; its key/value cache is then shared by all class
continuations (copied per (clip, class) pair in bounded chunks), so scoring C classes costs one
prompt forward plus C short continuations instead of C full forwards. The prediction is the arg-max
over the class list: always a valid class, no free text to parse.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from transformers import DynamicCache

__all__ = ["pad_sequences", "score_classes", "score_classes_naive"]


def pad_sequences(
    sequences: Sequence[Sequence[int]], pad_id: int, device: torch.device, side: str = "left"
) -> tuple[Tensor, Tensor]:
    """Pad token id lists into a batch.

    Args:
        sequences: ``N`` id lists, each non-empty.
        pad_id: filler id.
        device: where the tensors go.
        side: ``"left"`` (prompts: the last real token is at column -1) or ``"right"``.

    Returns:
        ``ids`` ``(N, L)`` long and ``mask`` ``(N, L)`` long, 1 on real tokens.
    """
    length = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), length), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        span = slice(length - len(sequence), length) if side == "left" else slice(0, len(sequence))
        ids[row, span] = torch.as_tensor(list(sequence), dtype=torch.long)
        mask[row, span] = 1
    return ids.to(device), mask.to(device)


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def score_classes(
    model: nn.Module,
    prompts: Sequence[Sequence[int]],
    labels: Sequence[Sequence[int]],
    pad_id: int,
    chunk_size: int = 64,
) -> Tensor:
    """Log-likelihood of every class continuation after every prompt, batched.

    Args:
        model: a causal LM (LLaVA, optionally peft-wrapped) taking ``input_ids``, ``attention_mask``,
            ``position_ids`` and ``past_key_values``.
        prompts: ``B`` prompt id lists.
        labels: ``C`` class continuation id lists (each non-empty).
        pad_id: padding id (masked out; its value does not matter).
        chunk_size: (clip, class) pairs per continuation forward; bounds the copied cache memory.

    Returns:
        ``(B, C)`` float32 sum of token log-probabilities of each class continuation.
    """
    device = _device(model)
    prompt_ids, prompt_mask = pad_sequences(prompts, pad_id, device, "left")
    prompt_positions = (prompt_mask.cumsum(-1) - 1).clamp(min=0)
    out = model(
        input_ids=prompt_ids, attention_mask=prompt_mask, position_ids=prompt_positions, use_cache=True
    )
    label_ids, label_mask = pad_sequences(labels, pad_id, device, "right")
    num_prompts, num_labels = len(prompts), len(labels)
    scores = out.logits[:, -1].float().log_softmax(-1)[:, label_ids[:, 0]]
    if label_ids.shape[1] == 1:
        return scores
    prompt_cache = [(layer.keys, layer.values) for layer in out.past_key_values.layers]
    prompt_lengths = prompt_mask.sum(-1)
    steps = torch.arange(label_ids.shape[1] - 1, device=device)
    pairs = torch.arange(num_prompts * num_labels, device=device)
    for chunk in pairs.split(chunk_size):
        clip, label = chunk // num_labels, chunk % num_labels
        cache = DynamicCache(ddp_cache_data=[(keys[clip], values[clip]) for keys, values in prompt_cache])
        logits = model(
            input_ids=label_ids[label, :-1],
            attention_mask=torch.cat([prompt_mask[clip], label_mask[label, :-1]], dim=-1),
            position_ids=prompt_lengths[clip, None] + steps,
            past_key_values=cache,
            use_cache=True,
        ).logits
        token_logp = logits.float().log_softmax(-1).gather(-1, label_ids[label, 1:, None]).squeeze(-1)
        scores.index_put_((clip, label), (token_logp * label_mask[label, 1:]).sum(-1), accumulate=True)
    return scores


@torch.no_grad()
def score_classes_naive(
    model: nn.Module, prompts: Sequence[Sequence[int]], labels: Sequence[Sequence[int]]
) -> Tensor:
    """Reference for :func:`score_classes`: one unpadded forward per (clip, class) pair.

    Returns:
        ``(B, C)`` float32 sum of token log-probabilities of each class continuation.
    """
    device = _device(model)
    scores = torch.zeros(len(prompts), len(labels))
    for row, prompt in enumerate(prompts):
        for column, label in enumerate(labels):
            ids = torch.as_tensor([list(prompt) + list(label)], device=device)
            logp = model(input_ids=ids).logits[0, len(prompt) - 1 : -1].float().log_softmax(-1)
            scores[row, column] = logp.gather(-1, ids[0, len(prompt) :, None]).sum()
    return scores.to(device)
