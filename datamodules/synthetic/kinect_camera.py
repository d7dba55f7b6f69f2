"""Filming a synthetic performance with a Kinect: the camera placement and what Kinect v2 reports.

:func:`to_camera` maps world joints into a camera's space; :func:`render_ntu` turns a
:class:`Performance` into the content of an NTU RGB+D ``.skeleton`` file: all 12 values per joint (camera
xyz with Kinect-like jitter, depth and colour pixel projections, bone orientations, tracking states, end
joints sometimes inferred) and the body lines, with the bystander and the dropped frame the performance
asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lvlm_var.skeleton_layout import KINECT_V2_LAYOUT

from ..formats.ntu_skeleton import NTU_JOINT_VALUES, NTU_NUM_JOINTS, NTUBodyInfo, NTUSkeletonFile

__all__ = ["Performance", "to_camera", "render_ntu", "no_body_recording"]

_KINECT_TRACKING_ID_BASE = 72057594037927936  # 2**56: real bodyIDs look like 72057594037931101


@dataclass(frozen=True)
class Performance:
    """What every camera of one recording sees: the actor's (and a bystander's) world joints."""

    actor: np.ndarray  # (T, 25, 3) world positions
    lean: np.ndarray  # (T, 2) Kinect leanX / leanY of the actor
    bystander: np.ndarray | None  # (T, 25, 3) or None
    bystander_frames: tuple[int, int]
    bystander_first: bool
    dropped_frame: int | None


def to_camera(world: np.ndarray, yaw_deg: float, height: float, distance: float) -> np.ndarray:
    """Kinect camera space (x to the sensor's left = the facing performer's right, y up, z depth)
    of a camera ``distance`` away at ``yaw_deg`` around the performer's start position."""
    yaw = np.deg2rad(yaw_deg)
    c, s = np.cos(-yaw), np.sin(-yaw)
    x = c * world[..., 0] + s * world[..., 2]
    z = -s * world[..., 0] + c * world[..., 2]
    return np.stack([x, world[..., 1] - height, distance - z], axis=-1)


def _orientations(xyz: np.ndarray) -> np.ndarray:
    """``(T, 25, 4)`` quaternions (w, x, y, z) turning +y onto each bone (parent -> joint)."""
    bone = xyz - xyz[:, list(KINECT_V2_LAYOUT.parents)]
    root = KINECT_V2_LAYOUT.root  # its own parent: the root's bone points up the spine
    bone[:, root] = xyz[:, KINECT_V2_LAYOUT.index("spine_mid")] - xyz[:, root]
    bone /= np.linalg.norm(bone, axis=-1, keepdims=True) + 1e-12
    quat = np.stack([1.0 + bone[..., 1], bone[..., 2], np.zeros_like(bone[..., 0]), -bone[..., 0]], axis=-1)
    norm = np.linalg.norm(quat, axis=-1, keepdims=True)
    quat = np.where(norm > 1e-9, quat / np.maximum(norm, 1e-12), np.array([0.0, 0.0, 0.0, 1.0]))
    quat[:, list(KINECT_V2_LAYOUT.end_joints)] = 0.0
    return quat


def _joint_values(xyz: np.ndarray, noise_std: float, rng: np.random.Generator) -> np.ndarray:
    """``(T, 25, 12)`` joint lines: noisy camera xyz, depth (512x424) and colour (1920x1080)
    pixel projections, bone orientations and tracking states (end joints sometimes inferred)."""
    tracking = np.where(rng.random(xyz.shape[:2]) < 0.06, 1.0, 2.0)
    tracking[:, [j for j in range(NTU_NUM_JOINTS) if j not in KINECT_V2_LAYOUT.end_joints]] = 2.0
    noisy = xyz + rng.normal(0.0, noise_std, xyz.shape) * np.where(tracking == 1.0, 3.0, 1.0)[..., None]
    depth = np.maximum(noisy[..., 2], 0.3)
    values = np.empty(xyz.shape[:2] + (len(NTU_JOINT_VALUES),))
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


def render_ntu(
    perf: Performance, yaw: float, height: float, distance: float, noise_std: float, rng: np.random.Generator
) -> NTUSkeletonFile:
    """The ``.skeleton`` content one Kinect v2 records of ``perf`` (see :func:`to_camera` for the placement).

    Args:
        perf: the recording.
        yaw / height / distance: the camera placement.
        noise_std: joint jitter in metres (3x for inferred joints).
        rng: this camera's random generator (jitter, tracking states, body ids).
    """
    num_frames = perf.actor.shape[0]
    actor = _joint_values(to_camera(perf.actor, yaw, height, distance), noise_std, rng)
    actor_info = _body_info(_KINECT_TRACKING_ID_BASE + int(rng.integers(1000, 60000)), perf.lean, rng)
    present = np.ones(num_frames, dtype=bool)
    if perf.dropped_frame is not None:
        present[perf.dropped_frame] = False
    tracks = [(actor, actor_info, present)]
    if perf.bystander is not None:
        idle = _joint_values(to_camera(perf.bystander, yaw, height, distance), noise_std, rng)
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
    if not bodies:
        return no_body_recording(num_frames)
    return NTUSkeletonFile(
        np.array([len(frame) for frame in per_frame]),
        [info for _, info in bodies],
        np.stack([values for values, _ in bodies]),
    )


def no_body_recording(num_frames: int) -> NTUSkeletonFile:
    """A recording of ``num_frames`` frames in which Kinect tracked no body (a missing-skeleton sample)."""
    return NTUSkeletonFile(
        np.zeros(num_frames, dtype=np.int64), [], np.zeros((0, NTU_NUM_JOINTS, len(NTU_JOINT_VALUES)))
    )
