"""Which bodies of a multi-body NTU RGB+D file to keep, and the clip loader that applies the choice.

A ``.skeleton`` file tracks every body Kinect saw, bystanders and noise bodies included; a clip keeps the
most active ones (:func:`select_bodies`), as the CTR-GCN / pyskl NTU preprocessing does. The reader itself
(:mod:`datamodules.formats.ntu_skeleton`) keeps every body.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .formats.ntu_skeleton import NTU_NUM_JOINTS, NTUSkeletonFile, parse_ntu_name, read_ntu_skeleton
from .formats.skeleton_clip import SkeletonClip

__all__ = ["BodySelectionConfig", "select_bodies", "load_ntu_clip"]


@dataclass(frozen=True)
class BodySelectionConfig:
    """How :func:`select_bodies` turns the tracked bodies of a file into at most ``max_bodies``.

    Bodies are grouped by ``bodyID`` and ranked by motion energy, the sum over joints and axes of
    the variance of the position over the frames where the body is tracked (the body-level motion
    measure of the CTR-GCN / pyskl NTU preprocessing, taken per joint so that the body's size does
    not count as motion). Frame-to-frame displacement was not used: Kinect jitter dominates it, so
    a still bystander and a slowly pointing actor score alike.

    Attributes:
        max_bodies: keep at most this many bodies (2 for NTU's two-person actions).
        static_variance: a body whose energy per joint is below this (m^2; 3e-4 is a positional
            standard deviation of about 1 cm per axis) is a near-static noise body (a bystander, a
            chair mistaken for a person) and is dropped, unless it is the most active body.
    """

    max_bodies: int = 2
    static_variance: float = 3e-4

    def __post_init__(self) -> None:
        if self.max_bodies < 1:
            raise ValueError(f"max_bodies must be >= 1, got {self.max_bodies}")
        if not self.static_variance >= 0:
            raise ValueError(f"static_variance must be >= 0, got {self.static_variance}")


def select_bodies(
    skeleton: NTUSkeletonFile, config: BodySelectionConfig = BodySelectionConfig()
) -> np.ndarray:
    """Pick the most active bodies of a file and lay them out frame by frame.

    Args:
        skeleton: a parsed file.
        config: selection rule.

    Returns:
        ``(T, M, 25, 3)`` float32 xyz, bodies ordered by decreasing motion energy, zeros in frames
        where a body is not tracked (and in frames with no body at all); ``M`` is the number of
        kept bodies, at least 1 (all zeros when the file tracks no body).
    """
    num_frames = skeleton.num_frames
    if not skeleton.bodies:
        return np.zeros((num_frames, 1, NTU_NUM_JOINTS, 3), dtype=np.float32)
    slot_of_id: dict[int, int] = {}  # bodyID -> index in order of first appearance
    inverse = np.array([slot_of_id.setdefault(body.body_id, len(slot_of_id)) for body in skeleton.bodies])
    xyz = skeleton.joints[..., :3]
    energy = [float(xyz[inverse == k].var(axis=0).sum()) for k in range(len(slot_of_id))]
    order = sorted(range(len(slot_of_id)), key=lambda k: -energy[k])  # stable: ties keep first-seen
    kept = [k for k in order if energy[k] / NTU_NUM_JOINTS >= config.static_variance]
    kept = (kept or order[:1])[: config.max_bodies]
    frames = skeleton.frame_of_body
    out = np.zeros((num_frames, len(kept), NTU_NUM_JOINTS, 3), dtype=np.float32)
    for slot, k in enumerate(kept):
        mine = inverse == k
        out[frames[mine], slot] = xyz[mine]
    return out


def load_ntu_clip(path: str | Path, selection: BodySelectionConfig = BodySelectionConfig()) -> SkeletonClip:
    """Read an NTU ``.skeleton`` file into a :class:`SkeletonClip` named after the file.

    Args:
        path: ``.../SsssCcccPpppRrrrAaaa.skeleton``; the ids come from the name.
        selection: which bodies to keep (see :class:`BodySelectionConfig`).

    Returns:
        A clip with ``joints (T, M, 25, 3)`` float32 (``T = 0`` when the file declares 0 frames;
        all zeros with ``M = 1`` when no frame tracks a body, as in the samples of the official
        missing-skeleton lists), ``label = action - 1``, ``subject = performer``, ``view = camera``,
        ``setup``.

    Raises:
        SkeletonFormatError: a malformed name or file.
    """
    sample = parse_ntu_name(path)
    joints = select_bodies(read_ntu_skeleton(path), selection)
    return SkeletonClip(
        name=str(sample),
        joints=joints,
        label=sample.label,
        subject=sample.performer,
        view=sample.camera,
        setup=sample.setup,
    )
