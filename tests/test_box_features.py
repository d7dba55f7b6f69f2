"""Per-video box-feature files: round trip, reproducible bytes, and every malformed array."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from datamodules.formats.box_features import (
    BoxFeatures,
    box_feature_path,
    read_box_features,
    write_box_features,
)
from datamodules.formats.errors import BoxFeatureFormatError


def _features(dtype: type = np.float32) -> BoxFeatures:
    rng = np.random.default_rng(0)
    return BoxFeatures(
        video_id="ABC12",
        frames=["ABC12.mp4/000003.png", "ABC12.mp4/000010.png", "ABC12.mp4/000123.png"],
        object_class=np.array([[10, 5, -1], [10, 5, 7], [7, -1, -1]], np.int16),
        person_feature=rng.standard_normal((3, 8)).astype(dtype),
        object_feature=rng.standard_normal((3, 3, 8)).astype(dtype),
        union_feature=rng.standard_normal((3, 3, 8)).astype(dtype),
    )


def _assert_same(a: BoxFeatures, b: BoxFeatures) -> None:
    assert a.video_id == b.video_id and a.frames == b.frames
    for name in ("object_class", "person_feature", "object_feature", "union_feature"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_round_trip_is_identical(tmp_path: Path, dtype: type) -> None:
    features = _features(dtype)
    path = box_feature_path(tmp_path / "features", "ABC12")
    assert path == tmp_path / "features" / "ABC12.npz"
    write_box_features(path, features)
    read = read_box_features(path)
    _assert_same(read, features)
    assert read.feature_dim == 8
    with np.load(path, allow_pickle=False) as data:  # a plain .npz any numpy reads
        assert data["frames"].dtype.kind == "U"


def test_bytes_are_reproducible(tmp_path: Path) -> None:
    write_box_features(tmp_path / "a" / "ABC12.npz", _features())
    write_box_features(tmp_path / "b" / "ABC12.npz", _features())
    assert (tmp_path / "a" / "ABC12.npz").read_bytes() == (tmp_path / "b" / "ABC12.npz").read_bytes()


def _write_raw(path: Path, **overrides: np.ndarray) -> None:
    features = _features()
    arrays = {
        "frames": np.array(features.frames),
        "object_class": features.object_class,
        "person_feature": features.person_feature,
        "object_feature": features.object_feature,
        "union_feature": features.union_feature,
    }
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})


def _nan_union() -> np.ndarray:
    union = _features().union_feature.copy()
    union[2, 0, 3] = np.nan
    return union


BAD = [
    ({"union_feature": None}, r"ABC12.npz: missing array\(s\) \['union_feature'\]"),
    ({"frames": np.array([1, 2, 3])}, r"ABC12.npz 'frames': expected \(T,\) unicode, got int64 \(3,\)"),
    (
        {"frames": np.array(["ABC12.mp4/3.png", "ABC12.mp4/000010.png", "ABC12/1.png"])},
        r"ABC12.npz frame 2: expected a frame key 'VIDEO.mp4/FRAME.png', got 'ABC12/1.png'",
    ),
    (
        {"frames": np.array(["ABC12.mp4/3.png", "XYZ99.mp4/000010.png", "ABC12.mp4/200.png"])},
        r"frame 1: key 'XYZ99.mp4/000010.png' belongs to video 'XYZ99', not 'ABC12'",
    ),
    (
        {"frames": np.array(["ABC12.mp4/3.png", "ABC12.mp4/000003.png", "ABC12.mp4/200.png"])},
        r"frame 1: key 'ABC12.mp4/000003.png': expected increasing frame numbers",
    ),
    (
        {"object_class": np.zeros((3, 3), np.int64)},
        r"'object_class': expected \(3, K\) int16, got int64 \(3, 3\)",
    ),
    (
        {"object_class": np.array([[1, 1, -1], [2, -1, -1], [3, -1, -1]], np.int16)},
        r"frame 0: expected each class at most once, got \[1, 1, -1\]",
    ),
    (
        {"object_class": np.array([[1, -2, -1], [2, -1, -1], [3, -1, -1]], np.int16)},
        r"frame 0: expected class indices >= 0 or -1, got \[1, -2, -1\]",
    ),
    (
        {"person_feature": np.zeros((2, 8), np.float32)},
        r"'person_feature': expected \(3, F\) float16/float32, got float32 \(2, 8\)",
    ),
    (
        {"person_feature": np.zeros((3, 8), np.float64)},
        r"'person_feature': expected \(3, F\) float16/float32, got float64 \(3, 8\)",
    ),
    (
        {"object_feature": np.zeros((3, 2, 8), np.float32)},
        r"'object_feature': expected float32 \(3, 3, 8\), got float32 \(3, 2, 8\)",
    ),
    (
        {"union_feature": np.zeros((3, 3, 8), np.float16)},
        r"'union_feature': expected float32 \(3, 3, 8\), got float16 \(3, 3, 8\)",
    ),
    (
        {"union_feature": _nan_union()},
        r"ABC12.npz 'union_feature' frame 2: expected finite values, got NaN or inf",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), BAD)
def test_malformed_files_are_named(tmp_path: Path, overrides: dict, message: str) -> None:
    path = tmp_path / "ABC12.npz"
    _write_raw(path, **overrides)
    with pytest.raises(BoxFeatureFormatError, match=message):
        read_box_features(path)


def test_object_arrays_are_refused_without_unpickling(tmp_path: Path) -> None:
    path = tmp_path / "ABC12.npz"
    _write_raw(path, frames=np.array(["ABC12.mp4/3.png", None, "ABC12.mp4/9.png"], dtype=object))
    with pytest.raises(
        BoxFeatureFormatError, match=r"ABC12.npz 'frames': expected a plain numeric or unicode"
    ):
        read_box_features(path)


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "ABC12.npz"
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(BoxFeatureFormatError, match=r"ABC12.npz: not a readable .npz"):
        read_box_features(path)


def test_writer_checks_before_writing(tmp_path: Path) -> None:
    features = _features()
    features.person_feature[0, 0] = np.inf
    path = tmp_path / "ABC12.npz"
    with pytest.raises(BoxFeatureFormatError, match=r"'person_feature' frame 0: expected finite values"):
        write_box_features(path, features)
    assert not path.exists()


def test_zip_entries_are_plain_npy(tmp_path: Path) -> None:
    path = tmp_path / "ABC12.npz"
    write_box_features(path, _features())
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(
            f"{k}.npy"
            for k in ("frames", "object_class", "person_feature", "object_feature", "union_feature")
        )


def test_writer_names_the_file_after_the_video(tmp_path: Path) -> None:
    with pytest.raises(
        BoxFeatureFormatError, match=r"OTHER.npz: expected the file of video 'ABC12' to be named ABC12.npz"
    ):
        write_box_features(tmp_path / "OTHER.npz", _features())


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _valid_members() -> dict[str, bytes]:
    features = _features()
    return {
        "frames.npy": _npy(np.array(features.frames)),
        "object_class.npy": _npy(features.object_class),
        "person_feature.npy": _npy(features.person_feature),
        "object_feature.npy": _npy(features.object_feature),
        "union_feature.npy": _npy(features.union_feature),
    }


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _huge_header(shape: tuple[int, ...], descr: object = "<f4") -> bytes:
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: (np.save(p, np.zeros(3)), p.with_suffix(".npz.npy").rename(p)), r"not a readable .npz"),
        (lambda p: p.write_bytes(b""), r"not a readable .npz \(BadZipFile"),
        (lambda p: _zip(p, {}), r"missing array\(s\) \['frames'"),
        (lambda p: p.write_bytes(b"\xff" * 100), r"not a readable .npz"),
        (
            lambda p: _zip(p, {**_valid_members(), "person_feature.npy": _huge_header((10**12,))}),
            r"'person_feature': shape \(1000000000000,\) of float32 needs 4000000000000 bytes",
        ),
        (
            lambda p: _zip(
                p, {**_valid_members(), "person_feature.npy": _huge_header((3, 8), [("a", "<f4")])}
            ),
            r"'person_feature': expected a plain numeric or unicode array",
        ),
        (
            lambda p: _zip(p, {**_valid_members(), "object_class.npy": b"\x93NUMPY\x09\x00rest"}),
            r"'object_class': .*version",
        ),
        (
            lambda p: _zip(
                p, {**_valid_members(), "frames.npy": _npy(np.array([b"ABC12.mp4/000003.png"] * 3))}
            ),
            r"'frames': expected a plain numeric or unicode array, got \|S20",
        ),
        (
            lambda p: _zip(p, {**_valid_members(), "object_class.npy": _npy(np.zeros((3, 3), np.int64))}),
            r"'object_class': expected \(3, K\) int16",
        ),
        (
            lambda p: _zip(p, {**_valid_members(), "person_feature.npy": _npy(np.zeros((3, 8), ">f4"))}),
            r"'person_feature': expected \(3, F\) float16/float32",
        ),
    ],
    ids=[
        "npy-as-npz",
        "empty-file",
        "empty-zip",
        "garbage",
        "header-1e12",
        "structured",
        "bad-version",
        "bytes-frames",
        "int64-classes",
        "big-endian",
    ],
)
def test_hostile_npz_is_a_typed_error(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "ABC12.npz"
    make(path)
    with pytest.raises(BoxFeatureFormatError, match=message):
        read_box_features(path)


def test_zip_bomb_is_refused_before_inflating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datamodules.formats.box_features as box_features

    members = {**_valid_members(), "union_feature.npy": _huge_header((3, 3, 2**20)) + bytes(4 * 9 * 2**20)}
    path = _zip(tmp_path / "ABC12.npz", members, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 200_000  # 36 MiB of zeros deflate to almost nothing
    monkeypatch.setattr(box_features, "MAX_UNCOMPRESSED_BYTES", 2**24)
    with pytest.raises(
        BoxFeatureFormatError, match=r"declare \d+ bytes uncompressed, above the limit of 16777216"
    ):
        read_box_features(path)
