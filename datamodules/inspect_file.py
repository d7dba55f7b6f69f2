"""``lvlm-var inspect PATH``: say what a data file holds, through the same readers training uses.

It lives beside the data modules, not in ``formats/``, because an NTU file is described as the clip
training sees: after the body selection (:mod:`datamodules.body_selection`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from .body_selection import load_ntu_clip
from .formats.action_genome import OBJECT_BBOX_FILE, PERSON_BBOX_FILE, read_action_genome
from .formats.box_features import read_box_features
from .formats.cad120 import (
    ACTIVITY_LABEL_FILE,
    CAD120_JOINTS,
    LABELING_FILE,
    OBJECT_FILE_PATTERN,
    RELATION_FILE_HEADER,
    read_cad120_activity,
    read_cad120_activity_labels,
    read_cad120_labeling,
    read_cad120_objects,
    read_cad120_relations,
    read_cad120_skeleton,
)
from .formats.charades import read_charades_classes, read_charades_csv
from .formats.class_names import AG_RELATIONSHIP_CLASSES
from .formats.errors import DataFormatError
from .formats.ntu_skeleton import parse_ntu_name, read_ntu_skeleton
from .formats.nwucla import read_nwucla
from .formats.pyskl import read_pyskl
from .formats.skeleton_clip import SkeletonClip

__all__ = ["describe_file"]


def _describe_clip(clip: SkeletonClip) -> list[str]:
    joints = clip.joints
    present = np.abs(joints).sum(axis=(2, 3)) > 0 if joints.size else np.zeros((0, 0), bool)
    return [
        f"  clip: {clip.num_frames} frames x {joints.shape[1]} bodies x {joints.shape[2]} joints x xyz",
        f"  label {clip.label}, subject {clip.subject}, view {clip.view}, setup {clip.setup}",
        f"  frames with a body per kept body: {present.sum(axis=0).tolist() if present.size else []}",
        f"  xyz range: {joints.min():.3f} .. {joints.max():.3f} m" if joints.size else "  no joints",
    ]


def _describe_ntu(path: Path) -> list[str]:
    name = parse_ntu_name(path)
    skeleton = read_ntu_skeleton(path)
    lines = [
        f"NTU RGB+D skeleton {path.name}: setup {name.setup}, camera {name.camera}, performer "
        f"{name.performer}, replication {name.replication}, action A{name.action:03d}",
        f"  {skeleton.num_frames} frames, {len(skeleton.bodies)} body entries, "
        f"{len({b.body_id for b in skeleton.bodies})} distinct bodies, body count per frame "
        f"{dict(sorted(Counter(skeleton.bodies_per_frame.tolist()).items()))}",
    ]
    if skeleton.num_frames and len(skeleton.bodies):
        lines += _describe_clip(load_ntu_clip(path))
    return lines


def _describe_pickle(path: Path) -> list[str]:
    if path.name in (PERSON_BBOX_FILE, OBJECT_BBOX_FILE):
        annotations = read_action_genome(path.parent)
        frames = sum(len(v) for v in annotations.videos.values())
        objects = Counter(
            annotations.object_classes[o.class_index]
            for video in annotations.videos.values() for f in video for o in f.objects
        )
        return [
            f"Action Genome annotations in {path.parent}: {len(annotations.videos)} videos "
            f"({len(annotations.video_ids('train'))} train, {len(annotations.video_ids('test'))} test), "
            f"{frames} frames",
            f"  {len(annotations.object_classes)} object classes, "
            f"{len(annotations.relationship_classes)} relationship classes",
            f"  most frequent objects: {objects.most_common(5)}",
        ]
    annotations = read_pyskl(path)
    lengths = [clip.num_frames for clip in annotations.clips]
    return [
        f"pyskl annotations {path.name}: {len(annotations.clips)} clips, "
        f"{len({c.label for c in annotations.clips})} classes, frames {min(lengths, default=0)}-"
        f"{max(lengths, default=0)}",
        "  splits: " + ", ".join(f"{k} ({len(v)})" for k, v in annotations.split.items()),
    ]


def _describe_csv(path: Path) -> list[str]:
    classes_path = path.with_name("Charades_v1_classes.txt")
    classes = read_charades_classes(classes_path) if classes_path.exists() else None
    videos = read_charades_csv(path, classes)
    actions = [a for v in videos for a in v.actions]
    return [
        f"Charades csv {path.name}: {len(videos)} videos, {len(actions)} localised actions, "
        f"{len({a.class_id for a in actions})} distinct classes"
        + (f" (checked against {classes_path.name})" if classes else ""),
        f"  actions per video: {len(actions) / max(len(videos), 1):.2f}",
    ]


def _describe_npz(path: Path) -> list[str]:
    features = read_box_features(path)
    pairs = (features.object_class >= 0).sum(axis=1)
    return [
        f"box features of video {features.video_id}: {len(features.frames)} frames, up to "
        f"{features.object_class.shape[1]} objects per frame, F = {features.feature_dim} "
        f"({features.person_feature.dtype})",
        f"  objects per frame: {pairs.min(initial=0)}-{pairs.max(initial=0)}",
    ]


def _counts(values: list[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(Counter(values).items()))


def _is_cad120_relation_file(path: Path) -> bool:
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.readline(len(RELATION_FILE_HEADER) + 2).strip() == RELATION_FILE_HEADER.encode()


def _describe_cad120(path: Path) -> list[str]:
    """A CAD-120 activity folder, label file, object file, relation csv or (any other ``.txt``) skeleton."""
    if path.is_dir():
        videos = read_cad120_activity(path)
        segments = [s for v in videos for s in v.segments]
        frames = sum(v.skeleton.num_frames for v in videos)
        return [
            f"CAD-120 activity folder {path.name}: {len(videos)} videos, {len(segments)} segments, {frames} "
            "skeleton frames (every file read and checked against the others)",
            f"  sub-activities: {_counts([s.sub_activity for s in segments])}",
        ]
    if path.name == ACTIVITY_LABEL_FILE:
        infos = read_cad120_activity_labels(path)
        return [
            f"CAD-120 {path.name}: {len(infos)} videos, activities: {_counts([i.activity for i in infos])}",
            f"  subjects: {_counts([f'Subject{i.subject}' for i in infos])}",
            f"  objects: {_counts([t for i in infos for t in i.object_types])}",
        ]
    if path.name == LABELING_FILE:
        segments = read_cad120_labeling(path)
        lengths = [s.end_frame - s.start_frame + 1 for s in segments]
        return [
            f"CAD-120 {path.name}: {len(segments)} segments of {len({s.video_id for s in segments})} videos, "
            f"{min(lengths, default=0)}-{max(lengths, default=0)} frames each",
            f"  sub-activities: {_counts([s.sub_activity for s in segments])}",
        ]
    if path.suffix.lower() == ".csv":
        relations = read_cad120_relations(path, AG_RELATIONSHIP_CLASSES)
        names = [AG_RELATIONSHIP_CLASSES[i] for indices in relations.values() for i in indices]
        return [
            f"CAD-120 relation file {path.name}: {len(relations)} tokens of "
            f"{len({video for video, _, _ in relations})} videos",
            f"  most frequent relations: {Counter(names).most_common(5)}",
        ]
    match = OBJECT_FILE_PATTERN.fullmatch(path.name)
    if match is not None:
        track = read_cad120_objects(path)
        visible = (track.boxes[:, 2] > track.boxes[:, 0]) & (track.boxes[:, 3] > track.boxes[:, 1])
        span = f"{track.frames[0]}-{track.frames[-1]}" if len(track.frames) else "none"
        return [
            f"CAD-120 object track {path.name}: video {match['video']}, object {match['k']} (id column "
            f"{track.object_id}), {len(track.frames)} frames ({span}), visible in {int(visible.sum())}",
            f"  {track.transforms.shape[1]} tracker transform values a line",
        ]
    skeleton = read_cad120_skeleton(path)
    tracked = skeleton.confidence > 0
    span = f"{skeleton.frames[0]}-{skeleton.frames[-1]}" if skeleton.num_frames else "none"
    return [
        f"CAD-120 skeleton {path.name}: {skeleton.num_frames} frames ({span}) x {len(CAD120_JOINTS)} joints",
        f"  tracked joint positions: {tracked.mean() if tracked.size else 0:.1%}",
        f"  xyz range: {skeleton.joints.min():.1f} .. {skeleton.joints.max():.1f} mm"
        if skeleton.num_frames
        else "  no frames",
    ]


def describe_file(path: str | Path) -> str:
    """Describe a data file: what it holds, read through the real readers.

    Args:
        path: a ``.skeleton``, NW-UCLA ``.json``, pyskl or Action Genome ``.pkl``, Charades ``.csv``,
            Charades class ``.txt`` or box-feature ``.npz`` file; or a CAD-120 activity folder,
            ``activityLabel.txt``, ``labeling.txt``, ``<id>_obj<k>.txt``, relation ``.csv`` (known by its
            header) or skeleton (any other ``.txt``).

    Returns:
        A few lines of text.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DataFormatError: the file is bad (the subclass names the format, the place and the problem),
            or its kind is unknown.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if (path.is_dir() and (path / ACTIVITY_LABEL_FILE).is_file()) or _is_cad120_relation_file(path):
        lines = _describe_cad120(path)
    elif suffix == ".skeleton":
        lines = _describe_ntu(path)
    elif suffix == ".json":
        clip = read_nwucla(path)
        lines = [f"NW-UCLA sequence {clip.name}", *_describe_clip(clip)]
    elif suffix == ".pkl":
        lines = _describe_pickle(path)
    elif suffix == ".csv":
        lines = _describe_csv(path)
    elif suffix == ".txt" and path.name.startswith("Charades"):
        classes = read_charades_classes(path)
        lines = [
            f"Charades class list {path.name}: {len(classes)} classes, "
            f"{classes[0].code} {classes[0].name!r} .. {classes[-1].code} {classes[-1].name!r}"
        ]
    elif suffix == ".txt":
        lines = _describe_cad120(path)
    elif suffix == ".npz":
        lines = _describe_npz(path)
    else:
        raise DataFormatError(
            path,
            "",
            "unknown kind of data file; expected .skeleton, .json (NW-UCLA), .pkl (pyskl or "
            "Action Genome), .csv / Charades_v1_classes.txt (Charades), .npz (box features), or a CAD-120 "
            ".txt (activityLabel.txt, labeling.txt, <id>.txt, <id>_obj<k>.txt), relation .csv or activity "
            "folder",
        )
    return "\n".join(lines)
