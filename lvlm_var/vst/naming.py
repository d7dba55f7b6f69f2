"""Semantic names of the codebook entries, computed from what each code decodes to.

Every code ``k`` is named from the decoder's output for a clip made of ``k`` alone (``S`` repeated steps).
The decoder is time-invariant (:mod:`lvlm_var.vst.decoder`), so that clip is one constant pose and one
constant joint velocity: the posture and the motion the code stands for. The name describes the first
body (the actor) in body-part kinematics:

* **which part moves**: the fastest of the whole body (spine base), torso (shoulder centre relative to
  the spine base), head (relative to the shoulder centre), each hand (wrist, hand, fingers relative to its
  shoulder; "arm" when the elbow moves at least 60 % as fast), each foot (ankle, foot relative to the
  horizontal motion of the spine base: planted feet do not "rise" when the body sits down, nor "move
  forward" when it walks; "leg" when the knee moves at least 60 % as fast). Left and right moving the
  same way at similar speeds become "both hands", "both legs", ...; a second part moving at least half
  as fast is added ("... and left foot moves forward");
* **direction**, in the canonical view of the data module's view normalisation (+y up along the spine,
  +x from the left to the right shoulder, so the actor faces -z): rises / lowers / moves forward /
  moves back / moves sideways (torso: straightens up / bends down / bends forward / leans back / leans
  sideways);
* **speed**, in torso lengths (spine base to shoulder centre) per second at ``config.frame_rate``:
  below ``still_speed`` nothing moves ("stands still"), below ``slow_speed`` "slowly", above
  ``fast_speed`` "fast";
* **posture**: crouching (hips less than 35 % of the leg length above the ankles), sitting (hips less
  than 40 % of the thigh length above the knees), knees bent (both knee angles below 140 degrees),
  bending (spine more than 35 degrees from vertical), arms raised (hands above the head).

Examples: ``"right hand rises fast"``, ``"both legs move forward, knees bent"``, ``"sits still"``,
``"torso bends forward slowly, bending"``.

Names are a deterministic function of the decoder and codebook weights. Distinct codes may share a name
(two codes for "right hand rises" at different poses): the ``<act_k>`` token in the narrative keeps them
apart, and a numeric suffix would only add noise to the words the LLM reads.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..skeleton_layout import SkeletonLayout, layout_for_num_joints
from .config import VSTConfig
from .decoder import VSTDecoder
from .quantizer import VSTQuantizer

__all__ = ["describe_pose_motion", "name_codes"]

_LIMB_SHARE = 0.6  # an elbow / knee this fast relative to the hand / foot makes it an arm / leg motion
_BOTH_SIDES_SHARE = 0.6
_SECONDARY_SHARE = 0.5
_EPS = 1e-6

_GROUND = "ground"  # the spine base's horizontal motion: feet stay planted when the body lowers
# part -> (moving joints, anchor joint the motion is measured against); None anchors to the world.
_PARTS: dict[str, tuple[tuple[str, ...], str | None]] = {
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
_EXTREMITY_LIMB = {"hand": "arm", "foot": "leg"}
_PLURALS = {"hand": "hands", "arm": "arms", "foot": "feet", "leg": "legs"}
_VERBS = {  # direction -> (singular, plural)
    "up": ("rises", "rise"),
    "down": ("lowers", "lower"),
    "forward": ("moves forward", "move forward"),
    "back": ("moves back", "move back"),
    "sideways": ("moves sideways", "move sideways"),
}
_TORSO_VERBS = {
    "up": "straightens up",
    "down": "bends down",
    "forward": "bends forward",
    "back": "leans back",
    "sideways": "leans sideways",
}


def _direction(velocity: Tensor) -> str:
    axis = int(velocity.abs().argmax())
    if axis == 1:
        return "up" if velocity[1] > 0 else "down"
    if axis == 2:
        return "forward" if velocity[2] < 0 else "back"
    return "sideways"


def _part_velocities(velocity: Tensor, layout: SkeletonLayout) -> dict[str, Tensor]:
    names = set(layout.joint_names)
    result = {}
    for part, (joints, anchor) in _PARTS.items():
        present = [layout.index(j) for j in joints if j in names]
        if not present:
            continue
        moving = velocity[present].mean(dim=0)
        if anchor == _GROUND:
            moving = moving - velocity[layout.root] * torch.tensor([1.0, 0.0, 1.0], dtype=velocity.dtype)
        elif anchor is not None:
            moving = moving - velocity[layout.index(anchor)]
        result[part] = moving
    return result


def _angle_degrees(a: Tensor, b: Tensor) -> float:
    cosine = torch.dot(a, b) / (a.norm() * b.norm()).clamp(min=_EPS)
    return math.degrees(math.acos(float(cosine.clamp(-1.0, 1.0))))


def _postures(pose: Tensor, layout: SkeletonLayout) -> list[str]:
    joint = {name: pose[i] for i, name in enumerate(layout.joint_names)}
    postures = []
    thigh = [(joint[f"{s}_hip"] - joint[f"{s}_knee"]).norm() for s in ("left", "right")]
    shin = [(joint[f"{s}_knee"] - joint[f"{s}_ankle"]).norm() for s in ("left", "right")]
    hip_height = [joint[f"{s}_hip"][1] for s in ("left", "right")]
    knee_height = [joint[f"{s}_knee"][1] for s in ("left", "right")]
    ankle_height = [joint[f"{s}_ankle"][1] for s in ("left", "right")]
    leg_length = sum(float(t + s) for t, s in zip(thigh, shin, strict=True)) / 2
    hips_over_ankles = sum(float(h - a) for h, a in zip(hip_height, ankle_height, strict=True)) / 2
    hips_over_knees = sum(float(h - k) for h, k in zip(hip_height, knee_height, strict=True)) / 2
    knee_angles = [
        _angle_degrees(joint[f"{s}_hip"] - joint[f"{s}_knee"], joint[f"{s}_ankle"] - joint[f"{s}_knee"])
        for s in ("left", "right")
    ]
    if leg_length > _EPS and hips_over_ankles < 0.35 * leg_length:
        postures.append("crouching")
    elif leg_length > _EPS and hips_over_knees < 0.4 * sum(float(t) for t in thigh) / 2:
        postures.append("sitting")
    elif all(angle < 140.0 for angle in knee_angles):
        postures.append("knees bent")
    spine = joint["spine_shoulder"] - joint["spine_base"]
    if spine.norm() > _EPS and _angle_degrees(spine, torch.tensor([0.0, 1.0, 0.0], dtype=pose.dtype)) > 35.0:
        postures.append("bending")
    raised = [s for s in ("left", "right") if joint[f"{s}_hand"][1] > joint["head"][1]]
    if len(raised) == 2:
        postures.append("arms raised")
    elif raised:
        postures.append(f"{raised[0]} arm raised")
    return postures


def _phrase(part: str, velocity: Tensor, plural: bool) -> str:
    direction = _direction(velocity)
    if part == "torso":
        return f"torso {_TORSO_VERBS[direction]}"
    return f"{part} {_VERBS[direction][1 if plural else 0]}"


def _side_and_kind(part: str) -> tuple[str | None, str]:
    side, _, kind = part.partition(" ")
    return (side, kind) if side in ("left", "right") else (None, part)


def describe_pose_motion(pose: Tensor, velocity: Tensor, layout: SkeletonLayout, config: VSTConfig) -> str:
    """Name one body's posture and motion.

    Args:
        pose: ``(V, 3)`` joint positions in the canonical view.
        velocity: ``(V, 3)`` joint velocities in units per second.
        layout: the joint layout of ``V`` joints.
        config: supplies ``still_speed``, ``slow_speed`` and ``fast_speed`` (torso lengths per second).

    Returns:
        A short lower-case phrase, e.g. ``"right hand rises fast"`` or ``"sits still, arms raised"``.
    """
    pose, velocity = pose.double(), velocity.double()
    torso = float((pose[layout.spine_top] - pose[layout.root]).norm())
    scale = torso if torso > _EPS else 1.0
    parts = _part_velocities(velocity, layout)
    speeds = {part: float(v.norm()) / scale for part, v in parts.items()}
    postures = _postures(pose, layout)
    ranked = sorted(speeds, key=lambda part: (-speeds[part], part))
    primary = ranked[0]
    if speeds[primary] < config.still_speed:
        base = {"sitting": "sits still", "crouching": "crouches still"}
        stance = next((p for p in postures if p in base), None)
        rest = [p for p in postures if p != stance]
        return ", ".join([base[stance] if stance else "stands still", *rest])

    side, kind = _side_and_kind(primary)
    used = {primary}
    if kind in _EXTREMITY_LIMB:
        limb = f"{side} {_EXTREMITY_LIMB[kind]}"
        used.add(limb)
        if speeds.get(limb, 0.0) >= _LIMB_SHARE * speeds[primary]:
            kind = _EXTREMITY_LIMB[kind]
    elif kind in _EXTREMITY_LIMB.values():
        used.add(f"{side} {next(k for k, v in _EXTREMITY_LIMB.items() if v == kind)}")
    subject, plural = primary if side is None else f"{side} {kind}", False
    if side is not None:
        other = f"{'left' if side == 'right' else 'right'} {_side_and_kind(primary)[1]}"
        if speeds.get(other, 0.0) >= _BOTH_SIDES_SHARE * speeds[primary] and _direction(
            parts[other]
        ) == _direction(parts[primary]):
            subject, plural = f"both {_PLURALS[kind]}", True
            other_side = other.split(" ")[0]
            used |= {f"{other_side} {k}" for k in (*_EXTREMITY_LIMB, *_EXTREMITY_LIMB.values())}
    phrase = _phrase(subject, parts[primary], plural)
    if speeds[primary] < config.slow_speed:
        phrase += " slowly"
    elif speeds[primary] > config.fast_speed:
        phrase += " fast"
    secondary = next((p for p in ranked if p not in used), None)
    if secondary is not None and speeds[secondary] >= max(
        config.still_speed, _SECONDARY_SHARE * speeds[primary]
    ):
        phrase += f" and {_phrase(secondary, parts[secondary], plural=False)}"
    return ", ".join([phrase, *postures])


@torch.no_grad()
def name_codes(quantizer: VSTQuantizer, decoder: VSTDecoder, config: VSTConfig) -> list[str]:
    """The name of every code, from the first body of the decoded clip of that code alone.

    Args:
        quantizer: supplies the code vectors ``(K, D)``.
        decoder: decodes ``(K, S, D)`` to positions and velocities ``(K, C, T, V, M)``.
        config: the VST hyperparameters (layout, steps, speed thresholds).

    Returns:
        ``K`` names, indexed by code.
    """
    layout = layout_for_num_joints(config.num_joints)
    codes = torch.arange(config.codebook_size, device=quantizer.codebook.device)
    clips = quantizer.lookup(codes[:, None].expand(-1, config.num_steps))
    decoded = decoder(clips)
    poses = decoded.positions[..., 0].mean(dim=2).transpose(1, 2).cpu()  # (K, V, C)
    velocities = decoded.velocities[..., 0].mean(dim=2).transpose(1, 2).cpu()
    return [
        describe_pose_motion(pose, velocity, layout, config)
        for pose, velocity in zip(poses, velocities, strict=True)
    ]
