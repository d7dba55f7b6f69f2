"""The two class lists of an Action Genome ``annotations/`` directory, read and written as released.

``object_classes.txt`` and ``relationship_classes.txt`` (https://github.com/JingweiJ/ActionGenome): one
class per line, ``/`` and ``_`` stripped (``closetcabinet `` with a trailing space, ``lookingat``), no
final newline; the line order is the class index (36 objects with ``person`` first and no
``__background__`` line, which the toolkit's loaders prepend themselves; 26 relationships: 3 attention,
6 spatial, then 17 contacting, the partition the toolkit takes as ``[0:3]``, ``[3:9]``, ``[9:]``). Here
each relationship's kind comes from its name, so a reordered file still reads right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .class_names import (
    AG_ATTENTION_RELATIONSHIPS,
    AG_CONTACTING_RELATIONSHIPS,
    AG_OBJECT_CLASSES,
    AG_RELATIONSHIP_CLASSES,
    AG_SPATIAL_RELATIONSHIPS,
    normalise_class_name,
)
from .errors import ActionGenomeFormatError

__all__ = [
    "ActionGenomeClasses",
    "read_action_genome_classes",
    "write_class_file",
    "relation_field",
    "RELATION_FIELDS",
    "OBJECT_CLASSES_FILE",
    "RELATIONSHIP_CLASSES_FILE",
]

OBJECT_CLASSES_FILE = "object_classes.txt"
RELATIONSHIP_CLASSES_FILE = "relationship_classes.txt"
RELATION_FIELDS = {
    "attention_relationship": AG_ATTENTION_RELATIONSHIPS,
    "spatial_relationship": AG_SPATIAL_RELATIONSHIPS,
    "contacting_relationship": AG_CONTACTING_RELATIONSHIPS,
}
# The released object_classes.txt has exactly this one entry with a trailing space; written back as is.
_TRAILING_SPACE_ENTRIES = frozenset({"closetcabinet"})


@dataclass(frozen=True)
class ActionGenomeClasses:
    """The two class lists of an Action Genome ``annotations/`` directory, in file order.

    Attributes:
        object_classes: object names spelled as in the pickles (``"closet/cabinet"``); index 0 is
            ``person``.
        relationship_classes: relationship names (``"looking_at"``).
        attention, spatial, contacting: the indices into ``relationship_classes`` of each kind of
            relationship (the pickles' ``attention_relationship`` / ``spatial_relationship`` /
            ``contacting_relationship`` fields), ascending; together they cover every index once.
    """

    object_classes: tuple[str, ...]
    relationship_classes: tuple[str, ...]
    attention: tuple[int, ...]
    spatial: tuple[int, ...]
    contacting: tuple[int, ...]


def read_action_genome_classes(annotation_dir: str | Path) -> ActionGenomeClasses:
    """Read ``object_classes.txt`` and ``relationship_classes.txt`` alone (no pickle is opened).

    Object names outside Action Genome's 36 are kept as written; every relationship must be one of
    Action Genome's 26, since its kind (attention, spatial, contacting) comes from its name.

    Args:
        annotation_dir: the directory holding the two class files.

    Returns:
        The class lists and the relationship partition.

    Raises:
        ActionGenomeFormatError: a class file is not UTF-8, empty, or has an empty or repeated line, or a
            relationship is not Action Genome's; the message names the file and the line.
        FileNotFoundError: a class file is missing.
    """
    annotation_dir = Path(annotation_dir)
    objects = _read_class_file(annotation_dir / OBJECT_CLASSES_FILE, AG_OBJECT_CLASSES)
    relation_path = annotation_dir / RELATIONSHIP_CLASSES_FILE
    relations = _read_class_file(relation_path, AG_RELATIONSHIP_CLASSES)
    kinds: dict[str, list[int]] = {field: [] for field in RELATION_FIELDS}
    for index, name in enumerate(relations):
        field = _relation_field_or_none(name)
        if field is None:
            raise ActionGenomeFormatError(
                relation_path,
                f"line {index + 1}",
                f"unknown relationship {name!r}; expected one of Action Genome's "
                f"{len(AG_RELATIONSHIP_CLASSES)}: {', '.join(AG_RELATIONSHIP_CLASSES)}",
            )
        kinds[field].append(index)
    return ActionGenomeClasses(
        tuple(objects),
        tuple(relations),
        *(tuple(kinds[field]) for field in RELATION_FIELDS),
    )


def _read_class_file(path: Path, official: Sequence[str]) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise ActionGenomeFormatError(path, "", f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    if lines and lines[-1] == "":  # tolerate a final newline, which the released files lack
        lines.pop()
    spelled = {normalise_class_name(name): name for name in official}
    names: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        key = normalise_class_name(line)
        if not key:
            raise ActionGenomeFormatError(path, f"line {number}", "expected a class name, got an empty line")
        if key in seen:
            raise ActionGenomeFormatError(
                path, f"line {number}", f"class {line.strip()!r} already given on line {seen[key]}"
            )
        seen[key] = number
        names.append(spelled.get(key, line.strip()))
    if not names:
        raise ActionGenomeFormatError(path, "", "expected one class name a line, got an empty file")
    return names


def write_class_file(path: Path, names: Sequence[str]) -> None:
    entries = []
    for name in names:
        entry = name.replace("/", "").replace("_", "")
        entries.append(entry + " " if entry in _TRAILING_SPACE_ENTRIES else entry)
    path.write_text("\n".join(entries))


def _relation_field_or_none(name: str) -> str | None:
    key = normalise_class_name(name)
    for field, names in RELATION_FIELDS.items():
        if key in {normalise_class_name(n) for n in names}:
            return field
    return None


def relation_field(name: str) -> str:
    field = _relation_field_or_none(name)
    if field is not None:
        return field
    raise ValueError(
        f"unknown Action Genome relationship {name!r}; expected one of {AG_RELATIONSHIP_CLASSES}"
    )
