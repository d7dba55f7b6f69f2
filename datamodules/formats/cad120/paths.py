"""The file names of a CAD-120 activity folder, and the checked path of each file a video id names.

A video id comes from ``activityLabel.txt`` and is untrusted: :func:`skeleton_file` and
:func:`object_file` accept it only if it matches
:data:`~datamodules.formats.safe_paths.SAFE_ID_PATTERN` and the file it names (symlinks resolved) lies
inside the activity folder; otherwise :class:`~datamodules.formats.errors.CAD120FormatError` names
``activityLabel.txt``, the place (its line, or the video) and the id.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import CAD120FormatError
from ..safe_paths import file_under_root

__all__ = [
    "ACTIVITY_LABEL_FILE",
    "LABELING_FILE",
    "OBJECT_FILE_PATTERN",
    "skeleton_file",
    "object_file",
]

ACTIVITY_LABEL_FILE = "activityLabel.txt"
LABELING_FILE = "labeling.txt"
OBJECT_FILE_PATTERN = re.compile(r"(?P<video>.+)_obj(?P<k>\d+)\.txt")


def skeleton_file(activity_dir: Path, video_id: str, where: str = "") -> Path:
    """``activity_dir / f"{video_id}.txt"``, checked (see the module docstring).

    Args:
        activity_dir: the folder of ``activityLabel.txt``.
        video_id: the id as read.
        where: the place in ``activityLabel.txt`` the id came from; default ``"video <id>"``.

    Raises:
        CAD120FormatError: an unsafe id or a file outside ``activity_dir``.
    """
    return file_under_root(
        activity_dir,
        video_id,
        ".txt",
        CAD120FormatError,
        activity_dir / ACTIVITY_LABEL_FILE,
        where or f"video {video_id!r}",
    )


def object_file(activity_dir: Path, video_id: str, k: int, where: str = "") -> Path:
    """``activity_dir / f"{video_id}_obj{k}.txt"`` (object ``k``, 1-based), checked too."""
    return file_under_root(
        activity_dir,
        video_id,
        f"_obj{k}.txt",
        CAD120FormatError,
        activity_dir / ACTIVITY_LABEL_FILE,
        where or f"video {video_id!r}",
    )
