"""Action Genome scene graphs + Charades labels + box features -> :class:`~lvlm_var.batches.SceneGraphBatch`.

Expected layout (what :mod:`datamodules.synthetic.scene_graphs` writes, and the released data sets)::

    <data_dir>/action_genome/annotations/  object_classes.txt, relationship_classes.txt,
                                           person_bbox.pkl, object_bbox_and_relationship.pkl
    <data_dir>/action_genome/features/     <VIDEO_ID>.npz box features, one a video
    <data_dir>/charades/                   Charades_v1_train.csv, Charades_v1_test.csv,
                                           Charades_v1_classes.txt

(``ag_dir`` replaces ``<data_dir>/action_genome``, ``charades_dir`` replaces ``<data_dir>/charades``.)

The join, done once in ``prepare_data``: a video is used when it has Action Genome annotations and a row
in one of the Charades csvs, whose file (train or test) gives its split and whose actions give its
multi-hot label over the Charades classes. Its frames are the frames of its feature file (a subset of
the annotated frames). In every frame with a person box, each *visible* object with a box becomes one
human-object pair token: the person feature, the object's feature slot (matched by object class, as
the feature format specifies), the union feature, both boxes divided by the frame size, the object
class and the multi-hot of its relationships. ``__getitem__`` samples ``frames_per_video`` frames
(random segment-based sampling for training, uniform for evaluation, as in LaIAR section 3.3) and keeps
the first ``max_pairs`` pairs of each frame in annotation order; padded slots are zero and ``mask`` False.
"""

from __future__ import annotations

from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .bad_samples import OnBadSample
from .clip_store import ClipStore
from .formats.action_genome import (
    OBJECT_BBOX_FILE,
    OBJECT_CLASSES_FILE,
    PERSON_BBOX_FILE,
    RELATIONSHIP_CLASSES_FILE,
    AGFrame,
    read_action_genome,
)
from .formats.box_features import BoxFeatures, box_feature_path, read_box_features
from .formats.charades import read_charades_classes, read_charades_csv
from .formats.class_names import AG_OBJECT_CLASSES, AG_RELATIONSHIP_CLASSES
from .formats.errors import BoxFeatureFormatError
from .frame_sampling import random_frame_indices, uniform_frame_indices
from .litdata_store import LitdataSettings
from .parallel_parse import ParseJob, StoredSample
from .store_datamodule import StoreBackend, StoreDataModule
from .store_split import StoreSplitDataset, StoreTables

__all__ = ["ActionGenomeDataModule", "SceneGraphDataset"]

_CHARADES_CSV = {"train": "Charades_v1_train.csv", "test": "Charades_v1_test.csv"}
_CHARADES_CLASSES = "Charades_v1_classes.txt"
_STORE_LAYOUT_VERSION = 1


class SceneGraphDataset(StoreSplitDataset):
    """Videos of a scene-graph store as fixed-size ``(T, K)`` grids of human-object pair tokens.

    Args:
        store: the store written by :class:`ActionGenomeDataModule`.
        indices: ``(N,)`` store indices of this split's videos.
        frames_per_video: T.
        max_pairs: K.
        train: random segment-based frame sampling if True, uniform otherwise.
    """

    def __init__(
        self, store: ClipStore, indices: np.ndarray, frames_per_video: int, max_pairs: int, train: bool
    ) -> None:
        super().__init__(store, indices)
        self.frames_per_video = frames_per_video
        self.max_pairs = max_pairs
        self.train = train

    def sample(self, index: int, tables: StoreTables) -> dict[str, Any]:
        """One video: the per-sample slice of a :class:`~lvlm_var.batches.SceneGraphBatch` (no batch axis)."""
        frames, pairs = tables["frames"], tables["pairs"]
        num_frames = len(frames["frame_index"])
        if self.train:
            rng = np.random.default_rng(int(torch.randint(2**62, ())))  # seeded per worker by torch
            chosen = random_frame_indices(num_frames, self.frames_per_video, rng)
        else:
            chosen = uniform_frame_indices(num_frames, self.frames_per_video)
        starts = np.searchsorted(pairs["frame"], chosen, side="left")
        stops = np.minimum(np.searchsorted(pairs["frame"], chosen, side="right"), starts + self.max_pairs)

        grid = (self.frames_per_video, self.max_pairs)
        feature_dim = frames["person_feature"].shape[1]
        subject = np.zeros((*grid, feature_dim), np.float32)
        obj = np.zeros((*grid, feature_dim), np.float32)
        union = np.zeros((*grid, feature_dim), np.float32)
        boxes = np.zeros((*grid, 8), np.float32)
        object_class = np.zeros(grid, np.int64)
        relations = np.zeros((*grid, pairs["relations"].shape[1]), np.float32)
        mask = np.zeros(grid, bool)
        for t, (frame, start, stop) in enumerate(zip(chosen, starts, stops, strict=True)):
            count = stop - start
            subject[t, :count] = frames["person_feature"][frame]
            obj[t, :count] = pairs["object_feature"][start:stop]
            union[t, :count] = pairs["union_feature"][start:stop]
            boxes[t, :count] = pairs["boxes"][start:stop]
            object_class[t, :count] = pairs["object_class"][start:stop]
            relations[t, :count] = pairs["relations"][start:stop]
            mask[t, :count] = True
        return {
            "video_id": str(self.store.metadata["name"][index]),
            "subject_feature": torch.from_numpy(subject),
            "object_feature": torch.from_numpy(obj),
            "union_feature": torch.from_numpy(union),
            "boxes": torch.from_numpy(boxes),
            "object_class": torch.from_numpy(object_class),
            "relations": torch.from_numpy(relations),
            "mask": torch.from_numpy(mask),
            "frame_index": torch.from_numpy(np.asarray(frames["frame_index"][chosen], dtype=np.int64)),
            "labels": torch.from_numpy(self.store.metadata["labels"][index].astype(np.float32)),
        }


class ActionGenomeDataModule(StoreDataModule):
    """Charades multi-label action recognition from Action Genome human-object relation tokens (LaIAR).

    Batches are :class:`~lvlm_var.batches.SceneGraphBatch`: features ``(B, T, K, F)`` float32,
    ``boxes`` ``(B, T, K, 8)``, ``object_class`` ``(B, T, K)`` long (0 in padded slots), ``relations``
    ``(B, T, K, 26)``, ``mask`` ``(B, T, K)`` bool, ``frame_index`` ``(B, T)``, ``labels`` ``(B, C)`` float
    multi-hot. See the module docstring for the file layout and the join.

    Args:
        data_dir: root holding ``action_genome/`` and ``charades/``; the store cache goes under it.
        ag_dir: the Action Genome directory (``annotations/``, ``features/``); default
            ``<data_dir>/action_genome``.
        charades_dir: the directory of the Charades csvs and class list; default ``<data_dir>/charades``.
        features_dir: the box-feature ``.npz`` directory; default ``<ag_dir>/features``. Point it at
            features of ground-truth boxes (LaIAR's "oracle" setting) or of detected boxes ("RGB").
        frames_per_video: T, frames sampled from every video.
        max_pairs: K, human-object pairs kept per frame.
        batch_size: global batch size (divided over the processes; must divide by the world size).
        num_workers: DataLoader workers per process.
        pin_memory: DataLoader ``pin_memory``.
        on_bad_sample: ``"raise"`` or ``"skip"`` for a video whose feature file is broken, missing or does not
            match its annotations (the annotation pickles and csvs are whole-data-set files and always raise).
        cache_dir: where the store lives; default ``<data_dir>/.cache``.
        val_fraction: 0 validates on the Charades test split (the LaIAR protocol reports the test/"validation"
            set); in ``(0, 1)`` holds out that fraction of the training videos instead.
        store, store_uri, build_workers, litdata: the store backend and its build
            (:class:`~datamodules.store_datamodule.StoreDataModule`).

    Raises:
        ValueError: ``frames_per_video`` or ``max_pairs`` below 1, or an invalid shared argument.
    """

    def __init__(
        self,
        data_dir: str | Path = "data/synthetic",
        ag_dir: str | Path | None = None,
        charades_dir: str | Path | None = None,
        features_dir: str | Path | None = None,
        frames_per_video: int = 16,
        max_pairs: int = 8,
        batch_size: int = 32,
        num_workers: int = 0,
        pin_memory: bool = False,
        on_bad_sample: OnBadSample = "raise",
        cache_dir: str | Path | None = None,
        val_fraction: float = 0.0,
        store: StoreBackend = "mmap",
        store_uri: str | None = None,
        build_workers: int | None = None,
        litdata: LitdataSettings | None = None,
    ) -> None:
        super().__init__(
            data_dir, batch_size, num_workers, pin_memory, on_bad_sample, cache_dir, val_fraction,
            store=store, store_uri=store_uri, build_workers=build_workers, litdata=litdata
        )
        if frames_per_video < 1:
            raise ValueError(f"frames_per_video must be >= 1, got {frames_per_video}")
        if max_pairs < 1:
            raise ValueError(f"max_pairs must be >= 1, got {max_pairs}")
        self.save_hyperparameters()
        self.ag_dir = Path(ag_dir) if ag_dir is not None else self.data_dir / "action_genome"
        self.charades_dir = Path(charades_dir) if charades_dir is not None else self.data_dir / "charades"
        self._features_dir = Path(features_dir) if features_dir is not None else self.ag_dir / "features"
        self.frames_per_video = frames_per_video
        self.max_pairs = max_pairs

    @property
    def annotation_dir(self) -> Path:
        return self.ag_dir / "annotations"

    @property
    def features_dir(self) -> Path:
        return self._features_dir

    @property
    def store_name(self) -> str:
        # One store per feature set, so oracle-box and detected-box features can be used in turn.
        return f"action-genome-{self.features_dir.name}"

    @property
    def source_description(self) -> str:
        return "Action Genome videos (annotations + box-feature .npz files)"

    @cached_property
    def class_names(self) -> list[str]:
        """The Charades action names in label order (read from ``Charades_v1_classes.txt``)."""
        return [c.name for c in read_charades_classes(self.charades_dir / _CHARADES_CLASSES)]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def feature_dim(self) -> int:
        """F, the box-feature size: the store's once set up, else read from the first feature file."""
        if self.store is not None:
            return int(self.store.manifest["tables"]["frames"]["person_feature"]["row_shape"][0])
        first = next(iter(sorted(self.features_dir.glob("*.npz"))), None)
        if first is None:
            raise FileNotFoundError(f"no box-feature .npz file in {self.features_dir}")
        return read_box_features(box_feature_path(self.features_dir, first.stem)).feature_dim

    @property
    def object_classes(self) -> list[str]:
        """Action Genome object names by index: the data's class file once set up, else the official 36."""
        return (
            list(self.store.manifest["extra"]["object_classes"])
            if self.store is not None
            else list(AG_OBJECT_CLASSES)
        )

    @property
    def relationship_classes(self) -> list[str]:
        """Action Genome relationship names by index: the store's once set up, else the official 26."""
        if self.store is not None:
            return list(self.store.manifest["extra"]["relationship_classes"])
        return list(AG_RELATIONSHIP_CLASSES)

    def _source_files(self) -> list[Path]:
        annotations = [
            self.annotation_dir / name
            for name in (OBJECT_CLASSES_FILE, RELATIONSHIP_CLASSES_FILE, PERSON_BBOX_FILE, OBJECT_BBOX_FILE)
        ]
        charades = [self.charades_dir / name for name in (*_CHARADES_CSV.values(), _CHARADES_CLASSES)]
        missing = [str(path) for path in annotations + charades if not path.is_file()]
        if missing:
            raise FileNotFoundError(f"missing Action Genome / Charades file(s): {', '.join(missing)}")
        # is_file(): a dangling or looping symlink is no source (a video that names it fails on reading)
        return annotations + charades + sorted(p for p in self.features_dir.glob("*.npz") if p.is_file())

    def _store_config(self) -> dict[str, Any]:
        return {"layout_version": _STORE_LAYOUT_VERSION, "source": "action_genome"}

    def _parse_jobs(self, files: list[Path]) -> tuple[list[ParseJob], dict[str, Any]]:
        annotations = read_action_genome(self.annotation_dir)
        classes = read_charades_classes(self.charades_dir / _CHARADES_CLASSES)
        labelled: dict[str, tuple[str, np.ndarray]] = {}
        for split, csv_name in _CHARADES_CSV.items():
            for video in read_charades_csv(self.charades_dir / csv_name, classes):
                multi_hot = np.zeros(len(classes), np.uint8)
                multi_hot[[action.index for action in video.actions]] = 1
                labelled[video.id] = (split, multi_hot)
        num_relations = len(annotations.relationship_classes)
        jobs = [
            ParseJob(
                path := box_feature_path(self.features_dir, video_id),
                partial(_stored_video, path, frames, num_relations, video_id, *labelled[video_id]),
            )
            for video_id, frames in annotations.videos.items()
            if video_id in labelled
        ]
        return jobs, {
            "class_names": [c.name for c in classes],
            "object_classes": annotations.object_classes,
            "relationship_classes": annotations.relationship_classes,
            "annotated_videos_without_charades_row": sorted(set(annotations.videos) - set(labelled)),
            "charades_videos_without_annotations": len(set(labelled) - set(annotations.videos)),
        }

    def _split_of_samples(self, store: ClipStore) -> np.ndarray:
        return store.metadata["split"]

    def _class_counts(self, metadata: dict[str, np.ndarray], indices: np.ndarray) -> np.ndarray:
        return metadata["labels"][indices].sum(axis=0, dtype=np.int64)

    def _build_datasets(
        self, store: ClipStore, split_indices: dict[str, np.ndarray]
    ) -> dict[str, StoreSplitDataset]:
        return {
            split: SceneGraphDataset(
                store, indices, self.frames_per_video, self.max_pairs, train=split == "train"
            )
            for split, indices in split_indices.items()
        }

    def describe(self) -> dict[str, Any]:
        """:meth:`StoreDataModule.describe` plus the object and relationship vocabularies."""
        return {
            **super().describe(),
            "object_classes": self.object_classes,
            "relationship_classes": self.relationship_classes,
        }


def _stored_video(
    path: Path, frames: list[AGFrame], num_relations: int, video_id: str, split: str, multi_hot: np.ndarray
) -> list[StoredSample]:
    metadata = {"name": video_id, "split": split, "labels": multi_hot}
    return [(metadata, _join_video(path, frames, num_relations))]


def _join_video(path: Path, frames: list[AGFrame], num_relations: int) -> dict[str, dict[str, np.ndarray]]:
    """One video's store rows: ``frames`` (frame number, person feature) and ``pairs`` (one per token).

    Raises:
        BoxFeatureFormatError: the feature file is missing, empty, has a frame that is not annotated, or
            lacks the slot of an annotated visible object.
    """
    if not path.is_file():
        raise BoxFeatureFormatError(
            path, "", "missing: the video has Action Genome annotations but no box features"
        )
    features = read_box_features(path)
    if not features.frames:
        raise BoxFeatureFormatError(path, "'frames'", "expected at least one frame, got none")
    annotated = {frame.key: frame for frame in frames}
    frame_numbers, pair_frames, object_rows, union_rows, boxes, classes, relations = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for t, key in enumerate(features.frames):
        frame = annotated.get(key)
        if frame is None:
            raise BoxFeatureFormatError(
                path, f"frame {t}", f"key {key!r} is not an annotated frame of the video"
            )
        frame_numbers.append(frame.frame_index)
        if frame.person_box is None:
            continue
        slot_of_class = {int(c): k for k, c in enumerate(features.object_class[t]) if c >= 0}
        width, height = frame.frame_size
        scale = np.array([width, height, width, height], np.float32)
        for obj in frame.objects:
            if not obj.visible or obj.box_xyxy is None:
                continue
            slot = slot_of_class.get(obj.class_index)
            if slot is None:
                raise BoxFeatureFormatError(
                    path,
                    f"frame {t}",
                    f"no feature slot for object class {obj.class_index} annotated in {key!r}",
                )
            pair_frames.append(t)
            object_rows.append(features.object_feature[t, slot])
            union_rows.append(features.union_feature[t, slot])
            boxes.append(
                np.concatenate(
                    [
                        np.asarray(frame.person_box, np.float32) / scale,
                        np.asarray(obj.box_xyxy, np.float32) / scale,
                    ]
                )
            )
            classes.append(obj.class_index)
            multi_hot = np.zeros(num_relations, np.uint8)
            multi_hot[list(obj.relation_indices)] = 1
            relations.append(multi_hot)
    return {
        "frames": {
            "frame_index": np.asarray(frame_numbers, np.int64),
            "person_feature": features.person_feature,
        },
        "pairs": {
            "frame": np.asarray(pair_frames, np.int32),
            "object_feature": _stack(object_rows, features, (features.feature_dim,)),
            "union_feature": _stack(union_rows, features, (features.feature_dim,)),
            "boxes": np.asarray(boxes, np.float32).reshape(-1, 8),
            "object_class": np.asarray(classes, np.int16),
            "relations": np.asarray(relations, np.uint8).reshape(-1, num_relations),
        },
    }


def _stack(rows: list[np.ndarray], features: BoxFeatures, row_shape: tuple[int, ...]) -> np.ndarray:
    if rows:
        return np.stack(rows)
    return np.zeros((0, *row_shape), features.person_feature.dtype)
