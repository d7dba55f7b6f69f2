"""Semantic action tokens in the LLM vocabulary.

Two routes:

- ``new_tokens`` (LVLM-VAR): one special token ``<act_i>`` per codebook entry. The base embedding
  and LM head stay frozen and untouched; the new rows live in :class:`ActionTokenEmbedding` /
  :class:`ActionTokenHead` as separate parameters, initialised from the mean embedding of the
  code's name, and are the only embedding weights that train. Keeping them apart (instead of
  resizing the base matrices) makes the checkpoint hold just these rows and lets it load into a
  fresh base model of the original size.
- ``existing_vocab`` (LLM-AR): each code is mapped onto an existing, rarely used vocabulary token;
  no resize, no new parameters, only LoRA trains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from lvlm_var.vst.narrative import act_token

__all__ = [
    "ActionVocabulary",
    "ActionTokenEmbedding",
    "ActionTokenHead",
    "install_action_tokens",
    "map_codes_to_existing_vocab",
    "action_token_parameters",
]


@dataclass(frozen=True)
class ActionVocabulary:
    """Where every codebook entry lives in the LLM vocabulary.

    Attributes:
        token_ids: LLM token id of code ``i`` at index ``i``.
        route: ``"new_tokens"`` or ``"existing_vocab"``.
    """

    token_ids: tuple[int, ...]
    route: str

    def token_id(self, code: int) -> int:
        """The token id of ``code``.

        Raises:
            ValueError: the code is outside the vocabulary (VST and classifier disagree on the codebook).
        """
        if not 0 <= code < len(self.token_ids):
            raise ValueError(
                f"action code {code} is outside the LLM action vocabulary of "
                f"{len(self.token_ids)} codes; the VST codebook and the classifier disagree"
            )
        return self.token_ids[code]


class ActionTokenEmbedding(nn.Module):
    """Input embedding = frozen base rows for ids below ``first_new_id``, trainable rows above.

    Args:
        base: the model's input embedding, ``(V, H)``; left frozen.
        first_new_id: id of ``<act_0>``.
        rows: initial new rows, ``(K, H)``.
    """

    def __init__(self, base: nn.Embedding, first_new_id: int, rows: Tensor) -> None:
        super().__init__()
        self.base = base
        self.first_new_id = first_new_id
        self.new_rows = nn.Parameter(rows.detach().float().clone())

    def forward(self, input_ids: Tensor) -> Tensor:
        """``(B, L)`` ids -> ``(B, L, H)`` embeddings."""
        is_new = input_ids >= self.first_new_id
        base = self.base(torch.where(is_new, 0, input_ids))
        new = F.embedding(torch.where(is_new, input_ids - self.first_new_id, 0), self.new_rows)
        return torch.where(is_new.unsqueeze(-1), new.to(base.dtype), base)


class ActionTokenHead(nn.Module):
    """LM head whose logits are the base logits of ids below ``first_new_id`` then one per new token.

    Base columns at or beyond ``first_new_id`` (padding rows such checkpoints carry) are dropped, so
    logit column ``i`` is always token id ``i``.

    Args:
        base: the model's output projection, ``(V, H)``; left frozen.
        first_new_id: id of ``<act_0>``.
        rows: initial new rows, ``(K, H)``.
    """

    def __init__(self, base: nn.Linear, first_new_id: int, rows: Tensor) -> None:
        super().__init__()
        self.base = base
        self.first_new_id = first_new_id
        self.new_rows = nn.Parameter(rows.detach().float().clone())

    def forward(self, hidden: Tensor) -> Tensor:
        """``(B, L, H)`` hidden states -> ``(B, L, first_new_id + K)`` logits."""
        base = self.base(hidden)[..., : self.first_new_id]
        return torch.cat([base, F.linear(hidden.to(base.dtype), self.new_rows.to(base.dtype))], dim=-1)


# Input rows of codes start at their name's mean embedding plus a fixed random direction of this share of
# the mean row norm: codes that share a name (the same motion in two class contexts) must not start as one
# token, or the classifier has to learn to tell them apart from nothing.
_CODE_IDENTITY_SHARE = 0.5


def _name_rows(weight: Tensor, tokenizer: PreTrainedTokenizerBase, names: Sequence[str]) -> Tensor:
    rows = []
    for code, name in enumerate(names):
        ids = tokenizer(name, add_special_tokens=False).input_ids
        if not ids:
            raise ValueError(f"action code {code} has an empty name {name!r}; its embedding needs words")
        rows.append(weight[ids].float().mean(dim=0))
    return torch.stack(rows)


def code_identity(num_codes: int, width: int, scale: float) -> Tensor:
    """``(K, H)`` fixed random directions of norm ``scale`` (seeded: the same for every run and process)."""
    generator = torch.Generator().manual_seed(0)
    directions = torch.randn(num_codes, width, generator=generator)
    return F.normalize(directions, dim=-1) * scale


def install_action_tokens(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, code_names: Sequence[str]
) -> ActionVocabulary:
    """Add ``<act_0> ... <act_{K-1}>`` to ``tokenizer`` and their trainable rows to ``model``.

    The rows of ``<act_i>`` start as the mean input embedding (resp. LM-head row) of the tokens of
    ``code_names[i]``, so an untrained classifier already reads ``<act_i>`` like its name; the input rows
    also get a fixed random direction per code (:func:`code_identity`, half the mean row norm), so codes
    that share a name start apart.

    Args:
        model: a LLaVA (before LoRA wrapping) with a dense ``lm_head``.
        tokenizer: its tokenizer; modified in place.
        code_names: name of every codebook entry, ``K`` of them.

    Returns:
        The vocabulary, ``token_ids[i]`` = id of ``<act_i>``.

    Raises:
        ValueError: the tokenizer already has action tokens, the LM head is quantized, or a name is empty.
    """
    if act_token(0) in tokenizer.get_vocab():
        raise ValueError(f"the tokenizer already contains {act_token(0)}; install action tokens once")
    embedding, head = model.get_input_embeddings(), model.get_output_embeddings()
    if not isinstance(head, nn.Linear) or head.weight.dtype not in (
        torch.float32,
        torch.bfloat16,
        torch.float16,
    ):
        raise ValueError(
            f"the LM head is {type(head).__name__} with {head.weight.dtype} weights; new action "
            "tokens need a dense LM head (keep 'lm_head' in the quantization skip list)"
        )
    first_new_id = len(tokenizer)
    with torch.no_grad():
        input_rows = _name_rows(embedding.weight, tokenizer, code_names)
        scale = _CODE_IDENTITY_SHARE * float(embedding.weight.float().norm(dim=-1).mean())
        input_rows = input_rows + code_identity(len(code_names), input_rows.shape[1], scale).to(input_rows)
        output_rows = _name_rows(head.weight, tokenizer, code_names)
    tokenizer.add_tokens([act_token(code) for code in range(len(code_names))], special_tokens=True)
    model.set_input_embeddings(ActionTokenEmbedding(embedding, first_new_id, input_rows))
    model.set_output_embeddings(ActionTokenHead(head, first_new_id, output_rows))
    return ActionVocabulary(tuple(range(first_new_id, first_new_id + len(code_names))), "new_tokens")


def map_codes_to_existing_vocab(tokenizer: PreTrainedTokenizerBase, num_codes: int) -> ActionVocabulary:
    """LLM-AR route: code ``i`` reuses one of the ``num_codes`` highest-id regular tokens.

    High ids of a BPE vocabulary are its last, rarest merges, so the codes collide least with the
    words of the prompt.

    Raises:
        ValueError: the vocabulary has fewer regular tokens than codes.
    """
    special = set(tokenizer.all_special_ids) | set(tokenizer.added_tokens_decoder)
    regular = [token_id for token_id in range(len(tokenizer)) if token_id not in special]
    if num_codes > len(regular):
        raise ValueError(
            f"cannot map {num_codes} action codes onto a vocabulary of {len(regular)} regular tokens"
        )
    return ActionVocabulary(tuple(regular[len(regular) - num_codes :]), "existing_vocab")


def action_token_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The new-token rows of ``model`` (empty on the ``existing_vocab`` route)."""
    return [m.new_rows for m in model.modules() if isinstance(m, (ActionTokenEmbedding, ActionTokenHead))]
