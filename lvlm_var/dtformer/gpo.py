"""The joint-space encoders ``f_v`` / ``f_s`` of LaIAR, built on the Generalized Pooling Operator (GPO).

GPO (Chen et al., "Learning the Best Pooling Strategy for Visual Semantic Embedding", CVPR 2021) pools a
variable-size set of vectors: every channel is sorted in descending order over the set, and the sorted
values are averaged with weights that a small bidirectional GRU generates from sinusoidal encodings of
the sorted positions (so the pooling adapts between max, mean and k-max pooling, and to the set size).

Paper reading (Sec. 3.1.1): "each element of the input is first mapped to a local representation via a
linear projection. We then apply GPO to aggregate the input, creating a global representation. This global
representation is combined with each local representation along the channel dimension." We project each
relation token to ``D / 2`` channels, pool the video's valid tokens with GPO into one ``D / 2`` vector, and
concatenate it to every token: the result is ``D`` wide. The per-token half is the token's position in the
visual-semantic joint space (what ``L_sim`` aligns and the explanations search); the global half is the
same for all tokens of a video and gives the DT-Former its context.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["GeneralizedPooling", "JointSpaceEncoder"]


def _sinusoidal_encoding(length: int, dim: int, device: torch.device) -> Tensor:
    position = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)
    frequency = torch.exp(
        torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim)
    )
    encoding = torch.zeros(length, dim, device=device)
    encoding[:, 0::2] = torch.sin(position * frequency)
    encoding[:, 1::2] = torch.cos(position * frequency)
    return encoding


class GeneralizedPooling(nn.Module):
    """GPO over a padded set of vectors.

    Args:
        pe_dim: width of the sinusoidal position encoding fed to the GRU.
        hidden: GRU hidden size.
        temperature: softmax temperature of the pooling weights (0.1 in GPO).
    """

    def __init__(self, pe_dim: int, hidden: int, temperature: float = 0.1) -> None:
        super().__init__()
        self.pe_dim = pe_dim
        self.temperature = temperature
        self.gru = nn.GRU(pe_dim, hidden, batch_first=True, bidirectional=True)
        self.score = nn.Linear(hidden, 1, bias=False)

    def pooling_weights(self, lengths: Tensor, max_length: int) -> Tensor:
        """Weights of the sorted positions.

        Args:
            lengths: ``(B,)`` long, number of valid elements per set (each >= 1).
            max_length: ``N``, the padded set size.

        Returns:
            ``(B, N)`` weights summing to 1 over the first ``lengths[b]`` positions, 0 after.
        """
        batch = lengths.shape[0]
        encoding = _sinusoidal_encoding(max_length, self.pe_dim, lengths.device).expand(batch, -1, -1)
        packed = pack_padded_sequence(encoding, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=max_length)
        forward_half, backward_half = out.chunk(2, dim=-1)
        scores = self.score((forward_half + backward_half) / 2).squeeze(-1)
        valid = torch.arange(max_length, device=lengths.device) < lengths.unsqueeze(1)
        scores = scores.masked_fill(~valid, float("-inf"))
        return torch.softmax(scores / self.temperature, dim=1)

    def forward(self, features: Tensor, mask: Tensor) -> Tensor:
        """Pool each set.

        Args:
            features: ``(B, N, C)``.
            mask: ``(B, N)`` bool, True for valid elements. A set with no valid element pools to zeros.

        Returns:
            ``(B, C)`` pooled vectors.
        """
        lengths = mask.sum(dim=1)
        weights = self.pooling_weights(lengths.clamp(min=1), features.shape[1])
        # Padding sorts last in every channel, then contributes exactly zero.
        sorted_features = features.masked_fill(~mask.unsqueeze(-1), float("-inf"))
        sorted_features = sorted_features.sort(dim=1, descending=True).values
        positions_valid = torch.arange(features.shape[1], device=features.device) < lengths.unsqueeze(1)
        sorted_features = sorted_features.masked_fill(~positions_valid.unsqueeze(-1), 0.0)
        pooled = (sorted_features * weights.unsqueeze(-1)).sum(dim=1)
        return pooled * (lengths > 0).unsqueeze(-1).to(pooled.dtype)


class JointSpaceEncoder(nn.Module):
    """``f_v`` or ``f_s``: per-token linear projection, GPO over the video, global vector concatenated back.

    Args:
        in_dim: width of the relation features (``3 * part_dim``).
        embed_dim: ``D``; each token gets ``D / 2`` own channels and ``D / 2`` global channels.
        pe_dim: GPO position-encoding width.
        hidden: GPO GRU hidden size.
        global_context: with False there is no GPO and the global half of every token is zeros (the
            "w/o global context" switch of :class:`~lvlm_var.dtformer.config.RelationEncoderConfig`).
        normalize: each per-token embedding scaled to length ``sqrt(D/2)`` (``joint_norm``).
    """

    def __init__(
        self,
        in_dim: int,
        embed_dim: int,
        pe_dim: int,
        hidden: int,
        global_context: bool = True,
        normalize: bool = False,
    ) -> None:
        super().__init__()
        self.local = nn.Linear(in_dim, embed_dim // 2)
        self.pool = GeneralizedPooling(pe_dim, hidden) if global_context else None
        self.radius = math.sqrt(embed_dim // 2) if normalize else None

    def embed_tokens(self, relations: Tensor) -> Tensor:
        """The per-token joint-space embedding, without video context: ``(..., in_dim) -> (..., D/2)``."""
        joint = self.local(relations)
        return joint if self.radius is None else F.normalize(joint, dim=-1) * self.radius

    def forward(self, relations: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Map a video's relation features to the joint space.

        Args:
            relations: ``(B, T, K, in_dim)``.
            mask: ``(B, T, K)`` bool, True for real pairs.

        Returns:
            ``tokens`` ``(B, T, K, D)`` (own half then global half) and ``joint`` ``(B, T, K, D/2)``, the
            per-token half.
        """
        batch, frames, pairs, _ = relations.shape
        joint = self.embed_tokens(relations)
        if self.pool is None:
            return torch.cat([joint, torch.zeros_like(joint)], dim=-1), joint
        pooled = self.pool(joint.reshape(batch, frames * pairs, -1), mask.reshape(batch, frames * pairs))
        tokens = torch.cat([joint, pooled[:, None, None, :].expand_as(joint)], dim=-1)
        return tokens, joint
