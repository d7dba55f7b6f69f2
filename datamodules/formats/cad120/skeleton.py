"""A CAD-120 skeleton file ``<id>.txt``: one line a frame, then ``END``.

Each line: ``frame,`` then for the 11 joints HEAD ... RIGHT_KNEE a 3x3 orientation matrix (9, row-major),
its confidence (1), the xyz position (3, millimetres in the Kinect's camera frame: x right, y up, z away
from the camera) and its confidence (1); then for LEFT_HAND, RIGHT_HAND, LEFT_FOOT, RIGHT_FOOT the
position (3) and its confidence (1): 1 + 11 x 14 + 4 x 4 = 171 values (:data:`CAD120_SKELETON_VALUES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lvlm_var.skeleton_layout import CAD120_LAYOUT

from ..errors import CAD120FormatError
from ._lines import byte_lines, format_number, frame_numbers, numeric_rows, show, write_lines

__all__ = [
    "CAD120_JOINTS",
    "CAD120_ORIENTED_JOINTS",
    "CAD120_SKELETON_VALUES",
    "CAD120Skeleton",
    "read_cad120_skeleton",
    "write_cad120_skeleton",
]

# The file order of the joints, spelled as in the CAD-120 readme (HEAD ... RIGHT_FOOT).
CAD120_JOINTS: tuple[str, ...] = tuple(name.upper() for name in CAD120_LAYOUT.joint_names)
CAD120_ORIENTED_JOINTS = 11  # the first 11 joints carry an orientation, the last 4 only a position
_ORIENTED_WIDTH = 9 + 1 + 3 + 1
_POSITION_WIDTH = 3 + 1
CAD120_SKELETON_VALUES = (
    1
    + CAD120_ORIENTED_JOINTS * _ORIENTED_WIDTH
    + (len(CAD120_JOINTS) - CAD120_ORIENTED_JOINTS) * _POSITION_WIDTH
)
_END = b"END"


@dataclass(eq=False)
class CAD120Skeleton:
    """A skeleton file with every value it holds.

    Attributes:
        frames: ``(T,)`` int64 frame numbers, strictly increasing.
        orientation: ``(T, 11, 3, 3)`` float64 joint orientation matrices of the first 11 joints.
        orientation_confidence: ``(T, 11)`` float64.
        joints: ``(T, 15, 3)`` float64 positions in mm (camera frame), :data:`CAD120_JOINTS` order.
        confidence: ``(T, 15)`` float64 position confidences.
    """

    frames: np.ndarray
    orientation: np.ndarray
    orientation_confidence: np.ndarray
    joints: np.ndarray
    confidence: np.ndarray

    def __post_init__(self) -> None:
        self.frames = np.asarray(self.frames, dtype=np.int64).reshape(-1)
        num = len(self.frames)
        shapes = {
            "orientation": (num, CAD120_ORIENTED_JOINTS, 3, 3),
            "orientation_confidence": (num, CAD120_ORIENTED_JOINTS),
            "joints": (num, len(CAD120_JOINTS), 3),
            "confidence": (num, len(CAD120_JOINTS)),
        }
        for name, shape in shapes.items():
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {value.shape}")
            setattr(self, name, value)

    @property
    def num_frames(self) -> int:
        return len(self.frames)

    def rows(self) -> np.ndarray:
        """``(T, 171)`` float64: the values of every line, in file order."""
        oriented = np.concatenate(
            [
                self.orientation.reshape(-1, CAD120_ORIENTED_JOINTS, 9),
                self.orientation_confidence[..., None],
                self.joints[:, :CAD120_ORIENTED_JOINTS],
                self.confidence[:, :CAD120_ORIENTED_JOINTS, None],
            ],
            axis=-1,
        ).reshape(self.num_frames, -1)
        rest = np.concatenate(
            [self.joints[:, CAD120_ORIENTED_JOINTS:], self.confidence[:, CAD120_ORIENTED_JOINTS:, None]],
            axis=-1,
        ).reshape(self.num_frames, -1)
        return np.concatenate([self.frames[:, None].astype(np.float64), oriented, rest], axis=1)

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> CAD120Skeleton:
        """Inverse of :meth:`rows`."""
        oriented = rows[:, 1 : 1 + CAD120_ORIENTED_JOINTS * _ORIENTED_WIDTH].reshape(
            -1, CAD120_ORIENTED_JOINTS, _ORIENTED_WIDTH
        )
        rest = rows[:, 1 + CAD120_ORIENTED_JOINTS * _ORIENTED_WIDTH :].reshape(
            -1, len(CAD120_JOINTS) - CAD120_ORIENTED_JOINTS, _POSITION_WIDTH
        )
        return cls(
            frames=rows[:, 0].astype(np.int64),
            orientation=oriented[..., :9].reshape(-1, CAD120_ORIENTED_JOINTS, 3, 3),
            orientation_confidence=oriented[..., 9],
            joints=np.concatenate([oriented[..., 10:13], rest[..., :3]], axis=1),
            confidence=np.concatenate([oriented[..., 13], rest[..., 3]], axis=1),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CAD120Skeleton):
            return NotImplemented
        return np.array_equal(self.rows(), other.rows())


def read_cad120_skeleton(path: str | Path) -> CAD120Skeleton:
    """Read a skeleton file ``<id>.txt`` (see the module docstring), converting all frames in one numpy call.

    Returns:
        The skeleton; ``frames`` ``(T,)``, ``joints`` ``(T, 15, 3)`` mm and ``confidence`` ``(T, 15)`` are the
        parts the data modules use.

    Raises:
        CAD120FormatError: a missing file or ``END`` line, content after ``END``, a line without 171
            values, a non-numeric value or one not finite in float32, or frame numbers that are not
            increasing integers in 1..MAX_INDEX.
    """
    path = Path(path)
    lines = byte_lines(path)
    ends = [i for i, (_, text) in enumerate(lines) if text == _END]
    if not ends:
        last = lines[-1][0] if lines else 1
        raise CAD120FormatError(
            path, f"line {last}", "missing the final END line (the file may be truncated)"
        )
    if ends[0] != len(lines) - 1:
        number, text = lines[ends[0] + 1]
        raise CAD120FormatError(
            path, f"line {number}", f"unexpected content after END: {show(text.decode('ascii', 'replace'))}"
        )
    lines = lines[:-1]
    rows = numeric_rows(path, lines, CAD120_SKELETON_VALUES, "a skeleton frame")
    frame_numbers(path, lines, rows[:, 0])
    return CAD120Skeleton.from_rows(rows)


def write_cad120_skeleton(path: str | Path, skeleton: CAD120Skeleton) -> Path:
    """Write a skeleton file (171 values and a trailing comma a line, then ``END``); values round-trip.

    Raises:
        ValueError: a value is not finite.
    """
    rows = skeleton.rows()
    if not np.isfinite(rows).all():
        raise ValueError(f"{Path(path).name}: skeleton values must be finite")
    return write_lines(
        Path(path), [*(",".join(map(format_number, row)) + "," for row in rows.tolist()), "END"]
    )
