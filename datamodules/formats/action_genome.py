"""Action Genome annotations: the two pickles and the two class lists, read and written as released.

Layout of ``annotations/`` (https://github.com/JingweiJ/ActionGenome):

- ``object_classes.txt``, ``relationship_classes.txt``: the class lists, read by
  :mod:`~datamodules.formats.action_genome_classes` (alone: :func:`read_action_genome_classes`).
- ``person_bbox.pkl``: ``{"VIDEO.mp4/FRAME.png": {"bbox": (N, 4) float32 xyxy (N = 0 when no person
  was detected), "bbox_score": (N,), "bbox_size": (w, h), "bbox_mode": "xyxy", "keypoints":
  (N, 17, 3), "keypoints_logits": (N, 17)}}``.
- ``object_bbox_and_relationship.pkl``: same keys -> list of ``{"class": "cup/glass/bottle", "bbox":
  (x, y, w, h) or None, "attention_relationship": [...] or None, "spatial_relationship": ...,
  "contacting_relationship": ..., "metadata": {"tag": ..., "set": "train" | "test"}, "visible": bool}``.
- ``frame_list.txt``: every annotated frame key, one a line.

The pickles come from the internet, so they are only ever opened with
:func:`~datamodules.formats.safe_pickle.load_untrusted_pickle`.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .action_genome_classes import (
    OBJECT_CLASSES_FILE,
    RELATION_FIELDS,
    RELATIONSHIP_CLASSES_FILE,
    ActionGenomeClasses,
    read_action_genome_classes,
    relation_field,
    write_class_file,
)
from .class_names import normalise_class_name
from .errors import ActionGenomeFormatError
from .safe_paths import id_problem
from .safe_pickle import load_untrusted_pickle

__all__ = [
    "AGObject",
    "AGFrame",
    "ActionGenomeAnnotations",
    "ActionGenomeClasses",
    "read_action_genome",
    "read_action_genome_classes",
    "write_action_genome",
    "parse_frame_key",
    "OBJECT_CLASSES_FILE",
    "RELATIONSHIP_CLASSES_FILE",
    "PERSON_BBOX_FILE",
    "OBJECT_BBOX_FILE",
    "FRAME_LIST_FILE",
]

PERSON_BBOX_FILE = "person_bbox.pkl"
OBJECT_BBOX_FILE = "object_bbox_and_relationship.pkl"
FRAME_LIST_FILE = "frame_list.txt"

_FRAME_KEY = re.compile(r"^(?P<video>[^/]+)\.mp4/(?P<frame>\d+)\.png$")
_SPLITS = ("train", "test")
_NUM_KEYPOINTS = 17

Box = tuple[float, float, float, float]


@dataclass
class AGObject:
    """One annotated object of a frame, in relation to the frame's person.

    Attributes:
        class_index: index into :attr:`ActionGenomeAnnotations.object_classes`.
        box_xyxy: ``(x1, y1, x2, y2)`` in pixels (converted from the pickle's xywh), ``None`` when the
            object has no box (not visible).
        relation_indices: indices into :attr:`ActionGenomeAnnotations.relationship_classes`, ascending
            (attention, then spatial, then contacting); empty for an invisible object.
        visible: whether the object is visible in the frame.
        split: ``"train"`` or ``"test"`` (``metadata["set"]``).
    """

    class_index: int
    box_xyxy: Box | None
    relation_indices: tuple[int, ...]
    visible: bool
    split: str


@dataclass
class AGFrame:
    """One annotated frame.

    Attributes:
        key: the pickle key, ``"VIDEO.mp4/FRAME.png"``, e.g. ``"001YG.mp4/000089.png"``.
        frame_index: the frame number of the key (``89``).
        frame_size: ``(width, height)`` in pixels (``bbox_size``).
        person_box: ``(x1, y1, x2, y2)`` of the person (the highest-scoring one when the detector gave
            several), ``None`` when no person was detected.
        objects: the frame's objects in pickle order.
    """

    key: str
    frame_index: int
    frame_size: tuple[int, int]
    person_box: Box | None
    objects: list[AGObject]

    @property
    def video_id(self) -> str:
        return parse_frame_key(self.key)[0]


@dataclass
class ActionGenomeAnnotations:
    """All Action Genome annotations of a directory.

    Attributes:
        object_classes: the 36 object names in class-file order, spelled as in the pickles
            (``"closet/cabinet"``); index 0 is ``person``.
        relationship_classes: the 26 relationship names in class-file order (``"looking_at"``).
        videos: video id (``"001YG"``) -> its frames in increasing frame order.
    """

    object_classes: list[str]
    relationship_classes: list[str]
    videos: dict[str, list[AGFrame]]

    def split_of(self, video_id: str) -> str:
        """The split (``"train"`` / ``"test"``) of a video, from its objects' ``metadata["set"]``."""
        for frame in self.videos[video_id]:
            for obj in frame.objects:
                return obj.split
        raise KeyError(f"video '{video_id}' has no object, so no split")

    def video_ids(self, split: str | None = None) -> list[str]:
        """Video ids in sorted order, all of them or those of one split."""
        return sorted(v for v in self.videos if split is None or self.split_of(v) == split)


def parse_frame_key(key: str) -> tuple[str, int]:
    """Split a frame key ``"001YG.mp4/000089.png"`` into ``("001YG", 89)``.

    Raises:
        ValueError: the key is not of that form, or its video id does not match
            :data:`~datamodules.formats.safe_paths.SAFE_ID_PATTERN` (it names ``features/<VIDEO_ID>.npz``).
    """
    match = _FRAME_KEY.match(key) if isinstance(key, str) else None
    if match is None:
        raise ValueError(f"expected a frame key 'VIDEO.mp4/FRAME.png', got {key!r}")
    problem = id_problem(match["video"])  # the video id names features/<VIDEO_ID>.npz
    if problem is not None:
        raise ValueError(f"the video id of frame key {key!r}: {problem}")
    return match["video"], int(match["frame"])


def read_action_genome(annotation_dir: str | Path) -> ActionGenomeAnnotations:
    """Read an Action Genome ``annotations/`` directory.

    Args:
        annotation_dir: the directory holding the class lists and the two pickles.

    Returns:
        The annotations, every video's frames sorted by frame number.

    Raises:
        ActionGenomeFormatError: a class list (see :func:`read_action_genome_classes`), a pickle, a key,
            a box or a name is malformed; the message names the file, the key and what was expected.
        UnsafePickleError: a pickle references anything but builtins and numpy arrays.
        FileNotFoundError: a file is missing.
    """
    annotation_dir = Path(annotation_dir)
    classes = read_action_genome_classes(annotation_dir)
    object_classes, relationship_classes = list(classes.object_classes), list(classes.relationship_classes)
    object_index = {normalise_class_name(n): i for i, n in enumerate(object_classes)}
    relation_index = {normalise_class_name(n): i for i, n in enumerate(relationship_classes)}

    person_path = annotation_dir / PERSON_BBOX_FILE
    object_path = annotation_dir / OBJECT_BBOX_FILE
    persons = _load_dict(person_path)
    objects = _load_dict(object_path)
    for key in persons:
        if key not in objects:
            raise ActionGenomeFormatError(
                object_path, f"key {key!r}", f"missing; it is in {PERSON_BBOX_FILE}"
            )
    for key in objects:
        if key not in persons:
            raise ActionGenomeFormatError(
                person_path, f"key {key!r}", f"missing; it is in {OBJECT_BBOX_FILE}"
            )

    videos: dict[str, list[AGFrame]] = {}
    for key, person in persons.items():
        try:
            video_id, frame_index = parse_frame_key(key)
        except ValueError as exc:
            raise ActionGenomeFormatError(person_path, f"key {key!r}", str(exc)) from None
        frame_size, person_box = _parse_person(person, person_path, key)
        frame_objects = _parse_objects(objects[key], object_path, key, object_index, relation_index)
        videos.setdefault(video_id, []).append(
            AGFrame(key, frame_index, frame_size, person_box, frame_objects)
        )
    for video_id, frames in videos.items():
        frames.sort(key=lambda f: f.frame_index)
        splits = {obj.split for frame in frames for obj in frame.objects}
        if len(splits) != 1:
            raise ActionGenomeFormatError(
                object_path,
                f"video {video_id!r}",
                f"expected its objects to share one metadata 'set', got {sorted(splits)}",
            )
    return ActionGenomeAnnotations(object_classes, relationship_classes, dict(sorted(videos.items())))


def write_action_genome(annotation_dir: str | Path, annotations: ActionGenomeAnnotations) -> None:
    """Write annotations in the released layout (class lists with their quirks, both pickles, frame list).

    Person boxes are stored as float32 (as released) and object boxes as xywh; coordinates that
    float32 represents exactly (e.g. whole or half pixels) read back identical. Relations of
    invisible objects are written as ``None``, as in the released files. Keypoints are not
    synthesised: zeros of the released shapes.

    Args:
        annotation_dir: the directory to create or overwrite files in.
        annotations: what to write; its relationship classes must be Action Genome's (to know each
            relation's attention / spatial / contacting field).

    Raises:
        ValueError: a relationship name is not one of Action Genome's 26.
    """
    annotation_dir = Path(annotation_dir)
    annotation_dir.mkdir(parents=True, exist_ok=True)
    fields = [relation_field(name) for name in annotations.relationship_classes]
    write_class_file(annotation_dir / OBJECT_CLASSES_FILE, annotations.object_classes)
    write_class_file(annotation_dir / RELATIONSHIP_CLASSES_FILE, annotations.relationship_classes)

    persons: dict[str, dict[str, Any]] = {}
    objects: dict[str, list[dict[str, Any]]] = {}
    for frames in annotations.videos.values():
        for frame in frames:
            persons[frame.key] = _person_entry(frame)
            objects[frame.key] = [_object_entry(frame, obj, annotations, fields) for obj in frame.objects]
    with (annotation_dir / PERSON_BBOX_FILE).open("wb") as handle:
        pickle.dump(persons, handle, protocol=4)
    with (annotation_dir / OBJECT_BBOX_FILE).open("wb") as handle:
        pickle.dump(objects, handle, protocol=4)
    (annotation_dir / FRAME_LIST_FILE).write_text("".join(f"{key}\n" for key in persons))


def _load_dict(path: Path) -> dict:
    data = load_untrusted_pickle(path, error=ActionGenomeFormatError)
    if not isinstance(data, dict):
        raise ActionGenomeFormatError(path, "", f"expected a dict of frame keys, got {type(data).__name__}")
    return data


def _parse_person(entry: Any, path: Path, key: str) -> tuple[tuple[int, int], Box | None]:
    where = f"key {key!r}"
    if not isinstance(entry, dict):
        raise ActionGenomeFormatError(path, where, f"expected a dict, got {type(entry).__name__}")
    for field in ("bbox", "bbox_size"):
        if field not in entry:
            raise ActionGenomeFormatError(path, where, f"missing field '{field}'")
    mode = entry.get("bbox_mode", "xyxy")
    if not isinstance(mode, str) or mode != "xyxy":
        raise ActionGenomeFormatError(path, where, f"expected bbox_mode 'xyxy', got {mode!r}")
    size = entry["bbox_size"]
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(v, (int, np.integer)) and v > 0 for v in size)
    ):
        raise ActionGenomeFormatError(path, where, f"expected bbox_size (width, height) > 0, got {size!r}")
    boxes = _numeric_array(entry["bbox"])
    if boxes is None or boxes.ndim != 2 or boxes.shape[1] != 4:
        found = "a non-numeric value" if boxes is None else f"{boxes.dtype} {boxes.shape}"
        raise ActionGenomeFormatError(path, where, f"expected person 'bbox' of shape (N, 4), got {found}")
    if not np.isfinite(boxes).all():
        raise ActionGenomeFormatError(path, where, "expected finite person 'bbox', got NaN or inf")
    if boxes.shape[0] == 0:
        return (int(size[0]), int(size[1])), None
    best = 0
    if boxes.shape[0] > 1:
        scores = _numeric_array(entry.get("bbox_score", ()))
        if scores is None or scores.shape != (boxes.shape[0],) or not np.isfinite(scores).all():
            found = "a non-numeric value" if scores is None else f"shape {scores.shape}"
            raise ActionGenomeFormatError(
                path, where, f"expected finite 'bbox_score' of shape ({boxes.shape[0]},), got {found}"
            )
        best = int(np.argmax(scores))
    return (int(size[0]), int(size[1])), tuple(float(v) for v in boxes[best])


def _parse_objects(
    entries: Any, path: Path, key: str, object_index: dict[str, int], relation_index: dict[str, int]
) -> list[AGObject]:
    if not isinstance(entries, list):
        raise ActionGenomeFormatError(
            path, f"key {key!r}", f"expected a list of objects, got {type(entries).__name__}"
        )
    return [
        _parse_object(entry, path, f"key {key!r}, object {j}", object_index, relation_index)
        for j, entry in enumerate(entries)
    ]


def _parse_object(
    entry: Any, path: Path, where: str, object_index: dict[str, int], relation_index: dict[str, int]
) -> AGObject:
    if not isinstance(entry, dict):
        raise ActionGenomeFormatError(path, where, f"expected a dict, got {type(entry).__name__}")
    for field in ("class", "bbox", "visible", "metadata", *RELATION_FIELDS):
        if field not in entry:
            raise ActionGenomeFormatError(path, where, f"missing field '{field}'")
    name = entry["class"]
    class_index = object_index.get(normalise_class_name(name)) if isinstance(name, str) else None
    if class_index is None:
        raise ActionGenomeFormatError(
            path, where, f"unknown object class {name!r}; expected one of {OBJECT_CLASSES_FILE}"
        )
    visible = entry["visible"]
    if not isinstance(visible, (bool, np.bool_)):
        raise ActionGenomeFormatError(path, where, f"expected 'visible' True/False, got {visible!r}")
    box = None if entry["bbox"] is None else _xywh_to_xyxy(entry["bbox"], path, where)
    if visible and box is None:
        raise ActionGenomeFormatError(path, where, "expected a 'bbox' for a visible object, got None")
    relations: set[int] = set()
    for field in RELATION_FIELDS:
        names = entry[field]
        if names is None:
            continue
        if not isinstance(names, (list, tuple)):
            raise ActionGenomeFormatError(
                path, where, f"expected '{field}' a list of names or None, got {type(names).__name__}"
            )
        for relation in names:
            index = relation_index.get(normalise_class_name(relation)) if isinstance(relation, str) else None
            if index is None:
                raise ActionGenomeFormatError(
                    path,
                    where,
                    f"unknown relationship {relation!r} in '{field}'; "
                    f"expected one of {RELATIONSHIP_CLASSES_FILE}",
                )
            relations.add(index)
    metadata = entry["metadata"]
    split = metadata.get("set") if isinstance(metadata, dict) else None
    if not isinstance(split, str) or split not in _SPLITS:
        raise ActionGenomeFormatError(
            path, where, f"expected metadata 'set' 'train' or 'test', got {split!r}"
        )
    return AGObject(class_index, box, tuple(sorted(relations)), bool(visible), split)


def _numeric_array(value: Any) -> np.ndarray | None:
    """``value`` as an int or float array, None when it is not one (ragged, strings, bools, complex)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError):  # ragged nesting, an int beyond int64 among floats
        return None
    return array if array.dtype.kind in "iuf" else None


def _xywh_to_xyxy(value: Any, path: Path, where: str) -> Box:
    box = _numeric_array(value)
    if box is None or box.shape != (4,):
        raise ActionGenomeFormatError(path, where, f"expected 'bbox' (x, y, w, h), got {value!r}")
    box = box.astype(np.float64)
    if not np.isfinite(box).all() or box[2] < 0 or box[3] < 0:
        raise ActionGenomeFormatError(
            path, where, f"expected finite 'bbox' (x, y, w, h) with w, h >= 0, got {value!r}"
        )
    x, y, w, h = (float(v) for v in box)
    return (x, y, x + w, y + h)


def _person_entry(frame: AGFrame) -> dict[str, Any]:
    boxes = (
        np.zeros((0, 4), np.float32)
        if frame.person_box is None
        else np.asarray([frame.person_box], np.float32)
    )
    count = boxes.shape[0]
    return {
        "bbox": boxes,
        "bbox_score": np.ones(count, np.float32),
        "bbox_size": (int(frame.frame_size[0]), int(frame.frame_size[1])),
        "bbox_mode": "xyxy",
        "keypoints": np.zeros((count, _NUM_KEYPOINTS, 3), np.float32),
        "keypoints_logits": np.zeros((count, _NUM_KEYPOINTS), np.float32),
    }


def _object_entry(
    frame: AGFrame, obj: AGObject, annotations: ActionGenomeAnnotations, fields: list[str]
) -> dict[str, Any]:
    name = annotations.object_classes[obj.class_index]
    video, frame_name = frame.key.rsplit("/", 1)
    relations: dict[str, list[str] | None] = {
        field: ([] if obj.visible else None) for field in RELATION_FIELDS
    }
    if obj.visible:
        for index in obj.relation_indices:
            relations[fields[index]].append(annotations.relationship_classes[index])
    box = None
    if obj.box_xyxy is not None:
        x1, y1, x2, y2 = obj.box_xyxy
        box = (float(x1), float(y1), float(x2 - x1), float(y2 - y1))
    return {
        "class": name,
        "bbox": box,
        **relations,
        "metadata": {
            "tag": f"{video}/{name.replace('/', '_')}/{frame_name.removesuffix('.png')}",
            "set": obj.split,
        },
        "visible": bool(obj.visible),
    }
