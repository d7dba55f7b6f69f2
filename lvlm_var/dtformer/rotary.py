"""Rotary position embedding over frames (RoPE, Su et al. 2021): attention that sees relative time."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["FrameRotation"]

_BASE = 10.0  # T is at most tens of frames: the slowest of the frequencies still turns within a video


@dataclass
class FrameRotation:
    """The rotation angles of a token sequence, applied to queries and keys.

    Rotating a query and a key by angles proportional to their frame indices makes their dot product a
    function of the frame difference, so a head can attend to "the same object, later".

    Attributes:
        cos: ``(B, 1, L, d/2)`` cosines of each position's angles (one per rotated channel pair).
        sin: ``(B, 1, L, d/2)`` sines.
    """

    cos: Tensor
    sin: Tensor

    @classmethod
    def of_frames(cls, frames: Tensor, head_dim: int) -> FrameRotation:
        """The rotation of ``(B, L)`` frame indices (float) for heads ``head_dim`` wide (even)."""
        half = head_dim // 2
        frequency = _BASE ** -(torch.arange(half, device=frames.device, dtype=frames.dtype) / half)
        angles = frames[:, None, :, None] * frequency
        return cls(cos=angles.cos(), sin=angles.sin())

    def __call__(self, x: Tensor) -> Tensor:
        """Rotate ``(B, H, L, d)`` queries or keys."""
        first, second = x.chunk(2, dim=-1)
        return torch.cat([first * self.cos - second * self.sin, first * self.sin + second * self.cos], -1)
