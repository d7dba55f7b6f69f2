"""The synthetic NTU / NW-UCLA generators, read back through the real readers."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pytest

from datamodules.body_selection import load_ntu_clip
from datamodules.formats.ntu_skeleton import NTUSkeletonFile, parse_ntu_name, read_ntu_skeleton
from datamodules.formats.nwucla import read_nwucla
from datamodules.formats.skeleton_benchmarks import read_missing_skeletons, split_samples
from datamodules.formats.skeleton_clip import SkeletonClip
from datamodules.synthetic.kinematic_body import BODY_PARTS, NTU_JOINT_PARTS
from datamodules.synthetic.ntu import (
    NTU_SYNTHETIC_ACTIONS,
    SyntheticNTUConfig,
    plan_synthetic_ntu,
    write_synthetic_ntu,
)
from datamodules.synthetic.nwucla import (
    NWUCLA_SYNTHETIC_ACTIONS,
    SyntheticNWUCLAConfig,
    plan_synthetic_nwucla,
    write_synthetic_nwucla,
)
from lvlm_var.skeleton_layout import KINECT_V2_LAYOUT

# Two NTU-60 X-Sub training subjects (1, 2) and two test subjects (3, 6); every default action.
NTU_CONFIG = SyntheticNTUConfig(
    performers=(1, 2, 3, 6), second_body_prob=0.5, drop_frame_prob=0.3, num_missing=3
)
NWUCLA_CONFIG = SyntheticNWUCLAConfig(subjects=(1, 2), min_frames=20, max_frames=60)


@pytest.fixture(scope="module")
def ntu_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ntu")
    write_synthetic_ntu(root, seed=3, config=NTU_CONFIG)
    return root


@pytest.fixture(scope="module")
def ntu_files(ntu_root: Path) -> list[Path]:
    return sorted((ntu_root / "nturgb+d_skeletons").glob("*.skeleton"))


@pytest.fixture(scope="module")
def ntu_read(ntu_files: list[Path]) -> list[tuple[Path, NTUSkeletonFile, SkeletonClip]]:
    return [(path, read_ntu_skeleton(path), load_ntu_clip(path)) for path in ntu_files]


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    config = SyntheticNTUConfig(actions=(23, 8), performers=(1, 3), second_body_prob=0.5)
    first = write_synthetic_ntu(tmp_path / "a", seed=5, config=config)
    second = write_synthetic_ntu(tmp_path / "b", seed=5, config=config)
    other = write_synthetic_ntu(tmp_path / "c", seed=6, config=config)
    assert [p.name for p in first] == [p.name for p in second] == [p.name for p in other]
    assert all(filecmp.cmp(a, b, shallow=False) for a, b in zip(first, second, strict=True))
    assert not any(filecmp.cmp(a, c, shallow=False) for a, c in zip(first, other, strict=True))
    nw_a = write_synthetic_nwucla(
        tmp_path / "a", seed=5, config=SyntheticNWUCLAConfig(actions=(4,), subjects=(1,))
    )
    nw_b = write_synthetic_nwucla(
        tmp_path / "b", seed=5, config=SyntheticNWUCLAConfig(actions=(4,), subjects=(1,))
    )
    assert all(filecmp.cmp(a, b, shallow=False) for a, b in zip(nw_a, nw_b, strict=True))


def test_plan_and_files_match(ntu_files: list[Path]) -> None:
    samples, missing = plan_synthetic_ntu(NTU_CONFIG, seed=3)
    assert len(samples) == 11 * 4 * 3 == len(ntu_files)
    assert sorted(f.stem for f in ntu_files) == sorted(map(str, samples))
    assert len(missing) == 3


def test_missing_list_is_official_layout_and_files_have_no_bodies(ntu_root: Path) -> None:
    _, missing = plan_synthetic_ntu(NTU_CONFIG, seed=3)
    listed = read_missing_skeletons(ntu_root / "NTU_RGBD_samples_with_missing_skeletons.txt")
    assert listed == missing
    for name in listed:
        skeleton = read_ntu_skeleton(ntu_root / "nturgb+d_skeletons" / f"{name}.skeleton")
        assert skeleton.num_frames >= NTU_CONFIG.min_frames and not skeleton.bodies_per_frame.any()


@pytest.mark.parametrize(
    ("benchmark", "is_train"),
    [
        ("ntu60-xsub", lambda s: s.performer in (1, 2)),
        ("ntu120-xsub", lambda s: s.performer in (1, 2)),
        ("ntu60-xview", lambda s: s.camera in (2, 3)),
        ("ntu120-xset", lambda s: s.setup % 2 == 0),
    ],
)
def test_benchmark_split_sizes(ntu_read, ntu_root: Path, benchmark: str, is_train) -> None:
    samples, missing = plan_synthetic_ntu(NTU_CONFIG, seed=3)
    kept = [s for s in samples if str(s) not in missing]
    expected_train = sum(map(is_train, kept))
    assert 0 < expected_train < len(kept)
    listed = read_missing_skeletons(ntu_root / "NTU_RGBD_samples_with_missing_skeletons.txt")
    clips = [clip for _, _, clip in ntu_read]
    split = split_samples(benchmark, clips, missing=listed)
    assert len(split["train"]) == expected_train
    assert len(split["test"]) == len(kept) - expected_train
    assert len(split_samples(benchmark, clips)["train"]) == sum(map(is_train, samples))


def test_bystander_is_tracked_but_dropped_and_empty_frames_are_zeros(ntu_read) -> None:
    with_bystander = with_empty_frame = 0
    for _, skeleton, clip in ntu_read:
        if not skeleton.bodies:
            continue
        assert clip.joints.shape == (skeleton.num_frames, 1, 25, 3)
        with_bystander += len({b.body_id for b in skeleton.bodies}) == 2
        empty = skeleton.bodies_per_frame == 0
        if empty.any():
            with_empty_frame += 1
            assert not clip.joints[empty].any()
    assert with_bystander >= 10 and with_empty_frame >= 3


def _part_motion(joints: np.ndarray) -> dict[str, float]:
    """Mean positional variance of each body part relative to the base of the spine."""
    present = joints.any(axis=(1, 2))
    relative = joints[present] - joints[present][:, :1]
    variance = relative.var(axis=0).sum(axis=-1)
    parts = np.array(NTU_JOINT_PARTS)
    return {part: float(variance[parts == part].mean()) for part in BODY_PARTS}


def test_the_declared_body_parts_move_most(ntu_read) -> None:
    for path, _, clip in ntu_read:
        if not clip.joints.any():
            continue
        motion = _part_motion(clip.joints[:, 0])
        action = NTU_SYNTHETIC_ACTIONS[parse_ntu_name(path).action]
        top = max(motion, key=motion.get)
        assert top in action.moving_parts, (path.name, action.name, motion)


def test_the_other_joint_values_are_consistent(ntu_read) -> None:
    skeleton = next(skeleton for _, skeleton, _ in ntu_read if skeleton.bodies)
    values = skeleton.joints
    x, y, z = values[..., 0], values[..., 1], values[..., 2]
    np.testing.assert_allclose(values[..., 3], 256.0 + 365.5 * x / z, atol=1e-3)
    np.testing.assert_allclose(values[..., 4], 212.0 - 365.5 * y / z, atol=1e-3)
    np.testing.assert_allclose(values[..., 6], 540.0 - 1063.0 * y / z, atol=1e-3)
    norms = np.linalg.norm(values[..., 7:11], axis=-1)
    inner = [j for j in range(25) if j not in KINECT_V2_LAYOUT.end_joints]
    np.testing.assert_allclose(norms[:, inner], 1.0, atol=1e-5)
    assert not values[:, list(KINECT_V2_LAYOUT.end_joints), 7:11].any()
    assert set(np.unique(values[..., 11])) <= {1.0, 2.0}
    assert (z > 1.0).all() and all(b.body_id > 2**56 for b in skeleton.bodies)


def test_cameras_see_the_same_performance_45_degrees_apart(ntu_read) -> None:
    by_name = {path.stem: clip for path, _, clip in ntu_read}
    _, missing = plan_synthetic_ntu(NTU_CONFIG, seed=3)
    name = next(
        n
        for n in sorted(by_name)
        if n[4:8] == "C001" and not {n, n.replace("C001", "C002"), n.replace("C001", "C003")} & missing
    )
    angles = {}
    for camera in ("C001", "C002", "C003"):
        joints = by_name[name.replace("C001", camera)].joints[0, 0]
        across = joints[8] - joints[4]  # left shoulder -> right shoulder
        angles[camera] = np.degrees(np.arctan2(across[2], across[0]))
    assert angles["C002"] - angles["C001"] == pytest.approx(-45.0, abs=6.0)
    assert angles["C003"] - angles["C001"] == pytest.approx(45.0, abs=6.0)


def test_nwucla_generation_reads_back(tmp_path: Path) -> None:
    paths = write_synthetic_nwucla(tmp_path, seed=1, config=NWUCLA_CONFIG)
    assert len(paths) == len(plan_synthetic_nwucla(NWUCLA_CONFIG)) == 10 * 2 * 3
    assert all(p.parent.name == "all_sqe" for p in paths)
    clips = [read_nwucla(p) for p in paths]
    assert all(c.joints.shape[1:] == (1, 20, 3) and 20 <= c.num_frames <= 60 for c in clips)
    assert sorted({c.label for c in clips}) == list(range(10))
    split = split_samples("nwucla-xview", clips)
    assert (len(split["train"]), len(split["test"])) == (40, 20)
    assert all(c.view == 3 for c in split["test"])


def test_action_tables_use_real_names_and_known_parts() -> None:
    assert NTU_SYNTHETIC_ACTIONS[23].name == "hand waving" and NTU_SYNTHETIC_ACTIONS[23].moving_parts == (
        "right_arm",
    )
    assert NTU_SYNTHETIC_ACTIONS[24].moving_parts == ("right_leg",)
    assert NWUCLA_SYNTHETIC_ACTIONS[1].name == "pick up with one hand"
    for table in (NTU_SYNTHETIC_ACTIONS, NWUCLA_SYNTHETIC_ACTIONS):
        assert all(set(a.moving_parts) <= set(BODY_PARTS) for a in table.values())
    assert len(SyntheticNTUConfig().actions) >= 10


def test_configs_are_checked() -> None:
    with pytest.raises(ValueError, match=r"actions must be non-empty ids among .*got unknown \[99\]"):
        SyntheticNTUConfig(actions=(23, 99))
    with pytest.raises(ValueError, match="performers must be NTU RGB\\+D subject ids 1-106"):
        SyntheticNTUConfig(performers=(107,))
    with pytest.raises(ValueError, match="second_body_prob must be in"):
        SyntheticNTUConfig(second_body_prob=1.5)
    with pytest.raises(ValueError, match="num_missing must be in 0-"):
        SyntheticNTUConfig(actions=(23,), performers=(1,), num_missing=4)
    with pytest.raises(ValueError, match="views must be among 1, 2, 3"):
        SyntheticNWUCLAConfig(views=(4,))
