"""Synthetic NTU RGB+D and NW-UCLA skeleton data sets, written in the real file formats.

Every clip is a performance of a kinematic body (:mod:`.kinematic_body`) with the performer's own
bone lengths, a random amplitude and speed, filmed by the data set's cameras (one performance is
seen by all of them, as in the real recordings), with Kinect-like jitter. The NTU files carry all
12 values per joint (camera xyz, depth and colour pixel projections, bone orientations, tracking
states) and sometimes a second, near-idle person and a frame without any body; the files listed
as missing hold frames that track no body (our reading of the real ones: CTR-GCN's preprocessing
skips the listed samples and refuses any file whose every frame lacks a body). The files are written through
:func:`write_ntu_skeleton` / :func:`write_nwucla`, so the demo and the tests read them with the
real readers.

Actions differ by which body part moves (:data:`NTU_SYNTHETIC_ACTIONS`,
:data:`NWUCLA_SYNTHETIC_ACTIONS` give each id its real name and main moving parts, drawn from
:data:`BODY_PARTS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from ..formats.ntu_skeleton import NTUBodyInfo, NTUSampleName, NTUSkeletonFile, write_ntu_skeleton
from ..formats.nwucla import NWUCLA_ACTIONS, NWUCLASampleName, write_nwucla
from ..formats.skeleton_clip import SkeletonClip
from .kinematic_body import (
    BODY_PARTS,
    END_JOINTS,
    NTU_PARENTS,
    NWUCLA_FROM_NTU,
    REST_POSE,
    BodyShape,
    forward_kinematics,
)

__all__ = [
    "BODY_PARTS",
    "NTU_SKELETON_DIR",
    "NTU_MISSING_LIST",
    "NWUCLA_DIR",
    "SyntheticAction",
    "NTU_SYNTHETIC_ACTIONS",
    "NWUCLA_SYNTHETIC_ACTIONS",
    "NTU_CAMERA_YAW_DEG",
    "NWUCLA_VIEW_YAW_DEG",
    "SyntheticNTUConfig",
    "SyntheticNWUCLAConfig",
    "plan_synthetic_ntu",
    "plan_synthetic_nwucla",
    "write_synthetic_ntu",
    "write_synthetic_nwucla",
]

NTU_SKELETON_DIR = "nturgb+d_skeletons"
NTU_MISSING_LIST = "NTU_RGBD_samples_with_missing_skeletons.txt"
NWUCLA_DIR = "all_sqe"
NTU_CAMERA_YAW_DEG = {1: 0.0, 2: 45.0, 3: -45.0}
NWUCLA_VIEW_YAW_DEG = {1: 45.0, 2: 0.0, 3: -45.0}  # synthetic choice: NW-UCLA gives no angles
_KINECT_TRACKING_ID_BASE = 72057594037927936  # 2**56: real bodyIDs look like 72057594037931101
_FPS = 30.0


@dataclass(frozen=True)
class SyntheticAction:
    """An action the generator can perform.

    Attributes:
        name: the data set's own action name.
        moving_parts: the body parts (from :data:`BODY_PARTS`) that carry the action.
        motion: key of the kinematic motion that performs it.
    """

    name: str
    moving_parts: tuple[str, ...]
    motion: str


_BOTH_ARMS = ("left_arm", "right_arm")
_BOTH_LEGS = ("left_leg", "right_leg")
NTU_SYNTHETIC_ACTIONS: dict[int, SyntheticAction] = {
    5: SyntheticAction("drop", ("right_arm",), "drop"),
    6: SyntheticAction("pick up", ("right_arm", "torso", "head"), "pick_up_one_hand"),
    7: SyntheticAction("throw", ("right_arm",), "throw"),
    8: SyntheticAction("sitting down", _BOTH_LEGS, "sit_down"),
    9: SyntheticAction("standing up (from sitting position)", _BOTH_LEGS, "stand_up"),
    10: SyntheticAction("clapping", _BOTH_ARMS, "clapping"),
    14: SyntheticAction("put on jacket", _BOTH_ARMS, "donning"),
    15: SyntheticAction("take off jacket", _BOTH_ARMS, "doffing"),
    23: SyntheticAction("hand waving", ("right_arm",), "hand_waving"),
    24: SyntheticAction("kicking something", ("right_leg",), "kicking"),
    27: SyntheticAction("jump up", BODY_PARTS, "jump_up"),
    31: SyntheticAction("pointing to something with finger", ("right_arm",), "pointing"),
    38: SyntheticAction("salute", ("right_arm",), "salute"),
    43: SyntheticAction("falling", BODY_PARTS, "falling"),
}
NWUCLA_SYNTHETIC_ACTIONS: dict[int, SyntheticAction] = {
    1: SyntheticAction(NWUCLA_ACTIONS[1], ("right_arm", "torso", "head"), "pick_up_one_hand"),
    2: SyntheticAction(NWUCLA_ACTIONS[2], (*_BOTH_ARMS, "torso", "head"), "pick_up_two_hands"),
    3: SyntheticAction(NWUCLA_ACTIONS[3], ("right_arm",), "drop"),
    4: SyntheticAction(NWUCLA_ACTIONS[4], _BOTH_LEGS, "walk_around"),
    5: SyntheticAction(NWUCLA_ACTIONS[5], _BOTH_LEGS, "sit_down"),
    6: SyntheticAction(NWUCLA_ACTIONS[6], _BOTH_LEGS, "stand_up"),
    8: SyntheticAction(NWUCLA_ACTIONS[8], _BOTH_ARMS, "donning"),
    9: SyntheticAction(NWUCLA_ACTIONS[9], _BOTH_ARMS, "doffing"),
    11: SyntheticAction(NWUCLA_ACTIONS[11], ("right_arm",), "throw"),
    12: SyntheticAction(NWUCLA_ACTIONS[12], _BOTH_LEGS, "carry"),
}
_DEFAULT_NTU_ACTIONS = (6, 7, 8, 9, 10, 23, 24, 27, 31, 38, 43)
# Real NTU-60 ids: the first six are X-Sub training subjects, the last four test subjects.
_DEFAULT_NTU_PERFORMERS = (1, 2, 4, 5, 8, 9, 3, 6, 7, 10)


def _ramp(phi: np.ndarray, start: float, stop: float) -> np.ndarray:
    """0 before ``start``, 1 after ``stop``, smoothstep in between."""
    x = np.clip((phi - start) / (stop - start), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _bump(phi: np.ndarray, rise: float, top: float, fall: float, end: float) -> np.ndarray:
    return _ramp(phi, rise, top) * (1.0 - _ramp(phi, fall, end))


class _Motion:
    """Pose tracks being shaped by a motion: each step pulls tracks towards a target."""

    def __init__(self, phi: np.ndarray, amplitude: float) -> None:
        self.phi = phi
        self.amplitude = amplitude
        self.pose = {key: np.full(phi.shape, value) for key, value in REST_POSE.items()}

    def toward(self, weight: np.ndarray, **targets: float | np.ndarray) -> None:
        for key, target in targets.items():
            goal = REST_POSE[key] + self.amplitude * (np.asarray(target) - REST_POSE[key])
            self.pose[key] = self.pose[key] + weight * (goal - self.pose[key])


def _pick_up(m: _Motion, sides: tuple[str, ...]) -> None:
    w = _bump(m.phi, 0.12, 0.4, 0.6, 0.88)
    m.toward(w, lean=1.0, l_thigh_flex=0.7, r_thigh_flex=0.7, l_shin_flex=-0.4, r_shin_flex=-0.4)
    for s in sides:
        m.toward(w, **{f"{s}_upper_flex": -0.45, f"{s}_fore_flex": -0.35, f"{s}_upper_abd": 0.05})


def _drop(m: _Motion) -> None:
    w = _bump(m.phi, 0.2, 0.42, 0.6, 0.85)
    m.toward(w, r_upper_flex=1.0, r_fore_flex=1.15, lean=0.1)
    m.toward(_bump(m.phi, 0.42, 0.5, 0.5, 0.6), r_fore_flex=0.7)


def _throw(m: _Motion) -> None:
    m.toward(
        _bump(m.phi, 0.12, 0.35, 0.4, 0.5), r_upper_flex=2.6, r_upper_abd=0.5, r_fore_flex=3.4, twist=-0.4
    )
    m.toward(_bump(m.phi, 0.4, 0.5, 0.58, 0.85), r_upper_flex=1.3, r_fore_flex=1.2, twist=0.3, lean=0.2)


def _sit(m: _Motion, seated: np.ndarray) -> None:
    transit = seated * (1.0 - seated) * 4.0
    m.toward(
        seated,
        l_thigh_flex=1.5,
        r_thigh_flex=1.5,
        l_shin_flex=0.05,
        r_shin_flex=0.05,
        l_upper_flex=0.35,
        r_upper_flex=0.35,
        l_fore_flex=1.2,
        r_fore_flex=1.2,
    )
    m.toward(transit, lean=0.6)


def _clapping(m: _Motion) -> None:
    w = _bump(m.phi, 0.04, 0.18, 0.85, 0.97)
    together = 0.5 * (1.0 - np.cos(2.0 * np.pi * 5.0 * m.phi))
    m.toward(
        w,
        l_upper_flex=0.7,
        r_upper_flex=0.7,
        l_upper_abd=0.3,
        r_upper_abd=0.3,
        l_fore_flex=1.35,
        r_fore_flex=1.35,
        l_fore_abd=0.35 - 1.1 * together,
        r_fore_abd=0.35 - 1.1 * together,
    )


def _hand_waving(m: _Motion) -> None:
    w = _bump(m.phi, 0.04, 0.2, 0.8, 0.96)
    m.toward(
        w,
        r_upper_abd=1.35,
        r_upper_flex=0.25,
        r_fore_flex=0.2,
        r_fore_abd=2.75 + 0.45 * np.sin(2.0 * np.pi * 3.5 * m.phi),
    )


def _kicking(m: _Motion) -> None:
    m.toward(_bump(m.phi, 0.22, 0.38, 0.42, 0.5), r_thigh_flex=0.4, r_shin_flex=-0.8, l_upper_flex=0.3)
    m.toward(_bump(m.phi, 0.42, 0.52, 0.58, 0.8), r_thigh_flex=1.2, r_shin_flex=1.15, l_upper_flex=0.4)


def _jump_up(m: _Motion) -> None:
    crouch = _bump(m.phi, 0.15, 0.32, 0.36, 0.44) + _bump(m.phi, 0.6, 0.68, 0.72, 0.88)
    m.toward(
        crouch,
        l_thigh_flex=0.85,
        r_thigh_flex=0.85,
        l_shin_flex=-0.75,
        r_shin_flex=-0.75,
        lean=0.45,
        l_upper_flex=-0.6,
        r_upper_flex=-0.6,
    )
    air = _bump(m.phi, 0.4, 0.5, 0.52, 0.62)
    m.toward(air, lift=0.32, l_upper_flex=2.6, r_upper_flex=2.6, l_fore_flex=2.7, r_fore_flex=2.7)


def _pointing(m: _Motion) -> None:
    m.toward(
        _bump(m.phi, 0.15, 0.35, 0.7, 0.9),
        r_upper_flex=1.45,
        r_upper_abd=0.25,
        r_fore_flex=1.5,
        r_fore_abd=0.2,
    )


def _salute(m: _Motion) -> None:
    m.toward(
        _bump(m.phi, 0.15, 0.35, 0.7, 0.88),
        r_upper_abd=1.3,
        r_upper_flex=0.4,
        r_fore_abd=-2.3,
        r_fore_flex=0.6,
    )


def _falling(m: _Motion) -> None:
    m.toward(
        _bump(m.phi, 0.1, 0.3, 0.5, 0.7),
        l_thigh_flex=0.5,
        r_thigh_flex=0.5,
        l_shin_flex=-0.4,
        r_shin_flex=-0.4,
    )
    down = _ramp(m.phi, 0.3, 0.62)
    m.toward(down, fall=1.45, l_upper_flex=1.5, r_upper_flex=1.5, l_fore_flex=1.6, r_fore_flex=1.6)


def _donning(m: _Motion, reverse: bool) -> None:
    """Into the left sleeve, the right sleeve, then settle the jacket; doffing runs it backwards."""
    phi = 1.0 - m.phi if reverse else m.phi
    for side, (a, b, c, d) in (("l", (0.08, 0.22, 0.32, 0.48)), ("r", (0.38, 0.52, 0.62, 0.78))):
        m.toward(
            _bump(phi, a, b, c, d),
            **{
                f"{side}_upper_flex": -0.8,
                f"{side}_upper_abd": 0.7,
                f"{side}_fore_flex": -0.5,
                f"{side}_fore_abd": 0.9,
            },
        )
    m.toward(
        _bump(phi, 0.76, 0.84, 0.88, 0.96),
        l_upper_abd=0.55,
        r_upper_abd=0.55,
        l_fore_flex=1.0,
        r_fore_flex=1.0,
    )


def _walk(m: _Motion, turn: float, carry: bool) -> None:
    progress = np.clip(m.phi, 0.0, 1.0)
    gait = _bump(m.phi, -0.02, 0.05, 0.95, 1.02)
    cycle = 2.0 * np.pi * 2.5 * progress
    pose = m.pose
    pose["heading"] = np.pi / 2 + turn * progress  # start walking across the camera's view
    step = np.diff(2.2 * m.amplitude * progress, prepend=0.0)
    pose["root_x"] = np.cumsum(step * np.sin(pose["heading"])) - 1.1
    pose["root_z"] = np.cumsum(step * np.cos(pose["heading"]))
    for side, shift in (("l", 0.0), ("r", np.pi)):  # legs in antiphase, each arm against its leg
        swing = np.sin(cycle + shift) * gait
        pose[f"{side}_thigh_flex"] = 0.4 * m.amplitude * swing
        pose[f"{side}_shin_flex"] = (
            pose[f"{side}_thigh_flex"] - 0.6 * np.maximum(0.0, np.sin(cycle + shift + 1.2)) * gait
        )
        pose[f"{side}_upper_flex"] = -0.3 * m.amplitude * swing
    if carry:
        m.toward(
            np.ones_like(m.phi),
            l_upper_flex=0.6,
            r_upper_flex=0.6,
            l_fore_flex=1.5,
            r_fore_flex=1.5,
            l_fore_abd=-0.35,
            r_fore_abd=-0.35,
        )


def _sit_down(m: _Motion) -> None:
    _sit(m, _ramp(m.phi, 0.2, 0.75))


def _stand_up(m: _Motion) -> None:
    _sit(m, 1.0 - _ramp(m.phi, 0.25, 0.8))


_MOTIONS = {
    "pick_up_one_hand": partial(_pick_up, sides=("r",)),
    "pick_up_two_hands": partial(_pick_up, sides=("l", "r")),
    "drop": _drop,
    "throw": _throw,
    "sit_down": _sit_down,
    "stand_up": _stand_up,
    "clapping": _clapping,
    "donning": partial(_donning, reverse=False),
    "doffing": partial(_donning, reverse=True),
    "hand_waving": _hand_waving,
    "kicking": _kicking,
    "jump_up": _jump_up,
    "pointing": _pointing,
    "salute": _salute,
    "falling": _falling,
    "walk_around": partial(_walk, turn=np.pi / 2, carry=False),
    "carry": partial(_walk, turn=0.0, carry=True),
}


@dataclass(frozen=True)
class _Performance:
    """What every camera of one recording sees: the actor's (and a bystander's) world joints."""

    actor: np.ndarray  # (T, 25, 3) world positions
    lean: np.ndarray  # (T, 2) Kinect leanX / leanY of the actor
    bystander: np.ndarray | None  # (T, 25, 3) or None
    bystander_frames: tuple[int, int]
    bystander_first: bool
    dropped_frame: int | None


def _perform(
    motion: str, shape: BodyShape, rng: np.random.Generator, min_frames: int, max_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(T, 25, 3)`` world joints and ``(T, 2)`` lean of one performance of ``motion``."""
    speed = rng.uniform(0.75, 1.3)
    num_frames = int(np.clip(round(75 / speed), min_frames, max_frames))
    phi = np.linspace(-rng.uniform(0.0, 0.08), 1.0 + rng.uniform(0.0, 0.08), num_frames)
    m = _Motion(phi, amplitude=rng.uniform(0.8, 1.15))
    _MOTIONS[motion](m)
    lean = np.stack(
        [np.clip(0.3 * np.sin(m.pose["twist"]), -1, 1), np.clip(np.sin(m.pose["lean"]), -1, 1)], -1
    )
    return forward_kinematics(shape, m.pose), lean


def _idle_person(num_frames: int, rng: np.random.Generator) -> np.ndarray:
    phi = np.linspace(0.0, 1.0, num_frames)
    m = _Motion(phi, amplitude=1.0)
    m.pose["heading"] = np.full(num_frames, rng.uniform(-0.5, 0.5))
    side = rng.choice([-1.0, 1.0])
    sway = 0.01 * np.sin(2.0 * np.pi * 0.25 * np.arange(num_frames) / _FPS + rng.uniform(0, 2 * np.pi))
    m.pose["root_x"] = side * rng.uniform(1.0, 1.5) + sway
    m.pose["root_z"] = np.full(num_frames, rng.uniform(-0.8, 0.3))
    return forward_kinematics(BodyShape.sample(rng), m.pose)


def _to_camera(world: np.ndarray, yaw_deg: float, height: float, distance: float) -> np.ndarray:
    """Kinect camera space (x to the sensor's left = the facing performer's right, y up, z depth)
    of a camera ``distance`` away at ``yaw_deg`` around the performer's start position."""
    yaw = np.deg2rad(yaw_deg)
    c, s = np.cos(-yaw), np.sin(-yaw)
    x = c * world[..., 0] + s * world[..., 2]
    z = -s * world[..., 0] + c * world[..., 2]
    return np.stack([x, world[..., 1] - height, distance - z], axis=-1)


def _orientations(xyz: np.ndarray) -> np.ndarray:
    """``(T, 25, 4)`` quaternions (w, x, y, z) turning +y onto each bone (parent -> joint)."""
    bone = xyz - xyz[:, list(NTU_PARENTS)]
    bone[:, 0] = xyz[:, 1] - xyz[:, 0]
    bone /= np.linalg.norm(bone, axis=-1, keepdims=True) + 1e-12
    quat = np.stack([1.0 + bone[..., 1], bone[..., 2], np.zeros_like(bone[..., 0]), -bone[..., 0]], axis=-1)
    norm = np.linalg.norm(quat, axis=-1, keepdims=True)
    quat = np.where(norm > 1e-9, quat / np.maximum(norm, 1e-12), np.array([0.0, 0.0, 0.0, 1.0]))
    quat[:, list(END_JOINTS)] = 0.0
    return quat


def _joint_values(xyz: np.ndarray, noise_std: float, rng: np.random.Generator) -> np.ndarray:
    """``(T, 25, 12)`` joint lines: noisy camera xyz, depth (512x424) and colour (1920x1080)
    pixel projections, bone orientations and tracking states (end joints sometimes inferred)."""
    tracking = np.where(rng.random(xyz.shape[:2]) < 0.06, 1.0, 2.0)
    tracking[:, [j for j in range(25) if j not in END_JOINTS]] = 2.0
    noisy = xyz + rng.normal(0.0, noise_std, xyz.shape) * np.where(tracking == 1.0, 3.0, 1.0)[..., None]
    depth = np.maximum(noisy[..., 2], 0.3)
    values = np.empty(xyz.shape[:2] + (12,))
    values[..., :3] = np.round(noisy, 7)
    values[..., 3] = np.round(256.0 + 365.5 * noisy[..., 0] / depth, 4)
    values[..., 4] = np.round(212.0 - 365.5 * noisy[..., 1] / depth, 4)
    values[..., 5] = np.round(960.0 + 1063.0 * noisy[..., 0] / depth + 12.0, 4)
    values[..., 6] = np.round(540.0 - 1063.0 * noisy[..., 1] / depth, 4)
    values[..., 7:11] = np.round(_orientations(xyz), 7)
    values[..., 11] = tracking
    return values


def _body_info(body_id: int, lean: np.ndarray, rng: np.random.Generator) -> list[NTUBodyInfo]:
    states = np.where(rng.random((lean.shape[0], 2)) < 0.8, 2, 3)
    return [
        NTUBodyInfo(body_id, 0, 1, int(s[0]), 1, int(s[1]), 0, round(float(x), 7), round(float(y), 7), 2)
        for (x, y), s in zip(lean.tolist(), states, strict=True)
    ]


def _render_ntu(
    perf: _Performance, yaw: float, height: float, distance: float, noise_std: float, rng: np.random.Generator
) -> NTUSkeletonFile:
    num_frames = perf.actor.shape[0]
    actor = _joint_values(_to_camera(perf.actor, yaw, height, distance), noise_std, rng)
    actor_info = _body_info(_KINECT_TRACKING_ID_BASE + int(rng.integers(1000, 60000)), perf.lean, rng)
    present = np.ones(num_frames, dtype=bool)
    if perf.dropped_frame is not None:
        present[perf.dropped_frame] = False
    tracks = [(actor, actor_info, present)]
    if perf.bystander is not None:
        idle = _joint_values(_to_camera(perf.bystander, yaw, height, distance), noise_std, rng)
        idle_info = _body_info(
            _KINECT_TRACKING_ID_BASE + int(rng.integers(60000, 120000)), np.zeros((num_frames, 2)), rng
        )
        first, last = perf.bystander_frames
        idle_present = present & (np.arange(num_frames) >= first) & (np.arange(num_frames) < last)
        tracks.insert(0 if perf.bystander_first else 1, (idle, idle_info, idle_present))
    per_frame = [
        [(values[t], info[t]) for values, info, here in tracks if here[t]] for t in range(num_frames)
    ]
    bodies = [body for frame in per_frame for body in frame]
    joints = np.stack([values for values, _ in bodies]) if bodies else np.zeros((0, 25, 12))
    return NTUSkeletonFile(
        np.array([len(frame) for frame in per_frame]), [info for _, info in bodies], joints
    )


@dataclass(frozen=True)
class SyntheticNTUConfig:
    """What :func:`write_synthetic_ntu` generates.

    Attributes:
        actions: NTU action ids, keys of :data:`NTU_SYNTHETIC_ACTIONS`.
        performers: NTU performer ids (defaults: six NTU-60 X-Sub training and four test subjects).
        cameras: NTU cameras; each performance is filmed by all of them.
        noise_std: Kinect jitter of the joint positions in metres (3x for inferred joints).
        second_body_prob: chance that a near-idle bystander is tracked too.
        drop_frame_prob: chance that one frame tracks no body at all.
        num_missing: samples written without bodies and listed as missing.
        min_frames / max_frames: clip length range (30 fps).
    """

    actions: tuple[int, ...] = _DEFAULT_NTU_ACTIONS
    performers: tuple[int, ...] = _DEFAULT_NTU_PERFORMERS
    cameras: tuple[int, ...] = (1, 2, 3)
    noise_std: float = 0.002
    second_body_prob: float = 0.3
    drop_frame_prob: float = 0.1
    num_missing: int = 2
    min_frames: int = 40
    max_frames: int = 100

    def __post_init__(self) -> None:
        unknown = sorted(set(self.actions) - NTU_SYNTHETIC_ACTIONS.keys())
        if unknown or not self.actions:
            raise ValueError(
                f"actions must be non-empty ids among {sorted(NTU_SYNTHETIC_ACTIONS)}, got unknown {unknown}"
            )
        if not self.performers or not all(1 <= p <= 40 for p in self.performers):
            raise ValueError(f"performers must be NTU-60 subject ids 1-40, got {self.performers}")
        if not self.cameras or not set(self.cameras) <= set(NTU_CAMERA_YAW_DEG):
            raise ValueError(f"cameras must be among 1, 2, 3, got {self.cameras}")
        for name in ("second_body_prob", "drop_frame_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.noise_std < 0:
            raise ValueError(f"noise_std must be >= 0, got {self.noise_std}")
        if not 2 <= self.min_frames <= self.max_frames:
            raise ValueError(f"need 2 <= min_frames <= max_frames, got {self.min_frames}, {self.max_frames}")
        total = len(self.actions) * len(self.performers) * len(self.cameras)
        if not 0 <= self.num_missing <= total:
            raise ValueError(f"num_missing must be in 0-{total}, got {self.num_missing}")


def plan_synthetic_ntu(
    config: SyntheticNTUConfig = SyntheticNTUConfig(), seed: int = 0
) -> tuple[list[NTUSampleName], set[str]]:
    """The samples :func:`write_synthetic_ntu` writes, and which of them are listed as missing.

    Each (action, performer) is one performance, in setup ``1 + (3 * performer_index + action_index)
    % 17`` and replication ``1 + (performer_index + action_index) % 2``, filmed by every camera.
    """
    samples = [
        NTUSampleName(
            setup=1 + (3 * p + a) % 17,
            camera=camera,
            performer=performer,
            replication=1 + (p + a) % 2,
            action=action,
        )
        for a, action in enumerate(config.actions)
        for p, performer in enumerate(config.performers)
        for camera in config.cameras
    ]
    picks = np.random.default_rng([seed, 7]).choice(len(samples), config.num_missing, replace=False)
    return samples, {str(samples[i]) for i in picks}


def _setup_camera(seed: int, setup: int) -> tuple[float, float]:
    rng = np.random.default_rng([seed, 1, setup])
    return float(rng.uniform(0.8, 1.2)), float(rng.uniform(2.6, 3.6))  # height, distance


def write_synthetic_ntu(
    out_dir: str | Path,
    seed: int = 0,
    config: SyntheticNTUConfig = SyntheticNTUConfig(),
    write_missing_list: bool = True,
) -> list[Path]:
    """Write a synthetic NTU RGB+D skeleton set (a few seconds for the default ~330 clips).

    Args:
        out_dir: root folder; files go to ``out_dir/nturgb+d_skeletons/SsssCcccPpppRrrrAaaa.skeleton``.
        seed: everything (bodies, motions, noise) is a function of the seed: same seed, same bytes.
        config: what to generate.
        write_missing_list: also write ``out_dir/NTU_RGBD_samples_with_missing_skeletons.txt`` in
            the official layout, naming the samples written without bodies.

    Returns:
        The ``.skeleton`` paths in plan order (missing samples included).
    """
    folder = Path(out_dir) / NTU_SKELETON_DIR
    folder.mkdir(parents=True, exist_ok=True)
    samples, missing = plan_synthetic_ntu(config, seed)
    paths: list[Path] = []
    for first in range(0, len(samples), len(config.cameras)):
        recording = samples[first : first + len(config.cameras)]
        key = recording[0]
        rng = np.random.default_rng([seed, 2, key.setup, key.performer, key.replication, key.action])
        shape = BodyShape.sample(np.random.default_rng([seed, 3, key.performer]))
        actor, lean = _perform(
            NTU_SYNTHETIC_ACTIONS[key.action].motion, shape, rng, config.min_frames, config.max_frames
        )
        num_frames = actor.shape[0]
        with_bystander = rng.random() < config.second_body_prob
        perf = _Performance(
            actor=actor,
            lean=lean,
            bystander=_idle_person(num_frames, rng) if with_bystander else None,
            bystander_frames=(
                int(rng.integers(0, num_frames // 4 + 1)),
                int(rng.integers(3 * num_frames // 4, num_frames + 1)),
            ),
            bystander_first=bool(rng.random() < 0.5),
            dropped_frame=int(rng.integers(1, num_frames - 1))
            if rng.random() < config.drop_frame_prob
            else None,
        )
        height, distance = _setup_camera(seed, key.setup)
        for sample in recording:
            camera_rng = np.random.default_rng(
                [seed, 4, sample.setup, sample.performer, sample.replication, sample.action, sample.camera]
            )
            if str(sample) in missing:
                skeleton = NTUSkeletonFile(np.zeros(num_frames, dtype=np.int64), [], np.zeros((0, 25, 12)))
            else:
                skeleton = _render_ntu(
                    perf, NTU_CAMERA_YAW_DEG[sample.camera], height, distance, config.noise_std, camera_rng
                )
            paths.append(write_ntu_skeleton(folder / f"{sample}.skeleton", skeleton))
    if write_missing_list:
        header = (
            f'{len(missing)} of the captured samples in the synthetic "NTU RGB+D" dataset have missing '
            "or incomplete skeleton data.\nIf you are working on skeleton-based analysis, please ignore "
            "these files in your training and testing procedures.\n\n"
        )
        (Path(out_dir) / NTU_MISSING_LIST).write_text(header + "".join(f"{n}\n" for n in sorted(missing)))
    return paths


@dataclass(frozen=True)
class SyntheticNWUCLAConfig:
    """What :func:`write_synthetic_nwucla` generates.

    Attributes:
        actions: NW-UCLA action ids (keys of :data:`NWUCLA_SYNTHETIC_ACTIONS`).
        subjects: subject ids 1-10.
        views: views 1-3; each performance is filmed from all of them.
        episodes: performances per (action, subject): ``e00``, ``e01``, ...
        noise_std: Kinect v1 jitter in metres.
        min_frames / max_frames: sequence length range.
    """

    actions: tuple[int, ...] = tuple(sorted(NWUCLA_SYNTHETIC_ACTIONS))
    subjects: tuple[int, ...] = tuple(range(1, 11))
    views: tuple[int, ...] = (1, 2, 3)
    episodes: int = 1
    noise_std: float = 0.003
    min_frames: int = 40
    max_frames: int = 100

    def __post_init__(self) -> None:
        if not self.actions or not set(self.actions) <= NWUCLA_SYNTHETIC_ACTIONS.keys():
            raise ValueError(
                f"actions must be non-empty ids among {sorted(NWUCLA_SYNTHETIC_ACTIONS)}, got {self.actions}"
            )
        if not self.subjects or not all(1 <= s <= 10 for s in self.subjects):
            raise ValueError(f"subjects must be ids 1-10, got {self.subjects}")
        if not self.views or not set(self.views) <= set(NWUCLA_VIEW_YAW_DEG):
            raise ValueError(f"views must be among 1, 2, 3, got {self.views}")
        if not 1 <= self.episodes <= 100:
            raise ValueError(f"episodes must be in 1-100, got {self.episodes}")
        if self.noise_std < 0:
            raise ValueError(f"noise_std must be >= 0, got {self.noise_std}")
        if not 2 <= self.min_frames <= self.max_frames:
            raise ValueError(f"need 2 <= min_frames <= max_frames, got {self.min_frames}, {self.max_frames}")


def plan_synthetic_nwucla(config: SyntheticNWUCLAConfig = SyntheticNWUCLAConfig()) -> list[NWUCLASampleName]:
    """The sequences :func:`write_synthetic_nwucla` writes, views of one performance adjacent."""
    return [
        NWUCLASampleName(action, subject, episode, view)
        for action in config.actions
        for subject in config.subjects
        for episode in range(config.episodes)
        for view in config.views
    ]


def write_synthetic_nwucla(
    out_dir: str | Path, seed: int = 0, config: SyntheticNWUCLAConfig = SyntheticNWUCLAConfig()
) -> list[Path]:
    """Write a synthetic NW-UCLA set as ``out_dir/all_sqe/aXX_sYY_eZZ_vWW.json`` (20 Kinect v1
    joints, one body; 300 sequences by default).

    Args:
        out_dir: root folder.
        seed: same seed, same bytes.
        config: what to generate.

    Returns:
        The ``.json`` paths in plan order.
    """
    folder = Path(out_dir) / NWUCLA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    samples = plan_synthetic_nwucla(config)
    paths: list[Path] = []
    for first in range(0, len(samples), len(config.views)):
        key = samples[first]
        rng = np.random.default_rng([seed, 5, key.action, key.subject, key.episode])
        shape = BodyShape.sample(np.random.default_rng([seed, 6, key.subject]))
        actor, _ = _perform(
            NWUCLA_SYNTHETIC_ACTIONS[key.action].motion, shape, rng, config.min_frames, config.max_frames
        )
        height, distance = float(rng.uniform(0.9, 1.3)), float(rng.uniform(2.5, 3.5))
        for sample in samples[first : first + len(config.views)]:
            xyz = _to_camera(actor, NWUCLA_VIEW_YAW_DEG[sample.view], height, distance)[
                :, list(NWUCLA_FROM_NTU)
            ]
            xyz = xyz + rng.normal(0.0, config.noise_std, xyz.shape)
            clip = SkeletonClip(
                name=str(sample),
                joints=np.round(xyz, 6)[:, None].astype(np.float32),
                label=sample.label,
                subject=sample.subject,
                view=sample.view,
            )
            paths.append(write_nwucla(folder / f"{sample}.json", clip))
    return paths
