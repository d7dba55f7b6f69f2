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
    lines = path.read_text().split("\n")
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
        CharadesFormatError: a column is missing, a row has the wrong number of fields, an action is
            not ``"cNNN start end"``, a class code is unknown, or a number does not parse; the message
            names the csv line.
    """
    path = Path(path)
    index_of = None if classes is None else {c.code: c.index for c in classes}
    videos: list[CharadesVideo] = []
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
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
            videos.append(
                CharadesVideo(
                    id=value["id"],
                    subject=value["subject"],
                    scene=value["scene"],
                    actions=_parse_actions(value["actions"], index_of, path, where),
                    length=_parse_float(value["length"], "length", path, where),
                    quality=_parse_optional_int(value["quality"], "quality", path, where),
                    relevance=_parse_optional_int(value["relevance"], "relevance", path, where),
                    verified=value["verified"],
                    script=value["script"],
                    objects=[o for o in value["objects"].split(";") if o],
                    descriptions=value["descriptions"],
                )
            )
    return videos


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
    text: str, index_of: dict[str, int] | None, path: Path, where: str
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
        actions.append(CharadesAction(code, index, start, end))
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
