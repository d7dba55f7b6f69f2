"""NW-UCLA Multiview Action 3D in the per-sequence JSON layout of the CTR-GCN family
(``all_sqe/a01_s01_e00_v01.json``)::

    {"file_name": "a01_s01_e00_v01", "skeletons": [[[x, y, z] x 20 joints] x T frames]}

Kinect v1, 20 joints in SDK order (:data:`~lvlm_var.skeleton_layout.KINECT_V1_LAYOUT`), one body,
10 actions (:data:`~datamodules.formats.class_names.NWUCLA_ACTIONS`) with the non-contiguous ids 1-6, 8,
9, 11, 12 mapped to labels 0-9 in sorted order, 10 subjects, 3 views.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lvlm_var.skeleton_layout import KINECT_V1_LAYOUT

from .class_names import NWUCLA_ACTIONS
from .errors import NWUCLAFormatError
from .skeleton_clip import SkeletonClip

__all__ = [
    "NWUCLA_NUM_JOINTS",
    "NWUCLASampleName",
    "parse_nwucla_name",
    "read_nwucla",
    "write_nwucla",
]

NWUCLA_NUM_JOINTS = KINECT_V1_LAYOUT.num_joints
_LABEL_OF_ACTION = {action: label for label, action in enumerate(sorted(NWUCLA_ACTIONS))}
_NAME_PATTERN = re.compile(r"a(\d{2})_s(\d{2})_e(\d{2})_v(\d{2})")
_NUM_SUBJECTS = 10
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_NUM_VIEWS = 3


@dataclass(frozen=True, order=True)
class NWUCLASampleName:
    """The ids in an NW-UCLA sequence name ``aXX_sYY_eZZ_vWW``.

    Attributes:
        action: NW-UCLA action id, one of 1-6, 8, 9, 11, 12.
        subject: 1-10.
        episode: repetition index (``e00`` ...).
        view: camera view, 1-3.
    """

    action: int
    subject: int
    episode: int
    view: int

    def __str__(self) -> str:
        return f"a{self.action:02d}_s{self.subject:02d}_e{self.episode:02d}_v{self.view:02d}"

    @property
    def label(self) -> int:
        """0-based label: the rank of ``action`` among the 10 sorted action ids."""
        return _LABEL_OF_ACTION[self.action]


def parse_nwucla_name(name: str | Path) -> NWUCLASampleName:
    """Parse ``a01_s01_e00_v01`` (optionally a path ending in ``.json``).

    Raises:
        NWUCLAFormatError: the name does not follow ``aXX_sYY_eZZ_vWW``, the action id is not an
            NW-UCLA action, or the subject / view is out of range.
    """
    base = Path(name).name
    stem = base[: -len(".json")] if base.endswith(".json") else base
    match = _NAME_PATTERN.fullmatch(stem)
    if match is None:
        raise NWUCLAFormatError(
            name, "", f"sequence name '{stem}' does not follow aXX_sYY_eZZ_vWW (e.g. a01_s01_e00_v01)"
        )
    sample = NWUCLASampleName(*map(int, match.groups()))
    if sample.action not in NWUCLA_ACTIONS:
        raise NWUCLAFormatError(
            name,
            "",
            f"unknown action id {sample.action} in '{stem}': NW-UCLA "
            f"action ids are {', '.join(map(str, sorted(NWUCLA_ACTIONS)))}",
        )
    if not 1 <= sample.subject <= _NUM_SUBJECTS:
        raise NWUCLAFormatError(
            name, "", f"subject {sample.subject} in '{stem}' is outside 1-{_NUM_SUBJECTS}"
        )
    if not 1 <= sample.view <= _NUM_VIEWS:
        raise NWUCLAFormatError(name, "", f"view {sample.view} in '{stem}' is outside 1-{_NUM_VIEWS}")
    return sample


def _locate_bad_frame(path: Path, skeletons: list) -> NWUCLAFormatError | None:
    """The error for the first frame that is not 20 ``[x, y, z]`` numbers (booleans are not), or None."""
    for t, frame in enumerate(skeletons):
        where = f"key 'skeletons' frame {t}"
        if not isinstance(frame, list) or len(frame) != NWUCLA_NUM_JOINTS:
            found = f"{len(frame)} joints" if isinstance(frame, list) else type(frame).__name__
            return NWUCLAFormatError(path, where, f"expected {NWUCLA_NUM_JOINTS} joints, got {found}")
        for j, joint in enumerate(frame):
            if (
                not isinstance(joint, list)
                or len(joint) != 3
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in joint)
            ):
                return NWUCLAFormatError(
                    path, f"{where} joint {j}", f"expected [x, y, z] numbers, got {_show(joint)}"
                )
    return None


def _show(value: object) -> str:
    try:
        return json.dumps(value)[:60]
    except (ValueError, RecursionError):  # an int beyond the int-to-str limit, or deep nesting
        return type(value).__name__


def read_nwucla(path: str | Path) -> SkeletonClip:
    """Read one NW-UCLA sequence JSON file.

    Args:
        path: ``.../aXX_sYY_eZZ_vWW.json``; the ids come from the name.

    Returns:
        A clip with ``joints (T, 1, 20, 3)`` float32, ``T >= 1``, ``label`` 0-9, ``subject``,
        ``view`` and ``setup = 0``.

    Raises:
        NWUCLAFormatError: bad name, invalid JSON, missing keys, a ``file_name`` that differs from
            the file's name, no frames, a frame without 20 ``[x, y, z]`` joints, or NaN / inf.
    """
    path = Path(path)
    sample = parse_nwucla_name(path)
    try:
        document = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise NWUCLAFormatError(path, f"line {exc.lineno}", f"invalid JSON: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise NWUCLAFormatError(path, "", f"not UTF-8 text: {exc.reason}") from None
    except RecursionError:
        raise NWUCLAFormatError(path, "", "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise NWUCLAFormatError(path, "", f"invalid JSON: {exc}") from None
    if not isinstance(document, dict) or "skeletons" not in document:
        raise NWUCLAFormatError(path, "", "expected a JSON object with keys 'file_name' and 'skeletons'")
    declared = document.get("file_name", str(sample))
    if declared != str(sample):
        raise NWUCLAFormatError(
            path, "key 'file_name'", f"'{declared}' does not match the file's name '{sample}'"
        )
    skeletons = document["skeletons"]
    if not isinstance(skeletons, list) or not skeletons:
        raise NWUCLAFormatError(path, "key 'skeletons'", "expected a non-empty list of frames")
    bad = _locate_bad_frame(path, skeletons)  # numpy would read true as 1.0: check every value's type
    if bad is not None:
        raise bad
    try:
        joints = np.array(skeletons, dtype=np.float64)
    except OverflowError:  # an integer beyond float64, e.g. 10**400
        t, j = next(
            (t, j)
            for t, frame in enumerate(skeletons)
            for j, joint in enumerate(frame)
            if any(abs(v) > _FLOAT32_MAX for v in joint)
        )
        raise NWUCLAFormatError(
            path, f"key 'skeletons' frame {t} joint {j}", "integer coordinate beyond float32's range"
        ) from None
    # the clips are float32: 3.5e38 is finite as float64 but inf after the cast
    in_range = (np.abs(joints) <= _FLOAT32_MAX).all(axis=2)
    if not in_range.all():
        t, j = map(int, np.argwhere(~in_range)[0])
        raise NWUCLAFormatError(
            path,
            f"key 'skeletons' frame {t} joint {j}",
            f"non-finite coordinate (or one beyond float32's range) {joints[t, j].tolist()}",
        )
    return SkeletonClip(
        name=str(sample),
        joints=joints[:, None].astype(np.float32),
        label=sample.label,
        subject=sample.subject,
        view=sample.view,
        setup=0,
    )


def write_nwucla(path: str | Path, clip: SkeletonClip) -> Path:
    """Write ``clip`` as an NW-UCLA sequence JSON file.

    Args:
        path: output file, conventionally ``all_sqe/<clip.name>.json``.
        clip: ``joints (T >= 1, 1, 20, 3)``, finite; ``clip.name`` must be a valid NW-UCLA name.

    Returns:
        ``path`` as a :class:`Path`.

    Raises:
        ValueError: the clip does not fit the format.
    """
    path = Path(path)
    sample = parse_nwucla_name(clip.name)
    joints = np.asarray(clip.joints)
    if joints.ndim != 4 or joints.shape[0] < 1 or joints.shape[1:] != (1, NWUCLA_NUM_JOINTS, 3):
        raise ValueError(f"{clip.name}: NW-UCLA joints must be (T >= 1, 1, 20, 3), got {joints.shape}")
    if not np.isfinite(joints).all():
        raise ValueError(f"{clip.name}: joints must be finite")
    document = {"file_name": str(sample), "skeletons": joints[:, 0].astype(np.float64).tolist()}
    path.write_text(json.dumps(document, separators=(",", ":")))
    return path
