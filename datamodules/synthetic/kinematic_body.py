"""A small kinematic human body in the NTU RGB+D (Kinect v2) 25-joint layout
(:data:`~lvlm_var.skeleton_layout.KINECT_V2_LAYOUT`).

A pose is a set of named angle / offset tracks over time (:data:`REST_POSE` lists them); the
forward kinematics turns them, with a performer's bone lengths, into joint positions in a body
frame (x to the performer's right, y up, z forward, metres, feet on the ground at y = 0).

Segment directions are absolute in the torso frame (arms) or the pelvis frame (legs): a segment
with flexion ``f`` (towards forward) and abduction ``a`` (towards its own side) points along
``(side * sin(a) * cos(f), -cos(a) * cos(f), sin(f))``, so ``(0, 0)`` hangs down, ``(0, pi/2)``
points sideways and ``(pi/2, .)`` points forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lvlm_var.skeleton_layout import KINECT_V1_LAYOUT, KINECT_V2_LAYOUT

__all__ = [
    "BODY_PARTS",
    "BOTH_ARMS",
    "BOTH_LEGS",
    "NTU_JOINT_PARTS",
    "NWUCLA_FROM_NTU",
    "BodyShape",
    "REST_POSE",
    "forward_kinematics",
]

BODY_PARTS = ("head", "torso", "left_arm", "right_arm", "left_leg", "right_leg")
BOTH_ARMS = ("left_arm", "right_arm")
BOTH_LEGS = ("left_leg", "right_leg")
_LIMB_OF = {joint: "arm" for joint in ("shoulder", "elbow", "wrist", "hand", "hand_tip", "thumb")} | {
    joint: "leg" for joint in ("hip", "knee", "ankle", "foot")
}


def _body_part(joint: str) -> str:
    if joint in ("neck", "head"):
        return "head"
    if joint.startswith("spine_"):
        return "torso"
    side, _, rest = joint.partition("_")
    return f"{side}_{_LIMB_OF[rest]}"


# The body part (of BODY_PARTS) of every NTU joint, in NTU joint order.
NTU_JOINT_PARTS = tuple(map(_body_part, KINECT_V2_LAYOUT.joint_names))
# NW-UCLA (Kinect v1, 20 joints) as 0-based NTU joint indices: the joints both layouts share by name.
NWUCLA_FROM_NTU = tuple(map(KINECT_V2_LAYOUT.index, KINECT_V1_LAYOUT.joint_names))
_JOINT = {name: index for index, name in enumerate(KINECT_V2_LAYOUT.joint_names)}

REST_POSE: dict[str, float] = {
    "lean": 0.0,
    "twist": 0.0,
    "head_pitch": 0.0,
    "fall": 0.0,
    "heading": 0.0,
    "root_x": 0.0,
    "root_z": 0.0,
    "lift": 0.0,
    "l_upper_flex": 0.0,
    "l_upper_abd": 0.12,
    "l_fore_flex": 0.12,
    "l_fore_abd": 0.08,
    "r_upper_flex": 0.0,
    "r_upper_abd": 0.12,
    "r_fore_flex": 0.12,
    "r_fore_abd": 0.08,
    "l_thigh_flex": 0.0,
    "l_thigh_abd": 0.05,
    "l_shin_flex": 0.0,
    "r_thigh_flex": 0.0,
    "r_thigh_abd": 0.05,
    "r_shin_flex": 0.0,
}


@dataclass(frozen=True)
class BodyShape:
    """A performer's bone lengths in metres (defaults: a 1.75 m adult)."""

    lower_spine: float = 0.25
    upper_spine: float = 0.22
    neck: float = 0.08
    head: float = 0.15
    shoulder_width: float = 0.19
    upper_arm: float = 0.28
    forearm: float = 0.25
    hand: float = 0.07
    hand_tip: float = 0.08
    hip_width: float = 0.09
    thigh: float = 0.43
    shin: float = 0.42
    foot: float = 0.14
    ankle_height: float = 0.07

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not value > 0:
                raise ValueError(f"bone length {name} must be > 0, got {value}")

    @classmethod
    def sample(cls, rng: np.random.Generator) -> BodyShape:
        """A random adult: overall scale ~ N(1, 0.06) clipped to [0.85, 1.15], each bone +-4 %."""
        scale = float(np.clip(rng.normal(1.0, 0.06), 0.85, 1.15))
        base = cls()
        return cls(**{k: v * scale * float(rng.uniform(0.96, 1.04)) for k, v in vars(base).items()})


def _direction(flex: np.ndarray, abd: np.ndarray, side: float) -> np.ndarray:
    """``(T, 3)`` unit vectors for segment angles ``(T,)`` (see the module docstring)."""
    return np.stack([side * np.sin(abd) * np.cos(flex), -np.cos(abd) * np.cos(flex), np.sin(flex)], axis=-1)


def _rot_x(angle: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` rotations about x taking +y towards +z (a forward pitch)."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    return np.stack(
        [np.stack([one, zero, zero], -1), np.stack([zero, c, -s], -1), np.stack([zero, s, c], -1)], -2
    )


def _rot_y(angle: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` rotations about the vertical axis taking +z towards +x."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    return np.stack(
        [np.stack([c, zero, s], -1), np.stack([zero, one, zero], -1), np.stack([-s, zero, c], -1)], -2
    )


def _apply(rotation: np.ndarray, vector: np.ndarray) -> np.ndarray:
    return np.einsum("tij,tj->ti", rotation, np.broadcast_to(vector, (rotation.shape[0], 3)))


def forward_kinematics(shape: BodyShape, pose: dict[str, np.ndarray]) -> np.ndarray:
    """Joint positions of a posed body.

    Args:
        shape: bone lengths.
        pose: every key of :data:`REST_POSE` -> ``(T,)`` track (radians / metres). ``lean`` pitches
            the torso forward, ``twist`` turns it, ``fall`` pitches the whole body, ``heading``
            turns it about the vertical, ``root_x`` / ``root_z`` move it on the floor and ``lift``
            raises it above the floor.

    Returns:
        ``(T, 25, 3)`` float64 positions in NTU joint order, lowest joint on the floor (plus ``lift``).
    """
    num_frames = pose["lean"].shape[0]
    joints = np.zeros((num_frames, KINECT_V2_LAYOUT.num_joints, 3))
    spine_mid, spine_shoulder, neck, head = map(_JOINT.get, ("spine_mid", "spine_shoulder", "neck", "head"))
    torso = _rot_y(pose["twist"]) @ _rot_x(pose["lean"])
    up = _apply(torso, np.array([0.0, 1.0, 0.0]))
    joints[:, spine_mid] = up * shape.lower_spine
    joints[:, spine_shoulder] = joints[:, spine_mid] + up * shape.upper_spine
    joints[:, neck] = joints[:, spine_shoulder] + up * shape.neck
    head_up = _apply(torso @ _rot_x(pose["head_pitch"]), np.array([0.0, 1.0, 0.02]))
    joints[:, head] = joints[:, neck] + head_up * shape.head
    forward = _apply(torso, np.array([0.0, 0.0, 1.0]))
    for side, prefix, name in ((-1.0, "l", "left"), (1.0, "r", "right")):
        shoulder, elbow, wrist, hand, tip, thumb = (
            _JOINT[f"{name}_{j}"] for j in ("shoulder", "elbow", "wrist", "hand", "hand_tip", "thumb")
        )
        joints[:, shoulder] = joints[:, spine_shoulder] + _apply(
            torso, np.array([side * shape.shoulder_width, -0.04, 0.0])
        )
        upper = _apply(torso, _direction(pose[f"{prefix}_upper_flex"], pose[f"{prefix}_upper_abd"], side))
        fore = _apply(torso, _direction(pose[f"{prefix}_fore_flex"], pose[f"{prefix}_fore_abd"], side))
        joints[:, elbow] = joints[:, shoulder] + upper * shape.upper_arm
        joints[:, wrist] = joints[:, elbow] + fore * shape.forearm
        joints[:, hand] = joints[:, wrist] + fore * shape.hand
        joints[:, tip] = joints[:, hand] + fore * shape.hand_tip
        joints[:, thumb] = joints[:, hand] + fore * (0.4 * shape.hand_tip) + forward * 0.035
    for side, prefix, name in ((-1.0, "l", "left"), (1.0, "r", "right")):
        hip, knee, ankle, foot = (_JOINT[f"{name}_{j}"] for j in ("hip", "knee", "ankle", "foot"))
        joints[:, hip] = np.array([side * shape.hip_width, -0.06, 0.0])
        thigh = _direction(pose[f"{prefix}_thigh_flex"], pose[f"{prefix}_thigh_abd"], side)
        shin = _direction(pose[f"{prefix}_shin_flex"], np.zeros(num_frames), side)
        joints[:, knee] = joints[:, hip] + thigh * shape.thigh
        joints[:, ankle] = joints[:, knee] + shin * shape.shin
        joints[:, foot] = joints[:, ankle] + np.array([0.0, -shape.ankle_height * 0.6, shape.foot])
    body = _rot_y(pose["heading"]) @ _rot_x(pose["fall"])
    joints = np.einsum("tij,tvj->tvi", body, joints)
    joints[..., 1] -= joints[..., 1].min(axis=1, keepdims=True) - pose["lift"][:, None]
    joints[..., 0] += pose["root_x"][:, None]
    joints[..., 2] += pose["root_z"][:, None]
    return joints
