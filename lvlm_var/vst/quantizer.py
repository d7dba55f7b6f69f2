"""The VST codebook: per-step features to discrete semantic action tokens.

One codebook of ``K`` entries (``vector_quantize_pytorch.VectorQuantize``) with

* EMA codebook updates (no codebook gradients; the encoder gets the commitment loss and, through the
  rotation trick, the gradients of the decoder and of the classification head);
* k-means initialisation on the first training batch (a fresh module quantizing before any training
  batch also initialises on what it first sees);
* dead-code revival: a code whose EMA assignment count per batch falls below
  ``dead_code_threshold`` is replaced by a random encoder output of the current batch;
* cosine lookup (``cosine_codebook``): features and codes are l2-normalised.

Under DDP the codebook statistics (k-means, EMA counts, revival samples) are all-reduced across processes
when the quantizer is built after the process group exists; :meth:`VSTModule.configure_model
<lvlm_var.vst.module.VSTModule.configure_model>` rebuilds it then, so every rank keeps the same codebook.
"""

from __future__ import annotations

from typing import NamedTuple

import torch.nn.functional as F
from torch import Tensor, nn
from vector_quantize_pytorch import VectorQuantize

from .config import VSTConfig

__all__ = ["VSTQuantizer", "QuantizerOutput", "CodebookUsage", "codebook_usage"]


class QuantizerOutput(NamedTuple):
    """What :class:`VSTQuantizer` returns.

    Attributes:
        quantized: ``(B, S, D)`` the codes' vectors (gradients reach the features through them).
        codes: ``(B, S)`` long codebook indices.
        commitment_loss: scalar, mean squared distance of the (normalised) features to their codes.
    """

    quantized: Tensor
    codes: Tensor
    commitment_loss: Tensor


class CodebookUsage(NamedTuple):
    """Usage of a codebook over a set of assignments.

    Attributes:
        perplexity: ``exp`` of the entropy of the code distribution (``K`` when uniform, 1 when one code).
        dead_codes: codes never assigned.
    """

    perplexity: float
    dead_codes: int


def codebook_usage(counts: Tensor) -> CodebookUsage:
    """Perplexity and dead codes of a ``(K,)`` histogram of code assignments (empty: ``(0, K)``)."""
    total = counts.sum()
    if total <= 0:
        return CodebookUsage(0.0, int(counts.numel()))
    probabilities = counts.double() / total
    entropy = -(probabilities * probabilities.clamp(min=1e-12).log()).sum()
    return CodebookUsage(float(entropy.exp()), int((counts == 0).sum()))


class VSTQuantizer(nn.Module):
    """EMA vector quantizer of per-step token features.

    Args:
        config: the VST hyperparameters (``token_dim``, ``codebook_size``, ``codebook_decay``,
            ``kmeans_iters``, ``dead_code_threshold``, ``cosine_codebook``).
        synchronize: all-reduce codebook statistics across processes (only inside a process group).

    Shapes:
        ``forward``: features ``(B, S, D)`` -> :class:`QuantizerOutput`.
    """

    def __init__(self, config: VSTConfig, synchronize: bool = False) -> None:
        super().__init__()
        self.config = config
        self.synchronize = synchronize
        self.vq = VectorQuantize(
            dim=config.token_dim,
            codebook_size=config.codebook_size,
            decay=config.codebook_decay,
            kmeans_init=True,
            kmeans_iters=config.kmeans_iters,
            threshold_ema_dead_code=config.dead_code_threshold,
            use_cosine_sim=config.cosine_codebook,
            commitment_weight=0.0,  # computed in forward, identically in train and eval
            rotation_trick=True,
            sync_codebook=synchronize,
        )

    @property
    def codebook_size(self) -> int:
        return self.config.codebook_size

    @property
    def codebook(self) -> Tensor:
        """``(K, D)`` the code vectors."""
        return self.vq.codebook

    def _normalize(self, features: Tensor) -> Tensor:
        return F.normalize(features, dim=-1) if self.config.cosine_codebook else features

    def forward(self, features: Tensor) -> QuantizerOutput:
        features = self._normalize(features)
        quantized, codes, _ = self.vq(features)
        commitment = F.mse_loss(features, quantized.detach())
        return QuantizerOutput(quantized, codes, commitment)

    def lookup(self, codes: Tensor) -> Tensor:
        """Code vectors of ``codes`` ``(...)`` -> ``(..., D)``."""
        return self.vq.get_output_from_indices(codes)
