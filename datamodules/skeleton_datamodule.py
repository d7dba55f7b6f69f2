"""Skeleton action recognition (NTU RGB+D 60/120, NW-UCLA) -> :class:`~lvlm_var.batches.SkeletonBatch`.

One DataModule for every skeleton benchmark: the benchmark name picks the protocol
(:mod:`datamodules.formats.skeleton_benchmarks`) and, with ``source="auto"``, the file format; the joint
layout (25 or 20 joints) is read from the data. Sources:

- ``"ntu"``: NTU RGB+D ``*.skeleton`` files anywhere under ``data_dir`` (e.g. ``nturgb+d_skeletons/``);
  the two most active bodies are kept (:func:`~datamodules.body_selection.load_ntu_clip`);
- ``"nwucla"``: NW-UCLA ``aXX_sYY_eZZ_vWW.json`` files anywhere under ``data_dir`` (e.g. ``all_sqe/``);
- ``"pyskl"``: a pyskl ``ntu60_3danno.pkl`` / ``ntu120_3danno.pkl`` given as ``data_dir`` itself.

``prepare_data`` stores every readable clip once (frames without any tracked body removed, bodies
padded or cut to M=2), whatever the benchmark, so switching between e.g. ``ntu120-xsub`` and
``ntu120-xset`` reuses the store; samples on the official missing-skeleton list are never stored.
``__getitem__`` view-normalises the clip (:func:`~datamodules.skeleton_transforms.normalize_view`),
samples ``clip_length`` frames (random segment-based for training, uniform for evaluation; a clip of any
length, even one frame, becomes ``clip_length`` frames) and, for training only, augments it.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_warn

from lvlm_var.skeleton_layout import SkeletonLayout, layout_for_num_joints

from .bad_samples import OnBadSample
from .body_selection import BodySelectionConfig, load_ntu_clip
from .clip_store import ClipStore
from .formats.errors import DataFormatError, NWUCLAFormatError, PysklFormatError, SkeletonFormatError
from .formats.ntu_skeleton import NTU_NUM_JOINTS
from .formats.nwucla import NWUCLA_NUM_JOINTS, read_nwucla
from .formats.pyskl import read_pyskl
from .formats.skeleton_benchmarks import get_skeleton_benchmark, read_missing_skeletons
from .formats.skeleton_clip import SkeletonClip
from .frame_sampling import random_frame_indices, uniform_frame_indices
from .litdata_store import LitdataSettings
from .parallel_parse import ParseJob, StoredSample
from .skeleton_transforms import SkeletonAugmentation, drop_empty_frames, fit_bodies, normalize_view
from .store_datamodule import StoreBackend, StoreDataModule
from .store_split import StoreSplitDataset, StoreTables

__all__ = ["NTUSkeletonDataModule", "SkeletonClipDataset", "SkeletonSource", "SKELETON_SOURCES", "NUM_BODIES"]

SkeletonSource = Literal["auto", "ntu", "nwucla", "pyskl"]
SKELETON_SOURCES: tuple[str, ...] = get_args(SkeletonSource)
NUM_BODIES = 2  # the SkeletonBatch contract: M = 2, absent bodies all zero
_STORE_LAYOUT_VERSION = 1
_MISSING_LIST_HINT = (
    "; NTU RGB+D lists such samples in NTU_RGBD*_samples_with_missing_skeletons.txt: pass it as "
    "missing_skeletons_file to leave them out"
)
_DATASET_OF_SOURCE = {"ntu": "ntu", "pyskl": "ntu", "nwucla": "nwucla"}
_ERROR_OF_SOURCE: dict[str, type[DataFormatError]] = {
    "ntu": SkeletonFormatError,
    "nwucla": NWUCLAFormatError,
    "pyskl": PysklFormatError,
}


class SkeletonClipDataset(StoreSplitDataset):
    """Stored skeleton clips as ``(3, T, V, M)`` tensors.

    Args:
        store: the store written by :class:`NTUSkeletonDataModule` (either backend).
        indices: ``(N,)`` store indices of this split's clips.
        clip_length: T.
        layout: the joint layout (which joints define position and orientation).
        normalize: view-normalise every clip (:func:`~datamodules.skeleton_transforms.normalize_view`).
        train: random segment-based frame sampling (and augmentation) if True, uniform sampling otherwise.
        augmentation: applied after sampling when ``train``; None for none.
    """

    def __init__(
        self,
        store: ClipStore,
        indices: np.ndarray,
        clip_length: int,
        layout: SkeletonLayout,
        normalize: bool,
        train: bool,
        augmentation: SkeletonAugmentation | None,
    ) -> None:
        super().__init__(store, indices)
        self.clip_length = clip_length
        self.layout = layout
        self.normalize = normalize
        self.train = train
        self.augmentation = augmentation

    def sample(self, index: int, tables: StoreTables) -> dict[str, Any]:
        """One clip: ``{"skeleton": (3, T, V, M) float32, "label": int, "name": str}``."""
        joints = np.array(tables["frames"]["joints"], dtype=np.float32)
        if self.normalize:
            joints = normalize_view(joints, self.layout)
        if self.train:
            rng = np.random.default_rng(int(torch.randint(2**62, ())))  # seeded per worker by torch
            joints = joints[random_frame_indices(len(joints), self.clip_length, rng)]
            if self.augmentation is not None:
                joints = self.augmentation(joints, rng)
        else:
            joints = joints[uniform_frame_indices(len(joints), self.clip_length)]
        return {
            "skeleton": torch.from_numpy(np.ascontiguousarray(joints.transpose(3, 0, 2, 1))),
            "label": int(self.store.metadata["label"][index]),
            "name": str(self.store.metadata["name"][index]),
        }


def _official_missing_list(data_dir: Path, num_classes: int, source: str) -> Path | None:
    if source != "ntu":
        return None
    name = f"NTU_RGBD{'120' if num_classes == 120 else ''}_samples_with_missing_skeletons.txt"
    return next((folder / name for folder in (data_dir, data_dir.parent) if (folder / name).is_file()), None)


class NTUSkeletonDataModule(StoreDataModule):
    """Skeleton clips of one benchmark as :class:`~lvlm_var.batches.SkeletonBatch` batches.

    Batches: ``skeleton`` ``(B, 3, T, V, 2)`` float32 (xyz, ``T = clip_length``, ``V`` = 25 for NTU, 20 for
    NW-UCLA, zeros for an absent second body), ``label`` ``(B,)`` long, ``name`` list of B sample names.
    See the module docstring for the sources and the per-clip pipeline.

    Args:
        data_dir: the directory holding the raw files (or, for ``source="pyskl"``, the pickle itself).
        benchmark: ``ntu60-xsub``, ``ntu60-xview``, ``ntu120-xsub``, ``ntu120-xset`` or ``nwucla-xview``.
        clip_length: T, frames per clip.
        batch_size: global batch size (divided over the processes; must divide by the world size).
        num_workers: DataLoader workers per process.
        pin_memory: DataLoader ``pin_memory``.
        source: ``"auto"`` (NW-UCLA JSON for ``nwucla-*``, a pyskl pickle when ``data_dir`` is a ``.pkl``
            file, NTU ``.skeleton`` files otherwise), ``"ntu"``, ``"nwucla"`` or ``"pyskl"``.
        missing_skeletons_file: the official ``NTU_RGBD*_samples_with_missing_skeletons.txt``; its samples
            are left out (NTU sources only). ``"auto"``: the benchmark's list (``NTU_RGBD_...`` for NTU-60,
            ``NTU_RGBD120_...`` for NTU-120) in ``data_dir`` or its parent when one is there, so the list
            follows ``data_dir``; ``None``: no list.
        on_bad_sample: ``"raise"`` or ``"skip"`` for a source file that fails to parse or has no frame with a
            tracked body (a pyskl pickle is one file: only its clips without a tracked body can be skipped).
        cache_dir: where the store lives; default ``<data_dir>/.cache`` (next to the pickle for pyskl).
        val_fraction: 0 validates on the test split (as CTR-GCN does on NTU); in ``(0, 1)`` holds out that
            fraction of the training clips instead.
        normalize_view: centre on the first frame's spine base and rotate to the canonical view.
        augment: random rotation and scaling of training clips.
        rotation_degrees: maximum augmentation angle about each axis.
        scale_range: ``(min, max)`` augmentation scale factor.
        store, store_uri, build_workers, litdata: the store backend and its build
            (:class:`~datamodules.store_datamodule.StoreDataModule`).

    Raises:
        ValueError: an unknown benchmark or source (listing the valid ones), a source that does not hold
            the benchmark's data set, a missing-skeleton list for NW-UCLA, ``clip_length`` below 1, bad
            augmentation settings or an invalid shared argument.
    """

    def __init__(
        self,
        data_dir: str | Path = "data/synthetic/ntu",
        benchmark: str = "ntu60-xsub",
        clip_length: int = 64,
        batch_size: int = 64,
        num_workers: int = 0,
        pin_memory: bool = False,
        source: SkeletonSource = "auto",
        missing_skeletons_file: str | Path | None = "auto",
        on_bad_sample: OnBadSample = "raise",
        cache_dir: str | Path | None = None,
        val_fraction: float = 0.0,
        normalize_view: bool = True,
        augment: bool = True,
        rotation_degrees: float = 17.0,
        scale_range: tuple[float, float] = (0.9, 1.1),
        store: StoreBackend = "mmap",
        store_uri: str | None = None,
        build_workers: int | None = None,
        litdata: LitdataSettings | None = None,
    ) -> None:
        # the arguments stay as given (strings from a YAML): save_hyperparameters records them, and a
        # checkpoint holding a Path does not load under torch.load(weights_only=True), Lightning's default
        if cache_dir is None and Path(data_dir).suffix == ".pkl":
            cache_dir = str(Path(data_dir).parent / ".cache")
        super().__init__(
            data_dir, batch_size, num_workers, pin_memory, on_bad_sample, cache_dir, val_fraction,
            store=store, store_uri=store_uri, build_workers=build_workers, litdata=litdata
        )
        self.save_hyperparameters()
        self.benchmark = get_skeleton_benchmark(benchmark)
        if clip_length < 1:
            raise ValueError(f"clip_length must be >= 1, got {clip_length}")
        self.source = _resolve_source(source, self.benchmark.dataset, self.data_dir)
        if missing_skeletons_file == "auto":
            missing_skeletons_file = _official_missing_list(
                self.data_dir, self.benchmark.num_classes, self.source
            )
        if missing_skeletons_file is not None and self.source == "nwucla":
            raise ValueError("missing_skeletons_file applies to NTU RGB+D only; NW-UCLA has no such list")
        self.missing_skeletons_file = (
            Path(missing_skeletons_file) if missing_skeletons_file is not None else None
        )
        self.clip_length = clip_length
        self.normalize_view = normalize_view
        self.augmentation = (
            SkeletonAugmentation(rotation_degrees, float(scale_range[0]), float(scale_range[1]))
            if augment
            else None
        )

    @property
    def num_classes(self) -> int:
        return self.benchmark.num_classes

    @property
    def class_names(self) -> list[str]:
        return self.benchmark.class_names

    @property
    def num_joints(self) -> int:
        """V: 25 (Kinect v2, NTU RGB+D) or 20 (Kinect v1, NW-UCLA), known without setup."""
        return NWUCLA_NUM_JOINTS if self.benchmark.dataset == "nwucla" else NTU_NUM_JOINTS

    @property
    def num_bodies(self) -> int:
        """M = 2 body slots in every batch."""
        return NUM_BODIES

    @property
    def store_name(self) -> str:
        return f"skeletons-{self.source}"

    @property
    def source_description(self) -> str:
        return {
            "ntu": "NTU RGB+D .skeleton files",
            "nwucla": "NW-UCLA sequence .json files",
            "pyskl": "pyskl annotations",
        }[self.source]

    def _source_files(self) -> list[Path]:
        if self.source == "pyskl":
            files = [self.data_dir] if self.data_dir.is_file() else []
        elif self.source == "ntu":
            files = sorted(self.data_dir.rglob("*.skeleton"))
        else:
            files = sorted(self.data_dir.rglob("a[0-9][0-9]_s[0-9][0-9]_e[0-9][0-9]_v[0-9][0-9].json"))
        if files and self.missing_skeletons_file is not None:
            files.append(self.missing_skeletons_file)
        return files

    def _store_config(self) -> dict[str, Any]:
        return {
            "layout_version": _STORE_LAYOUT_VERSION,
            "source": self.source,
            "num_bodies": NUM_BODIES,
            "body_selection": repr(BodySelectionConfig()),
        }

    def _parse_jobs(self, files: list[Path]) -> tuple[list[ParseJob], dict[str, Any]]:
        clip_files = [f for f in files if f != self.missing_skeletons_file]
        missing = (
            read_missing_skeletons(self.missing_skeletons_file) if self.missing_skeletons_file else set()
        )
        jobs = _clip_jobs(self.source, clip_files, missing, _ERROR_OF_SOURCE[self.source])
        return jobs, {"missing_skeletons_left_out": len(missing)}

    def _split_of_samples(self, store: ClipStore) -> np.ndarray:
        spec = self.benchmark
        names = store.metadata["name"].tolist()
        outside = [name for name in names if not spec.contains(name)]
        if outside:  # e.g. NTU-120's A061-A120 under an NTU-60 benchmark: reported, as skipped files are
            rank_zero_warn(
                f"left out {len(outside)} of {len(names)} stored samples that are not in {spec.name} "
                f"(actions 1-{spec.num_classes}), e.g. {', '.join(outside[:3])}"
            )
        return np.array([spec.split_of(name) if spec.contains(name) else "" for name in names], dtype=str)

    def _class_counts(self, metadata: dict[str, np.ndarray], indices: np.ndarray) -> np.ndarray:
        return np.bincount(metadata["label"][indices], minlength=self.num_classes)

    def _build_datasets(
        self, store: ClipStore, split_indices: dict[str, np.ndarray]
    ) -> dict[str, StoreSplitDataset]:
        layout = layout_for_num_joints(int(store.manifest["tables"]["frames"]["joints"]["row_shape"][1]))
        return {
            split: SkeletonClipDataset(
                store,
                indices,
                self.clip_length,
                layout,
                self.normalize_view,
                train=split == "train",
                augmentation=self.augmentation,
            )
            for split, indices in split_indices.items()
        }

    def describe(self) -> dict[str, Any]:
        """:meth:`StoreDataModule.describe` plus the benchmark and the source format."""
        return {"benchmark": self.benchmark.name, "source": self.source, **super().describe()}


def _resolve_source(source: str, dataset: str, data_dir: Path) -> str:
    if source not in SKELETON_SOURCES:
        raise ValueError(f"unknown skeleton source '{source}'; valid: {', '.join(SKELETON_SOURCES)}")
    if source == "auto":
        if dataset == "nwucla":
            return "nwucla"
        return "pyskl" if data_dir.suffix == ".pkl" else "ntu"
    if _DATASET_OF_SOURCE[source] != dataset:
        raise ValueError(
            f"source '{source}' holds {_DATASET_OF_SOURCE[source]} samples but the benchmark "
            f"needs {dataset} samples; use source='auto'"
        )
    return source


def _clip_jobs(
    source: str, files: list[Path], missing: set[str], error: type[DataFormatError]
) -> list[ParseJob]:
    """One picklable job for every clip to store; the only place that knows the readers."""
    if source == "pyskl":
        # the pickle is the whole data set and its reader checks every annotation up front, so a malformed
        # one always raises; only the per-clip check (a clip without any tracked body) can skip a clip
        return [
            ParseJob(files[0], partial(_stored_clip, clip, files[0], error))
            for clip in read_pyskl(files[0]).clips
            if clip.name not in missing
        ]
    read = load_ntu_clip if source == "ntu" else read_nwucla
    return [
        ParseJob(path, partial(_stored_file, read, path, error)) for path in files if path.stem not in missing
    ]


def _stored_file(read, path: Path, error: type[DataFormatError]) -> list[StoredSample]:
    return _stored_clip(read(path), path, error)


def _stored_clip(clip: SkeletonClip, path: Path, error: type[DataFormatError]) -> list[StoredSample]:
    joints, clip = _storable(clip, path, error)
    metadata = {
        "name": clip.name,
        "label": clip.label,
        "subject": clip.subject,
        "view": clip.view,
        "setup": clip.setup,
    }
    return [(metadata, {"frames": {"joints": joints}})]


def _storable(
    clip: SkeletonClip, path: Path, error: type[DataFormatError]
) -> tuple[np.ndarray, SkeletonClip]:
    """``(T', 2, V, 3)`` float32: the clip without untracked frames, with exactly two body slots."""
    joints = fit_bodies(drop_empty_frames(np.asarray(clip.joints, dtype=np.float32)), NUM_BODIES)
    where = clip.name if path.stem != clip.name else ""
    if len(joints) == 0:
        raise error(
            path,
            where,
            f"no frame has a tracked body ({clip.num_frames} frames, all empty)"
            + ("" if error is NWUCLAFormatError else _MISSING_LIST_HINT),
        )
    # the readers refuse NaN / inf; this also keeps coordinates whose view normalisation overflows
    # float32 out of the store, so no batch ever holds a non-finite value
    with np.errstate(all="ignore"):
        normalised = normalize_view(joints, layout_for_num_joints(joints.shape[2]))
    if not (np.isfinite(joints).all() and np.isfinite(normalised).all()):
        raise error(path, where, "coordinates are not finite in float32 once view-normalised")
    return joints, clip
