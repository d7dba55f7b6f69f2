"""A CAD-120 video (its label lines, skeleton and object tracks), an activity folder, the data set.

Layout of the official ``SubjectN_annotations.tar.gz`` downloads (N in 1, 3, 4, 5), one folder per
high-level activity::

    SubjectN_annotations/<activity>/activityLabel.txt   id,activity,SubjectN,1:bowl,2:bowl,3:bowl,
    SubjectN_annotations/<activity>/labeling.txt        id,start,end,sub_activity,affordance_obj1,...
    SubjectN_annotations/<activity>/<id>.txt            the skeleton, one line a frame, then END
    SubjectN_annotations/<activity>/<id>_obj<k>.txt     object k's box in every frame
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import CAD120FormatError
from .labels import (
    CAD120Activity,
    CAD120Segment,
    read_cad120_activity_labels,
    read_cad120_labeling,
    write_cad120_activity_labels,
    write_cad120_labeling,
)
from .objects import CAD120ObjectTrack, read_cad120_objects, write_cad120_objects
from .paths import ACTIVITY_LABEL_FILE, LABELING_FILE, object_file, skeleton_file
from .skeleton import CAD120Skeleton, read_cad120_skeleton, write_cad120_skeleton

__all__ = [
    "CAD120Video",
    "read_cad120_video",
    "read_cad120_activity",
    "read_cad120_labels",
    "write_cad120_activity",
    "find_cad120_activity_dirs",
    "read_cad120",
]

_ANNOTATION_DIR_PATTERN = re.compile(r"Subject(\d+)_annotations")


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


def read_cad120_video(
    activity_dir: str | Path, info: CAD120Activity, segments: Sequence[CAD120Segment]
) -> CAD120Video:
    """Read one video's skeleton and object files and check its segments against them.

    Args:
        activity_dir: the folder holding ``<id>.txt`` and ``<id>_obj<k>.txt``.
        info: the video's ``activityLabel.txt`` line.
        segments: its ``labeling.txt`` lines.

    Raises:
        CAD120FormatError: an id that cannot name its files (see :mod:`.paths`), a missing or malformed
            skeleton or object file, an object frame outside the
            skeleton's frames, a segment outside the video, or a segment whose affordance count differs
            from the object count (the error names ``labeling.txt`` and the segment).
    """
    activity_dir = Path(activity_dir)
    skeleton_path = skeleton_file(activity_dir, info.video_id)
    skeleton = read_cad120_skeleton(skeleton_path)
    if skeleton.num_frames == 0:
        raise CAD120FormatError(skeleton_path, "", "expected at least one frame before END, got none")
    first, last = int(skeleton.frames[0]), int(skeleton.frames[-1])
    objects = []
    for k in range(1, len(info.object_types) + 1):
        path = object_file(activity_dir, info.video_id, k)
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
        write_cad120_skeleton(skeleton_file(activity_dir, video.video_id), video.skeleton)
        for k, track in enumerate(video.objects, start=1):
            write_cad120_objects(object_file(activity_dir, video.video_id, k), track)
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
