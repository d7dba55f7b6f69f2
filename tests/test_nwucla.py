"""NW-UCLA JSON reader/writer, names, labels and the nwucla-xview benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from datamodules.formats.class_names import NWUCLA_ACTIONS
from datamodules.formats.errors import NWUCLAFormatError
from datamodules.formats.ntu_skeleton import parse_ntu_name
from datamodules.formats.nwucla import NWUCLASampleName, parse_nwucla_name, read_nwucla, write_nwucla
from datamodules.formats.skeleton_benchmarks import benchmark_split, split_samples
from datamodules.formats.skeleton_clip import SkeletonClip

NAME = "a11_s03_e02_v01"


def _clip(num_frames: int = 5, name: str = NAME) -> SkeletonClip:
    joints = np.random.default_rng(0).normal(size=(num_frames, 1, 20, 3)).astype(np.float32)
    return SkeletonClip(name=name, joints=joints, label=8, subject=3, view=1)


def _write_json(tmp_path: Path, document: object, name: str = NAME) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize("num_frames", [1, 5])
def test_round_trip(tmp_path: Path, num_frames: int) -> None:
    clip = _clip(num_frames)
    path = write_nwucla(tmp_path / f"{NAME}.json", clip)
    assert json.loads(path.read_text())["file_name"] == NAME
    again = read_nwucla(path)
    np.testing.assert_array_equal(again.joints, clip.joints)
    assert again.joints.dtype == np.float32 and again.joints.shape == (num_frames, 1, 20, 3)
    assert (again.name, again.label, again.subject, again.view, again.setup) == (NAME, 8, 3, 1, 0)


def test_ctr_gcn_layout_reads(tmp_path: Path) -> None:
    frames = [[[0.1 * j, 0.2, 3.0 + t] for j in range(20)] for t in range(3)]
    clip = read_nwucla(_write_json(tmp_path, {"file_name": NAME, "skeletons": frames}))
    np.testing.assert_allclose(clip.joints[:, 0], np.array(frames, dtype=np.float32))


def test_labels_follow_sorted_action_ids() -> None:
    labels = {a: NWUCLASampleName(a, 1, 0, 1).label for a in NWUCLA_ACTIONS}
    assert labels == {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 8: 6, 9: 7, 11: 8, 12: 9}


def test_name_parsing() -> None:
    assert parse_nwucla_name(f"/x/all_sqe/{NAME}.json") == NWUCLASampleName(11, 3, 2, 1)
    assert str(NWUCLASampleName(1, 10, 0, 3)) == "a01_s10_e00_v03"


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("a1_s03_e02_v01", "does not follow aXX_sYY_eZZ_vWW"),
        ("a11-s03-e02-v01", "does not follow"),
        ("a07_s03_e02_v01", r"unknown action id 7 .*: NW-UCLA action ids are 1, 2, 3, 4, 5, 6, 8, 9, 11, 12"),
        ("a11_s11_e02_v01", r"subject 11 .* is outside 1-10"),
        ("a11_s03_e02_v04", r"view 4 .* is outside 1-3"),
    ],
)
def test_bad_names(tmp_path: Path, name: str, match: str) -> None:
    with pytest.raises(NWUCLAFormatError, match=match):
        parse_nwucla_name(name)
    path = _write_json(tmp_path, {"file_name": name, "skeletons": [[[0, 0, 0]] * 20]}, name=name)
    with pytest.raises(NWUCLAFormatError, match=match):
        read_nwucla(path)


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / f"{NAME}.json"
    path.write_text('{"file_name": "a11_s03_e02_v01",\n "skeletons": [[[1, 2, 3]\n')
    with pytest.raises(NWUCLAFormatError, match=rf"^{NAME}\.json line 3: invalid JSON"):
        read_nwucla(path)


_NOT_XYZ = r"frame 0 joint 0: expected \[x, y, z\] numbers"


@pytest.mark.parametrize(
    ("document", "match"),
    [
        ([1, 2], "expected a JSON object with keys 'file_name' and 'skeletons'"),
        ({"file_name": NAME}, "expected a JSON object with keys"),
        (
            {"file_name": "a01_s01_e00_v01", "skeletons": [[[0, 0, 0]] * 20]},
            r"key 'file_name': 'a01_s01_e00_v01' does not match the file's name 'a11_s03_e02_v01'",
        ),
        ({"file_name": NAME, "skeletons": []}, "key 'skeletons': expected a non-empty list of frames"),
        (
            {"file_name": NAME, "skeletons": [[[0, 0, 0]] * 20, [[0, 0, 0]] * 19]},
            "key 'skeletons' frame 1: expected 20 joints, got 19 joints",
        ),
        (
            {"file_name": NAME, "skeletons": [[[0, 0, 0]] * 25]},
            "key 'skeletons' frame 0: expected 20 joints, got 25",
        ),
        (
            {"file_name": NAME, "skeletons": [[[0, 0, 0]] * 19 + [[0, 0]]]},
            r"key 'skeletons' frame 0 joint 19: expected \[x, y, z\] numbers, got \[0, 0\]",
        ),
        (
            {"file_name": NAME, "skeletons": [[[0, 0, 0]] * 19 + [[0, "a", 0]]]},
            r"frame 0 joint 19: expected \[x, y, z\] numbers",
        ),
        (
            {
                "file_name": NAME,
                "skeletons": [[[0, 0, 0]] * 20, [[0, 0, 0]] * 3 + [[0, float("nan"), 0]] + [[0, 0, 0]] * 16],
            },
            r"key 'skeletons' frame 1 joint 3: non-finite coordinate",
        ),
        ({"file_name": NAME, "skeletons": [[[0, 0, float("inf")]] * 20]}, r"frame 0 joint 0: non-finite"),
        ({"file_name": NAME, "skeletons": [[[0, 3.5e38, 0]] * 20]}, r"frame 0 joint 0: .*float32's range"),
        (
            {"file_name": NAME, "skeletons": [[[0, 0, 0]] * 19 + [[1e308, 0, 0]]]},
            r"joint 19: .*float32's range",
        ),
        (
            {"file_name": NAME, "skeletons": [[[0, 0, 0]] * 5 + [[10**400, 0, 0]] + [[0, 0, 0]] * 14]},
            r"frame 0 joint 5: integer coordinate beyond float32's range",
        ),
        ({"file_name": NAME, "skeletons": [[[0, True, 0]] * 20]}, _NOT_XYZ),
        ({"file_name": NAME, "skeletons": [[[0, "1", 0]] * 20]}, _NOT_XYZ),
        ({"file_name": NAME, "skeletons": [[[0, None, 0]] * 20]}, _NOT_XYZ),
        ({"file_name": NAME, "skeletons": [[[[0, 0, 0]]] * 20]}, _NOT_XYZ),
        ({"file_name": 7, "skeletons": [[[0, 0, 0]] * 20]}, r"key 'file_name': '7' does not match"),
    ],
)
def test_bad_content(tmp_path: Path, document: object, match: str) -> None:
    with pytest.raises(NWUCLAFormatError, match=match):
        read_nwucla(_write_json(tmp_path, document))


def test_writer_refuses_clips_that_do_not_fit(tmp_path: Path) -> None:
    clip = _clip()
    clip.joints = np.zeros((5, 2, 20, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"must be \(T >= 1, 1, 20, 3\)"):
        write_nwucla(tmp_path / "x.json", clip)
    with pytest.raises(NWUCLAFormatError, match="does not follow"):
        write_nwucla(tmp_path / "x.json", _clip(name="S001C001P001R001A001"))


def test_nwucla_xview_benchmark() -> None:
    names = [f"a01_s01_e00_v0{v}" for v in (1, 2, 3)]
    assert [benchmark_split("nwucla-xview", n) for n in names] == ["train", "train", "test"]
    assert split_samples("nwucla-xview", names) == {"train": names[:2], "test": names[2:]}
    with pytest.raises(ValueError, match="nwucla-xview takes nwucla samples"):
        benchmark_split("nwucla-xview", parse_ntu_name("S001C001P001R001A001"))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[" * 100_000 + "]" * 100_000, "invalid JSON: nested too deeply"),
        ('{"skeletons": [[[' + "9" * 5000 + ", 0, 0]]]}", "invalid JSON: .*digits"),
        ('{"skeletons": [[[NaN, 0, 0]]]}', "expected 20 joints"),
        ("\ufeff{}", "expected a JSON object"),
        ('{"skeletons": [[["\udcff", 0, 0]]]}', "expected 20 joints"),
    ],
    ids=["deep-nesting", "huge-int-literal", "nan", "bom", "lone-surrogate"],
)
def test_hostile_json_is_a_typed_error(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / f"{NAME}.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with pytest.raises(NWUCLAFormatError, match=match):
        read_nwucla(path)
