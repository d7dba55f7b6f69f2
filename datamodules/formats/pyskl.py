"""pyskl's NTU 3D annotation pickles (``ntu60_3danno.pkl``, ``ntu120_3danno.pkl``).

Format (pyskl ``tools/data/README.md``)::

    {"split": {"xsub_train": [frame_dir, ...], "xsub_val": [...], "xview_train": ..., ...},
     "annotations": [{"frame_dir": "S001C001P001R001A001", "label": 0 (0-based),
                      "keypoint": float16/32 array [M, T, V=25, C=3], "total_frames": T}, ...]}

The pickle is downloaded, so it is loaded through the restricted unpickler (builtins and numpy
arrays only); the keypoint axes are reordered to the ``(T, M, V, C)`` of :class:`SkeletonClip`.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import PysklFormatError, SkeletonFormatError
from .ntu_skeleton import NTU_NUM_JOINTS, parse_ntu_name
from .safe_pickle import load_untrusted_pickle
from .skeleton_clip import SkeletonClip

__all__ = ["PysklAnnotations", "read_pyskl", "write_pyskl"]

_REQUIRED_KEYS = ("frame_dir", "label", "keypoint", "total_frames")


@dataclass
class PysklAnnotations:
    """The content of a pyskl NTU annotation pickle.

    Attributes:
        split: split name (``xsub_train``, ``xsub_val``, ``xview_train``, ``xset_val``, ...) ->
            sample names.
        clips: one clip per annotation, ``joints (T, M, 25, 3)`` float32.
    """

    split: dict[str, list[str]]
    clips: list[SkeletonClip]


def _show(value: object) -> str:
    text = repr(value) if not isinstance(value, np.ndarray) else f"an array of shape {value.shape}"
    return text if len(text) <= 60 else text[:57] + "..."


def _clip_from_annotation(path: Path, index: int, annotation: object) -> SkeletonClip:
    where = f"annotations[{index}]"
    if not isinstance(annotation, dict):
        raise PysklFormatError(path, where, f"expected a dict, got {type(annotation).__name__}")
    for key in _REQUIRED_KEYS:
        if key not in annotation:
            raise PysklFormatError(path, where, f"missing key '{key}' (expected {', '.join(_REQUIRED_KEYS)})")
    name = annotation["frame_dir"]
    if not isinstance(name, str):
        raise PysklFormatError(path, f"{where} key 'frame_dir'", f"expected a str, got {type(name).__name__}")
    try:
        sample = parse_ntu_name(name)
    except SkeletonFormatError as exc:
        raise PysklFormatError(path, f"{where} key 'frame_dir'", exc.message) from None
    label = annotation["label"]
    if isinstance(label, bool | np.bool_) or not isinstance(label, int | np.integer) or label != sample.label:
        raise PysklFormatError(
            path,
            f"{where} key 'label'",
            f"expected the 0-based int {sample.label} (action A{sample.action:03d} of '{name}' minus 1), "
            f"got {label!r}",
        )
    keypoint = annotation["keypoint"]
    if (
        not isinstance(keypoint, np.ndarray)
        or keypoint.ndim != 4
        or keypoint.shape[2:] != (NTU_NUM_JOINTS, 3)
    ):
        shape = keypoint.shape if isinstance(keypoint, np.ndarray) else type(keypoint).__name__
        raise PysklFormatError(
            path, f"{where} key 'keypoint'", f"expected a 3D-skeleton array [M, T, 25, 3], got {shape}"
        )
    if keypoint.dtype.kind != "f":
        raise PysklFormatError(
            path,
            f"{where} key 'keypoint'",
            f"expected finite floating-point values, got dtype {keypoint.dtype}",
        )
    with np.errstate(over="ignore"):  # an overflow becomes inf, refused just below
        joints = np.ascontiguousarray(keypoint.transpose(1, 0, 2, 3), dtype=np.float32)
    if not np.isfinite(joints).all():  # after the cast: 3.5e38 in float64 is finite, inf in float32
        raise PysklFormatError(
            path,
            f"{where} key 'keypoint'",
            "expected finite floating-point values within float32's range, got NaN / inf or a larger value",
        )
    total = annotation["total_frames"]
    if (
        isinstance(total, bool | np.bool_)
        or not isinstance(total, int | np.integer)
        or total != keypoint.shape[1]
    ):
        raise PysklFormatError(
            path,
            f"{where} key 'total_frames'",
            f"expected an int equal to the keypoint array's T = {keypoint.shape[1]}, got {_show(total)}",
        )
    return SkeletonClip(
        name=name,
        joints=joints,
        label=int(label),
        subject=sample.performer,
        view=sample.camera,
        setup=sample.setup,
    )


def read_pyskl(path: str | Path) -> PysklAnnotations:
    """Read a pyskl NTU 3D annotation pickle without executing anything it contains.

    Args:
        path: ``ntu60_3danno.pkl`` or ``ntu120_3danno.pkl``.

    Returns:
        The split lists and one :class:`SkeletonClip` per annotation.

    Raises:
        UnsafePickleError: the pickle references anything but builtins and numpy arrays.
        PysklFormatError: a corrupt pickle, missing keys, bad or repeated names, a label other than
            the name's action - 1, keypoints that are not finite in float32, a ``total_frames`` that is
            not the keypoints' T, or a split list naming a sample without an annotation.
    """
    path = Path(path)
    content = load_untrusted_pickle(path, error=PysklFormatError)
    if not isinstance(content, dict) or not {"split", "annotations"} <= content.keys():
        raise PysklFormatError(path, "", "expected a dict with keys 'split' and 'annotations'")
    split, annotations = content["split"], content["annotations"]
    if not isinstance(annotations, list):
        raise PysklFormatError(path, "key 'annotations'", "expected a list of dicts")
    clips = [_clip_from_annotation(path, i, a) for i, a in enumerate(annotations)]
    first_of: dict[str, int] = {}
    for index, clip in enumerate(clips):
        if first_of.setdefault(clip.name, index) != index:
            raise PysklFormatError(
                path,
                f"annotations[{index}] key 'frame_dir'",
                f"'{clip.name}' is already the name of annotations[{first_of[clip.name]}]",
            )
    if not isinstance(split, dict):
        raise PysklFormatError(path, "key 'split'", "expected a dict of split name -> list of names")
    known = {clip.name for clip in clips}
    for key, names in split.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise PysklFormatError(path, f"key 'split' entry '{key}'", "expected a list of sample names")
        unknown = [n for n in names if n not in known]
        if unknown:
            raise PysklFormatError(
                path,
                f"key 'split' entry '{key}'",
                f"{len(unknown)} names have no annotation, e.g. '{unknown[0]}'",
            )
    return PysklAnnotations(split={k: list(v) for k, v in split.items()}, clips=clips)


def write_pyskl(path: str | Path, annotations: PysklAnnotations) -> Path:
    """Write ``annotations`` in pyskl's layout (keypoints ``[M, T, V, C]``, float32).

    Args:
        path: output ``.pkl``.
        annotations: the split lists and clips to store.

    Returns:
        ``path`` as a :class:`Path`.
    """
    path = Path(path)
    records = [
        {
            "frame_dir": clip.name,
            "label": int(clip.label),
            "total_frames": clip.num_frames,
            "keypoint": np.ascontiguousarray(np.asarray(clip.joints, dtype=np.float32).transpose(1, 0, 2, 3)),
        }
        for clip in annotations.clips
    ]
    content = {"split": {k: list(v) for k, v in annotations.split.items()}, "annotations": records}
    with path.open("wb") as handle:
        pickle.dump(content, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path
