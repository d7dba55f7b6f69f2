"""NTU .skeleton reader/writer, sample names, body selection, benchmarks and missing lists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from datamodules.body_selection import BodySelectionConfig, load_ntu_clip, select_bodies
from datamodules.formats.errors import SkeletonFormatError
from datamodules.formats.ntu_skeleton import (
    NTUBodyInfo,
    NTUSampleName,
    NTUSkeletonFile,
    parse_ntu_name,
    read_ntu_skeleton,
    write_ntu_skeleton,
)
from datamodules.formats.skeleton_benchmarks import (
    SKELETON_BENCHMARKS,
    benchmark_split,
    get_skeleton_benchmark,
    in_benchmark,
    read_missing_skeletons,
    split_samples,
)

NAME = "S001C002P003R002A023"
BIG_ID = 72057594037931101


def _body(body_id: int = BIG_ID) -> NTUBodyInfo:
    return NTUBodyInfo(body_id, 0, 1, 1, 1, 2, 0, 0.02764709, -0.05745083, 2)


def _joints(rng: np.random.Generator, centre: np.ndarray, spread: float = 0.3) -> np.ndarray:
    values = np.round(rng.normal(0.0, 1.0, (25, 12)), 7)
    values[:, :3] = np.round(centre + rng.normal(0.0, spread, (25, 3)), 7)
    values[:, 11] = rng.integers(0, 3, 25)
    return values


def _file(
    bodies_per_frame: list[list[int]], seed: int = 0, motion: dict[int, float] | None = None
) -> NTUSkeletonFile:
    """Frames holding the given body ids; body ``i`` moves with amplitude ``motion[i]`` (default 0.3)."""
    rng = np.random.default_rng(seed)
    motion = motion or {}
    infos, joints = [], []
    for t, ids in enumerate(bodies_per_frame):
        for body_id in ids:
            infos.append(_body(body_id))
            amplitude = motion.get(body_id, 0.3)
            centre = np.array([body_id % 7 * 0.5, 0.0, 3.0]) + amplitude * np.sin(t)
            joints.append(_joints(rng, centre, spread=0.3 if amplitude else 0.0))
    stacked = np.stack(joints) if joints else np.zeros((0, 25, 12))
    return NTUSkeletonFile(np.array([len(ids) for ids in bodies_per_frame]), infos, stacked)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


@pytest.fixture
def two_frames(tmp_path: Path) -> Path:
    return write_ntu_skeleton(
        tmp_path / f"{NAME}.skeleton", _file([[BIG_ID], [BIG_ID, BIG_ID + 1]]), newline="\n"
    )


# ---------------------------------------------------------------- round trips and line endings


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_write_read_round_trip_is_exact(tmp_path: Path, newline: str) -> None:
    original = _file([[BIG_ID], [], [BIG_ID, BIG_ID + 5], [BIG_ID + 5]])
    original.joints[0, 0, 0] = 0.1 + 0.2  # a 17-digit float survives too
    path = write_ntu_skeleton(tmp_path / f"{NAME}.skeleton", original, newline=newline)
    again = read_ntu_skeleton(path)
    assert again == original
    assert again.bodies[0].body_id == BIG_ID and isinstance(again.bodies[0].body_id, int)
    assert again.num_frames == 4 and again.frame(1) == []


def test_read_write_read_gives_identical_data_and_bytes(tmp_path: Path, two_frames: Path) -> None:
    first = read_ntu_skeleton(two_frames)
    copy = write_ntu_skeleton(tmp_path / "copy.skeleton", first, newline="\n")
    assert read_ntu_skeleton(copy) == first
    assert copy.read_bytes() == two_frames.read_bytes()


def test_official_layout_with_crlf_and_trailing_blank_lines(tmp_path: Path) -> None:
    joint = (
        "0.2181153 0.1725972 3.785547 277.419 191.8218 1036.233 519.1677 "
        "-0.2059419 0.05349901 0.9692109 -0.1239193 2"
    )
    lines = ["1", "1", "72057594037931101 0 1 1 1 1 0 0.02764709 0.05745083 2", "25"] + [joint] * 25
    path = tmp_path / f"{NAME}.skeleton"
    path.write_bytes(("\r\n".join(lines) + "\r\n\r\n\r\n").encode())
    skeleton = read_ntu_skeleton(path)
    assert skeleton.bodies == [NTUBodyInfo(72057594037931101, 0, 1, 1, 1, 1, 0, 0.02764709, 0.05745083, 2)]
    assert skeleton.joints.shape == (1, 25, 12)
    np.testing.assert_array_equal(skeleton.joints[0, 3], [float(v) for v in joint.split()])
    assert write_ntu_skeleton(tmp_path / "w.skeleton", skeleton).read_bytes() == path.read_bytes()[:-4]


def test_zero_frames_reads_as_empty_and_gives_a_t0_clip(tmp_path: Path) -> None:
    path = tmp_path / f"{NAME}.skeleton"
    path.write_text("0\r\n")
    assert read_ntu_skeleton(path).num_frames == 0
    clip = load_ntu_clip(path)
    assert clip.joints.shape == (0, 1, 25, 3) and clip.num_frames == 0


# ---------------------------------------------------------------- bad input


def _break(path: Path, line: int, text: str | None) -> Path:
    """Replace (or with ``None`` delete) 1-based ``line`` of ``path``."""
    lines = _lines(path)
    if text is None:
        del lines[line - 1]
    else:
        lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")
    return path


# two_frames layout: 1 frame count, 2 body count, 3 body line, 4 "25", 5-29 joints of frame 1,
# 30 body count, 31 body line, 32 "25", 33-57 joints, 58 body line, 59 "25", 60-84 joints.
@pytest.mark.parametrize(
    ("line", "text", "match"),
    [
        (32, "24", r"line 32: expected 25 joints for body 1 in frame 2, got 24"),
        (
            7,
            "1 2 3 4 5 6 7 8 9 10 11",
            r"line 7: expected 12 values for joint 3 of body 1 in frame 1, got 11",
        ),
        (
            62,
            "1 2 3 4 5 6 7 8 9 10 11 2 5",
            r"line 62: expected 12 values for joint 3 of body 2 in frame 2, got 13",
        ),
        (40, "1 2 3 4 5 6 abc 8 9 10 11 2", r"line 40: non-numeric value for joint 8 of body 1 in frame 2"),
        (45, "1 2 nan 4 5 6 7 8 9 10 11 2", r"line 45: joint 13 of body 1 in frame 2 has a non-finite value"),
        (84, "1 2 3 4 5 6 7 8 9 inf 11 2", r"line 84: joint 25 of body 2 in frame 2 has a non-finite value"),
        (10, "1 2 3 4 5 6 7 8 9 10 11 7", r"line 10: .*tracking state other than 0, 1, 2"),
        (
            31,
            "72057594037931101 0 1 1 1 1 0 0.1 2",
            r"line 31: expected 10 values on the body line of body 1 in frame 2, got 9",
        ),
        (
            3,
            "72057594037931101 0 x 1 1 1 0 0.1 0.2 2",
            r"line 3: body line of body 1 in frame 1 is not numeric",
        ),
        (58, "72057594037931101 0 1 1 1 1 0 nan 0.2 2", r"line 58: non-finite lean value"),
        # finite as float64 but inf as float32: the clips are float32
        (45, "1 2 3.5e38 4 5 6 7 8 9 10 11 2", r"line 45: joint 13 of body 1 in frame 2 .*float32's range"),
        (46, "1 2 3 4 5 6 7 8 9 10 -1e308 2", r"line 46: joint 14 of body 1 in frame 2 .*float32's range"),
        (58, "72057594037931101 0 1 1 1 1 0 1e39 0.2 2", r"line 58: .*lean value .*float32's range"),
        (3, "7" * 5000 + " 0 1 1 1 1 0 0.1 0.2 2", r"line 3: body line of body 1 in frame 1 is not numeric"),
        (30, "9" * 5000, r"line 30: expected the body count of frame 2 of 2"),
        (2, "\u0661", r"line 2: expected the body count"),  # an Arabic-Indic digit: not ASCII
        (1, "1000000000000", r"line 1: the frame count 1000000000000 cannot fit in the 83 lines"),
        (
            30,
            "two",
            r"line 30: expected the body count of frame 2 of 2 \(one non-negative integer\), got 'two'",
        ),
        (1, "-3", r"line 1: expected the frame count"),
        (2, "", r"line 2: expected the body count of frame 1 of 2 .*got ''"),
    ],
)
def test_bad_content_names_file_line_and_expectation(
    two_frames: Path, line: int, text: str, match: str
) -> None:
    _break(two_frames, line, text)
    with pytest.raises(SkeletonFormatError, match=rf"^{NAME}\.skeleton {match}") as info:
        read_ntu_skeleton(two_frames)
    assert info.value.path == two_frames


def test_truncated_in_the_joints(two_frames: Path) -> None:
    two_frames.write_text("\n".join(_lines(two_frames)[:70]) + "\n")
    with pytest.raises(
        SkeletonFormatError, match=r"line 71: file ends early: expected joint 12 of body 2 in frame 2"
    ):
        read_ntu_skeleton(two_frames)


def test_truncated_between_frames(two_frames: Path) -> None:
    two_frames.write_text("\n".join(_lines(two_frames)[:29]) + "\n\r\n")
    with pytest.raises(
        SkeletonFormatError, match=r"line 30: expected the body count of frame 2 of 2 .*got ''"
    ):
        read_ntu_skeleton(two_frames)
    two_frames.write_text("\n".join(_lines(two_frames)[:29]))
    with pytest.raises(
        SkeletonFormatError, match=r"line 30: file ends early: expected the body count of frame 2"
    ):
        read_ntu_skeleton(two_frames)


def test_truncated_before_a_body_line(two_frames: Path) -> None:
    two_frames.write_text("\n".join(_lines(two_frames)[:30]))
    with pytest.raises(
        SkeletonFormatError, match=r"line 31: file ends early: expected the body line of body 1 in frame 2"
    ):
        read_ntu_skeleton(two_frames)


def test_content_after_the_last_frame(two_frames: Path) -> None:
    two_frames.write_text(two_frames.read_text() + "\n\n1\n")
    with pytest.raises(SkeletonFormatError, match=r"line 87: unexpected content after the last frame"):
        read_ntu_skeleton(two_frames)


@pytest.mark.parametrize("content", [b"", b"\r\n\r\n  \n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / f"{NAME}.skeleton"
    path.write_bytes(content)
    with pytest.raises(SkeletonFormatError, match=r"line 1: empty file: expected the frame count"):
        read_ntu_skeleton(path)


def test_writer_refuses_non_finite_values(tmp_path: Path) -> None:
    skeleton = _file([[BIG_ID]])
    skeleton.joints[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        write_ntu_skeleton(tmp_path / "x.skeleton", skeleton)


def test_inconsistent_in_memory_file_is_refused() -> None:
    with pytest.raises(ValueError, match="sums to 2 but 1 bodies"):
        NTUSkeletonFile(np.array([1, 1]), [_body()], np.zeros((1, 25, 12)))
    with pytest.raises(ValueError, match=r"joints must have shape \(1, 25, 12\)"):
        NTUSkeletonFile(np.array([1]), [_body()], np.zeros((1, 20, 12)))


# ---------------------------------------------------------------- names


def test_sample_name_parsing() -> None:
    expected = NTUSampleName(setup=1, camera=2, performer=3, replication=2, action=23)
    assert parse_ntu_name(NAME) == expected
    assert parse_ntu_name(f"/data/nturgb+d_skeletons/{NAME}.skeleton") == expected
    assert parse_ntu_name(Path(f"{NAME}.skeleton")) == expected
    assert str(expected) == NAME and expected.label == 22


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("S01C002P003R002A023", "does not follow SsssCcccPpppRrrrAaaa"),
        ("S001C002P003R002A023.txt", "does not follow"),
        ("s001c002p003r002a023", "does not follow"),
        ("S001C004P003R002A023", r"camera id 4 in 'S001C004P003R002A023' is outside 1-3"),
        ("S001C002P003R002A121", r"action id 121 .* is outside 1-120"),
        ("S000C002P003R002A023", r"setup id 0 .* is outside 1-32"),
    ],
)
def test_bad_sample_names(name: str, match: str) -> None:
    with pytest.raises(SkeletonFormatError, match=match):
        parse_ntu_name(name)


def test_clip_takes_its_ids_from_the_name(two_frames: Path, tmp_path: Path) -> None:
    clip = load_ntu_clip(two_frames)
    assert (clip.name, clip.label, clip.subject, clip.view, clip.setup) == (NAME, 22, 3, 2, 1)
    assert clip.joints.dtype == np.float32
    bad = tmp_path / "clip.skeleton"
    bad.write_bytes(two_frames.read_bytes())
    with pytest.raises(SkeletonFormatError, match="does not follow"):
        load_ntu_clip(bad)


# ---------------------------------------------------------------- body selection


def test_idle_body_is_dropped_and_frames_without_bodies_are_zeros(tmp_path: Path) -> None:
    actor, idle = BIG_ID, BIG_ID + 1
    frames = [[idle, actor], [actor, idle], [], [idle, actor], [idle]]
    path = write_ntu_skeleton(tmp_path / f"{NAME}.skeleton", _file(frames, motion={idle: 0.0}))
    skeleton = read_ntu_skeleton(path)
    clip = load_ntu_clip(path)
    assert clip.joints.shape == (5, 1, 25, 3)
    actor_rows = [i for i, b in enumerate(skeleton.bodies) if b.body_id == actor]
    np.testing.assert_array_equal(
        clip.joints[[0, 1, 3], 0], skeleton.joints[actor_rows, :, :3].astype(np.float32)
    )
    assert not clip.joints[2].any() and not clip.joints[4].any()
    kept_idle = select_bodies(skeleton, BodySelectionConfig(static_variance=0.0))
    assert kept_idle.shape == (5, 2, 25, 3) and kept_idle[4, 1].any()


def test_two_active_bodies_are_kept_most_active_first(tmp_path: Path) -> None:
    a, b, c = BIG_ID, BIG_ID + 1, BIG_ID + 2
    frames = [[a, b, c]] * 6
    skeleton = _file(frames, motion={a: 0.1, b: 0.8, c: 0.4})
    joints = select_bodies(skeleton)
    assert joints.shape == (6, 2, 25, 3)
    np.testing.assert_array_equal(joints[:, 0], skeleton.joints[1::3, :, :3].astype(np.float32))
    np.testing.assert_array_equal(joints[:, 1], skeleton.joints[2::3, :, :3].astype(np.float32))
    assert select_bodies(skeleton, BodySelectionConfig(max_bodies=1)).shape == (6, 1, 25, 3)


def test_only_static_bodies_keeps_one_and_no_bodies_gives_zeros() -> None:
    assert select_bodies(_file([[BIG_ID]] * 3, motion={BIG_ID: 0.0})).shape == (3, 1, 25, 3)
    empty = select_bodies(_file([[], [], []]))
    assert empty.shape == (3, 1, 25, 3) and not empty.any()


def test_selection_config_is_checked() -> None:
    with pytest.raises(ValueError, match="max_bodies must be >= 1"):
        BodySelectionConfig(max_bodies=0)
    with pytest.raises(ValueError, match="static_variance must be >= 0"):
        BodySelectionConfig(static_variance=-1.0)


# ---------------------------------------------------------------- benchmarks and missing lists


@pytest.mark.parametrize(
    ("benchmark", "name", "split"),
    [
        ("ntu60-xsub", "S001C001P001R001A001", "train"),
        ("ntu60-xsub", "S001C001P003R001A001", "test"),
        ("ntu60-xview", "S001C001P001R001A001", "test"),
        ("ntu60-xview", "S001C002P001R001A001", "train"),
        ("ntu60-xview", "S001C003P003R001A060", "train"),
        ("ntu120-xsub", "S018C001P103R001A120", "train"),
        ("ntu120-xsub", "S018C001P104R001A120", "test"),
        ("ntu120-xset", "S002C001P003R001A061", "train"),
        ("ntu120-xset", "S017C001P001R001A001", "test"),
    ],
)
def test_benchmark_split_rules(benchmark: str, name: str, split: str) -> None:
    assert benchmark_split(benchmark, name) == split
    assert benchmark_split(benchmark, parse_ntu_name(name)) == split


def test_benchmark_subject_lists_have_the_official_sizes() -> None:
    assert len(SKELETON_BENCHMARKS["ntu60-xsub"].train_ids) == 20
    assert len(SKELETON_BENCHMARKS["ntu120-xsub"].train_ids) == 53


def test_ntu60_benchmarks_leave_out_ntu120_actions() -> None:
    assert not in_benchmark("ntu60-xsub", "S018C001P001R001A061")
    assert in_benchmark("ntu120-xsub", "S018C001P001R001A061")
    with pytest.raises(ValueError, match=r"S018C001P001R001A061 is not in ntu60-xview \(actions 1-60\)"):
        benchmark_split("ntu60-xview", "S018C001P001R001A061")


def test_unknown_benchmark_lists_the_valid_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown skeleton benchmark 'ntu60-xset'; valid: .*ntu120-xset.*nwucla-xview"
    ):
        get_skeleton_benchmark("ntu60-xset")


def test_split_samples_honours_the_missing_list() -> None:
    names = ["S001C001P001R001A001", "S001C002P001R001A001", "S001C001P003R001A001", "S001C001P001R001A070"]
    assert split_samples("ntu60-xsub", names) == {"train": names[:2], "test": names[2:3]}
    assert split_samples("ntu60-xsub", names, missing={names[0]}) == {"train": names[1:2], "test": names[2:3]}


def test_read_missing_skeletons_official_layout(tmp_path: Path) -> None:
    path = tmp_path / "NTU_RGBD_samples_with_missing_skeletons.txt"
    path.write_bytes(
        b'302 of the captured samples in the "NTU RGB+D" dataset have missing or incomplete '
        b"skeleton data.\r\nIf you are working on skeleton-based analysis, please ignore these "
        b"files in your training and testing procedures.\r\n\r\nS001C002P005R002A008\r\n"
        b"S001C002P006R001A008\r\n  S017C003P020R001A059  \r\n\r\n"
    )
    assert read_missing_skeletons(path) == {
        "S001C002P005R002A008",
        "S001C002P006R001A008",
        "S017C003P020R001A059",
    }


def test_read_missing_skeletons_bad_name(tmp_path: Path) -> None:
    path = tmp_path / "missing.txt"
    path.write_text("S001C002P005R002A008\nS1C2P5R2A8\n")
    with pytest.raises(
        SkeletonFormatError, match=r"missing.txt line 2: sample name 'S1C2P5R2A8' does not follow"
    ):
        read_missing_skeletons(path)


def test_huge_frame_count_is_refused_before_allocating(tmp_path: Path) -> None:
    path = tmp_path / "S001C001P001R001A001.skeleton"
    path.write_bytes(b"1000000000000\r\n0\r\n")
    child = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2**32, 2**32));"
        "from datamodules.formats.ntu_skeleton import read_ntu_skeleton;"
        "from datamodules.formats.errors import SkeletonFormatError\n"
        "try: read_ntu_skeleton(sys.argv[1])\n"
        "except SkeletonFormatError as e: print(e)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", child, str(path)], capture_output=True, text=True, timeout=120, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "line 1: the frame count 1000000000000 cannot fit in the 1 lines" in out.stdout
