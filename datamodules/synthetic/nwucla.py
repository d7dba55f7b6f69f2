"""The synthetic NW-UCLA skeleton set, written as CTR-GCN's per-sequence JSON files.

Every (action, subject, episode) is one performance of the kinematic body (:mod:`.motions`), seen from
the three views with Kinect v1 jitter: the 20 Kinect v1 joints are the NTU joints both layouts share
(:data:`~.kinematic_body.NWUCLA_FROM_NTU`), one body. Files are written through :func:`write_nwucla`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..formats.class_names import NWUCLA_ACTIONS
from ..formats.nwucla import NWUCLASampleName, write_nwucla
from ..formats.skeleton_clip import SkeletonClip
from .kinect_camera import to_camera
from .kinematic_body import BOTH_ARMS, BOTH_LEGS, NWUCLA_FROM_NTU, BodyShape
from .motions import SyntheticAction, perform

__all__ = [
    "NWUCLA_DIR",
    "NWUCLA_SYNTHETIC_ACTIONS",
    "NWUCLA_VIEW_YAW_DEG",
    "SyntheticNWUCLAConfig",
    "plan_synthetic_nwucla",
    "write_synthetic_nwucla",
]

NWUCLA_DIR = "all_sqe"
NWUCLA_VIEW_YAW_DEG = {1: 45.0, 2: 0.0, 3: -45.0}  # synthetic choice: NW-UCLA gives no angles
_NWUCLA_ACTION_MOTIONS: dict[int, tuple[tuple[str, ...], str]] = {  # id -> (moving parts, motion)
    1: (("right_arm", "torso", "head"), "pick_up_one_hand"),
    2: ((*BOTH_ARMS, "torso", "head"), "pick_up_two_hands"),
    3: (("right_arm",), "drop"),
    4: (BOTH_LEGS, "walk_around"),
    5: (BOTH_LEGS, "sit_down"),
    6: (BOTH_LEGS, "stand_up"),
    8: (BOTH_ARMS, "donning"),
    9: (BOTH_ARMS, "doffing"),
    11: (("right_arm",), "throw"),
    12: (BOTH_LEGS, "carry"),
}
NWUCLA_SYNTHETIC_ACTIONS: dict[int, SyntheticAction] = {
    action: SyntheticAction(NWUCLA_ACTIONS[action], parts, motion)
    for action, (parts, motion) in _NWUCLA_ACTION_MOTIONS.items()
}


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
        actor, _ = perform(
            NWUCLA_SYNTHETIC_ACTIONS[key.action].motion, shape, rng, config.min_frames, config.max_frames
        )
        height, distance = float(rng.uniform(0.9, 1.3)), float(rng.uniform(2.5, 3.5))
        for sample in samples[first : first + len(config.views)]:
            xyz = to_camera(actor, NWUCLA_VIEW_YAW_DEG[sample.view], height, distance)[
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
