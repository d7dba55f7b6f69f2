"""pyskl NTU annotation pickles: round trip, axis order, validation, and refusal of unsafe pickles."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from datamodules.formats.errors import PysklFormatError, UnsafePickleError
from datamodules.formats.pyskl import PysklAnnotations, read_pyskl, write_pyskl
from datamodules.formats.skeleton_clip import SkeletonClip

NAMES = ("S001C001P001R001A001", "S002C002P003R002A060")


def _annotations() -> PysklAnnotations:
    rng = np.random.default_rng(0)
    clips = [
        SkeletonClip(
            name=NAMES[0],
            joints=rng.normal(size=(7, 2, 25, 3)).astype(np.float32),
            label=0,
            subject=1,
            view=1,
            setup=1,
        ),
        SkeletonClip(
            name=NAMES[1],
            joints=rng.normal(size=(4, 1, 25, 3)).astype(np.float32),
            label=59,
            subject=3,
            view=2,
            setup=2,
        ),
    ]
    return PysklAnnotations(
        split={
            "xsub_train": [NAMES[0]],
            "xsub_val": [NAMES[1]],
            "xview_train": [NAMES[1]],
            "xview_val": [NAMES[0]],
        },
        clips=clips,
    )


def _raw(**overrides: object) -> dict:
    annotation = {
        "frame_dir": NAMES[0],
        "label": 0,
        "total_frames": 3,
        "keypoint": np.zeros((2, 3, 25, 3), dtype=np.float16),
    }
    annotation.update(overrides)
    return {"split": {"xsub_train": [NAMES[0]]}, "annotations": [annotation]}


def _dump(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "ntu60_3danno.pkl"
    path.write_bytes(pickle.dumps(content))
    return path


def test_round_trip(tmp_path: Path) -> None:
    original = _annotations()
    again = read_pyskl(write_pyskl(tmp_path / "ntu60_3danno.pkl", original))
    assert again.split == original.split
    for a, b in zip(again.clips, original.clips, strict=True):
        np.testing.assert_array_equal(a.joints, b.joints)
        assert (a.name, a.label, a.subject, a.view, a.setup) == (b.name, b.label, b.subject, b.view, b.setup)


def test_pyskl_layout_is_m_t_v_c_and_becomes_t_m_v_c(tmp_path: Path) -> None:
    keypoint = np.arange(2 * 3 * 25 * 3, dtype=np.float16).reshape(2, 3, 25, 3)
    clip = read_pyskl(_dump(tmp_path, _raw(keypoint=keypoint))).clips[0]
    assert clip.joints.shape == (3, 2, 25, 3) and clip.joints.dtype == np.float32
    np.testing.assert_array_equal(clip.joints[2, 1], keypoint[1, 2])
    stored = pickle.loads(write_pyskl(tmp_path / "w.pkl", _annotations()).read_bytes())
    assert stored["annotations"][0]["keypoint"].shape == (2, 7, 25, 3)
    assert set(stored["annotations"][0]) == {"frame_dir", "label", "keypoint", "total_frames"}


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_side_effect(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = _dump(tmp_path, {"split": {}, "annotations": [_Exploit(marker)]})
    with pytest.raises(UnsafePickleError, match=r"refusing to load global '(posix|os|nt)\.system'"):
        read_pyskl(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ([1, 2], "expected a dict with keys 'split' and 'annotations'"),
        ({"split": {}, "annotations": {}}, "key 'annotations': expected a list of dicts"),
        ({"split": [], "annotations": []}, "key 'split': expected a dict"),
        ({"split": {}, "annotations": [3]}, r"annotations\[0\]: expected a dict, got int"),
        (_raw(frame_dir="clip_7"), r"annotations\[0\] key 'frame_dir': sample name 'clip_7' does not follow"),
        (
            _raw(label=120),
            r"annotations\[0\] key 'label': expected the 0-based int 0 \(action A001 .* got 120",
        ),
        (_raw(label="1"), r"key 'label': expected the 0-based int 0"),
        (_raw(frame_dir="S001C001P001R001A006"), r"key 'label': expected the 0-based int 5 \(action A006"),
        (_raw(label=True), r"key 'label': expected the 0-based int 0"),
        (_raw(label=np.array([0])), r"key 'label': expected the 0-based int 0"),
        (
            _raw(total_frames=np.array([3, 3])),
            r"key 'total_frames': expected an int .* an array of shape \(2,\)",
        ),
        (_raw(total_frames=3.0), r"key 'total_frames': expected an int equal to the keypoint array's T = 3"),
        (_raw(keypoint=np.full((1, 3, 25, 3), 3.5e38)), r"key 'keypoint': expected finite .*float32's range"),
        (_raw(keypoint=np.full((1, 3, 25, 3), -1e308)), r"key 'keypoint': expected finite .*float32's range"),
        (_raw(keypoint=np.zeros((1, 3, 25, 3), np.int32)), r"key 'keypoint': .*got dtype int32"),
        (_raw(keypoint=np.zeros((1, 3, 25, 3), np.complex64)), r"key 'keypoint': .*got dtype complex64"),
        (
            {"split": {}, "annotations": _raw()["annotations"] * 2},
            r"annotations\[1\] key 'frame_dir': 'S001C001P001R001A001' is already the name of "
            r"annotations\[0\]",
        ),
        (
            _raw(keypoint=np.zeros((2, 3, 17, 2))),
            r"key 'keypoint': expected a 3D-skeleton array \[M, T, 25, 3\], got \(2, 3, 17, 2\)",
        ),
        (_raw(keypoint=[[0.0]]), r"key 'keypoint': expected a 3D-skeleton array .*got list"),
        (
            _raw(keypoint=np.full((1, 3, 25, 3), np.nan)),
            r"key 'keypoint': expected finite floating-point values",
        ),
        (
            _raw(total_frames=4),
            r"key 'total_frames': expected an int equal to the keypoint array's T = 3, got 4",
        ),
        (
            {**_raw(), "split": {"xsub_val": [NAMES[1]]}},
            r"key 'split' entry 'xsub_val': 1 names have no annotation, e.g. 'S002C002P003R002A060'",
        ),
    ],
)
def test_bad_content(tmp_path: Path, content: object, match: str) -> None:
    with pytest.raises(PysklFormatError, match=match):
        read_pyskl(_dump(tmp_path, content))


def test_missing_key(tmp_path: Path) -> None:
    content = _raw()
    del content["annotations"][0]["total_frames"]
    with pytest.raises(PysklFormatError, match=r"annotations\[0\]: missing key 'total_frames'"):
        read_pyskl(_dump(tmp_path, content))


def test_truncated_pickle(tmp_path: Path) -> None:
    path = tmp_path / "ntu60_3danno.pkl"
    path.write_bytes(pickle.dumps(_raw())[:-20])
    with pytest.raises(PysklFormatError, match="not a readable pickle"):
        read_pyskl(path)
