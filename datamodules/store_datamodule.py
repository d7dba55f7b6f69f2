"""What every DataModule of this package shares: raw files -> one clip store -> per-split datasets.

``prepare_data`` (one process per node) parses the raw files once into a
:class:`~datamodules.clip_store.ClipStore` under ``cache_dir`` (default ``<data_dir>/.cache``) and reuses
it while the sources and build settings are unchanged; ``setup`` (every process) memory-maps the store
and builds map-style datasets, which Lightning shards with its ``DistributedSampler``. ``batch_size`` is
the *global* batch size: each of the ``world_size`` processes loads ``batch_size // world_size`` samples
a step.

The raw files are parsed by ``build_workers`` processes (default: every CPU; one for a few hundred files or
fewer) in an order-preserving pool, so a parallel build writes the same store as a one-process build
(:mod:`datamodules.parallel_parse`).

Two store backends (``store``): ``"mmap"`` reads the memory-mapped store directly; ``"litdata"`` chunks
it once more with ``litdata.optimize`` into ``store_uri`` (a shared folder or ``s3://...``; default
``<store_dir>-litdata``) and streams every split from there (:mod:`datamodules.litdata_store`): litdata
shards by rank and worker instead of the ``DistributedSampler``, every rank gets the same number of
training batches, and the loader's position is saved in checkpoints, so a resumed run continues
mid-epoch. Both backends give the same samples, labels and splits.

On several nodes sharing one file system, Lightning runs ``prepare_data`` once per node; the builds are
atomic and a finished identical store is kept, but setting ``prepare_data_per_node = False`` on the
DataModule builds it once in all.
"""

from __future__ import annotations

import hashlib
import zlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from lightning.pytorch import LightningDataModule
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import DataLoader, Dataset

from .bad_samples import BadSamplePolicy, check_on_bad_sample, warn_skipped
from .class_coverage import warn_classes_without_training_samples
from .clip_store import ClipStore, ClipStoreWriter, fingerprint_sources, manifest_is_current, store_is_current
from .litdata_store import LitdataSettings, LitdataStore, litdata_build_config, write_litdata_store
from .parallel_parse import ParseJob, build_workers_for, parse_jobs
from .store_split import StoreSplitDataset

__all__ = [
    "STORE_BACKENDS",
    "StoreBackend",
    "StoreDataModule",
    "per_device_batch_size",
    "hold_out_validation",
]

_SPLITS = ("train", "val", "test")
StoreBackend = Literal["mmap", "litdata"]
STORE_BACKENDS: tuple[str, ...] = get_args(StoreBackend)


def per_device_batch_size(global_batch_size: int, world_size: int) -> int:
    """Samples each process loads per step.

    Raises:
        ValueError: the global batch size does not divide by the world size.
    """
    if global_batch_size % world_size != 0:
        lower = max(world_size, global_batch_size - global_batch_size % world_size)
        raise ValueError(
            f"batch_size={global_batch_size} is the global batch size and must divide by the world size "
            f"{world_size} (devices x nodes); use a multiple of {world_size}, "
            f"e.g. {lower} or {lower + world_size}"
        )
    return global_batch_size // world_size


def hold_out_validation(names: np.ndarray, fraction: float) -> np.ndarray:
    """Deterministically pick ``round(fraction * len(names))`` names (at least one) for validation.

    Names are ranked by a CRC32 hash, so the choice is the same on every rank and run and does not
    depend on the order the files were listed in.

    Args:
        names: ``(N,)`` sample names of the training split.
        fraction: in ``(0, 1)``.

    Returns:
        ``(N,)`` bool, True for the held-out samples.
    """
    held_out = np.zeros(len(names), dtype=bool)
    if len(names) < 2:
        return held_out
    count = min(len(names) - 1, max(1, round(fraction * len(names))))
    ranks = np.argsort([zlib.crc32(str(name).encode()) for name in names], kind="stable")
    held_out[ranks[:count]] = True
    return held_out


class StoreDataModule(LightningDataModule, ABC):
    """Base of the skeleton and scene-graph DataModules (see the module docstring).

    Subclasses say which files to read (:meth:`_source_files`), how to parse them into stored samples
    (:meth:`_parse_jobs`) and how to split the store into datasets (:meth:`_build_datasets`).

    Args:
        data_dir: the data set's root directory.
        batch_size: global batch size over all processes.
        num_workers: DataLoader worker processes per process.
        pin_memory: DataLoader ``pin_memory``.
        on_bad_sample: ``"raise"`` (a file that fails to parse stops the build with the reader's error) or
            ``"skip"`` (it is left out, recorded in the store manifest and reported once).
        cache_dir: where the store lives; default ``<data_dir>/.cache``.
        val_fraction: 0 validates on the test split; in ``(0, 1)`` holds out that fraction of the training
            split instead (chosen by name hash, see :func:`hold_out_validation`).
        store: ``"mmap"`` (memory-mapped store) or ``"litdata"`` (streaming store, see the module docstring).
        store_uri: where the litdata store lives: a folder or an object-storage URI such as
            ``s3://bucket/ntu120``; default ``<store_dir>-litdata``.
        build_workers: processes that parse the raw files in ``prepare_data`` (and ``litdata.optimize``
            workers); default every CPU (one below a few hundred files).
        litdata: chunk size and compression of the litdata store.

    Raises:
        ValueError: a non-positive batch size, negative workers, an invalid ``on_bad_sample``, ``store`` or
            ``build_workers``, or ``val_fraction`` outside ``[0, 1)``.
    """

    def __init__(
        self,
        data_dir: str | Path,
        batch_size: int,
        num_workers: int,
        pin_memory: bool,
        on_bad_sample: str,
        cache_dir: str | Path | None,
        val_fraction: float,
        *,
        store: StoreBackend = "mmap",
        store_uri: str | None = None,
        build_workers: int | None = None,
        litdata: LitdataSettings | None = None,
    ) -> None:
        super().__init__()
        if store not in STORE_BACKENDS:
            raise ValueError(f"unknown store '{store}'; valid: {', '.join(STORE_BACKENDS)}")
        if build_workers is not None and build_workers < 1:
            raise ValueError(f"build_workers must be >= 1 (or None for every CPU), got {build_workers}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {num_workers}")
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(
                f"val_fraction must be in [0, 1) (0 = validate on the test split), got {val_fraction}"
            )
        self.data_dir = Path(data_dir)
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.on_bad_sample = check_on_bad_sample(on_bad_sample)
        self._shared_cache = cache_dir is not None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else self.data_dir / ".cache"
        self.val_fraction = val_fraction
        self.store_backend = store
        self.store_uri = store_uri
        self.build_workers = build_workers
        self.litdata = litdata if litdata is not None else LitdataSettings()
        self.batch_size_per_device = batch_size
        self.store: ClipStore | LitdataStore | None = None
        self.datasets: dict[str, Dataset] = {}
        self._store_reported = False  # skipped files and untrained classes, said once

    # --- what a subclass provides -------------------------------------------------------------------

    @property
    @abstractmethod
    def store_name(self) -> str:
        """The store's directory name under ``cache_dir``."""

    @property
    @abstractmethod
    def source_description(self) -> str:
        """What the source files are, for messages, e.g. ``"NTU RGB+D .skeleton files"``."""

    @property
    @abstractmethod
    def num_classes(self) -> int:
        """Number of action classes (known right after ``__init__``, for LightningCLI argument links)."""

    @property
    @abstractmethod
    def class_names(self) -> list[str]:
        """Action class names in label order."""

    @abstractmethod
    def _source_files(self) -> list[Path]:
        """Every raw file the store is built from (their fingerprints decide reuse)."""

    @abstractmethod
    def _store_config(self) -> dict[str, Any]:
        """Build settings that change the store's content (a change rebuilds it)."""

    @abstractmethod
    def _parse_jobs(self, files: list[Path]) -> tuple[list[ParseJob], dict[str, Any]]:
        """The parsing work, in store order, and facts for the manifest's ``extra``."""

    def _summarize_store(self, metadata: dict[str, np.ndarray]) -> dict[str, Any]:
        """More ``extra`` facts computed from the stored samples' metadata columns (none by default)."""
        return {}

    @abstractmethod
    def _class_counts(self, metadata: dict[str, np.ndarray], indices: np.ndarray) -> np.ndarray:
        """``(num_classes,)`` how many of the stored samples ``indices`` have each class."""

    @abstractmethod
    def _build_datasets(
        self, store: ClipStore | LitdataStore, split_indices: dict[str, np.ndarray]
    ) -> dict[str, StoreSplitDataset]:
        """The ``train`` / ``val`` / ``test`` datasets over the given store indices."""

    @abstractmethod
    def _split_of_samples(self, store: ClipStore) -> np.ndarray:
        """``(N,)`` str: ``"train"``, ``"test"`` or ``""`` (not in this benchmark) for every stored sample."""

    # --- the Lightning hooks ------------------------------------------------------------------------

    @property
    def store_dir(self) -> Path:
        """``<data_dir>/.cache/<store_name>``; in a ``cache_dir`` given explicitly, which several data
        sets may share, the name ends with a digest of the data directory's absolute path."""
        if self._shared_cache:
            digest = hashlib.sha1(str(self.data_dir.resolve()).encode()).hexdigest()[:8]
            return self.cache_dir / f"{self.store_name}-{digest}"
        return self.cache_dir / self.store_name

    @property
    def litdata_location(self) -> str:
        """Where the litdata store lives: ``store_uri``, or ``<store_dir>-litdata``."""
        return self.store_uri or str(self.store_dir.with_name(f"{self.store_dir.name}-litdata"))

    def prepare_data(self) -> None:
        """Build the store from the raw files unless an up-to-date one exists (writes to disk only).

        A node that sees a finished litdata store but not the raw files (object storage only) uses the
        store as it was built.
        """
        files = self._source_files() if self.data_dir.exists() else []
        if not files:
            if self.store_backend == "litdata" and LitdataStore.exists(self.litdata_location):
                rank_zero_info(f"no raw files under {self.data_dir}: using the store {self.litdata_location}")
                return
            raise FileNotFoundError(f"no {self.source_description} found under {self.data_dir}")
        root = self.data_dir if self.data_dir.is_dir() else self.data_dir.parent  # a single-file data set
        sources = fingerprint_sources(files, root)
        config = {**self._store_config(), "on_bad_sample": self.on_bad_sample}
        if self.store_backend == "litdata" and self._litdata_is_current(sources, config):
            return
        if not store_is_current(self.store_dir, sources, config):
            self._build_store(files, root, sources, config)
        if self.store_backend == "litdata":
            source = ClipStore(self.store_dir)
            order = self._litdata_order(source)
            workers = build_workers_for(len(source), self.build_workers)
            write_litdata_store(source, self.litdata_location, self.litdata, workers, order)

    def _litdata_order(self, store: ClipStore | LitdataStore) -> np.ndarray:
        """Store indices split by split (train, val, test, then the rest), so each split is contiguous."""
        placed = np.zeros(len(store), dtype=bool)
        parts = []
        for indices in self._split_indices(store).values():
            parts.append(indices[~placed[indices]])
            placed[indices] = True
        return np.concatenate([*parts, np.flatnonzero(~placed)])

    def _litdata_is_current(self, sources: dict[str, list[int]], config: dict[str, Any]) -> bool:
        if not LitdataStore.exists(self.litdata_location):
            return False
        store = LitdataStore(self.litdata_location)
        wanted = {**config, **litdata_build_config(self.litdata, self._litdata_order(store))}
        return manifest_is_current(store.manifest, sources, wanted)

    def _build_store(
        self, files: list[Path], root: Path, sources: dict[str, list[int]], config: dict[str, Any]
    ) -> None:
        policy = BadSamplePolicy(self.on_bad_sample, root=root)
        jobs, extra = self._parse_jobs(files)
        workers = build_workers_for(len(jobs), self.build_workers)
        with ClipStoreWriter(self.store_dir, config=config, sources=sources) as writer:
            for metadata, tables in parse_jobs(jobs, policy, workers, f"parsing {self.source_description}"):
                writer.append(metadata, tables)
            if writer.num_samples == 0:
                raise ValueError(
                    f"none of the {len(files)} {self.source_description} under {self.data_dir} could be read "
                    f"(on_bad_sample='skip' left out all of them; first error: {policy.skipped[0]['error']})"
                    if policy.skipped
                    else f"no sample found in the {self.source_description} under {self.data_dir}"
                )
            extra = {**extra, **self._summarize_store(writer.metadata), "num_read": policy.attempted}
            writer.commit(skipped=policy.skipped, extra=extra)

    def setup(self, stage: str | None = None) -> None:
        """Open the store and build the split datasets (every process).

        Raises:
            ValueError: the global batch size does not divide by the world size.
            FileNotFoundError: :meth:`prepare_data` has not built the store.
        """
        world_size = self.trainer.world_size if self.trainer is not None else 1
        self.batch_size_per_device = per_device_batch_size(self.batch_size, world_size)
        if self.datasets:
            return
        self.store = self._open_store()
        split_indices = self._split_indices(self.store)
        if not self._store_reported:
            warn_skipped(
                self.store.skipped,
                self.store.manifest["extra"]["num_read"],
                self.source_description,
                f"{self.store_location}/manifest.json",
            )
            counts = self._class_counts(self.store.metadata, split_indices["train"])
            warn_classes_without_training_samples(
                self.class_names, counts, f"the training split of {self.store_location}"
            )
            self._store_reported = True
        splits = self._build_datasets(self.store, split_indices)
        if isinstance(self.store, LitdataStore):
            self.datasets = {
                name: self.store.split(split, shuffle=name == "train", drop_last=name == "train")
                for name, split in splits.items()
            }
        else:
            self.datasets = splits

    @property
    def store_location(self) -> str:
        """The folder or URI the datasets read: :attr:`store_dir` or :attr:`litdata_location`."""
        return self.litdata_location if self.store_backend == "litdata" else str(self.store_dir)

    def _open_store(self) -> ClipStore | LitdataStore:
        try:
            if self.store_backend == "litdata":
                return LitdataStore(self.litdata_location)
            return ClipStore(self.store_dir)
        except FileNotFoundError as error:
            raise FileNotFoundError(
                f"no data store at {self.store_location}; call prepare_data() first "
                "(a Trainer does so itself)"
            ) from error

    def _split_indices(self, store: ClipStore | LitdataStore) -> dict[str, np.ndarray]:
        split = self._split_of_samples(store)
        train = np.flatnonzero(split == "train")
        test = np.flatnonzero(split == "test")
        if self.val_fraction == 0.0:
            return {"train": train, "val": test, "test": test}
        held_out = hold_out_validation(store.metadata["name"][train], self.val_fraction)
        return {"train": train[~held_out], "val": train[held_out], "test": test}

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if split not in self.datasets:
            raise RuntimeError(
                f"the {split} dataset is not built; call setup() first (a Trainer does so itself)"
            )
        if self.store_backend == "litdata":
            from litdata import StreamingDataLoader  # shuffling is the streaming dataset's

            return StreamingDataLoader(
                self.datasets[split],
                batch_size=self.batch_size_per_device,
                num_workers=self.num_workers,
                pin_memory=self.pin_memory,
            )
        return DataLoader(
            self.datasets[split],
            batch_size=self.batch_size_per_device,
            shuffle=shuffle,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def describe(self) -> dict[str, Any]:
        """Counts per split, classes, one batch's shapes and skipped files (prepares and sets up if needed).

        Returns:
            ``{"store", "num_classes", "class_names", "samples": {split: count}, "batch": {key: shape or
            type}, "skipped": [{"source", "error"}]}``; shapes are those of one per-device batch.
        """
        if not self.datasets:
            self.prepare_data()
            self.setup()
        batch = next(iter(self.val_dataloader() if len(self.datasets["val"]) else self.train_dataloader()))
        return {
            "store": self.store_location,
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "samples": {split: len(self.datasets[split]) for split in _SPLITS},
            "batch": {
                key: list(value.shape) if hasattr(value, "shape") else f"list[{type(value[0]).__name__}]"
                for key, value in batch.items()
            },
            "skipped": self.store.skipped,
        }
