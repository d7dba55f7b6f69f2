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


def skeleton_file(activity_dir: Path, video_id: str, where: str = "", source: Path | None = None) -> Path:
    """``activity_dir / f"{video_id}.txt"``, checked (see the module docstring).

    Args:
        activity_dir: the folder the video's files must lie in.
        video_id: the id as read.
        where: the place in ``source`` the id came from; default ``"video '<id>'"``.
        source: the file that gave the id, named by the error; default ``activity_dir/activityLabel.txt``.

    Raises:
        CAD120FormatError: an unsafe id or a file outside ``activity_dir``.
    """
    return _video_file(activity_dir, video_id, ".txt", where, source)


def object_file(
    activity_dir: Path, video_id: str, k: int, where: str = "", source: Path | None = None
) -> Path:
    """``activity_dir / f"{video_id}_obj{k}.txt"``, checked like :func:`skeleton_file`."""
    return _video_file(activity_dir, video_id, f"_obj{k}.txt", where, source)


def _video_file(activity_dir: Path, video_id: str, suffix: str, where: str, source: Path | None) -> Path:
    return file_under_root(
        activity_dir,
        video_id,
        suffix,
        CAD120FormatError,
        source or activity_dir / ACTIVITY_LABEL_FILE,
        where or f"video {video_id!r}",
    )
