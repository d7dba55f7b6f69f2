"""Adaptive token selection of the DT-Former (Eq. 3): temporal then spatial, by Gumbel-Softmax."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["TokenSelector", "SpatioTemporalSelector", "Selection", "keep_expected_count"]


class TokenSelector(nn.Module):
    """``u = GSM(sigma([W_1 x, W_2 x_context]))``: a keep / drop decision for each token.

    During training the decision is a hard straight-through Gumbel-Softmax sample: exactly 0 or 1 in the
    forward pass, the gradient of the relaxed sample in the backward pass. The hard sample is the argmax
    of the Gumbel-perturbed logits, so it keeps a token with exactly its keep probability ``p`` (whatever
    ``tau``). In eval mode the decision is deterministic: with ``eval_threshold=None`` (default) each
    video keeps its ``round(sum p)`` most probable tokens (:func:`keep_expected_count`), the number
    training keeps on average; with a threshold, the tokens whose ``p`` exceeds it (0.5: the argmax),
    which keeps more tokens than training whenever probabilities sit between 0.5 and 1 (on our synthetic
    set with ``keep_ratio: 0.25``, training kept about 30% and ``p > 0.5`` kept 50%).

    Args:
        dim: token width.
        hidden: hidden width of the MLP ``sigma``.
        tau: Gumbel-Softmax temperature.
        init_keep_bias: initial keep-minus-drop logit bias.
        eval_threshold: keep probability above which a token is kept in eval mode; ``None`` keeps the
            expected count.
    """

    def __init__(
        self, dim: int, hidden: int, tau: float, init_keep_bias: float, eval_threshold: float | None = None
    ) -> None:
        super().__init__()
        self.tau = tau
        self.eval_threshold = eval_threshold
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
        elif self.eval_threshold is None:
            keep = keep_expected_count(probability, mask)
        else:
            margin = math.log(self.eval_threshold / (1.0 - self.eval_threshold))
            keep = (logits[..., 1] - logits[..., 0] > margin).to(tokens.dtype)
        return keep * maskf, probability


def keep_expected_count(probability: Tensor, mask: Tensor) -> Tensor:
    """Per video, keep the ``round(sum p)`` tokens of highest keep probability ``p`` (at least one).

    Args:
        probability: ``(B, N)`` keep probabilities, 0 on padding.
        mask: ``(B, N)`` bool, True for real tokens.

    Returns:
        ``(B, N)`` float decisions in {0, 1}, 0 on padding and in videos without real tokens.
    """
    count = probability.sum(1).round().clamp(min=1.0).unsqueeze(1)
    ranked = probability.masked_fill(~mask, -1.0).argsort(dim=1, descending=True).argsort(dim=1)
    return ((ranked < count) & mask).to(probability.dtype)


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
        eval_threshold: keep probability above which a token is kept in eval mode; ``None`` (default)
            keeps, per video, the expected number of pairs that training keeps: the ``round(sum p)`` pairs
            of highest ``p = p_temporal * p_spatial``, chosen jointly (two separate top-k choices would
            keep their intersection, fewer than training's product of samples keeps). With one selector
            on, it keeps its own expected count: of frames (temporal) or of pairs (spatial).
    """

    def __init__(
        self,
        dim: int,
        hidden: int,
        tau: float,
        init_keep_bias: float,
        temporal: bool,
        spatial: bool,
        eval_threshold: float | None = None,
    ) -> None:
        super().__init__()
        self.eval_threshold = eval_threshold
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
        probability = temporal_probability.unsqueeze(-1) * spatial_probability
        if (
            self.training
            or self.eval_threshold is not None
            or self.temporal is None
            or self.spatial is None
        ):
            # one selector alone already keeps its expected count (of frames, or of pairs) in eval
            return Selection(
                keep=temporal.unsqueeze(-1) * spatial,
                temporal=temporal,
                spatial=spatial,
                probability=probability,
            )
        keep = keep_expected_count(probability.flatten(1), mask.flatten(1)).view_as(probability)
        return Selection(keep=keep, temporal=keep.amax(-1), spatial=keep, probability=probability)
