"""In-memory synthetic skeleton actions for the VST tests: four classes, each moving different joints.

Clips are NTU-layout (25 joints) bodies in the canonical view of the data module's view normalisation
(+y up, +x from the left to the right shoulder, facing -z), in metres:

0. ``raise right arm``: the right arm swings up sideways about the shoulder;
1. ``wave left hand``: the left forearm rises and waves side to side;
2. ``kick right foot``: the right leg swings forward and back about the hip;
3. ``sit down``: the body lowers and the knees move forward.

Start, duration, amplitude, body size, position and joint noise vary per clip; the second body slot is
absent (all zero).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.utils.data import DataLoader

from lvlm_var.batches import SkeletonBatch
from lvlm_var.skeleton_layout import KINECT_V2_LAYOUT

__all__ = ["CLASS_NAMES", "synthetic_clips", "synthetic_batches", "standing_pose"]

CLASS_NAMES = ("raise right arm", "wave left hand", "kick right foot", "sit down")

_POSE = {
    "spine_base": (0.0, 0.0, 0.0),
    "spine_mid": (0.0, 0.25, 0.0),
    "spine_shoulder": (0.0, 0.45, 0.0),
    "neck": (0.0, 0.52, 0.0),
    "head": (0.0, 0.65, 0.0),
    "left_shoulder": (-0.18, 0.45, 0.0),
    "left_elbow": (-0.2, 0.2, 0.0),
    "left_wrist": (-0.22, -0.02, 0.0),
    "left_hand": (-0.22, -0.08, 0.0),
    "left_hand_tip": (-0.22, -0.14, 0.0),
    "left_thumb": (-0.2, -0.1, -0.02),
    "left_hip": (-0.1, -0.02, 0.0),
    "left_knee": (-0.1, -0.45, 0.0),
    "left_ankle": (-0.1, -0.85, 0.0),
    "left_foot": (-0.1, -0.88, -0.08),
}
for _joint, (_x, _y, _z) in list(_POSE.items()):
    if _joint.startswith("left_"):
        _POSE["right_" + _joint[5:]] = (-_x, _y, _z)


def standing_pose() -> Tensor:
    """``(V=25, 3)`` the neutral standing pose."""
    return torch.tensor([_POSE[name] for name in KINECT_V2_LAYOUT.joint_names])


def _indices(*names: str) -> list[int]:
    return [KINECT_V2_LAYOUT.index(name) for name in names]


def _rotate(points: Tensor, pivot: Tensor, axis: int, angle: Tensor) -> Tensor:
    """Rotate ``(T, J, 3)`` points about ``pivot`` ``(T, 3)`` by ``angle`` ``(T,)`` around ``axis``."""
    i, j = [k for k in range(3) if k != axis]
    relative = points - pivot[:, None]
    cos, sin = angle.cos()[:, None], angle.sin()[:, None]
    rotated = relative.clone()
    rotated[..., i] = cos * relative[..., i] - sin * relative[..., j]
    rotated[..., j] = sin * relative[..., i] + cos * relative[..., j]
    return rotated + pivot[:, None]


_RIGHT_ARM = _indices("right_elbow", "right_wrist", "right_hand", "right_hand_tip", "right_thumb")
_LEFT_FOREARM = _indices("left_wrist", "left_hand", "left_hand_tip", "left_thumb")
_RIGHT_LEG = _indices("right_knee", "right_ankle", "right_foot")
_UPPER_BODY = [
    i
    for i, name in enumerate(KINECT_V2_LAYOUT.joint_names)
    if not any(part in name for part in ("knee", "ankle", "foot"))
]
_KNEES = _indices("left_knee", "right_knee")


def _clip(label: int, frames: int, generator: Tensor) -> Tensor:
    def uniform(low: float, high: float) -> float:
        return low + (high - low) * float(torch.rand((), generator=generator))

    t = torch.arange(frames, dtype=torch.float32)
    start, length = uniform(0.05, 0.35) * frames, uniform(0.4, 0.6) * frames
    progress = ((t - start) / length).clamp(0.0, 1.0)
    progress = progress * progress * (3 - 2 * progress)  # smoothstep
    amplitude = uniform(0.75, 1.25)
    joints = standing_pose().repeat(frames, 1, 1) * uniform(0.9, 1.1)
    if label == 0:
        shoulder = joints[:, KINECT_V2_LAYOUT.index("right_shoulder")]
        joints[:, _RIGHT_ARM] = _rotate(joints[:, _RIGHT_ARM], shoulder, 2, progress * 2.4 * amplitude)
    elif label == 1:
        elbow = joints[:, KINECT_V2_LAYOUT.index("left_elbow")]
        wave = progress * (2.6 + 0.5 * amplitude * torch.sin(2 * math.pi * t / uniform(8.0, 12.0)))
        joints[:, _LEFT_FOREARM] = _rotate(joints[:, _LEFT_FOREARM], elbow, 2, -wave)
    elif label == 2:
        hip = joints[:, KINECT_V2_LAYOUT.index("right_hip")]
        swing = torch.sin(math.pi * progress) * 1.0 * amplitude
        joints[:, _RIGHT_LEG] = _rotate(joints[:, _RIGHT_LEG], hip, 0, swing)
    else:
        joints[:, _UPPER_BODY, 1] -= (0.4 * amplitude * progress)[:, None]
        joints[:, _KNEES, 2] -= (0.35 * amplitude * progress)[:, None]
    joints += torch.tensor([uniform(-0.2, 0.2), 0.0, uniform(-0.2, 0.2)])
    joints += 0.003 * torch.randn(joints.shape, generator=generator)
    return joints  # (T, V, 3)


def synthetic_clips(num_clips: int, frames: int = 32, seed: int = 0) -> SkeletonBatch:
    """``num_clips`` clips, classes cycling 0..3, as one batch ``skeleton (N, 3, T, 25, 2)``."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_clips) % len(CLASS_NAMES)
    skeleton = torch.zeros(num_clips, 3, frames, KINECT_V2_LAYOUT.num_joints, 2)
    for n, label in enumerate(labels.tolist()):
        skeleton[n, :, :, :, 0] = _clip(label, frames, generator).permute(2, 0, 1)
    return SkeletonBatch(
        skeleton=skeleton, label=labels, name=[f"synthetic{n:05d}" for n in range(num_clips)]
    )


def synthetic_batches(num_clips: int, batch_size: int, frames: int = 32, seed: int = 0) -> DataLoader:
    """:func:`synthetic_clips` cut into fixed batches, served in order by a ``DataLoader``."""
    clips = synthetic_clips(num_clips, frames, seed)
    return DataLoader(
        [
            SkeletonBatch(
                skeleton=clips["skeleton"][i : i + batch_size],
                label=clips["label"][i : i + batch_size],
                name=clips["name"][i : i + batch_size],
            )
            for i in range(0, num_clips, batch_size)
        ],
        batch_size=None,
    )
