"""Charades video annotations (``Charades_v1_train.csv`` / ``Charades_v1_test.csv``) and class list.

The csv has the header ``id,subject,scene,quality,relevance,verified,script,objects,descriptions,
actions,length``; fields holding commas are quoted; ``objects`` is ``;``-separated; ``actions`` is a
``;``-separated list of ``"cNNN start end"`` (seconds, may be empty); ``length`` is the video length
in seconds. ``Charades_v1_classes.txt`` holds one class a line, ``"c000 Holding some clothes"``.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CharadesFormatError

__all__ = [
    "CharadesClass",
    "CharadesAction",
    "CharadesVideo",
    "CHARADES_COLUMNS",
    "read_charades_classes",
    "write_charades_classes",
    "read_charades_csv",
    "write_charades_csv",
]

CHARADES_COLUMNS: tuple[str, ...] = (
    "id",
    "subject",
    "scene",
    "quality",
    "relevance",
    "verified",
    "script",
    "objects",
    "descriptions",
    "actions",
    "length",
)
_CLASS_CODE = re.compile(r"^c\d{3}$")
_CLASS_LINE = re.compile(r"^(?P<code>c\d{3}) (?P<name>\S.*)$")


@dataclass(frozen=True)
class CharadesClass:
    """One action class.

    Attributes:
        index: 0-based line number in the class file (the label index).
        code: ``"c092"``.
        name: ``"Watching/Looking outside of a window"``.
    """

    index: int
    code: str
    name: str


@dataclass(frozen=True)
class CharadesAction:
    """One temporally localised action of a video.

    Attributes:
        class_id: ``"c092"``.
        index: the class's label index (its line in the class file, or ``int(class_id[1:])``
            when read without a class list).
        start: start time in seconds.
        end: end time in seconds.
    """

    class_id: str
    index: int
    start: float
    end: float


@dataclass
class CharadesVideo:
    """One row of a Charades csv.

    Attributes:
        id: video id, ``"46GP8"``.
        subject: actor id, ``"HR43"``.
        scene: ``"Kitchen"``.
        actions: the localised actions, in csv order.
        length: video length in seconds.
        quality, relevance: annotator ratings (``None`` where empty).
        verified: ``"Yes"`` / ``"No"`` / ``""``.
        script, descriptions: free text.
        objects: object names.
    """

    id: str
    subject: str
    scene: str
    actions: list[CharadesAction]
    length: float
    quality: int | None = None
    relevance: int | None = None
    verified: str = ""
    script: str = ""
    objects: list[str] = field(default_factory=list)
    descriptions: str = ""


def read_charades_classes(path: str | Path) -> list[CharadesClass]:
    """Read ``Charades_v1_classes.txt``.

    Raises:
        CharadesFormatError: a line is not ``"cNNN name"`` or a code repeats (names the line).
    """
    path = Path(path)
    classes: list[CharadesClass] = []
    seen: dict[str, int] = {}
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise CharadesFormatError(path, "", f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        match = _CLASS_LINE.match(line.strip())
        if match is None:
            raise CharadesFormatError(path, f"line {number}", f"expected 'cNNN class name', got {line!r}")
        code = match["code"]
        if code in seen:
            raise CharadesFormatError(
                path, f"line {number}", f"class {code} already given on line {seen[code]}"
            )
        seen[code] = number
        classes.append(CharadesClass(len(classes), code, match["name"].strip()))
    if not classes:
        raise CharadesFormatError(path, "", "expected one 'cNNN class name' a line, got an empty file")
    return classes


def write_charades_classes(path: str | Path, classes: Sequence[CharadesClass]) -> None:
    """Write a class list, one ``"cNNN name"`` a line, in the given order."""
    Path(path).write_text("".join(f"{c.code} {c.name}\n" for c in classes))


def read_charades_csv(
    path: str | Path, classes: Sequence[CharadesClass] | None = None
) -> list[CharadesVideo]:
    """Read ``Charades_v1_train.csv`` or ``Charades_v1_test.csv``.

    Args:
        path: the csv file.
        classes: the class list; action indices are positions in it and codes outside it are errors.
            Without it, ``cNNN`` has index ``NNN`` (the official 157-class numbering).

    Returns:
        The videos in file order.

    Raises:
        CharadesFormatError: the file is not UTF-8 csv, a column is missing, a row has the wrong
            number of fields, an action is not ``"cNNN start end"``, a class code is unknown, a number
            does not parse, an action ends before it starts or starts after the video's end; the
            message names the csv line. An action ending after the video's end is clipped to its
            ``length`` (the official evaluation labels only frames inside the video).
    """
    path = Path(path)
    index_of = None if classes is None else {c.code: c.index for c in classes}
    videos: list[CharadesVideo] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            _read_rows(reader, path, index_of, videos)
        except UnicodeDecodeError as exc:  # decoded in chunks: the line is not known
            raise CharadesFormatError(path, "", f"not UTF-8 text: {exc.reason}") from None
        except csv.Error as exc:  # e.g. a field over csv's size limit
            raise CharadesFormatError(
                path, f"line {reader.line_num}", f"not a readable csv row: {exc}"
            ) from None
    return videos


def _read_rows(reader: Any, path: Path, index_of: dict[str, int] | None, videos: list[CharadesVideo]) -> None:
    """Parse the header and the rows of a ``csv.reader`` into ``videos``."""
    header = next(reader, None)
    if header is None:
        raise CharadesFormatError(
            path, "line 1", f"expected the header {','.join(CHARADES_COLUMNS)}, got an empty file"
        )
    missing = [c for c in CHARADES_COLUMNS if c not in header]
    if missing:
        raise CharadesFormatError(path, "line 1", f"missing column(s) {missing}; got header {header}")
    column = {name: header.index(name) for name in CHARADES_COLUMNS}
    for row in reader:
        where = f"line {reader.line_num}"
        if len(row) != len(header):
            raise CharadesFormatError(path, where, f"expected {len(header)} fields, got {len(row)}")
        value = {name: row[i] for name, i in column.items()}
        length = _parse_float(value["length"], "length", path, where)
        videos.append(
            CharadesVideo(
                id=value["id"],
                subject=value["subject"],
                scene=value["scene"],
                actions=_parse_actions(value["actions"], length, index_of, path, where),
                length=length,
                quality=_parse_optional_int(value["quality"], "quality", path, where),
                relevance=_parse_optional_int(value["relevance"], "relevance", path, where),
                verified=value["verified"],
                script=value["script"],
                objects=[o for o in value["objects"].split(";") if o],
                descriptions=value["descriptions"],
            )
        )


def write_charades_csv(path: str | Path, videos: Sequence[CharadesVideo]) -> None:
    """Write videos as a Charades csv (times with two decimals, as released)."""
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CHARADES_COLUMNS)
        for video in videos:
            writer.writerow(
                [
                    video.id,
                    video.subject,
                    video.scene,
                    "" if video.quality is None else str(video.quality),
                    "" if video.relevance is None else str(video.relevance),
                    video.verified,
                    video.script,
                    ";".join(video.objects),
                    video.descriptions,
                    ";".join(f"{a.class_id} {a.start:.2f} {a.end:.2f}" for a in video.actions),
                    f"{video.length:.2f}",
                ]
            )


def _parse_actions(
    text: str, length: float, index_of: dict[str, int] | None, path: Path, where: str
) -> list[CharadesAction]:
    actions = []
    for number, item in enumerate((i for i in text.split(";") if i.strip()), start=1):
        parts = item.split()
        if len(parts) != 3 or not _CLASS_CODE.match(parts[0]):
            raise CharadesFormatError(path, where, f"action {number} {item!r}: expected 'cNNN start end'")
        code = parts[0]
        if index_of is None:
            index = int(code[1:])
        elif code in index_of:
            index = index_of[code]
        else:
            raise CharadesFormatError(
                path, where, f"action {number} {item!r}: unknown class {code}, not in the class list"
            )
        start = _parse_float(parts[1], f"start of action {number}", path, where)
        end = _parse_float(parts[2], f"end of action {number}", path, where)
        if end < start:
            raise CharadesFormatError(path, where, f"action {number} {item!r}: ends before it starts")
        if start > length:
            raise CharadesFormatError(
                path, where, f"action {number} {item!r}: starts after the video's end ({length:g} s)"
            )
        # The official evaluation labels the frames inside [start, end]: past the video's end there are
        # none, so an end beyond the length (annotators' overshoot) is the same span clipped to it.
        actions.append(CharadesAction(code, index, start, min(end, length)))
    return actions


def _parse_float(text: str, name: str, path: Path, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise CharadesFormatError(path, where, f"expected {name} a number of seconds >= 0, got {text!r}")
    return value


def _parse_optional_int(text: str, name: str, path: Path, where: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise CharadesFormatError(path, where, f"expected {name} an integer or empty, got {text!r}") from None
