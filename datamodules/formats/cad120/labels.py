"""``activityLabel.txt`` (one video a line) and ``labeling.txt`` (one sub-activity segment a line).

- ``activityLabel.txt``: ``id,activity,SubjectN,1:type,2:type,...,``; the objects are ``k:type`` (``type``
  alone is accepted, ``k`` then being its position); the id names the video's files (:mod:`.paths`).
- ``labeling.txt``: ``id,start,end,sub_activity,affordance_obj1,...``, 1-based inclusive frame numbers,
  one affordance label per object of the video.

A trailing comma is allowed on every line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import CAD120FormatError
from ._lines import fields, parse_int, show, text_lines, write_lines
from .paths import object_file, skeleton_file
from .vocabulary import CAD120_ACTIVITIES, CAD120_OBJECT_TYPES, CAD120_SUB_ACTIVITIES, CAD120_SUBJECTS

__all__ = [
    "CAD120Activity",
    "CAD120Segment",
    "read_cad120_activity_labels",
    "write_cad120_activity_labels",
    "read_cad120_labeling",
    "write_cad120_labeling",
]

_SUBJECTS = {f"Subject{s}": s for s in CAD120_SUBJECTS}


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


def read_cad120_activity_labels(path: str | Path) -> list[CAD120Activity]:
    """Read ``activityLabel.txt``.

    Raises:
        CAD120FormatError: a missing file, fewer than 3 fields, an unknown activity or object type, a
            subject other than ``Subject1/3/4/5``, a video id given twice, or an id that cannot name its
            files (see :mod:`.paths`).
    """
    path = Path(path)
    activities: list[CAD120Activity] = []
    seen: dict[str, int] = {}
    for number, line in text_lines(path):
        where = f"line {number}"
        values = fields(line)
        if len(values) < 3 or not all(values[:3]):
            raise CAD120FormatError(
                path, where, f"expected 'id,activity,SubjectN,objects...', got {show(line.strip())}"
            )
        video_id, activity, subject_text = values[:3]
        skeleton_file(path.parent, video_id, where, path)
        if video_id in seen:
            raise CAD120FormatError(
                path, where, f"video {video_id!r} already listed on line {seen[video_id]}"
            )
        seen[video_id] = number
        if activity not in CAD120_ACTIVITIES:
            raise CAD120FormatError(
                path,
                where,
                f"unknown activity {show(activity)}; expected one of {', '.join(CAD120_ACTIVITIES)}",
            )
        subject = _SUBJECTS.get(subject_text)
        if subject is None:
            raise CAD120FormatError(
                path, where, f"expected the subject {', '.join(_SUBJECTS)}, got {show(subject_text)}"
            )
        types = []
        for position, token in enumerate(values[3:], start=1):
            index_text, _, object_type = token.rpartition(":")
            if index_text and index_text != str(position):
                raise CAD120FormatError(
                    path,
                    where,
                    f"object {position} is numbered {show(index_text)}; expected '{position}:<type>'",
                )
            if object_type not in CAD120_OBJECT_TYPES:
                raise CAD120FormatError(
                    path,
                    where,
                    f"unknown object type {show(object_type)} for object {position}; "
                    f"expected one of {', '.join(CAD120_OBJECT_TYPES)}",
                )
            object_file(path.parent, video_id, position, where, path)
            types.append(object_type)
        activities.append(CAD120Activity(video_id, activity, subject, tuple(types)))
    return activities


def write_cad120_activity_labels(path: str | Path, activities: Sequence[CAD120Activity]) -> Path:
    """Write ``activityLabel.txt`` as released (``k:type`` objects, trailing comma)."""
    return write_lines(
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
    for number, line in text_lines(path):
        where = f"line {number}"
        values = fields(line)
        if len(values) < 4:
            raise CAD120FormatError(
                path,
                where,
                f"expected 'id,start_frame,end_frame,sub_activity,affordances...', got {show(line.strip())}",
            )
        start = parse_int(values[1], path, number, "the start frame")
        end = parse_int(values[2], path, number, "the end frame")
        if not 1 <= start <= end:
            raise CAD120FormatError(
                path, where, f"expected 1 <= start_frame <= end_frame, got {start}, {end}"
            )
        if values[3] not in CAD120_SUB_ACTIVITIES:
            raise CAD120FormatError(
                path,
                where,
                f"unknown sub-activity {show(values[3])}; expected one of {', '.join(CAD120_SUB_ACTIVITIES)}",
            )
        segments.append(CAD120Segment(values[0], start, end, values[3], tuple(values[4:])))
    return segments


def write_cad120_labeling(path: str | Path, segments: Sequence[CAD120Segment]) -> Path:
    """Write ``labeling.txt`` (no trailing comma, as released)."""
    return write_lines(
        Path(path),
        (
            ",".join([s.video_id, str(s.start_frame), str(s.end_frame), s.sub_activity, *s.affordances])
            for s in segments
        ),
    )
