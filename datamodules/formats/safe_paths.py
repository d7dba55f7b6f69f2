"""Ids read from data files that become file names: the strict id pattern and the stay-under-root rule.

A data file that names other files by an id (CAD-120's ``activityLabel.txt`` names ``<id>.txt`` and
``<id>_obj<k>.txt``; an Action Genome frame key ``<VIDEO_ID>.mp4/<FRAME>.png`` names
``features/<VIDEO_ID>.npz``) is untrusted: an id like ``../../outside/stolen`` would read a file outside
the data set. So every such id must match :data:`SAFE_ID_PATTERN` (:data:`SAFE_ID_RULE`: no separator,
no ``..``, no absolute path, no NUL or whitespace, at most 128 characters), and the file it names, with
symlinks resolved, must lie under its root folder (a symlink pointing elsewhere is refused). Each failure
raises the calling format's :class:`~datamodules.formats.errors.DataFormatError` subclass, naming the
file that gave the id, the place in it and the id.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import DataFormatError

__all__ = ["SAFE_ID_PATTERN", "SAFE_ID_RULE", "id_problem", "check_id", "file_under_root"]

SAFE_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
SAFE_ID_RULE = "1-128 characters from A-Z, a-z, 0-9, '.', '_', '-', the first a letter or digit"
_SHOWN = 40


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 3]}... ({len(str(value))} characters)"


def id_problem(value: object) -> str | None:
    """Why ``value`` cannot name a file (``None`` when it matches :data:`SAFE_ID_PATTERN`)."""
    if isinstance(value, str) and SAFE_ID_PATTERN.fullmatch(value):
        return None
    return f"{_show(value)} cannot name a file: expected {SAFE_ID_RULE}"


def check_id(
    value: str, error: type[DataFormatError], source: Path, where: str, what: str = "video id"
) -> str:
    """Return ``value`` if it is a safe id.

    Args:
        value: the id as read.
        error: the format's error class.
        source: the file the id was read from.
        where: the place in ``source`` (``"line 3"``).
        what: what the id is, for the message.

    Raises:
        DataFormatError: (``error``) ``value`` does not match :data:`SAFE_ID_PATTERN`.
    """
    problem = id_problem(value)
    if problem is not None:
        raise error(source, where, f"{what} {problem}")
    return value


def file_under_root(
    root: Path,
    file_id: str,
    suffix: str,
    error: type[DataFormatError],
    source: Path,
    where: str,
    what: str = "video id",
) -> Path:
    """``root / f"{file_id}{suffix}"`` once ``file_id`` is safe and the file resolves inside ``root``.

    Args:
        root: the folder the file must stay in (itself resolved, so a symlinked data folder is fine).
        file_id: the id as read (``"0510175411"``).
        suffix: what follows the id in the file name (``".txt"``, ``"_obj1.txt"``, ``".npz"``).
        error, source, where, what: as for :func:`check_id`.

    Raises:
        DataFormatError: (``error``) ``file_id`` is not a safe id, or the file (symlinks resolved) lies
            outside ``root`` or is a symlink loop.
    """
    check_id(file_id, error, source, where, what)
    path = root / f"{file_id}{suffix}"
    try:
        real_root, real = root.resolve(), path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
        raise error(
            source, where, f"{what} {file_id!r} names {path.name}, which cannot be resolved: {exc}"
        ) from None
    if not real.is_relative_to(real_root) or real == real_root:
        raise error(
            source,
            where,
            f"{what} {file_id!r} names {path.name}, which resolves to {real}, outside {real_root}; "
            "expected a file inside that folder (a symlink may not point elsewhere)",
        )
    return path
