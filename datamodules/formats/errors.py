"""Typed errors raised by the dataset readers.

Every error names the file, the place in it (line, frame, key) and what was expected, so a user
with a broken download can find the problem without a debugger.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DataFormatError",
    "SkeletonFormatError",
    "NWUCLAFormatError",
    "PysklFormatError",
    "ActionGenomeFormatError",
    "CharadesFormatError",
    "BoxFeatureFormatError",
    "CAD120FormatError",
    "UnsafePickleError",
    "FrameFormatError",
]


class DataFormatError(ValueError):
    """A data file does not follow its documented format.

    Args:
        path: the offending file.
        where: the place in the file, e.g. ``"line 27"`` or ``"frame 3, body 1"``; may be empty.
        message: what was expected and what was found.
    """

    def __init__(self, path: str | Path, where: str, message: str) -> None:
        self.path = Path(path)
        self.where = where
        self.message = message
        location = f"{self.path.name} {where}" if where else self.path.name
        super().__init__(f"{location}: {message} (file: {self.path})")

    def __reduce__(self):  # keep the error picklable across DataLoader workers and DDP ranks
        return (type(self), (self.path, self.where, self.message))


class SkeletonFormatError(DataFormatError):
    """An NTU RGB+D ``.skeleton`` file or its name is malformed."""


class NWUCLAFormatError(DataFormatError):
    """An NW-UCLA sequence JSON file is malformed."""


class PysklFormatError(DataFormatError):
    """A pyskl annotation pickle (``ntu60_3danno.pkl``) is malformed."""


class ActionGenomeFormatError(DataFormatError):
    """An Action Genome annotation pickle or class list is malformed."""


class CharadesFormatError(DataFormatError):
    """A Charades csv or class list is malformed."""


class BoxFeatureFormatError(DataFormatError):
    """A per-video box-feature ``.npz`` file is malformed."""


class CAD120FormatError(DataFormatError):
    """A CAD-120 annotation, skeleton or object file is malformed."""


class UnsafePickleError(DataFormatError):
    """A pickle asked to construct something other than builtins or numpy arrays."""


class FrameFormatError(DataFormatError):
    """An RGB frame image (``frames/<VIDEO>.mp4/<FRAME>.png``) is missing, truncated or not an image."""
