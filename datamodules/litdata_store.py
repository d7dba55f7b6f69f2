"""The streaming store backend: the parsed clips as litdata chunks, in a local folder or object storage.

A litdata store is written from a committed memory-mapped :class:`~datamodules.clip_store.ClipStore` by
``litdata.optimize`` (worker processes, chunks of ``chunk_bytes``, optional compression), so both backends
hold the same samples in the same order, parsed once by the same readers. Every litdata item is one
raw buffer (:class:`_ItemLayout`: a small header, then the rows of every field), decoded with one copy and
no per-array parsing, which keeps litdata's work per item small next to the mmap store's. Beside the
chunks lie the source store's ``metadata.npz`` and its ``manifest.json`` (with the chunk settings added to
its build config), written last: a store without a manifest is not finished. A local store is built in a
hidden sibling folder and renamed into place, as the memory-mapped one is; a remote one
(``s3://bucket/prefix``, ``gs://...``) is uploaded by litdata and committed by uploading the manifest last.

Reading: :meth:`LitdataStore.split` gives one split as a ``StreamingDataset`` restricted to that split's
store indices, which shards by rank and worker, gives every rank the same number of batches when
``drop_last``, reshuffles every epoch, and whose ``StreamingDataLoader`` state Lightning saves in the
checkpoint (its fit loop stores every stateful train loader), so a resumed run continues mid-epoch.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .clip_store import (
    MANIFEST_FILE,
    METADATA_FILE,
    ClipStore,
    manifest_is_current,
    move_into_place,
    read_manifest,
    temporary_sibling,
)
from .store_split import StoreSplitDataset

# litdata asks PyPI for a newer release whenever a dataset is made (a 30 s timeout on an offline node)
os.environ.setdefault("LITDATA_DISABLE_VERSION_CHECK", "1")

__all__ = ["LitdataSettings", "LitdataStore", "is_remote", "litdata_build_config", "write_litdata_store"]

ORDER_FILE = "order.npy"
_ITEM_FORMAT = "raw-1"  # the layout of _ItemLayout, part of the build config: a change rebuilds the store


@dataclass(frozen=True)
class LitdataSettings:
    """How ``litdata.optimize`` chunks a store (part of the store's build config: a change rebuilds it).

    Args:
        chunk_bytes: target chunk size, e.g. ``"64MB"`` (a few chunks per worker keep every worker busy).
        compression: ``None`` or ``"zstd"`` (needs the ``zstandard`` package).
    """

    chunk_bytes: str = "64MB"
    compression: str | None = None

    def __post_init__(self) -> None:
        if self.compression not in (None, "zstd"):
            raise ValueError(f"litdata compression must be None or 'zstd', got {self.compression!r}")
        if self.compression == "zstd":
            try:
                import zstandard  # noqa: F401
            except ImportError as error:
                raise ImportError(
                    "compression='zstd' needs the zstandard package: pip install zstandard"
                ) from error

    def as_config(self) -> dict[str, Any]:
        return {"chunk_bytes": self.chunk_bytes, "compression": self.compression}


def _litdata():
    try:
        import litdata
    except ImportError as error:
        raise ImportError(
            "store='litdata' needs the litdata package: pip install 'lvlm-var[cluster]' (or litdata)"
        ) from error
    return litdata


def is_remote(location: str | Path) -> bool:
    """Whether ``location`` is an object-storage URI (``s3://...``) rather than a local folder."""
    return "://" in str(location)


def _fs(location: str):
    from litdata.streaming.fs_provider import _get_fs_provider

    return _get_fs_provider(location)


def _remote_manifest(location: str) -> dict[str, Any] | None:
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(scratch) / MANIFEST_FILE
        try:
            _fs(location).download_file(f"{location.rstrip('/')}/{MANIFEST_FILE}", str(local))
        except Exception:  # noqa: BLE001  (a missing object raises a provider-specific error)
            return None
        return read_manifest(Path(scratch))


def _manifest_at(location: str | Path) -> dict[str, Any] | None:
    return _remote_manifest(str(location)) if is_remote(location) else read_manifest(Path(location))


class _ItemLayout:
    """One stored sample as one litdata item: a raw buffer, its fields known from the store manifest.

    The buffer is an ``<i8`` header ``[index, rows of each table]`` (tables in manifest order), then the rows
    of every field in manifest order, C-contiguous, in the store's dtype (its manifest string names the byte
    order). One ``bytes`` leaf is the cheapest item litdata reads: no per-array header, no pickle.

    Args:
        tables: the manifest's ``tables`` entry, ``{table: {field: {"dtype", "row_shape", ...}}}``.
    """

    def __init__(self, tables: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> None:
        self.tables = [
            (
                table,
                [
                    (name, np.dtype(f["dtype"]), tuple(f["row_shape"]), math.prod(f["row_shape"]))
                    for name, f in fields.items()
                ],
            )
            for table, fields in tables.items()
        ]
        self._header_bytes = 8 * (1 + len(self.tables))

    def encode(self, index: int, tables: Mapping[str, Mapping[str, np.ndarray]]) -> bytes:
        counts = [len(next(iter(tables[table].values()))) for table, _ in self.tables]
        parts = [np.asarray([index, *counts], dtype="<i8").tobytes()]
        for table, fields in self.tables:
            rows = tables[table]
            parts += [np.ascontiguousarray(rows[field], dtype).tobytes() for field, dtype, *_ in fields]
        return b"".join(parts)

    def decode(self, payload: bytes | memoryview) -> tuple[int, dict[str, dict[str, np.ndarray]]]:
        """``(index, {table: {field: rows}})``; the rows are writable arrays over one private copy."""
        # one copy: the payload may be a view of a chunk's memory map, which litdata closes and reuses
        buffer = bytearray(payload)
        header = np.frombuffer(buffer, dtype="<i8", count=1 + len(self.tables)).tolist()
        offset = self._header_bytes
        tables: dict[str, dict[str, np.ndarray]] = {}
        for (table, fields), rows in zip(self.tables, header[1:], strict=True):
            tables[table] = {}
            for field, dtype, row_shape, row_size in fields:
                count = rows * row_size
                tables[table][field] = np.frombuffer(buffer, dtype, count, offset).reshape(rows, *row_shape)
                offset += count * dtype.itemsize
        if offset != len(buffer):
            raise RuntimeError(f"a litdata item of {len(buffer)} bytes holds {offset} bytes of rows")
        return header[0], tables


class _StoredItem:
    """``optimize``'s function: stored sample ``index`` of a memory-mapped store as one litdata item."""

    def __init__(self, directory: Path, layout: _ItemLayout) -> None:
        self.directory = directory
        self.layout = layout
        self._store: ClipStore | None = None

    def __call__(self, index: int) -> bytes:
        if self._store is None:
            self._store = ClipStore(self.directory)
        return self.layout.encode(index, self._store.tables(index))


def litdata_build_config(settings: LitdataSettings, order: np.ndarray) -> dict[str, Any]:
    """What a litdata store adds to its source store's build config: the chunking and the sample order."""
    digest = hashlib.sha1(np.ascontiguousarray(order, dtype=np.int64).tobytes()).hexdigest()[:16]
    return {"litdata": settings.as_config(), "order": digest, "item_format": _ITEM_FORMAT}


def write_litdata_store(
    source: ClipStore, location: str | Path, settings: LitdataSettings, num_workers: int, order: np.ndarray
) -> None:
    """Chunk the samples of ``source`` in ``order`` into a litdata store at ``location`` (manifest last).

    Args:
        source: the committed memory-mapped store.
        location: a local folder or an object-storage URI.
        settings: chunk size and compression.
        num_workers: ``optimize`` worker processes.
        order: ``(N,)`` a permutation of the source's indices: item ``p`` of the litdata store is sample
            ``order[p]``. Keeping each split contiguous matters: litdata streams a contiguous region of
            a chunk at memory speed, but pays a chunk read-ahead for every isolated item.
    """
    litdata = _litdata()
    remote = is_remote(location)
    target = str(location).rstrip("/") if remote else str(temporary_sibling(Path(location)))
    if not remote:
        Path(location).parent.mkdir(parents=True, exist_ok=True)
    manifest = {
        **source.manifest,
        "config": {**source.manifest["config"], **litdata_build_config(settings, order)},
    }
    try:
        litdata.optimize(
            fn=_StoredItem(source.directory, _ItemLayout(source.manifest["tables"])),
            inputs=[int(index) for index in order],
            output_dir=target,
            num_workers=max(1, min(num_workers, len(source))),
            chunk_bytes=settings.chunk_bytes,
            compression=settings.compression,
            keep_data_ordered=True,  # item p of the litdata store is sample order[p]
            reorder_files=False,
            mode="overwrite" if remote else None,
            start_method="fork" if sys.platform.startswith("linux") else None,
            verbose=sys.stderr.isatty(),
        )
        with tempfile.TemporaryDirectory() as scratch:
            side = Path(scratch)
            shutil.copyfile(source.directory / METADATA_FILE, side / METADATA_FILE)
            np.save(side / ORDER_FILE, np.asarray(order, dtype=np.int64))
            (side / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1))
            for name in (METADATA_FILE, ORDER_FILE, MANIFEST_FILE):  # the manifest last: it commits
                if remote:
                    _fs(target).upload_file(str(side / name), f"{target}/{name}")
                else:
                    shutil.copyfile(side / name, Path(target) / name)
        if remote:
            return
        if manifest_is_current(_manifest_at(location), manifest["sources"], manifest["config"]):
            shutil.rmtree(target, ignore_errors=True)  # another node finished the same store first
        else:
            move_into_place(Path(target), Path(location))
    except BaseException:
        if not remote:
            shutil.rmtree(target, ignore_errors=True)
        raise


class _SplitItem:
    """A streaming dataset's transform: a litdata item -> the split's batch item (picklable)."""

    def __init__(self, split: StoreSplitDataset, layout: _ItemLayout) -> None:
        self.split = split
        self.layout = layout
        self._members = frozenset(split.indices.tolist())

    def __call__(self, item: bytes | memoryview) -> dict[str, Any]:
        index, tables = self.layout.decode(item)
        if index not in self._members:
            raise RuntimeError(f"the litdata store gave sample {index}, which is not in this split")
        return self.split.sample(index, tables)


class LitdataStore:
    """Read side of a litdata store: the manifest and metadata at once, the rows streamed from the chunks.

    Samples are addressed by their index in the source store (``metadata`` rows, ``tables(index)``,
    split indices), whatever their position in the chunks (``order``).

    It offers what the split datasets read from a :class:`~datamodules.clip_store.ClipStore`
    (``manifest``, ``metadata``, ``skipped``, ``len``, :meth:`tables` by random access), plus
    :meth:`split`, the streaming view training uses.

    Args:
        location: a local folder or object-storage URI written by :func:`write_litdata_store`.
        cache_dir: where chunks of a remote store are cached locally (litdata's default when None).

    Raises:
        FileNotFoundError: no committed store at ``location``.
    """

    def __init__(self, location: str | Path, cache_dir: str | Path | None = None) -> None:
        self.location = str(location)
        self.cache_dir = None if cache_dir is None else str(cache_dir)
        manifest = _manifest_at(self.location)
        if manifest is None:
            raise FileNotFoundError(f"no committed litdata store at {self.location} (no {MANIFEST_FILE})")
        self.manifest: dict[str, Any] = manifest
        with tempfile.TemporaryDirectory() as scratch:
            with np.load(self._local_copy(METADATA_FILE, Path(scratch)), allow_pickle=False) as archive:
                self.metadata: dict[str, np.ndarray] = {key: archive[key] for key in archive.files}
            self.order = np.load(self._local_copy(ORDER_FILE, Path(scratch)), allow_pickle=False)
        self._position = np.empty_like(self.order)
        self._position[self.order] = np.arange(len(self.order))
        self._layout = _ItemLayout(self.manifest["tables"])
        self._random_access = None

    def _local_copy(self, name: str, scratch: Path) -> Path:
        if not is_remote(self.location):
            return Path(self.location) / name
        _fs(self.location).download_file(f"{self.location.rstrip('/')}/{name}", str(scratch / name))
        return scratch / name

    @staticmethod
    def exists(location: str | Path) -> bool:
        """Whether a committed litdata store is at ``location``."""
        return _manifest_at(location) is not None

    def __len__(self) -> int:
        return int(self.manifest["num_samples"])

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_random_access": None}

    @property
    def skipped(self) -> list[dict[str, str]]:
        """``[{"source": path, "error": message}]`` for the files left out when the store was built."""
        return list(self.manifest["skipped"])

    def _dataset(self, **options: Any):
        return _litdata().StreamingDataset(self.location, cache_dir=self.cache_dir, **options)

    def tables(self, index: int) -> dict[str, dict[str, np.ndarray]]:
        """The rows of sample ``index`` in every table (random access, one chunk read)."""
        if self._random_access is None:
            self._random_access = self._dataset()
        stored, tables = self._layout.decode(self._random_access[int(self._position[index])])
        if stored != index:
            raise RuntimeError(f"{self.location}: item {index} holds sample {stored}")
        return tables

    def split(self, split: StoreSplitDataset, shuffle: bool, drop_last: bool, seed: int = 42):
        """``split``'s samples as a ``StreamingDataset`` whose items are ``split.sample(...)``.

        Args:
            split: the split over this store (its ``indices`` and ``sample``).
            shuffle: reshuffle chunks and items every epoch (the same order on every rank).
            drop_last: give every rank and worker the same number of items (training).
            seed: the shuffle seed; must be the same on every rank.
        """
        from litdata.utilities.train_test_split import subset_dataset

        transform = _SplitItem(split, self._layout)
        dataset = self._dataset(shuffle=shuffle, drop_last=drop_last, seed=seed, transform=transform)
        return subset_dataset(dataset, np.sort(self._position[split.indices]).tolist())
