"""CAD-120 (Cornell Activity Dataset): readers and writers for the released annotation files.

Layout of the official ``SubjectN_annotations.tar.gz`` downloads (N in 1, 3, 4, 5), one folder per
high-level activity::

    SubjectN_annotations/<activity>/activityLabel.txt   id,activity,SubjectN,1:bowl,2:bowl,3:bowl,
    SubjectN_annotations/<activity>/labeling.txt        id,start,end,sub_activity,affordance_obj1,...
    SubjectN_annotations/<activity>/<id>.txt            the skeleton, one line a frame, then END
    SubjectN_annotations/<activity>/<id>_obj<k>.txt     object k's box in every frame

- ``activityLabel.txt``: one video a line; the objects are ``k:type`` (``type`` alone is accepted,
  ``k`` then being its position); a trailing comma is allowed on every line of every file.
- ``labeling.txt``: one sub-activity segment a line, 1-based inclusive frame numbers, one affordance
  label per object of the video.
- skeleton ``<id>.txt``: ``frame,`` then for the 11 joints HEAD ... RIGHT_KNEE a 3x3 orientation
  matrix (9, row-major), its confidence (1), the xyz position (3, millimetres in the Kinect's camera
  frame: x right, y up, z away from the camera) and its confidence (1); then for LEFT_HAND,
  RIGHT_HAND, LEFT_FOOT, RIGHT_FOOT the position (3) and its confidence (1): 1 + 11 x 14 + 4 x 4 = 171
  values. The file ends with a line ``END``.
- object ``<id>_obj<k>.txt``: ``frame,object_id,x1,y1,x2,y2,`` (the box's upper-left and lower-right
  corners in pixels of the 640 x 480 RGB image) followed by the tracker's SIFT-based transform values;
  their count is kept as found (the same on every line of a file) and not interpreted. A box with
  ``x2 <= x1`` or ``y2 <= y1`` (the all-zero box) marks a frame where the object is not visible.

:func:`project_to_image` maps skeleton positions to pixels with the Kinect v1 RGB intrinsics
(:data:`KINECT_FOCAL` = 525 px, principal point (319.5, 239.5)), so hands can be compared with boxes.

Also here: the optional per-token relation file (:func:`read_cad120_relations`), CSV with the header
``video_id,frame,object_index,relations``, one ``(video, 1-based frame, 1-based object k)`` a line and
``;``-separated Action Genome relationship names (empty for none).

Every reader raises :class:`~datamodules.formats.errors.CAD120FormatError` naming the file, the 1-based
line and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lvlm_var.skeleton_layout import CAD120_LAYOUT

from .class_names import AG_OBJECT_CLASSES
from .errors import CAD120FormatError

__all__ = [
    "CAD120_JOINTS",
    "CAD120_ORIENTED_JOINTS",
    "CAD120_SKELETON_VALUES",
    "CAD120_SUBJECTS",
    "CAD120_ACTIVITIES",
    "CAD120_SUB_ACTIVITIES",
    "CAD120_OBJECT_TYPES",
    "CAD120_TO_AG_OBJECT",
    "CAD120_OBJECT_CLASSES",
    "IMAGE_SIZE",
    "KINECT_FOCAL",
    "KINECT_PRINCIPAL_POINT",
    "ACTIVITY_LABEL_FILE",
    "LABELING_FILE",
    "RELATION_FILE_HEADER",
    "project_to_image",
    "unproject_from_image",
    "CAD120Activity",
    "CAD120Segment",
    "CAD120Skeleton",
    "CAD120ObjectTrack",
    "CAD120Video",
    "read_cad120_activity_labels",
    "write_cad120_activity_labels",
    "read_cad120_labeling",
    "write_cad120_labeling",
    "read_cad120_skeleton",
    "write_cad120_skeleton",
    "read_cad120_objects",
    "write_cad120_objects",
    "read_cad120_labels",
    "read_cad120_video",
    "read_cad120_activity",
    "write_cad120_activity",
    "find_cad120_activity_dirs",
    "read_cad120",
    "read_cad120_relations",
    "write_cad120_relations",
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
CAD120_SUBJECTS: tuple[int, ...] = (1, 3, 4, 5)
CAD120_ACTIVITIES: tuple[str, ...] = (
    "arranging_objects",
    "cleaning_objects",
    "having_meal",
    "making_cereal",
    "microwaving_food",
    "picking_objects",
    "stacking_objects",
    "taking_food",
    "taking_medicine",
    "unstacking_objects",
)
# The official sub-activity order (labels 1-10 of the CAD-120 readme), 0-based here.
CAD120_SUB_ACTIVITIES: tuple[str, ...] = (
    "reaching",
    "moving",
    "pouring",
    "eating",
    "drinking",
    "opening",
    "placing",
    "closing",
    "null",
    "cleaning",
)
CAD120_OBJECT_TYPES: tuple[str, ...] = (
    "book",
    "bowl",
    "box",
    "cloth",
    "cup",
    "medcinebox",  # sic, the dataset's spelling
    "microwave",
    "milk",
    "plate",
    "remote",
)
# Nearest Action Genome class of each CAD-120 object type; microwave and remote have none and extend
# the vocabulary (a cleaning cloth is a towel, not AG's "clothes"; a milk carton is a bottle-like container).
CAD120_TO_AG_OBJECT: dict[str, str] = {
    "book": "book",
    "bowl": "dish",
    "box": "box",
    "cloth": "towel",
    "cup": "cup/glass/bottle",
    "medcinebox": "medicine",
    "microwave": "microwave",
    "milk": "cup/glass/bottle",
    "plate": "dish",
    "remote": "remote",
}
# The object vocabulary of CAD-120 tokens: the 36 Action Genome classes, then the two extensions.
CAD120_OBJECT_CLASSES: tuple[str, ...] = AG_OBJECT_CLASSES + tuple(
    sorted(set(CAD120_TO_AG_OBJECT.values()) - set(AG_OBJECT_CLASSES))
)
IMAGE_SIZE = (640, 480)
KINECT_FOCAL = 525.0
KINECT_PRINCIPAL_POINT = (319.5, 239.5)
ACTIVITY_LABEL_FILE = "activityLabel.txt"
LABELING_FILE = "labeling.txt"
RELATION_FILE_HEADER = "video_id,frame,object_index,relations"
_END = b"END"
_SUBJECT_PATTERN = re.compile(r"Subject(\d+)")
_ANNOTATION_DIR_PATTERN = re.compile(r"Subject(\d+)_annotations")
_OBJECT_FILE_PATTERN = re.compile(r"(.+)_obj(\d+)\.txt")


def project_to_image(xyz: np.ndarray) -> np.ndarray:
    """Pixel coordinates of camera-frame points (Kinect v1 RGB intrinsics, pinhole model).

    Args:
        xyz: ``(..., 3)`` millimetres, x right, y up, z away from the camera (> 0).

    Returns:
        ``(..., 2)`` float64 ``(u, v)``: u to the right, v down, origin at the image's upper-left corner.
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    depth = np.maximum(xyz[..., 2], 1.0)  # a zero depth (an untracked joint) must not divide by zero
    u = KINECT_PRINCIPAL_POINT[0] + KINECT_FOCAL * xyz[..., 0] / depth
    v = KINECT_PRINCIPAL_POINT[1] - KINECT_FOCAL * xyz[..., 1] / depth
    return np.stack([u, v], axis=-1)


def unproject_from_image(uv: np.ndarray, depth: np.ndarray | float) -> np.ndarray:
    """The inverse of :func:`project_to_image`: ``(..., 2)`` pixels and depth (mm) -> ``(..., 3)`` mm."""
    uv = np.asarray(uv, dtype=np.float64)
    depth = np.broadcast_to(np.asarray(depth, dtype=np.float64), uv.shape[:-1])
    x = (uv[..., 0] - KINECT_PRINCIPAL_POINT[0]) * depth / KINECT_FOCAL
    y = (KINECT_PRINCIPAL_POINT[1] - uv[..., 1]) * depth / KINECT_FOCAL
    return np.stack([x, y, depth], axis=-1)


@dataclass(frozen=True)
class CAD120Activity:
    """One line of ``activityLabel.txt``.

    Attributes:
        video_id: ``"0510175411"``; names the skeleton ``<id>.txt`` and objects ``<id>_obj<k>.txt``.
        activity: high-level activity, one of :data:`CAD120_ACTIVITIES`.
        subject: 1, 3, 4 or 5 (from ``SubjectN``).
        object_types: type of object 1, 2, ... (:data:`CAD120_OBJECT_TYPES`).
    """

    video_id: str
    activity: str
    subject: int
    object_types: tuple[str, ...]


@dataclass(frozen=True)
class CAD120Segment:
    """One line of ``labeling.txt``: a sub-activity over frames ``start_frame..end_frame`` (1-based,
    inclusive).

    Attributes:
        video_id: the video.
        start_frame: first frame number.
        end_frame: last frame number.
        sub_activity: one of :data:`CAD120_SUB_ACTIVITIES`.
        affordances: one affordance label per object (kept as written, e.g. ``"reachable"``).
    """

    video_id: str
    start_frame: int
    end_frame: int
    sub_activity: str
    affordances: tuple[str, ...] = ()

    @property
    def label(self) -> int:
        """0-based index in :data:`CAD120_SUB_ACTIVITIES`."""
        return CAD120_SUB_ACTIVITIES.index(self.sub_activity)


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


@dataclass(eq=False)
class CAD120Video:
    """One video: its activity line, its sub-activity segments, skeleton and object tracks.

    Attributes:
        info: the ``activityLabel.txt`` line.
        segments: the ``labeling.txt`` lines of this video, in file order.
        skeleton: the skeleton file.
        objects: one track per object of ``info.object_types``, in order.
    """

    info: CAD120Activity
    segments: list[CAD120Segment]
    skeleton: CAD120Skeleton
    objects: list[CAD120ObjectTrack]

    @property
    def video_id(self) -> str:
        return self.info.video_id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CAD120Video):
            return NotImplemented
        return (
            self.info == other.info
            and self.segments == other.segments
            and self.skeleton == other.skeleton
            and self.objects == other.objects
        )


# --- small text helpers --------------------------------------------------------------------------------


def _fields(line: str) -> list[str]:
    """Comma-separated fields of a line, without the trailing comma the released files put at the end."""
    line = line.strip()
    if line.endswith(","):
        line = line[:-1]
    return [value.strip() for value in line.split(",")]


def _text_lines(path: Path) -> list[tuple[int, str]]:
    """``(1-based line number, text)`` of every non-blank line."""
    if not path.is_file():
        raise CAD120FormatError(path, "", "missing file")
    try:
        text = path.read_text(encoding="ascii")
    except UnicodeDecodeError as error:
        raise CAD120FormatError(path, "", f"expected ASCII text: {error}") from None
    return [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _show(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _int(value: str, path: Path, number: int, what: str) -> int:
    if not value.lstrip("-").isdigit():
        raise CAD120FormatError(path, f"line {number}", f"expected {what} (an integer), got {value!r}")
    return int(value)


def _format(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="ascii")
    return path


# --- activityLabel.txt / labeling.txt ------------------------------------------------------------------


def read_cad120_activity_labels(path: str | Path) -> list[CAD120Activity]:
    """Read ``activityLabel.txt``.

    Raises:
        CAD120FormatError: a missing file, fewer than 3 fields, an unknown activity or object type, a
            subject other than ``Subject1/3/4/5``, or a video id given twice.
    """
    path = Path(path)
    activities: list[CAD120Activity] = []
    seen: dict[str, int] = {}
    for number, line in _text_lines(path):
        where = f"line {number}"
        values = _fields(line)
        if len(values) < 3 or not all(values[:3]):
            raise CAD120FormatError(
                path, where, f"expected 'id,activity,SubjectN,objects...', got {_show(line.strip())}"
            )
        video_id, activity, subject_text = values[:3]
        if video_id in seen:
            raise CAD120FormatError(
                path, where, f"video {video_id!r} already listed on line {seen[video_id]}"
            )
        seen[video_id] = number
        if activity not in CAD120_ACTIVITIES:
            raise CAD120FormatError(
                path, where, f"unknown activity {activity!r}; expected one of {', '.join(CAD120_ACTIVITIES)}"
            )
        match = _SUBJECT_PATTERN.fullmatch(subject_text)
        if match is None or int(match.group(1)) not in CAD120_SUBJECTS:
            raise CAD120FormatError(
                path,
                where,
                f"expected the subject Subject1, Subject3, Subject4 or Subject5, got {subject_text!r}",
            )
        types = []
        for position, token in enumerate(values[3:], start=1):
            index_text, _, object_type = token.rpartition(":")
            if index_text and index_text != str(position):
                raise CAD120FormatError(
                    path, where, f"object {position} is numbered {index_text!r}; expected '{position}:<type>'"
                )
            if object_type not in CAD120_OBJECT_TYPES:
                raise CAD120FormatError(
                    path,
                    where,
                    f"unknown object type {object_type!r} for object {position}; "
                    f"expected one of {', '.join(CAD120_OBJECT_TYPES)}",
                )
            types.append(object_type)
        activities.append(CAD120Activity(video_id, activity, int(match.group(1)), tuple(types)))
    return activities


def write_cad120_activity_labels(path: str | Path, activities: Sequence[CAD120Activity]) -> Path:
    """Write ``activityLabel.txt`` as released (``k:type`` objects, trailing comma)."""
    return _write_lines(
        Path(path),
        (
            ",".join(
                [
                    a.video_id,
                    a.activity,
                    f"Subject{a.subject}",
                    *(f"{k}:{t}" for k, t in enumerate(a.object_types, 1)),
                ]
            )
            + ","
            for a in activities
        ),
    )


def read_cad120_labeling(path: str | Path) -> list[CAD120Segment]:
    """Read ``labeling.txt``.

    Raises:
        CAD120FormatError: a missing file, fewer than 4 fields, non-integer or reversed frames, or an
            unknown sub-activity.
    """
    path = Path(path)
    segments = []
    for number, line in _text_lines(path):
        where = f"line {number}"
        values = _fields(line)
        if len(values) < 4:
            raise CAD120FormatError(
                path,
                where,
                f"expected 'id,start_frame,end_frame,sub_activity,affordances...', got {_show(line.strip())}",
            )
        start = _int(values[1], path, number, "the start frame")
        end = _int(values[2], path, number, "the end frame")
        if not 1 <= start <= end:
            raise CAD120FormatError(
                path, where, f"expected 1 <= start_frame <= end_frame, got {start}, {end}"
            )
        if values[3] not in CAD120_SUB_ACTIVITIES:
            raise CAD120FormatError(
                path,
                where,
                f"unknown sub-activity {values[3]!r}; expected one of {', '.join(CAD120_SUB_ACTIVITIES)}",
            )
        segments.append(CAD120Segment(values[0], start, end, values[3], tuple(values[4:])))
    return segments


def write_cad120_labeling(path: str | Path, segments: Sequence[CAD120Segment]) -> Path:
    """Write ``labeling.txt`` (no trailing comma, as released)."""
    return _write_lines(
        Path(path),
        (
            ",".join([s.video_id, str(s.start_frame), str(s.end_frame), s.sub_activity, *s.affordances])
            for s in segments
        ),
    )


# --- numeric files ---------------------------------------------------------------------------------------


def _numeric_rows(path: Path, lines: list[tuple[int, bytes]], width: int | None, what: str) -> np.ndarray:
    """Parse comma-separated numeric lines into ``(len(lines), width)`` float64 in one numpy call.

    ``width=None`` takes the width of the first line (then required of all). Locates the first bad line
    only when the fast path fails.
    """
    if not lines:
        return np.zeros((0, width or 0))
    rows = [text[:-1] if text.endswith(b",") else text for _, text in lines]
    expected = width if width is not None else rows[0].count(b",") + 1
    try:
        values = np.loadtxt(rows, dtype=np.float64, delimiter=",", comments=None, ndmin=2)
    except ValueError:
        values = None
    if values is None or values.shape != (len(rows), expected):
        for (number, _), row in zip(lines, rows, strict=True):
            found = row.count(b",") + 1
            if found != expected:
                raise CAD120FormatError(
                    path, f"line {number}", f"expected {expected} values for {what}, got {found}"
                )
            for column, token in enumerate(row.split(b","), start=1):
                try:
                    float(token)
                except ValueError:
                    raise CAD120FormatError(
                        path,
                        f"line {number}",
                        f"non-numeric value {token.decode('ascii', 'replace').strip()!r} "
                        f"in column {column} of {what}",
                    ) from None
        raise CAD120FormatError(path, "", f"the lines of {what} could not be parsed as numbers")
    bad = ~np.isfinite(values)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise CAD120FormatError(
            path,
            f"line {lines[row][0]}",
            f"non-finite value {values[row, column]} in column {column + 1} of {what}; "
            "expected a finite number",
        )
    return values


def _frame_numbers(path: Path, lines: list[tuple[int, bytes]], column: np.ndarray) -> np.ndarray:
    whole = column == np.round(column)
    if not whole.all():
        row = int(np.flatnonzero(~whole)[0])
        raise CAD120FormatError(
            path, f"line {lines[row][0]}", f"expected an integer frame number, got {column[row]}"
        )
    frames = column.astype(np.int64)
    step_ok = np.diff(frames) > 0
    if (frames < 1).any() or not step_ok.all():
        row = (
            int(np.flatnonzero(frames < 1)[0]) if (frames < 1).any() else int(np.flatnonzero(~step_ok)[0]) + 1
        )
        raise CAD120FormatError(
            path,
            f"line {lines[row][0]}",
            f"frame number {frames[row]} must be >= 1 and larger than the previous line's",
        )
    return frames


def _byte_lines(path: Path) -> list[tuple[int, bytes]]:
    if not path.is_file():
        raise CAD120FormatError(path, "", "missing file")
    return [
        (n, line.strip()) for n, line in enumerate(path.read_bytes().splitlines(), start=1) if line.strip()
    ]


def read_cad120_skeleton(path: str | Path) -> CAD120Skeleton:
    """Read a skeleton file ``<id>.txt`` (see the module docstring), converting all frames in one numpy call.

    Returns:
        The skeleton; ``frames`` ``(T,)``, ``joints`` ``(T, 15, 3)`` mm and ``confidence`` ``(T, 15)`` are the
        parts the data modules use.

    Raises:
        CAD120FormatError: a missing file or ``END`` line, content after ``END``, a line without 171
            values, a non-numeric or non-finite value, or frame numbers that are not increasing integers.
    """
    path = Path(path)
    lines = _byte_lines(path)
    ends = [i for i, (_, text) in enumerate(lines) if text == _END]
    if not ends:
        last = lines[-1][0] if lines else 1
        raise CAD120FormatError(
            path, f"line {last}", "missing the final END line (the file may be truncated)"
        )
    if ends[0] != len(lines) - 1:
        number, text = lines[ends[0] + 1]
        raise CAD120FormatError(
            path, f"line {number}", f"unexpected content after END: {_show(text.decode('ascii', 'replace'))}"
        )
    lines = lines[:-1]
    rows = _numeric_rows(path, lines, CAD120_SKELETON_VALUES, "a skeleton frame")
    _frame_numbers(path, lines, rows[:, 0])
    return CAD120Skeleton.from_rows(rows)


def write_cad120_skeleton(path: str | Path, skeleton: CAD120Skeleton) -> Path:
    """Write a skeleton file (171 values and a trailing comma a line, then ``END``); values round-trip.

    Raises:
        ValueError: a value is not finite.
    """
    rows = skeleton.rows()
    if not np.isfinite(rows).all():
        raise ValueError(f"{Path(path).name}: skeleton values must be finite")
    return _write_lines(Path(path), [*(",".join(map(_format, row)) + "," for row in rows.tolist()), "END"])


def read_cad120_objects(path: str | Path) -> CAD120ObjectTrack:
    """Read an object file ``<id>_obj<k>.txt``.

    Returns:
        The track; an empty file gives a track with no frames.

    Raises:
        CAD120FormatError: a missing file, fewer than 6 values, a varying value count, a non-numeric or
            non-finite value, non-increasing frame numbers, or an object id that changes.
    """
    path = Path(path)
    lines = _byte_lines(path)
    rows = _numeric_rows(path, lines, None, "an object frame")
    if rows.shape[1] < 6 and lines:
        raise CAD120FormatError(
            path,
            f"line {lines[0][0]}",
            f"expected frame, object id and 4 box corners (6+ values), got {rows.shape[1]}",
        )
    if not lines:
        return CAD120ObjectTrack(0, np.zeros(0), np.zeros((0, 4)))
    frames = _frame_numbers(path, lines, rows[:, 0])
    ids = rows[:, 1]
    if (ids != ids[0]).any() or ids[0] != round(ids[0]):
        row = int(np.flatnonzero(ids != ids[0])[0]) if (ids != ids[0]).any() else 0
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
    return _write_lines(Path(path), (",".join(map(_format, row)) + "," for row in rows.tolist()))


# --- a video, an activity folder, the data set -------------------------------------------------------


def _object_path(activity_dir: Path, video_id: str, k: int) -> Path:
    return activity_dir / f"{video_id}_obj{k}.txt"


def read_cad120_video(
    activity_dir: str | Path, info: CAD120Activity, segments: Sequence[CAD120Segment]
) -> CAD120Video:
    """Read one video's skeleton and object files and check its segments against them.

    Args:
        activity_dir: the folder holding ``<id>.txt`` and ``<id>_obj<k>.txt``.
        info: the video's ``activityLabel.txt`` line.
        segments: its ``labeling.txt`` lines.

    Raises:
        CAD120FormatError: a missing or malformed skeleton or object file, an object frame outside the
            skeleton's frames, a segment outside the video, or a segment whose affordance count differs
            from the object count (the error names ``labeling.txt`` and the segment).
    """
    activity_dir = Path(activity_dir)
    skeleton_path = activity_dir / f"{info.video_id}.txt"
    skeleton = read_cad120_skeleton(skeleton_path)
    if skeleton.num_frames == 0:
        raise CAD120FormatError(skeleton_path, "", "expected at least one frame before END, got none")
    first, last = int(skeleton.frames[0]), int(skeleton.frames[-1])
    objects = []
    for k in range(1, len(info.object_types) + 1):
        path = _object_path(activity_dir, info.video_id, k)
        track = read_cad120_objects(path)
        outside = (track.frames < first) | (track.frames > last)
        if outside.any():
            raise CAD120FormatError(
                path,
                f"frame {int(track.frames[outside][0])}",
                f"outside the skeleton's frames {first}-{last} ({skeleton_path.name})",
            )
        objects.append(track)
    labeling = activity_dir / LABELING_FILE
    for segment in segments:
        where = f"video {info.video_id}, segment {segment.start_frame}-{segment.end_frame}"
        if segment.start_frame < first or segment.end_frame > last:
            raise CAD120FormatError(
                labeling, where, f"frames outside the video: {skeleton_path.name} has frames {first}-{last}"
            )
        if segment.affordances and len(segment.affordances) != len(info.object_types):
            raise CAD120FormatError(
                labeling,
                where,
                f"expected {len(info.object_types)} affordances (one per object), "
                f"got {len(segment.affordances)}",
            )
    return CAD120Video(info, list(segments), skeleton, objects)


def read_cad120_activity(activity_dir: str | Path) -> list[CAD120Video]:
    """Read a whole activity folder: ``activityLabel.txt``, ``labeling.txt`` and every video's files.

    Raises:
        CAD120FormatError: anything :func:`read_cad120_activity_labels`, :func:`read_cad120_labeling` or
            :func:`read_cad120_video` rejects, or a segment of a video not in ``activityLabel.txt``.
    """
    activity_dir = Path(activity_dir)
    infos, segments = read_cad120_labels(activity_dir)
    return [read_cad120_video(activity_dir, info, segments[info.video_id]) for info in infos]


def read_cad120_labels(
    activity_dir: Path,
) -> tuple[list[CAD120Activity], dict[str, list[CAD120Segment]]]:
    """The activity lines of a folder and the segments of each video (for readers that go video by video)."""
    infos = read_cad120_activity_labels(activity_dir / ACTIVITY_LABEL_FILE)
    segments: dict[str, list[CAD120Segment]] = {info.video_id: [] for info in infos}
    for segment in read_cad120_labeling(activity_dir / LABELING_FILE):
        if segment.video_id not in segments:
            raise CAD120FormatError(
                activity_dir / LABELING_FILE,
                f"segment {segment.start_frame}-{segment.end_frame}",
                f"video {segment.video_id!r} is not listed in {ACTIVITY_LABEL_FILE}",
            )
        segments[segment.video_id].append(segment)
    return infos, segments


def write_cad120_activity(activity_dir: str | Path, videos: Sequence[CAD120Video]) -> Path:
    """Write an activity folder: both label files and every video's skeleton and object files."""
    activity_dir = Path(activity_dir)
    write_cad120_activity_labels(activity_dir / ACTIVITY_LABEL_FILE, [v.info for v in videos])
    write_cad120_labeling(activity_dir / LABELING_FILE, [s for v in videos for s in v.segments])
    for video in videos:
        write_cad120_skeleton(activity_dir / f"{video.video_id}.txt", video.skeleton)
        for k, track in enumerate(video.objects, start=1):
            write_cad120_objects(_object_path(activity_dir, video.video_id, k), track)
    return activity_dir


def find_cad120_activity_dirs(root: str | Path) -> list[Path]:
    """Activity folders under ``root``: ``SubjectN_annotations/<activity>/`` holding an ``activityLabel.txt``.

    ``root`` may be the folder holding the ``SubjectN_annotations`` folders, a folder one level above
    (``annotations/Subject1_annotations``, as some unpackings nest them), or one ``SubjectN_annotations``.

    Returns:
        The folders, sorted by subject then activity.
    """
    root = Path(root)
    candidates = [root] if _ANNOTATION_DIR_PATTERN.fullmatch(root.name) else []
    candidates += [*root.glob("Subject*_annotations"), *root.glob("*/Subject*_annotations")]
    subject_dirs = sorted(
        {d for d in candidates if d.is_dir() and _ANNOTATION_DIR_PATTERN.fullmatch(d.name)},
        key=lambda d: (int(_ANNOTATION_DIR_PATTERN.fullmatch(d.name).group(1)), str(d)),
    )
    return [
        folder
        for d in subject_dirs
        for folder in sorted(d.iterdir())
        if (folder / ACTIVITY_LABEL_FILE).is_file()
    ]


def read_cad120(root: str | Path) -> list[CAD120Video]:
    """Read every video under ``root`` (see :func:`find_cad120_activity_dirs`).

    Raises:
        FileNotFoundError: no activity folder under ``root``.
        CAD120FormatError: a malformed file (see :func:`read_cad120_activity`).
    """
    folders = find_cad120_activity_dirs(root)
    if not folders:
        raise FileNotFoundError(
            f"no CAD-120 SubjectN_annotations/<activity>/{ACTIVITY_LABEL_FILE} under {root}"
        )
    return [video for folder in folders for video in read_cad120_activity(folder)]


# --- the optional relation file ------------------------------------------------------------------------


def read_cad120_relations(
    path: str | Path, relationship_classes: Sequence[str]
) -> dict[tuple[str, int, int], tuple[int, ...]]:
    """Read a relation file (see the module docstring) into relation indices per token.

    Args:
        path: the CSV file.
        relationship_classes: the vocabulary the names must come from (Action Genome's 26).

    Returns:
        ``{(video_id, frame, object_index): sorted relationship indices}``; frame and object index 1-based.

    Raises:
        CAD120FormatError: a missing file or header, a line without 4 fields, a non-integer or
            non-positive frame or object index, an unknown relationship, or a token given twice.
    """
    path = Path(path)
    lines = _text_lines(path)
    if not lines or lines[0][1].strip() != RELATION_FILE_HEADER:
        number, text = lines[0] if lines else (1, "")
        raise CAD120FormatError(
            path, f"line {number}", f"expected the header {RELATION_FILE_HEADER!r}, got {_show(text)}"
        )
    index = {name: i for i, name in enumerate(relationship_classes)}
    relations: dict[tuple[str, int, int], tuple[int, ...]] = {}
    first_line: dict[tuple[str, int, int], int] = {}
    for number, line in lines[1:]:
        where = f"line {number}"
        values = [value.strip() for value in line.split(",")]
        if len(values) != 4 or not values[0]:
            raise CAD120FormatError(
                path, where, f"expected 4 fields '{RELATION_FILE_HEADER}', got {_show(line)}"
            )
        frame = _int(values[1], path, number, "the frame number")
        k = _int(values[2], path, number, "the object index")
        if frame < 1 or k < 1:
            raise CAD120FormatError(path, where, f"frame and object_index are 1-based, got {frame}, {k}")
        names = [name.strip() for name in values[3].split(";") if name.strip()]
        unknown = [name for name in names if name not in index]
        if unknown:
            raise CAD120FormatError(
                path,
                where,
                f"unknown relationship {unknown[0]!r}; expected names from {', '.join(relationship_classes)}",
            )
        key = (values[0], frame, k)
        if key in relations:
            raise CAD120FormatError(
                path,
                where,
                f"video {key[0]} frame {frame} object {k} already given on line {first_line[key]}",
            )
        relations[key] = tuple(sorted({index[name] for name in names}))
        first_line[key] = number
    return relations


def write_cad120_relations(path: str | Path, relations: dict[tuple[str, int, int], Sequence[str]]) -> Path:
    """Write a relation file: ``{(video_id, frame, object_index): relationship names}``."""
    return _write_lines(
        Path(path),
        [RELATION_FILE_HEADER, *(f"{v},{f},{k},{';'.join(names)}" for (v, f, k), names in relations.items())],
    )
