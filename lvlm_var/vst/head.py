"""The token classification head: gives the codebook class meaning during VST training."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .config import VSTConfig

__all__ = ["TokenClassifierHead"]


class TokenClassifierHead(nn.Module):
    """Class logits from a clip's quantized tokens.

    A temporal convolution over neighbouring steps (so short token transitions count), then mean and
    max pooling over steps and a linear layer. It sees only the quantized tokens, so the classification
    loss shapes the encoder features (and, through the EMA updates, the codes) into class-discriminative
    clusters.

    Args:
        config: the VST hyperparameters (``token_dim``, ``head_hidden``, ``head_dropout``, ``num_classes``).

    Shapes:
        ``forward``: quantized ``(B, S, D)`` -> logits ``(B, num_classes)``.
    """

    def __init__(self, config: VSTConfig) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(config.token_dim)
        self.temporal = nn.Conv1d(
            config.token_dim, config.head_hidden, 3, padding=1, padding_mode="replicate"
        )
        self.activation = nn.GELU()
        self.dropout = nn.Dropout(config.head_dropout)
        self.classifier = nn.Linear(2 * config.head_hidden, config.num_classes)

    def forward(self, quantized: Tensor) -> Tensor:
        steps = self.activation(self.temporal(self.norm(quantized).transpose(1, 2)))  # (B, H, S)
        pooled = torch.cat([steps.mean(dim=2), steps.amax(dim=2)], dim=1)
        return self.classifier(self.dropout(pooled))
