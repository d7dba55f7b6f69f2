"""A CAD-120 object file ``<id>_obj<k>.txt``: object ``k``'s box in every frame.

Each line: ``frame,object_id,x1,y1,x2,y2,`` (the box's upper-left and lower-right corners in pixels of the
640 x 480 RGB image) followed by the tracker's SIFT-based transform values; their count is kept as found
(the same on every line of a file) and not interpreted. A box with ``x2 <= x1`` or ``y2 <= y1`` (the
all-zero box) marks a frame where the object is not visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CAD120FormatError
from ._lines import MAX_INDEX, byte_lines, format_number, frame_numbers, numeric_rows, write_lines

__all__ = ["CAD120ObjectTrack", "read_cad120_objects", "write_cad120_objects"]


@dataclass(eq=False)
class CAD120ObjectTrack:
    """An object file: the object's box in each listed frame.

    Attributes:
        object_id: the file's object id column (``k`` of ``_obj<k>.txt``).
        frames: ``(N,)`` int64 frame numbers.
        boxes: ``(N, 4)`` float64 ``x1, y1, x2, y2`` pixels; ``x2 <= x1`` or ``y2 <= y1`` = not visible.
        transforms: ``(N, M)`` float64 the tracker's transform values, kept uninterpreted (default none).
    """

    object_id: int
    frames: np.ndarray
    boxes: np.ndarray
    transforms: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.frames = np.asarray(self.frames, dtype=np.int64).reshape(-1)
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        if self.transforms is None:
            self.transforms = np.zeros((len(self.frames), 0))
        self.transforms = np.asarray(self.transforms, dtype=np.float64)
        if self.transforms.ndim != 2:
            raise ValueError(f"transforms must be 2-D (frames, values), got shape {self.transforms.shape}")
        if len(self.boxes) != len(self.frames) or len(self.transforms) != len(self.frames):
            raise ValueError(
                f"frames ({len(self.frames)}), boxes ({len(self.boxes)}) and transforms "
                f"({len(self.transforms)}) must have the same length"
            )

    def boxes_at(self, frames: np.ndarray) -> np.ndarray:
        """``(len(frames), 4)`` the box of each requested frame number, all zeros where the file has none."""
        out = np.zeros((len(frames), 4))
        position = {int(f): i for i, f in enumerate(self.frames)}
        for i, frame in enumerate(np.asarray(frames).tolist()):
            if frame in position:
                out[i] = self.boxes[position[frame]]
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CAD120ObjectTrack):
            return NotImplemented
        return (
            self.object_id == other.object_id
            and np.array_equal(self.frames, other.frames)
            and np.array_equal(self.boxes, other.boxes)
            and np.array_equal(self.transforms, other.transforms)
        )


def read_cad120_objects(path: str | Path) -> CAD120ObjectTrack:
    """Read an object file ``<id>_obj<k>.txt``.

    Returns:
        The track; an empty file gives a track with no frames.

    Raises:
        CAD120FormatError: a missing file, fewer than 6 values, a varying value count, a non-numeric
            value or one not finite in float32, frame numbers that are not increasing integers in
            1..MAX_INDEX, or an object id that is not an integer in 0..MAX_INDEX or changes.
    """
    path = Path(path)
    lines = byte_lines(path)
    rows = numeric_rows(path, lines, None, "an object frame")
    if rows.shape[1] < 6 and lines:
        raise CAD120FormatError(
            path,
            f"line {lines[0][0]}",
            f"expected frame, object id and 4 box corners (6+ values), got {rows.shape[1]}",
        )
    if not lines:
        return CAD120ObjectTrack(0, np.zeros(0), np.zeros((0, 4)))
    frames = frame_numbers(path, lines, rows[:, 0])
    ids = rows[:, 1]
    if not (ids[0] == round(ids[0]) and 0 <= ids[0] <= MAX_INDEX):
        raise CAD120FormatError(
            path, f"line {lines[0][0]}", f"expected an integer object id in 0..{MAX_INDEX}, got {ids[0]:g}"
        )
    if (ids != ids[0]).any():
        row = int(np.flatnonzero(ids != ids[0])[0])
        raise CAD120FormatError(
            path,
            f"line {lines[row][0]}",
            f"expected the integer object id {ids[0]:g} of line {lines[0][0]}, got {ids[row]:g}",
        )
    return CAD120ObjectTrack(int(ids[0]), frames, rows[:, 2:6], rows[:, 6:])


def write_cad120_objects(path: str | Path, track: CAD120ObjectTrack) -> Path:
    """Write an object file (trailing comma a line, as released); values round-trip exactly."""
    rows = np.concatenate(
        [
            track.frames[:, None].astype(np.float64),
            np.full((len(track.frames), 1), float(track.object_id)),
            track.boxes,
            track.transforms,
        ],
        axis=1,
    )
    return write_lines(Path(path), (",".join(map(format_number, row)) + "," for row in rows.tolist()))
