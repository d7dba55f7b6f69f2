"""The synthetic NTU RGB+D skeleton set, written as real ``.skeleton`` files.

Every (action, performer) is one performance of the kinematic body (:mod:`.motions`) with the
performer's own bone lengths, a random amplitude and speed, filmed by all three cameras (as in the real
recordings) with Kinect-like jitter (:mod:`.kinect_camera`); sometimes a second, near-idle person is
tracked too and one frame tracks no body. The files listed as missing hold frames that track no body (our
reading of the real ones: CTR-GCN's preprocessing skips the listed samples and refuses any file whose
every frame lacks a body). Files are written through :func:`write_ntu_skeleton`, so the demo and the
tests read them with the real reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..formats.class_names import NTU_ACTION_NAMES
from ..formats.ntu_skeleton import NTUSampleName, write_ntu_skeleton
from .kinect_camera import Performance, no_body_recording, render_ntu
from .kinematic_body import BODY_PARTS, BOTH_ARMS, BOTH_LEGS, BodyShape
from .motions import SyntheticAction, idle_person, perform

__all__ = [
    "NTU_SKELETON_DIR",
    "NTU_MISSING_LIST",
    "NTU_SYNTHETIC_ACTIONS",
    "NTU_CAMERA_YAW_DEG",
    "SyntheticNTUConfig",
    "plan_synthetic_ntu",
    "write_synthetic_ntu",
]

NTU_SKELETON_DIR = "nturgb+d_skeletons"
NTU_MISSING_LIST = "NTU_RGBD_samples_with_missing_skeletons.txt"
NTU_CAMERA_YAW_DEG = {1: 0.0, 2: 45.0, 3: -45.0}
_NTU_ACTION_MOTIONS: dict[int, tuple[tuple[str, ...], str]] = {  # id -> (moving parts, motion)
    5: (("right_arm",), "drop"),
    6: (("right_arm", "torso", "head"), "pick_up_one_hand"),
    7: (("right_arm",), "throw"),
    8: (BOTH_LEGS, "sit_down"),
    9: (BOTH_LEGS, "stand_up"),
    10: (BOTH_ARMS, "clapping"),
    14: (BOTH_ARMS, "donning"),
    15: (BOTH_ARMS, "doffing"),
    23: (("right_arm",), "hand_waving"),
    24: (("right_leg",), "kicking"),
    27: (BODY_PARTS, "jump_up"),
    31: (("right_arm",), "pointing"),
    38: (("right_arm",), "salute"),
    43: (BODY_PARTS, "falling"),
}
NTU_SYNTHETIC_ACTIONS: dict[int, SyntheticAction] = {
    action: SyntheticAction(NTU_ACTION_NAMES[action - 1], parts, motion)
    for action, (parts, motion) in _NTU_ACTION_MOTIONS.items()
}
_DEFAULT_NTU_ACTIONS = (6, 7, 8, 9, 10, 23, 24, 27, 31, 38, 43)
# Real NTU-60 ids: the first six are X-Sub training subjects, the last four test subjects.
_DEFAULT_NTU_PERFORMERS = (1, 2, 4, 5, 8, 9, 3, 6, 7, 10)


@dataclass(frozen=True)
class SyntheticNTUConfig:
    """What :func:`write_synthetic_ntu` generates.

    Attributes:
        actions: NTU action ids, keys of :data:`NTU_SYNTHETIC_ACTIONS`.
        performers: NTU performer ids 1-106, 1-40 in NTU-60 (defaults: six NTU-60 X-Sub training and four
            test subjects).
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
        if not self.performers or not all(1 <= p <= 106 for p in self.performers):
            raise ValueError(f"performers must be NTU RGB+D subject ids 1-106, got {self.performers}")
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
        actor, lean = perform(
            NTU_SYNTHETIC_ACTIONS[key.action].motion, shape, rng, config.min_frames, config.max_frames
        )
        num_frames = actor.shape[0]
        with_bystander = rng.random() < config.second_body_prob
        perf = Performance(
            actor=actor,
            lean=lean,
            bystander=idle_person(num_frames, rng) if with_bystander else None,
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
                skeleton = no_body_recording(num_frames)
            else:
                skeleton = render_ntu(
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
