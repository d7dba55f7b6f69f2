"""Body-part kinematics of input skeleton clips, per token step, in body-size-normalised units.

What a code's name says is measured on the clips the tokenizer assigns that code, not on what the decoder
makes of the code alone (a briefly trained decoder regresses to the mean and moves ~10x slower than the
data). Everything here is in the canonical view of the data module's view normalisation (+y up along the
spine, +x from the left to the right shoulder, the actor facing -z) and in **torso lengths** (spine base to
shoulder centre of the clip's first body), so metres, millimetres and children's bodies read alike.

Parts and the joint each is measured against (``None``: the world; ``ground``: the spine base's horizontal
motion, so planted feet do not "rise" when the body sits down, nor "move forward" when it walks):
whole body (spine base), torso (shoulder centre vs spine base), head (vs shoulder centre), each hand
(wrist, hand, fingers vs its shoulder), each arm (elbow vs shoulder), each foot (ankle, foot vs ground),
each leg (knee vs ground). Layouts without some joints (Kinect v1 has no finger joints) use those present.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from ..skeleton_layout import SkeletonLayout

__all__ = [
    "PARTS",
    "PART_GROUPS",
    "GROUPS",
    "SIDE_PAIRS",
    "StepKinematics",
    "step_kinematics",
    "segment_motion",
]

_GROUND = "ground"
PARTS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "whole body": (("spine_base",), None),
    "torso": (("spine_shoulder",), "spine_base"),
    "head": (("head",), "spine_shoulder"),
    "left hand": (("left_wrist", "left_hand", "left_hand_tip", "left_thumb"), "left_shoulder"),
    "right hand": (("right_wrist", "right_hand", "right_hand_tip", "right_thumb"), "right_shoulder"),
    "left arm": (("left_elbow",), "left_shoulder"),
    "right arm": (("right_elbow",), "right_shoulder"),
    "left foot": (("left_ankle", "left_foot"), _GROUND),
    "right foot": (("right_ankle", "right_foot"), _GROUND),
    "left leg": (("left_knee",), _GROUND),
    "right leg": (("right_knee",), _GROUND),
}
# The body part each named part belongs to (a hand moves with its arm): what name accuracy compares.
PART_GROUPS: dict[str, str] = {
    "whole body": "whole body",
    "torso": "torso",
    "head": "head",
    "left hand": "left arm",
    "left arm": "left arm",
    "right hand": "right arm",
    "right arm": "right arm",
    "left foot": "left leg",
    "left leg": "left leg",
    "right foot": "right leg",
    "right leg": "right leg",
}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(PART_GROUPS.values()))
# The body parts that come in a left and a right one ("both hands" covers a pair).
SIDE_PAIRS: tuple[tuple[str, str], ...] = (("left arm", "right arm"), ("left leg", "right leg"))
_EPS = 1e-6


class StepKinematics(NamedTuple):
    """Per-step kinematics of the first body of a batch of clips.

    Attributes:
        velocity: ``(B, S, P, 3)`` mean signed velocity of every part of :data:`PARTS`, torso lengths / s.
        speed: ``(B, S, P)`` speed of every part over the step (the norm of ``velocity``), torso lengths / s.
        pose: ``(B, S, V, 3)`` mean joint positions relative to the spine base, torso lengths.
        present: ``(B, S)`` bool, the step has at least two frames with a body.
    """

    velocity: Tensor
    speed: Tensor
    pose: Tensor
    present: Tensor


def _part_matrix(layout: SkeletonLayout, dtype: torch.dtype) -> Tensor:
    """``(P, V)`` weights: a part's velocity is ``matrix @ joint velocities`` (minus world-anchored terms)."""
    names = set(layout.joint_names)
    matrix = torch.zeros(len(PARTS), layout.num_joints, dtype=dtype)
    for row, (joints, anchor) in enumerate(PARTS.values()):
        present = [layout.index(j) for j in joints if j in names]
        matrix[row, present] = 1.0 / len(present)
        if anchor is not None and anchor != _GROUND:
            matrix[row, layout.index(anchor)] -= 1.0
    return matrix


def step_kinematics(
    skeleton: Tensor, layout: SkeletonLayout, frames_per_step: int, frame_rate: float
) -> StepKinematics:
    """Part velocities, speeds and poses of every token step of ``skeleton``'s first body.

    Args:
        skeleton: ``(B, 3, T, V, M)`` view-normalised clips (absent bodies all zero).
        layout: the joint layout of ``V``.
        frames_per_step: frames per token step (the encoder's temporal down-sampling).
        frame_rate: frames per second of ``skeleton``.

    Returns:
        :class:`StepKinematics` with ``S = T // frames_per_step`` steps.
    """
    joints = skeleton[..., 0].double().permute(0, 2, 3, 1)  # (B, T, V, 3)
    batch, frames = joints.shape[:2]
    steps = frames // frames_per_step
    present = joints.abs().sum(dim=(2, 3)) > 0  # (B, T)
    weights = present.double()
    torso_per_frame = (joints[:, :, layout.spine_top] - joints[:, :, layout.root]).norm(dim=-1)
    torso = (torso_per_frame * weights).sum(1) / weights.sum(1).clamp(min=1.0)
    torso = torso.clamp(min=_EPS)[:, None, None, None]
    velocity = (joints[:, 1:] - joints[:, :-1]) * frame_rate / torso  # (B, T-1, V, 3)
    moving = (present[:, 1:] & present[:, :-1]).double()
    # The last frame has no successor: it repeats the velocity into it, so every step has frames_per_step.
    velocity = torch.cat([velocity, velocity[:, -1:]], dim=1)
    moving = torch.cat([moving, moving[:, -1:]], dim=1)
    matrix = _part_matrix(layout, velocity.dtype).to(velocity.device)
    parts = torch.einsum("pv,btvc->btpc", matrix, velocity)
    ground = torch.tensor([1.0, 0.0, 1.0], dtype=velocity.dtype, device=velocity.device)
    grounded = torch.tensor([a == _GROUND for _, a in PARTS.values()], device=velocity.device)
    parts = torch.where(grounded[:, None], parts - velocity[:, :, layout.root, None] * ground, parts)
    pose = (joints - joints[:, :, layout.root : layout.root + 1]) / torso

    def per_step(values: Tensor, mask: Tensor) -> Tensor:
        shape = (batch, steps, frames_per_step, *values.shape[2:])
        values = values[:, : steps * frames_per_step].reshape(shape)
        mask = mask[:, : steps * frames_per_step].reshape(batch, steps, frames_per_step)
        mask = mask.view(*mask.shape, *([1] * (values.ndim - 3)))
        return (values * mask).sum(2) / mask.sum(2).clamp(min=1.0)

    # A step's speed is that of its mean velocity: sensor jitter, frame to frame, averages out over the
    # step instead of adding up (per-frame speeds made small jittery joints, the feet, look fastest).
    step_velocity = per_step(parts, moving)
    step_moving = moving[:, : steps * frames_per_step].reshape(batch, steps, frames_per_step).sum(2) >= 1
    return StepKinematics(
        step_velocity.float(),
        step_velocity.norm(dim=-1).float(),
        per_step(pose, weights).float(),
        step_moving,
    )


def segment_motion(
    kinematics: StepKinematics, row: int, start: int, length: int
) -> tuple[Tensor, Tensor] | None:
    """Mean part speeds ``(P,)`` and velocities ``(P, 3)`` over the steps ``start`` to ``start + length``
    of clip ``row``.

    The mean velocity over the present steps is the part's displacement over the segment divided by its
    duration. ``None`` when no step of the segment holds a body.
    """
    steps = slice(start, start + length)
    present = kinematics.present[row, steps]
    if not bool(present.any()):
        return None
    weights = present.float() / present.float().sum()
    speed = (kinematics.speed[row, steps] * weights[:, None]).sum(0)
    return speed, (kinematics.velocity[row, steps] * weights[:, None, None]).sum(0)
