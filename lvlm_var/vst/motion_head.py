"""The step motion head: each quantized token tells which body part moves fastest in its step, and how.

A code's name claims a moving part and a direction (:mod:`lvlm_var.vst.naming`); the class head alone lets a
code stand for a class context whose steps move different parts, so the name is wrong for many of them. This
head reads one token at a time (a linear layer, no temporal context) and is trained on the input's own step
kinematics (:func:`~lvlm_var.vst.kinematics.step_kinematics`): the body part
(:data:`~lvlm_var.vst.kinematics.PART_GROUPS`) of the fastest part, and the signed dominant axis of that
part's velocity. Its loss pulls the encoder, and through the EMA updates the codes, toward steps of one
motion per code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import VSTConfig
from .kinematics import PART_GROUPS, PARTS, StepKinematics

__all__ = ["GROUPS", "StepMotionHead", "motion_targets"]

GROUPS: tuple[str, ...] = tuple(dict.fromkeys(PART_GROUPS.values()))
_GROUP_OF_PART = torch.tensor([GROUPS.index(PART_GROUPS[part]) for part in PARTS])
_DIRECTIONS = 6  # +x, -x, +y, -y, +z, -z


def motion_targets(kinematics: StepKinematics) -> tuple[Tensor, Tensor]:
    """Per-step targets ``(B, S)`` long: the fastest part's group and its velocity's signed dominant axis."""
    fastest = kinematics.speed.argmax(dim=-1)  # (B, S)
    group = _GROUP_OF_PART.to(fastest.device)[fastest]
    velocity = kinematics.velocity.gather(2, fastest[..., None, None].expand(-1, -1, 1, 3)).squeeze(2)
    axis = velocity.abs().argmax(dim=-1)
    negative = velocity.gather(-1, axis[..., None]).squeeze(-1) < 0
    return group, 2 * axis + negative.long()


class StepMotionHead(nn.Module):
    """Group and direction logits of every quantized token.

    Args:
        config: the VST hyperparameters (``token_dim``).

    Shapes:
        ``forward``: quantized ``(B, S, D)`` -> group logits ``(B, S, 7)`` and direction logits ``(B, S, 6)``.
    """

    def __init__(self, config: VSTConfig) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(config.token_dim)
        self.group = nn.Linear(config.token_dim, len(GROUPS))
        self.direction = nn.Linear(config.token_dim, _DIRECTIONS)

    def forward(self, quantized: Tensor) -> tuple[Tensor, Tensor]:
        tokens = self.norm(quantized)
        return self.group(tokens), self.direction(tokens)

    def loss(self, quantized: Tensor, kinematics: StepKinematics) -> Tensor:
        """Cross-entropy of both predictions over the steps that hold a body."""
        group_logits, direction_logits = self(quantized)
        group, direction = motion_targets(kinematics)
        present = kinematics.present
        if not bool(present.any()):
            return quantized.sum() * 0.0
        return F.cross_entropy(group_logits[present], group[present]) + F.cross_entropy(
            direction_logits[present], direction[present]
        )
