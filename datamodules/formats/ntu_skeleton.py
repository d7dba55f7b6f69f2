"""NTU RGB+D 60/120 ``.skeleton`` files: a full-fidelity reader and writer, and sample-name parsing.

Which bodies of a file become a clip is a transform (:mod:`datamodules.body_selection`).

Layout of a ``.skeleton`` file (one value group per line, whitespace separated, CRLF in the
official download, trailing blank lines allowed)::

    <frame count>
    per frame:  <body count>
      per body: bodyID clipedEdges handLeftConfidence handLeftState handRightConfidence
                handRightState isRestricted leanX leanY trackingState
                25
                25 x: x y z depthX depthY colorX colorY orientationW orientationX orientationY
                      orientationZ trackingState

The reader splits the file into lines once, walks the structure lines in Python and converts all
joint lines of the file in one call of numpy's C text parser; errors give exact 1-based line
numbers (as a text editor counts them: CRLF is one line break).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import NamedTuple, NoReturn

import numpy as np

from lvlm_var.skeleton_layout import KINECT_V2_LAYOUT

from .errors import SkeletonFormatError

__all__ = [
    "NTU_NUM_JOINTS",
    "NTU_JOINT_VALUES",
    "NTUSampleName",
    "parse_ntu_name",
    "NTUBodyInfo",
    "NTUSkeletonFile",
    "read_ntu_skeleton",
    "write_ntu_skeleton",
]

NTU_NUM_JOINTS = KINECT_V2_LAYOUT.num_joints
NTU_JOINT_VALUES = (
    "x",
    "y",
    "z",
    "depthX",
    "depthY",
    "colorX",
    "colorY",
    "orientationW",
    "orientationX",
    "orientationY",
    "orientationZ",
    "trackingState",
)
_NUM_VALUES = len(NTU_JOINT_VALUES)
_TRACKING_COLUMN = _NUM_VALUES - 1
_BODY_FIELDS = 10
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_MAX_COUNT_DIGITS = 18  # a count fits an int64 (and stays below Python's int-parsing limit)
_NAME_PATTERN = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")
# Ranges of the released NTU RGB+D 120 (a superset of NTU RGB+D 60).
_NAME_RANGES = {"setup": 32, "camera": 3, "performer": 106, "replication": 2, "action": 120}


@dataclass(frozen=True, order=True)
class NTUSampleName:
    """The ids encoded in an NTU sample name ``SsssCcccPpppRrrrAaaa``.

    Attributes:
        setup: ``Ssss``, 1-32 (1-17 in NTU-60).
        camera: ``Cccc``, 1-3.
        performer: ``Pppp``, the subject id, 1-106 (1-40 in NTU-60).
        replication: ``Rrrr``, 1-2.
        action: ``Aaaa``, 1-120 (1-60 in NTU-60); the 0-based label is ``action - 1``.
    """

    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    def __str__(self) -> str:
        return (
            f"S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}"
            f"R{self.replication:03d}A{self.action:03d}"
        )

    @property
    def label(self) -> int:
        return self.action - 1


def parse_ntu_name(name: str | Path) -> NTUSampleName:
    """Parse ``S001C002P003R002A023`` (optionally a path ending in ``.skeleton``).

    Raises:
        SkeletonFormatError: the name does not follow ``SsssCcccPpppRrrrAaaa`` or an id is out of
            the dataset's range.
    """
    base = Path(name).name
    stem = base[: -len(".skeleton")] if base.endswith(".skeleton") else base
    match = _NAME_PATTERN.fullmatch(stem)
    if match is None:
        raise SkeletonFormatError(
            name, "", f"sample name '{stem}' does not follow SsssCcccPpppRrrrAaaa (e.g. S001C002P003R002A023)"
        )
    ids = dict(zip(_NAME_RANGES, map(int, match.groups()), strict=True))
    for key, value in ids.items():
        if not 1 <= value <= _NAME_RANGES[key]:
            raise SkeletonFormatError(
                name, "", f"{key} id {value} in '{stem}' is outside 1-{_NAME_RANGES[key]}"
            )
    return NTUSampleName(**ids)


class NTUBodyInfo(NamedTuple):
    """The 10 values of a body line (Kinect v2 body frame), kept exactly as in the file.

    ``body_id`` is the 64-bit Kinect tracking id (e.g. ``72057594037931101``) and stays a Python
    int: a float64 would round it.
    """

    body_id: int
    clipped_edges: int
    hand_left_confidence: int
    hand_left_state: int
    hand_right_confidence: int
    hand_right_state: int
    is_restricted: int
    lean_x: float
    lean_y: float
    tracking_state: int

    def to_line(self) -> str:
        ints = " ".join(str(int(v)) for v in self[:7])
        return f"{ints} {float(self.lean_x)!r} {float(self.lean_y)!r} {int(self.tracking_state)}"


_BODY_FIELD_TYPES = (int,) * 7 + (float, float, int)


@dataclass(eq=False)
class NTUSkeletonFile:
    """Everything a ``.skeleton`` file holds, bodies flattened in file order.

    Attributes:
        bodies_per_frame: ``(T,)`` int64, the body count line of each frame.
        bodies: ``N = bodies_per_frame.sum()`` body lines, frame by frame.
        joints: ``(N, 25, 12)`` float64, the joint lines of each body (columns in
            :data:`NTU_JOINT_VALUES` order; the tracking state is an integer 0, 1 or 2).
    """

    bodies_per_frame: np.ndarray
    bodies: list[NTUBodyInfo]
    joints: np.ndarray

    def __post_init__(self) -> None:
        self.bodies_per_frame = np.asarray(self.bodies_per_frame, dtype=np.int64).reshape(-1)
        self.joints = np.asarray(self.joints, dtype=np.float64)
        if (self.bodies_per_frame < 0).any():
            raise ValueError("bodies_per_frame must be non-negative")
        total = int(self.bodies_per_frame.sum())
        if len(self.bodies) != total:
            raise ValueError(f"bodies_per_frame sums to {total} but {len(self.bodies)} bodies are given")
        if self.joints.shape != (total, NTU_NUM_JOINTS, _NUM_VALUES):
            raise ValueError(
                f"joints must have shape ({total}, {NTU_NUM_JOINTS}, {_NUM_VALUES}), got {self.joints.shape}"
            )

    @property
    def num_frames(self) -> int:
        return int(self.bodies_per_frame.shape[0])

    @property
    def frame_of_body(self) -> np.ndarray:
        """``(N,)`` 0-based frame index of every body."""
        return np.repeat(np.arange(self.num_frames), self.bodies_per_frame)

    def frame(self, index: int) -> list[tuple[NTUBodyInfo, np.ndarray]]:
        """The bodies of frame ``index`` (0-based) as ``(info, joints (25, 12))`` pairs."""
        start = int(self.bodies_per_frame[:index].sum())
        stop = start + int(self.bodies_per_frame[index])
        return [(self.bodies[i], self.joints[i]) for i in range(start, stop)]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NTUSkeletonFile):
            return NotImplemented
        return (
            np.array_equal(self.bodies_per_frame, other.bodies_per_frame)
            and self.bodies == other.bodies
            and np.array_equal(self.joints, other.joints)
        )


def _is_float32(value: float) -> bool:
    """Finite and within float32's range, so it survives the cast to the clips' float32."""
    return abs(value) <= _FLOAT32_MAX


def _show(tokens: list[bytes]) -> str:
    text = b" ".join(tokens).decode("ascii", "replace")
    return repr(text if len(text) <= 60 else text[:57] + "...")


class _SkeletonParser:
    """One pass over the lines; every error names a 1-based line number.

    Only the structure lines (counts, body lines) are split in Python; the joint lines of the whole
    file go to numpy's C text parser in one call, and are split one by one only to locate an error.
    """

    def __init__(self, path: Path, lines: list[bytes]) -> None:
        self.path = path
        self.lines = lines

    def row(self, index: int) -> list[bytes]:
        return self.lines[index].split()

    def error(self, index: int, message: str) -> SkeletonFormatError:
        return SkeletonFormatError(self.path, f"line {index + 1}", message)

    def count(self, index: int, what: str) -> int:
        if index >= len(self.lines):
            raise self.error(index, f"file ends early: expected {what}")
        row = self.row(index)
        if len(row) != 1 or not row[0].isdigit() or len(row[0]) > _MAX_COUNT_DIGITS:
            raise self.error(index, f"expected {what} (one non-negative integer), got {_show(row)}")
        return int(row[0])

    def parse(self) -> NTUSkeletonFile:
        num_lines = len(self.lines)
        if not any(map(bytes.strip, self.lines)):
            raise SkeletonFormatError(self.path, "line 1", "empty file: expected the frame count")
        num_frames = self.count(0, "the frame count")
        if num_frames > num_lines - 1:  # each frame needs its body-count line: bound before allocating
            raise self.error(
                0, f"the frame count {num_frames} cannot fit in the {num_lines - 1} lines that follow it"
            )
        counts = [0] * num_frames
        starts: list[int] = []  # line index of every body line
        where: list[tuple[int, int]] = []  # (frame, body) of every body, 0-based
        index = 1
        for frame in range(num_frames):
            counts[frame] = self.count(index, f"the body count of frame {frame + 1} of {num_frames}")
            index += 1
            for body in range(counts[frame]):
                label = f"body {body + 1} in frame {frame + 1}"
                if index >= num_lines:
                    raise self.error(index, f"file ends early: expected the body line of {label}")
                joints = self.count(index + 1, f"the joint count of {label}")
                if joints != NTU_NUM_JOINTS:
                    raise self.error(index + 1, f"expected {NTU_NUM_JOINTS} joints for {label}, got {joints}")
                missing = index + 2 + NTU_NUM_JOINTS - num_lines
                if missing > 0:
                    raise self.error(
                        num_lines,
                        f"file ends early: expected joint {NTU_NUM_JOINTS - missing + 1} of {label}",
                    )
                starts.append(index)
                where.append((frame, body))
                index += 2 + NTU_NUM_JOINTS
        for extra in range(index, num_lines):
            if self.lines[extra].strip():
                raise self.error(
                    extra,
                    f"unexpected content after the last frame (the file declares "
                    f"{num_frames} frames): {_show(self.row(extra))}",
                )
        bodies = self.body_infos(starts, where)
        joints = self.joint_values(starts, where)
        return NTUSkeletonFile(np.asarray(counts, dtype=np.int64), bodies, joints)

    def body_infos(self, starts: list[int], where: list[tuple[int, int]]) -> list[NTUBodyInfo]:
        rows = [self.lines[index].split() for index in starts]
        if set(map(len, rows)) <= {_BODY_FIELDS}:
            try:
                infos = [
                    NTUBodyInfo(
                        int(r[0]),
                        int(r[1]),
                        int(r[2]),
                        int(r[3]),
                        int(r[4]),
                        int(r[5]),
                        int(r[6]),
                        float(r[7]),
                        float(r[8]),
                        int(r[9]),
                    )  # fmt: skip
                    for r in rows
                ]
                if all(_is_float32(info.lean_x) and _is_float32(info.lean_y) for info in infos):
                    return infos
            except ValueError:
                pass
        for index, row, (frame, body) in zip(starts, rows, where, strict=True):
            self.check_body_line(index, row, f"body {body + 1} in frame {frame + 1}")
        raise SkeletonFormatError(self.path, "", "the body lines could not be parsed")

    def check_body_line(self, index: int, row: list[bytes], label: str) -> None:
        if len(row) != _BODY_FIELDS:
            raise self.error(
                index,
                f"expected {_BODY_FIELDS} values on the body line of {label}, got {len(row)}: {_show(row)}",
            )
        try:
            values = [kind(token) for kind, token in zip(_BODY_FIELD_TYPES, row, strict=True)]
        except ValueError:
            raise self.error(
                index,
                f"body line of {label} is not numeric (expected 7 integers, "
                f"2 floats, 1 integer): {_show(row)}",
            ) from None
        if not (_is_float32(values[7]) and _is_float32(values[8])):
            raise self.error(
                index,
                f"non-finite lean value (or one beyond float32's range) on the body line of {label}: "
                f"{_show(row)}",
            )

    def joint_error(
        self, position: int, starts: list[int], where: list[tuple[int, int]], message: str
    ) -> SkeletonFormatError:
        """The error for joint line ``position`` (0-based over all bodies' joint lines)."""
        body, joint = divmod(position, NTU_NUM_JOINTS)
        frame, in_frame = where[body]
        index = starts[body] + 2 + joint
        label = f"joint {joint + 1} of body {in_frame + 1} in frame {frame + 1}"
        return self.error(index, message.format(label=label, row=_show(self.row(index))))

    def joint_values(self, starts: list[int], where: list[tuple[int, int]]) -> np.ndarray:
        lines = list(chain.from_iterable(self.lines[s + 2 : s + 2 + NTU_NUM_JOINTS] for s in starts))
        if not lines:
            return np.zeros((0, NTU_NUM_JOINTS, _NUM_VALUES), dtype=np.float64)
        try:  # one call for the whole file; it skips blank lines, hence the shape check
            values = np.loadtxt(lines, dtype=np.float64, comments=None, ndmin=2)
        except ValueError:
            values = None
        if values is None or values.shape != (len(lines), _NUM_VALUES):
            self.locate_bad_joint_line(lines, starts, where)
        tracking = values[:, _TRACKING_COLUMN]
        # the clips are float32: a value beyond its range (3.5e38) is finite here but inf after the cast
        in_range = (np.abs(values) <= _FLOAT32_MAX).all(axis=1)  # False for NaN and inf too
        bad = ~in_range | ((tracking != 0) & (tracking != 1) & (tracking != 2))
        if bad.any():
            raise self.joint_error(
                int(np.flatnonzero(bad)[0]),
                starts,
                where,
                "{label} has a non-finite value (or one beyond float32's range) or a tracking state "
                "other than 0, 1, 2: {row}",
            )
        return values.reshape(-1, NTU_NUM_JOINTS, _NUM_VALUES)

    def locate_bad_joint_line(
        self, lines: list[bytes], starts: list[int], where: list[tuple[int, int]]
    ) -> NoReturn:
        """Raise the error for the first joint line with a wrong value count or a non-number."""
        for position, line in enumerate(lines):
            found = len(line.split())
            if found != _NUM_VALUES:
                raise self.joint_error(
                    position, starts, where, f"expected {_NUM_VALUES} values for {{label}}, got {found}"
                )
            try:
                np.loadtxt([line], dtype=np.float64, comments=None)
            except ValueError:
                raise self.joint_error(
                    position, starts, where, "non-numeric value for {label}: {row}"
                ) from None
        raise SkeletonFormatError(self.path, "", "the joint lines could not be parsed as numbers")


def read_ntu_skeleton(path: str | Path) -> NTUSkeletonFile:
    """Read an NTU RGB+D ``.skeleton`` file with every value it holds.

    The whole file is read at once and split into lines (CRLF and trailing blank lines need no
    care); all joint lines are converted to floats in one call of numpy's C text parser.

    Args:
        path: the ``.skeleton`` file (LF or CRLF line endings, trailing blank lines allowed).

    Returns:
        The parsed file; a frame count of 0 gives an ``NTUSkeletonFile`` with no frames.

    Raises:
        SkeletonFormatError: empty or truncated file, a joint count other than 25, a line with the
            wrong number of values, a non-numeric or non-finite value, or content after the last
            frame; the message names the file and the 1-based line.
    """
    path = Path(path)
    return _SkeletonParser(path, path.read_bytes().splitlines()).parse()


def _format_joint_line(values: list[float]) -> str:
    return " ".join(map(repr, values[:_TRACKING_COLUMN])) + f" {int(values[_TRACKING_COLUMN])}"


def write_ntu_skeleton(path: str | Path, skeleton: NTUSkeletonFile, newline: str = "\r\n") -> Path:
    """Write ``skeleton`` in the official layout; floats use the shortest exact decimal form, so
    :func:`read_ntu_skeleton` gives back identical values.

    Args:
        path: output file; its parent folder must exist.
        skeleton: the data to write.
        newline: line ending; the official files use CRLF.

    Returns:
        ``path`` as a :class:`Path`.

    Raises:
        ValueError: a joint value is not finite or a tracking state is not 0, 1 or 2.
    """
    path = Path(path)
    joints = skeleton.joints
    tracking = joints[..., _TRACKING_COLUMN]
    if not np.isfinite(joints).all() or ((tracking != 0) & (tracking != 1) & (tracking != 2)).any():
        raise ValueError(f"{path.name}: joints must be finite with tracking states 0, 1 or 2")
    joint_lines = list(map(_format_joint_line, joints.reshape(-1, _NUM_VALUES).tolist()))
    lines = [str(skeleton.num_frames)]
    first = 0
    for count in skeleton.bodies_per_frame.tolist():
        lines.append(str(count))
        for body in range(first, first + count):
            lines.append(skeleton.bodies[body].to_line())
            lines.append(str(NTU_NUM_JOINTS))
            lines.extend(joint_lines[body * NTU_NUM_JOINTS : (body + 1) * NTU_NUM_JOINTS])
        first += count
    path.write_bytes((newline.join(lines) + newline).encode("ascii"))
    return path
