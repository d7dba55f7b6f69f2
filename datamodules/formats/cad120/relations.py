"""Our optional per-token relation file: CSV with the header :data:`RELATION_FILE_HEADER`
(``video_id,frame,object_index,relations``), one ``(video, 1-based frame, 1-based object k)`` a line and
``;``-separated Action Genome relationship names (empty for none)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import CAD120FormatError
from ._lines import parse_int, show, text_lines, write_lines

__all__ = ["RELATION_FILE_HEADER", "read_cad120_relations", "write_cad120_relations"]

RELATION_FILE_HEADER = "video_id,frame,object_index,relations"


def read_cad120_relations(
    path: str | Path, relationship_classes: Sequence[str]
) -> dict[tuple[str, int, int], tuple[int, ...]]:
    """Read a relation file  into relation indices per token.

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
    lines = text_lines(path)
    if not lines or lines[0][1].strip() != RELATION_FILE_HEADER:
        number, text = lines[0] if lines else (1, "")
        raise CAD120FormatError(
            path, f"line {number}", f"expected the header {RELATION_FILE_HEADER!r}, got {show(text)}"
        )
    index = {name: i for i, name in enumerate(relationship_classes)}
    relations: dict[tuple[str, int, int], tuple[int, ...]] = {}
    first_line: dict[tuple[str, int, int], int] = {}
    for number, line in lines[1:]:
        where = f"line {number}"
        values = [value.strip() for value in line.split(",")]
        if len(values) != 4 or not values[0]:
            raise CAD120FormatError(
                path, where, f"expected 4 fields '{RELATION_FILE_HEADER}', got {show(line)}"
            )
        frame = parse_int(values[1], path, number, "the frame number")
        k = parse_int(values[2], path, number, "the object index")
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
    return write_lines(
        Path(path),
        [RELATION_FILE_HEADER, *(f"{v},{f},{k},{';'.join(names)}" for (v, f, k), names in relations.items())],
    )
