"""Per-frame box features of one video: the RoI features LaIAR's visual relation encoder consumes.

On disk: ``features/<VIDEO_ID>.npz`` (one file a video, opened with ``allow_pickle=False``) holding

- ``frames``: ``(T,)`` unicode, the Action Genome frame keys ``"VIDEO_ID.mp4/FRAME.png"`` in
  increasing frame order (a subset of the video's annotated frames);
- ``object_class``: ``(T, K)`` int16, the Action Genome object class index of slot ``k`` in frame
  ``t``, ``-1`` for padding; a class appears at most once a frame (Action Genome annotates one box
  per class and frame), so a slot joins its annotation by ``(frame key, class)``;
- ``person_feature``: ``(T, F)`` float16 or float32, RoI feature of the person box;
- ``object_feature``: ``(T, K, F)``, RoI feature of each object box;
- ``union_feature``: ``(T, K, F)``, RoI feature of the union of the person box and object box ``k``.

All features are finite; padded slots hold zeros. ``K`` is the most objects any frame of the video
has, ``F`` the detector's feature size (2048 for a ResNet-101 Faster R-CNN).
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .action_genome import parse_frame_key
from .errors import BoxFeatureFormatError
from .safe_paths import file_under_root

__all__ = [
    "MAX_UNCOMPRESSED_BYTES",
    "BoxFeatures",
    "read_box_features",
    "write_box_features",
    "box_feature_path",
]

_FEATURE_DTYPES = (np.dtype(np.float16), np.dtype(np.float32))
_KEYS = ("frames", "object_class", "person_feature", "object_feature", "union_feature")
# A fixed zip timestamp keeps the bytes reproducible (np.savez stamps the current time).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# At most this many bytes once decompressed (a zip bomb is refused before it is inflated): 4 GiB is
# about 6000 frames x 20 objects x 2048 float16 features, far above an Action Genome video.
MAX_UNCOMPRESSED_BYTES = 2**32
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


@dataclass(eq=False)
class BoxFeatures:
    """Box features of one video (see the module docstring for the file layout).

    Attributes:
        video_id: ``"001YG"``; the file is ``<video_id>.npz``.
        frames: ``T`` frame keys ``"001YG.mp4/000089.png"``, increasing frame number.
        object_class: ``(T, K)`` int16 object class index, ``-1`` = padding.
        person_feature: ``(T, F)`` float16/float32.
        object_feature: ``(T, K, F)`` same dtype.
        union_feature: ``(T, K, F)`` same dtype.
    """

    video_id: str
    frames: list[str]
    object_class: np.ndarray
    person_feature: np.ndarray
    object_feature: np.ndarray
    union_feature: np.ndarray

    @property
    def feature_dim(self) -> int:
        return int(self.person_feature.shape[-1])


def box_feature_path(features_dir: str | Path, video_id: str) -> Path:
    """The feature file of a video: ``features_dir / f"{video_id}.npz"``, checked.

    Raises:
        BoxFeatureFormatError: ``video_id`` does not match
            :data:`~datamodules.formats.safe_paths.SAFE_ID_PATTERN`, or the file (symlinks resolved) lies
            outside ``features_dir``; the error names ``features_dir`` and the video.
    """
    features_dir = Path(features_dir)
    return file_under_root(
        features_dir, video_id, ".npz", BoxFeatureFormatError, features_dir, f"video {video_id!r}"
    )


def read_box_features(path: str | Path) -> BoxFeatures:
    """Read one ``<VIDEO_ID>.npz``.

    Raises:
        BoxFeatureFormatError: not a zip of .npy arrays (a bare .npy, an empty or truncated file), an
            array larger than :data:`MAX_UNCOMPRESSED_BYTES` or than its entry, an object or structured
            dtype, a key is missing, a shape or dtype is wrong, a frame key does not belong
            to the video or is out of order, a class repeats in a frame, or a feature is NaN / inf.
        FileNotFoundError: the file is missing.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            arrays = _read_members(archive, path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError) as exc:
        if isinstance(exc, BoxFeatureFormatError):
            raise
        raise BoxFeatureFormatError(
            path, "", f"not a readable .npz ({type(exc).__name__}: {exc}); expected a zip of .npy arrays"
        ) from exc
    frames = arrays["frames"]
    if frames.ndim != 1 or frames.dtype.kind != "U":
        raise BoxFeatureFormatError(
            path, "'frames'", f"expected (T,) unicode, got {frames.dtype} {frames.shape}"
        )
    features = BoxFeatures(
        path.stem,
        [str(f) for f in frames],
        arrays["object_class"],
        arrays["person_feature"],
        arrays["object_feature"],
        arrays["union_feature"],
    )
    _check(features, path)
    return features


def _read_members(archive: zipfile.ZipFile, path: Path) -> dict[str, np.ndarray]:
    """The five arrays, each checked against its zip entry's size before anything is decompressed."""
    members = {info.filename: info for info in archive.infolist()}
    missing = [k for k in _KEYS if f"{k}.npy" not in members]
    if missing:
        raise BoxFeatureFormatError(path, "", f"missing array(s) {missing}; expected {list(_KEYS)}")
    total = sum(members[f"{k}.npy"].file_size for k in _KEYS)
    if total > MAX_UNCOMPRESSED_BYTES:  # a zip bomb, or not a feature file of one video
        raise BoxFeatureFormatError(
            path,
            "",
            f"the arrays declare {total} bytes uncompressed, above the limit of {MAX_UNCOMPRESSED_BYTES}",
        )
    return {key: _read_member(archive, members[f"{key}.npy"], path, key) for key in _KEYS}


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, key: str) -> np.ndarray:
    where = f"'{key}'"
    with archive.open(info) as handle:
        version = np.lib.format.read_magic(handle)
        read_header = _HEADER_READERS.get(version)
        if read_header is None:
            raise BoxFeatureFormatError(path, where, f"unsupported .npy format version {version}")
        shape, fortran, dtype = read_header(handle, max_header_size=10_000)
        header_size = handle.tell()
        if dtype.kind not in "biufU" or dtype.hasobject or dtype.fields is not None or dtype.subdtype:
            raise BoxFeatureFormatError(
                path, where, f"expected a plain numeric or unicode array, got {dtype}"
            )
        size = math.prod(shape) * dtype.itemsize
        if header_size + size != info.file_size:  # checked before allocating the array
            raise BoxFeatureFormatError(
                path,
                where,
                f"shape {shape} of {dtype} needs {size} bytes, the entry holds "
                f"{info.file_size - header_size}",
            )
        data = handle.read(size)
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return array.copy()


def write_box_features(path: str | Path, features: BoxFeatures) -> None:
    """Write one video's features to ``path`` (``box_feature_path(dir, video_id)``), byte-reproducibly.

    Raises:
        BoxFeatureFormatError: the features break the format (checked before anything is written).
    """
    path = Path(path)
    _check(features, path)
    arrays = {
        "frames": np.asarray(features.frames, dtype=str),
        "object_class": features.object_class,
        "person_feature": features.person_feature,
        "object_feature": features.object_feature,
        "union_feature": features.union_feature,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE), buffer.getvalue())


def _check(features: BoxFeatures, path: Path) -> None:
    if features.video_id != path.stem:
        raise BoxFeatureFormatError(
            path, "", f"expected the file of video {features.video_id!r} to be named {features.video_id}.npz"
        )
    frames = features.frames
    num_frames = len(frames)
    previous = -1
    for t, key in enumerate(frames):
        try:
            video_id, frame_index = parse_frame_key(key)
        except ValueError as exc:
            raise BoxFeatureFormatError(path, f"frame {t}", str(exc)) from None
        if video_id != path.stem:
            raise BoxFeatureFormatError(
                path, f"frame {t}", f"key {key!r} belongs to video {video_id!r}, not {path.stem!r}"
            )
        if frame_index <= previous:
            raise BoxFeatureFormatError(path, f"frame {t}", f"key {key!r}: expected increasing frame numbers")
        previous = frame_index

    object_class = features.object_class
    if object_class.ndim != 2 or object_class.shape[0] != num_frames or object_class.dtype != np.int16:
        raise BoxFeatureFormatError(
            path,
            "'object_class'",
            f"expected ({num_frames}, K) int16, got {object_class.dtype} {object_class.shape}",
        )
    num_slots = object_class.shape[1]
    for t, row in enumerate(object_class):
        real = row[row != -1]
        if (real < 0).any():
            raise BoxFeatureFormatError(
                path, f"frame {t}", f"expected class indices >= 0 or -1, got {row.tolist()}"
            )
        if len(np.unique(real)) != len(real):
            raise BoxFeatureFormatError(
                path, f"frame {t}", f"expected each class at most once, got {row.tolist()}"
            )

    person = features.person_feature
    if person.ndim != 2 or person.shape[0] != num_frames or person.dtype not in _FEATURE_DTYPES:
        raise BoxFeatureFormatError(
            path,
            "'person_feature'",
            f"expected ({num_frames}, F) float16/float32, got {person.dtype} {person.shape}",
        )
    expected = (num_frames, num_slots, person.shape[1])
    for name in ("object_feature", "union_feature"):
        array = getattr(features, name)
        if array.shape != expected or array.dtype != person.dtype:
            raise BoxFeatureFormatError(
                path, f"'{name}'", f"expected {person.dtype} {expected}, got {array.dtype} {array.shape}"
            )
    for name in ("person_feature", "object_feature", "union_feature"):
        bad = np.argwhere(~np.isfinite(getattr(features, name)))
        if len(bad):
            raise BoxFeatureFormatError(
                path, f"'{name}' frame {int(bad[0][0])}", "expected finite values, got NaN or inf"
            )
