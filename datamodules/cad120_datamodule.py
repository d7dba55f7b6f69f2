"""CAD-120 sub-activity recognition from human-object relation tokens (LaIAR's CAD-120 setting).

Reads the official layout (:mod:`datamodules.formats.cad120`; what :mod:`datamodules.synthetic.cad120`
writes) once in ``prepare_data``; every sub-activity segment of ``labeling.txt`` becomes one clip, labelled
with its sub-activity (10 classes, single-label), and the 4 folds leave one subject out: ``fold`` 0, 1, 2, 3
tests on Subject1, Subject3, Subject4, Subject5 and trains on the other three.

The tokens, their derived relations and their 40 geometric features are built by
:func:`~datamodules.cad120_tokens.cad120_tokens` (the rules are in :mod:`datamodules.cad120_tokens`).
An optional ``relation_file`` (``video_id,frame,object_index,relations`` CSV, see
:func:`~datamodules.formats.cad120.read_cad120_relations`) replaces the derived relations of the tokens it
names; naming a video, frame or object that has no token is an error.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .bad_samples import OnBadSample
from .cad120_tokens import FEATURE_DIM, cad120_tokens
from .clip_store import ClipStore
from .formats.cad120 import (
    CAD120_OBJECT_CLASSES,
    CAD120_SUB_ACTIVITIES,
    CAD120_SUBJECTS,
    CAD120Activity,
    CAD120Segment,
    find_cad120_activity_dirs,
    read_cad120_labels,
    read_cad120_relations,
    read_cad120_video,
    skeleton_file,
)
from .formats.class_names import AG_RELATIONSHIP_CLASSES
from .formats.errors import CAD120FormatError
from .litdata_store import LitdataSettings
from .parallel_parse import ParseJob, StoredSample
from .scene_graph_datamodule import SceneGraphDataset
from .store_datamodule import StoreBackend, StoreDataModule
from .store_split import StoreSplitDataset, StoreTables

__all__ = ["CAD120SegmentDataset", "CAD120DataModule"]

_STORE_LAYOUT_VERSION = 1


def _video_segments(
    folder: Path,
    info: CAD120Activity,
    segments: list[CAD120Segment],
    touch_margin: float,
    overrides: dict[tuple[int, int], tuple[int, ...]] | None,
    relation_file: Path | None,
) -> list[StoredSample]:
    """The stored samples (one a sub-activity segment) of one CAD-120 video."""
    video = read_cad120_video(folder, info, segments)
    tokens = cad120_tokens(video, touch_margin, overrides, relation_file)
    return [
        (
            {
                "name": f"{info.video_id}_{number:02d}",
                "video_id": info.video_id,
                "subject": info.subject,
                "activity": info.activity,
                "labels": np.array([segment.label], np.int64),
            },
            tokens.segment_tables(segment.start_frame, segment.end_frame),
        )
        for number, segment in enumerate(video.segments)
    ]


class CAD120SegmentDataset(SceneGraphDataset):
    """:class:`SceneGraphDataset` over a CAD-120 store: the same grids, ``labels`` a 0-d long class index.

    The store keeps each label as a length-1 row (the parent reads ``labels`` as an array a sample).
    """

    def sample(self, index: int, tables: StoreTables) -> dict[str, Any]:
        sample = super().sample(index, tables)
        sample["labels"] = sample["labels"].reshape(()).to(torch.long)
        return sample


class CAD120DataModule(StoreDataModule):
    """CAD-120 sub-activity recognition (10 classes, leave-one-subject-out) from relation tokens (LaIAR).

    Batches are :class:`~lvlm_var.batches.SceneGraphBatch`: features ``(B, T, K, 40)`` float32 (see
    :mod:`datamodules.cad120_tokens`), ``boxes`` ``(B, T, K, 8)``, ``object_class`` ``(B, T, K)`` long
    (indices in :attr:`object_classes`), ``relations`` ``(B, T, K, 26)``, ``mask`` ``(B, T, K)`` bool,
    ``frame_index`` ``(B, T)`` (CAD-120 frame numbers), ``labels`` ``(B,)`` long sub-activity index.

    Args:
        data_dir: the folder holding ``SubjectN_annotations/`` (or one level above them; see
            :func:`~datamodules.formats.cad120.find_cad120_activity_dirs`); the store cache goes under it.
        fold: 0-3, the held-out test subject (Subject1, Subject3, Subject4, Subject5).
        frames_per_clip: T, frames sampled from every segment (random segment-based in training, uniform
            otherwise; a short segment repeats frames).
        max_pairs: K, tokens kept per frame (objects in file order).
        batch_size: global batch size (divided over the processes; must divide by the world size).
        num_workers: DataLoader workers per process.
        pin_memory: DataLoader ``pin_memory``.
        on_bad_sample: ``"raise"`` or ``"skip"`` for a video whose skeleton or object files are broken or
            missing, or whose segments do not fit them (``activityLabel.txt``, ``labeling.txt`` and the
            relation file always raise).
        relation_file: optional CSV whose relations replace the derived ones (see the module docstring).
        touch_margin: pixels within which a hand near a box counts as ``touching``.
        cache_dir: where the store lives; default ``<data_dir>/.cache``.
        val_fraction: 0 validates on the held-out subject (the usual CAD-120 protocol); in ``(0, 1)`` holds
            out that fraction of the training segments instead.
        store, store_uri, build_workers, litdata: the store backend and its build
            (:class:`~datamodules.store_datamodule.StoreDataModule`).

    Raises:
        ValueError: ``fold`` outside 0-3, ``frames_per_clip`` or ``max_pairs`` below 1, a negative
            ``touch_margin``, or an invalid shared argument.
    """

    def __init__(
        self,
        data_dir: str | Path = "data/synthetic/cad120",
        fold: int = 0,
        frames_per_clip: int = 16,
        max_pairs: int = 5,
        batch_size: int = 32,
        num_workers: int = 0,
        pin_memory: bool = False,
        on_bad_sample: OnBadSample = "raise",
        relation_file: str | Path | None = None,
        touch_margin: float = 20.0,
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
        if fold not in range(len(CAD120_SUBJECTS)):
            raise ValueError(
                f"fold must be 0-{len(CAD120_SUBJECTS) - 1} (the held-out subject: "
                f"{', '.join(f'{i} = Subject{s}' for i, s in enumerate(CAD120_SUBJECTS))}), got {fold}"
            )
        if frames_per_clip < 1:
            raise ValueError(f"frames_per_clip must be >= 1, got {frames_per_clip}")
        if max_pairs < 1:
            raise ValueError(f"max_pairs must be >= 1, got {max_pairs}")
        if not touch_margin >= 0:
            raise ValueError(f"touch_margin must be >= 0 pixels, got {touch_margin}")
        self.save_hyperparameters()
        self.fold = fold
        self.frames_per_clip = frames_per_clip
        self.max_pairs = max_pairs
        self.relation_file = Path(relation_file) if relation_file is not None else None
        self.touch_margin = float(touch_margin)

    @property
    def test_subject(self) -> int:
        """The held-out subject of this fold (1, 3, 4 or 5)."""
        return CAD120_SUBJECTS[self.fold]

    @property
    def store_name(self) -> str:
        return "cad120"

    @property
    def source_description(self) -> str:
        return "CAD-120 videos (SubjectN_annotations/<activity>/ label, skeleton and object files)"

    @property
    def num_classes(self) -> int:
        return len(CAD120_SUB_ACTIVITIES)

    @property
    def class_names(self) -> list[str]:
        """The 10 sub-activities in label order."""
        return list(CAD120_SUB_ACTIVITIES)

    @property
    def object_classes(self) -> list[str]:
        """The object vocabulary ``object_class`` indexes (36 Action Genome classes, microwave, remote)."""
        return list(CAD120_OBJECT_CLASSES)

    @property
    def relationship_classes(self) -> list[str]:
        """The 26 Action Genome relationships (the ``R`` channels of ``relations``)."""
        return list(AG_RELATIONSHIP_CLASSES)

    @property
    def feature_dim(self) -> int:
        """F, the size of the geometric slot features (40)."""
        return FEATURE_DIM

    def _source_files(self) -> list[Path]:
        files = [
            path
            for folder in find_cad120_activity_dirs(self.data_dir)
            for path in sorted(folder.glob("*.txt"))
            if path.is_file()  # a dangling or looping symlink is no source (its video fails on reading)
        ]
        if self.relation_file is not None:
            if not self.relation_file.is_file():
                raise FileNotFoundError(f"relation_file {self.relation_file} does not exist")
            files.append(self.relation_file)
        return files

    def _store_config(self) -> dict[str, Any]:
        return {
            "layout_version": _STORE_LAYOUT_VERSION,
            "source": "cad120",
            "touch_margin": self.touch_margin,
            "relation_file": str(self.relation_file) if self.relation_file is not None else None,
        }

    def _parse_jobs(self, files: list[Path]) -> tuple[list[ParseJob], dict[str, Any]]:
        overrides: dict[str, dict[tuple[int, int], tuple[int, ...]]] = {}
        if self.relation_file is not None:
            for (video_id, frame, k), indices in read_cad120_relations(
                self.relation_file, AG_RELATIONSHIP_CLASSES
            ).items():
                overrides.setdefault(video_id, {})[frame, k] = indices
        known_videos: set[str] = set()
        jobs = []
        for folder in find_cad120_activity_dirs(self.data_dir):
            infos, segments = read_cad120_labels(folder)
            for info in infos:
                known_videos.add(info.video_id)
                video_segments = partial(
                    _video_segments,
                    folder,
                    info,
                    segments[info.video_id],
                    self.touch_margin,
                    overrides.get(info.video_id),
                    self.relation_file,
                )
                jobs.append(ParseJob(skeleton_file(folder, info.video_id), video_segments))
        unknown = sorted(set(overrides) - known_videos)
        if unknown:
            raise CAD120FormatError(
                self.relation_file, "", f"video {unknown[0]!r} is not listed in any activityLabel.txt"
            )
        return jobs, {
            "class_names": self.class_names,
            "object_classes": self.object_classes,
            "relationship_classes": self.relationship_classes,
        }

    def _summarize_store(self, metadata: dict[str, np.ndarray]) -> dict[str, Any]:
        counts = self._class_counts(metadata, np.arange(len(metadata["labels"])))
        return {"segments_per_class": counts.tolist()}

    def _class_counts(self, metadata: dict[str, np.ndarray], indices: np.ndarray) -> np.ndarray:
        return np.bincount(metadata["labels"][indices, 0], minlength=self.num_classes)

    def _split_of_samples(self, store: ClipStore) -> np.ndarray:
        return np.where(store.metadata["subject"] == self.test_subject, "test", "train")

    def _build_datasets(
        self, store: ClipStore, split_indices: dict[str, np.ndarray]
    ) -> dict[str, StoreSplitDataset]:
        return {
            split: CAD120SegmentDataset(
                store, indices, self.frames_per_clip, self.max_pairs, train=split == "train"
            )
            for split, indices in split_indices.items()
        }

    def describe(self) -> dict[str, Any]:
        """:meth:`StoreDataModule.describe` plus the fold, the vocabularies and the feature size."""
        return {
            **super().describe(),
            "fold": self.fold,
            "test_subject": f"Subject{self.test_subject}",
            "object_classes": self.object_classes,
            "relationship_classes": self.relationship_classes,
            "feature_dim": self.feature_dim,
        }
