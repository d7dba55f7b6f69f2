"""Adaptive token selection of the DT-Former (Eq. 3): temporal then spatial, by Gumbel-Softmax."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["TokenSelector", "SpatioTemporalSelector", "Selection"]


class TokenSelector(nn.Module):
    """``u = GSM(sigma([W_1 x, W_2 x_context]))``: a keep / drop decision for each token.

    During training the decision is a hard straight-through Gumbel-Softmax sample: exactly 0 or 1 in the
    forward pass, the gradient of the relaxed sample in the backward pass. In eval mode it is
    deterministic: keep when the keep probability exceeds ``eval_threshold`` (0.5: the argmax).

    Args:
        dim: token width.
        hidden: hidden width of the MLP ``sigma``.
        tau: Gumbel-Softmax temperature.
        init_keep_bias: initial keep-minus-drop logit bias.
        eval_threshold: keep probability above which a token is kept in eval mode.
    """

    def __init__(
        self, dim: int, hidden: int, tau: float, init_keep_bias: float, eval_threshold: float = 0.5
    ) -> None:
        super().__init__()
        self.tau = tau
        self.eval_margin = math.log(eval_threshold / (1.0 - eval_threshold))
        self.token_proj = nn.Linear(dim, dim // 2)
        self.context_proj = nn.Linear(dim, dim // 2)
        self.mlp = nn.Sequential(nn.Linear(2 * (dim // 2), hidden), nn.GELU(), nn.Linear(hidden, 2))
        with torch.no_grad():
            self.mlp[-1].bias.copy_(torch.tensor([0.0, init_keep_bias]))

    def forward(self, tokens: Tensor, context: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Decide for each token.

        Args:
            tokens: ``(B, N, D)``.
            context: ``(B, D)`` global vector concatenated to every token.
            mask: ``(B, N)`` bool, False for padding (never kept).

        Returns:
            ``(B, N)`` decisions, float in {0, 1}, differentiable (straight-through) in training, and
            ``(B, N)`` keep probabilities (the softmax of the two logits); both 0 on padding.
        """
        context = self.context_proj(context).unsqueeze(1).expand(-1, tokens.shape[1], -1)
        logits = self.mlp(torch.cat([self.token_proj(tokens), context], dim=-1))
        maskf = mask.to(tokens.dtype)
        probability = torch.softmax(logits, dim=-1)[..., 1] * maskf
        if self.training:
            keep = F.gumbel_softmax(logits, tau=self.tau, hard=True, dim=-1)[..., 1]
        else:
            keep = (logits[..., 1] - logits[..., 0] > self.eval_margin).to(tokens.dtype)
        return keep * maskf, probability


@dataclass
class Selection:
    """The selection signals of one DT-Former pass.

    Attributes:
        keep: ``(B, T, K)`` final ``U = U_temporal * U_spatial``, 0 on padding.
        temporal: ``(B, T)`` frame decisions (1 where temporal selection is off and the frame is valid).
        spatial: ``(B, T, K)`` per-pair decisions (the mask where spatial selection is off).
        probability: ``(B, T, K)`` probability that ``U`` keeps each pair (temporal times spatial keep
            probability, 1 for a selection that is off), 0 on padding.
    """

    keep: Tensor
    temporal: Tensor
    spatial: Tensor
    probability: Tensor

    @classmethod
    def keep_all(cls, mask: Tensor, dtype: torch.dtype) -> Selection:
        """The selection that keeps every real pair of a ``(B, T, K)`` bool ``mask``."""
        keep = mask.to(dtype)
        return cls(keep=keep, temporal=mask.any(dim=-1).to(dtype), spatial=keep, probability=keep)


class SpatioTemporalSelector(nn.Module):
    """Temporal selection on the frames' average tokens, spatial selection per pair, multiplied.

    Args:
        dim: token width.
        hidden: selector MLP width.
        tau: Gumbel-Softmax temperature.
        init_keep_bias: initial keep-minus-drop logit bias.
        temporal: select frames.
        spatial: select pairs within frames.
        eval_threshold: keep probability above which a token is kept in eval mode.
    """

    def __init__(
        self,
        dim: int,
        hidden: int,
        tau: float,
        init_keep_bias: float,
        temporal: bool,
        spatial: bool,
        eval_threshold: float = 0.5,
    ) -> None:
        super().__init__()
        self.temporal = TokenSelector(dim, hidden, tau, init_keep_bias, eval_threshold) if temporal else None
        self.spatial = TokenSelector(dim, hidden, tau, init_keep_bias, eval_threshold) if spatial else None

    def forward(self, tokens: Tensor, context: Tensor, mask: Tensor) -> Selection:
        """Select.

        Args:
            tokens: ``(B, T, K, D)`` embedded tokens (position embedding added).
            context: ``(B, D)`` global vector (the ``[class]`` embedding or the token mean).
            mask: ``(B, T, K)`` bool, True for real pairs.

        Returns:
            the :class:`Selection`.
        """
        batch, frames, pairs, dim = tokens.shape
        maskf = mask.to(tokens.dtype)
        frame_valid = mask.any(dim=-1)
        if self.temporal is None:
            temporal = temporal_probability = frame_valid.to(tokens.dtype)
        else:
            frame_tokens = (tokens * maskf.unsqueeze(-1)).sum(2) / maskf.sum(2, keepdim=True).clamp(min=1.0)
            temporal, temporal_probability = self.temporal(frame_tokens, context, frame_valid)
        if self.spatial is None:
            spatial = spatial_probability = maskf
        else:
            spatial, spatial_probability = self.spatial(
                tokens.reshape(batch, frames * pairs, dim), context, mask.flatten(1)
            )
            spatial = spatial.reshape(batch, frames, pairs)
            spatial_probability = spatial_probability.reshape(batch, frames, pairs)
        return Selection(
            keep=temporal.unsqueeze(-1) * spatial,
            temporal=temporal,
            spatial=spatial,
            probability=temporal_probability.unsqueeze(-1) * spatial_probability,
        )
