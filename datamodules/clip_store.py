"""A memory-mapped store of variable-length samples, built once from the raw files and opened by every rank.

Layout of a store directory (every array is a plain ``.npy`` file, opened with ``np.load(mmap_mode="r")``)::

    manifest.json            format version, build config, source fingerprints, skipped files, table layout
    metadata.npz             one array per metadata column, first axis = sample (names, labels, ids, ...)
    <table>.offsets.npy      (N + 1,) int64: rows of sample i are [offsets[i], offsets[i + 1])
    <table>.<field>.npy      (total_rows, *row_shape): the rows of every sample, concatenated

A *table* groups fields that share a row axis: a skeleton store has one table ``frames`` with field
``joints`` (rows = frames); a scene-graph store has ``frames`` (rows = annotated frames) and ``pairs``
(rows = human-object pairs). Samples are appended one at a time, so building never holds the data set in
memory, and the whole directory appears at once: the writer fills a hidden temporary directory and renames
it into place only after every file is closed, so a crash leaves either the old store or none, never half
of one. A store is reused while its manifest's source fingerprints (path, size, mtime) and build config
match; anything else rebuilds it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath
from typing import Any

import numpy as np

__all__ = [
    "MANIFEST_FILE",
    "METADATA_FILE",
    "STORE_FORMAT_VERSION",
    "ClipStore",
    "ClipStoreWriter",
    "fingerprint_sources",
    "manifest_is_current",
    "move_into_place",
    "read_manifest",
    "store_is_current",
    "temporary_sibling",
]

STORE_FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
METADATA_FILE = "metadata.npz"
# A fixed-size .npy header (a multiple of numpy's 64-byte alignment) lets the writer stream rows first and
# write the final shape into the header at the end, without a second copy of the data.
_NPY_HEADER_BYTES = 256
_NPY_PREFIX = b"\x93NUMPY\x01\x00"


def fingerprint_sources(paths: Iterable[Path], root: Path) -> dict[str, list[int]]:
    """Size and modification time of every source file, keyed by its path relative to ``root``.

    Args:
        paths: the raw files a store is built from.
        root: the directory the keys are relative to (files outside it keep their absolute path).

    Returns:
        ``{relative_path: [size_bytes, mtime_ns]}``, sorted by path.
    """
    fingerprints = {}
    # a Path's string is normalised, so a prefix test on strings is relative_to without building a Path
    # per file (pathlib's parsing was most of the time for 100k files)
    prefix = os.path.join(str(root), "")
    for path in paths:
        name = str(path)
        stat = os.stat(name)
        if isinstance(path, PurePath) and name.startswith(prefix):
            key = name[len(prefix) :].replace(os.sep, "/")
        else:
            try:
                key = Path(path).relative_to(root).as_posix()
            except ValueError:
                key = Path(path).resolve().as_posix()
        fingerprints[key] = [stat.st_size, stat.st_mtime_ns]
    return dict(sorted(fingerprints.items()))


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The parsed ``manifest.json`` of a committed store, or None when there is none."""
    try:
        return json.loads((directory / MANIFEST_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def store_is_current(
    directory: str | Path, sources: Mapping[str, list[int]], config: Mapping[str, Any]
) -> bool:
    """Whether a complete store exists at ``directory`` built from exactly these sources and config.

    Args:
        directory: the store directory.
        sources: the current fingerprints (:func:`fingerprint_sources`).
        config: the build settings that change the store's content (JSON-serialisable).

    Returns:
        True when the store can be reused as is.
    """
    return manifest_is_current(read_manifest(Path(directory)), sources, config)


def manifest_is_current(
    manifest: Mapping[str, Any] | None, sources: Mapping[str, list[int]], config: Mapping[str, Any]
) -> bool:
    """Whether ``manifest`` records exactly these sources and build config (:func:`store_is_current`)."""
    return (
        manifest is not None
        and manifest.get("format_version") == STORE_FORMAT_VERSION
        and manifest.get("config") == json.loads(json.dumps(dict(config)))
        and manifest.get("sources") == {key: list(value) for key, value in sources.items()}
    )


def _npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    header = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape})
    body_bytes = _NPY_HEADER_BYTES - len(_NPY_PREFIX) - 2
    if len(header) + 1 > body_bytes:
        raise ValueError(f"array header for shape {shape} does not fit in {_NPY_HEADER_BYTES} bytes")
    body = header.ljust(body_bytes - 1) + "\n"
    return _NPY_PREFIX + len(body).to_bytes(2, "little") + body.encode("latin1")


class _GrowingNpyFile:
    """An ``.npy`` file whose rows are appended one block at a time; the header is finalised on close."""

    def __init__(self, path: Path, dtype: np.dtype, row_shape: tuple[int, ...]) -> None:
        self.path = path
        self.dtype = dtype
        self.row_shape = row_shape
        self.num_rows = 0
        self._handle = path.open("wb")
        self._handle.write(_npy_header(dtype, (0, *row_shape)))

    def append(self, rows: np.ndarray) -> None:
        self._handle.write(np.ascontiguousarray(rows, dtype=self.dtype).tobytes())
        self.num_rows += rows.shape[0]

    def close(self) -> None:
        self._handle.seek(0)
        self._handle.write(_npy_header(self.dtype, (self.num_rows, *self.row_shape)))
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()

    def abandon(self) -> None:
        self._handle.close()


class ClipStoreWriter:
    """Builds a store in a temporary sibling directory and moves it into place on :meth:`commit`.

    Use as a context manager: leaving the block without :meth:`commit` (an exception, a skipped
    commit) deletes the temporary directory and keeps whatever store was there before.

    Args:
        directory: where the finished store will live.
        config: the build settings recorded in the manifest (compared by :func:`store_is_current`).
        sources: the source fingerprints recorded in the manifest.

    Example:
        >>> with ClipStoreWriter(out, config={"kind": "ntu"}, sources=fps) as writer:  # doctest: +SKIP
        ...     writer.append({"name": "S001...", "label": 3}, {"frames": {"joints": joints}})
        ...     writer.commit(skipped=[])
    """

    def __init__(
        self, directory: str | Path, config: Mapping[str, Any], sources: Mapping[str, list[int]]
    ) -> None:
        self.directory = Path(directory)
        self._config = json.loads(json.dumps(dict(config)))
        self._sources = {key: list(value) for key, value in sources.items()}
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        self._remove_abandoned_builds()
        self._tmp = temporary_sibling(self.directory)
        self._tmp.mkdir()
        self._files: dict[str, dict[str, _GrowingNpyFile]] = {}
        self._offsets: dict[str, list[int]] = {}
        self._metadata: dict[str, list[Any]] = {}
        self._num_samples = 0
        self._committed = False

    def _remove_abandoned_builds(self) -> None:
        """Delete temporary directories left by crashed builds of this host (their process is gone)."""
        prefix = f".{self.directory.name}.tmp-{socket.gethostname()}-"
        for candidate in self.directory.parent.glob(f"{prefix}*"):
            pid = candidate.name[len(prefix) :].split("-")[0]
            if pid.isdigit() and not _process_alive(int(pid)):
                shutil.rmtree(candidate, ignore_errors=True)

    def __enter__(self) -> ClipStoreWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._committed:
            for table in self._files.values():
                for file in table.values():
                    file.abandon()
            shutil.rmtree(self._tmp, ignore_errors=True)

    @property
    def num_samples(self) -> int:
        return self._num_samples

    @property
    def metadata(self) -> dict[str, np.ndarray]:
        """The metadata columns appended so far, ``{column: (N, ...) array}``."""
        return {key: np.asarray(values) for key, values in self._metadata.items()}

    def append(self, metadata: Mapping[str, Any], tables: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        """Add one sample.

        Args:
            metadata: scalars, strings or fixed-shape arrays describing the sample (name, label, ...);
                every sample must give the same keys.
            tables: ``{table: {field: rows}}``; the fields of one table share their first axis (the
                sample's row count, which may be 0). Dtype and row shape are fixed by the first sample.

        Raises:
            ValueError: the keys, dtypes or row shapes differ from the first sample's.
        """
        if self._num_samples == 0:
            self._open_files(tables)
            self._metadata = {key: [] for key in metadata}
        if set(metadata) != set(self._metadata):
            raise ValueError(
                f"metadata keys {sorted(metadata)} differ from the first sample's {sorted(self._metadata)}"
            )
        if {t: set(f) for t, f in tables.items()} != {t: set(f) for t, f in self._files.items()}:
            raise ValueError("tables and fields must be the same for every sample")
        for table, fields in tables.items():
            row_counts = {name: rows.shape[0] for name, rows in fields.items()}
            if len(set(row_counts.values())) != 1:
                raise ValueError(f"fields of table '{table}' have different row counts {row_counts}")
            for name, rows in fields.items():
                file = self._files[table][name]
                if tuple(rows.shape[1:]) != file.row_shape or not np.can_cast(
                    rows.dtype, file.dtype, "same_kind"
                ):
                    raise ValueError(
                        f"field '{table}.{name}' got rows of shape {tuple(rows.shape[1:])} and dtype "
                        f"{rows.dtype}; the store holds shape {file.row_shape} and dtype {file.dtype}"
                    )
                file.append(rows)
            self._offsets[table].append(self._offsets[table][-1] + next(iter(row_counts.values())))
        for key, value in metadata.items():
            self._metadata[key].append(value)
        self._num_samples += 1

    def _open_files(self, tables: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        for table, fields in tables.items():
            self._offsets[table] = [0]
            self._files[table] = {
                name: _GrowingNpyFile(self._tmp / f"{table}.{name}.npy", rows.dtype, tuple(rows.shape[1:]))
                for name, rows in fields.items()
            }

    def commit(
        self, skipped: list[dict[str, str]] | None = None, extra: Mapping[str, Any] | None = None
    ) -> Path:
        """Finish every file, write the manifest last, and move the store into place.

        Args:
            skipped: ``[{"source": path, "error": message}]`` for the files left out; stored in the manifest.
            extra: more JSON-serialisable facts to record in the manifest (e.g. class lists).

        Returns:
            The store directory.

        Raises:
            ValueError: no sample was appended.
        """
        if self._num_samples == 0:
            raise ValueError(f"no sample was written to the store {self.directory}; nothing to commit")
        layout = {}
        for table, files in self._files.items():
            for file in files.values():
                file.close()
            np.save(self._tmp / f"{table}.offsets.npy", np.asarray(self._offsets[table], dtype=np.int64))
            layout[table] = {
                name: {"dtype": file.dtype.str, "row_shape": list(file.row_shape), "rows": file.num_rows}
                for name, file in files.items()
            }
        np.savez(self._tmp / METADATA_FILE, **self.metadata)
        manifest = {
            "format_version": STORE_FORMAT_VERSION,
            "num_samples": self._num_samples,
            "tables": layout,
            "skipped": list(skipped or []),
            "config": self._config,
            "extra": json.loads(json.dumps(dict(extra or {}))),
            "sources": self._sources,
        }
        (self._tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1))
        if store_is_current(self.directory, self._sources, self._config):
            # another node's builder finished the same store first (shared file system): keep theirs
            shutil.rmtree(self._tmp, ignore_errors=True)
        else:
            move_into_place(self._tmp, self.directory)
        self._committed = True
        return self.directory


def temporary_sibling(directory: Path) -> Path:
    """A fresh hidden directory name next to ``directory``, unique to this host and process."""
    unique = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return directory.parent / f".{directory.name}.tmp-{unique}"


def move_into_place(finished: Path, directory: Path) -> None:
    """Rename the finished directory to ``directory``, replacing (then deleting) any old one."""
    # os.replace cannot replace a non-empty directory: move the old store aside first, then swap.
    retired = None
    if directory.exists():
        retired = directory.parent / f".{directory.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(directory, retired)
    os.replace(finished, directory)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ClipStore:
    """Read-only view of a committed store; arrays are memory-mapped lazily in each process.

    Pickling (DataLoader workers under ``spawn``, ``ddp_spawn``) sends only the directory and metadata,
    never the mapped arrays, and every process maps the files itself.

    Args:
        directory: a directory written by :class:`ClipStoreWriter`.

    Attributes:
        manifest: the parsed ``manifest.json``.
        metadata: ``{column: (N, ...) array}``.

    Raises:
        FileNotFoundError: no committed store at ``directory``.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        manifest = read_manifest(self.directory)
        if manifest is None:
            raise FileNotFoundError(
                f"no committed clip store at {self.directory} (missing or unreadable {MANIFEST_FILE})"
            )
        self.manifest: dict[str, Any] = manifest
        with np.load(self.directory / METADATA_FILE, allow_pickle=False) as archive:
            self.metadata: dict[str, np.ndarray] = {key: archive[key] for key in archive.files}
        self._arrays: dict[str, dict[str, np.ndarray]] = {}
        self._offsets: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return int(self.manifest["num_samples"])

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_arrays": {}, "_offsets": {}}

    @property
    def skipped(self) -> list[dict[str, str]]:
        """``[{"source": path, "error": message}]`` for the files left out when the store was built."""
        return list(self.manifest["skipped"])

    def _table(self, table: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if table not in self._arrays:
            if table not in self.manifest["tables"]:
                raise KeyError(
                    f"store {self.directory} has no table '{table}'; it has {sorted(self.manifest['tables'])}"
                )
            self._offsets[table] = np.load(self.directory / f"{table}.offsets.npy")
            self._arrays[table] = {
                name: np.load(self.directory / f"{table}.{name}.npy", mmap_mode="r")
                for name in self.manifest["tables"][table]
            }
        return self._offsets[table], self._arrays[table]

    def num_rows(self, table: str) -> np.ndarray:
        """``(N,)`` int64 row count of every sample in ``table`` (e.g. frames per clip)."""
        offsets, _ = self._table(table)
        return np.diff(offsets)

    def rows(self, table: str, index: int) -> dict[str, np.ndarray]:
        """The rows of sample ``index`` in ``table``: ``{field: (rows, *row_shape)}`` read-only views."""
        offsets, arrays = self._table(table)
        start, stop = int(offsets[index]), int(offsets[index + 1])
        return {name: array[start:stop] for name, array in arrays.items()}

    def tables(self, index: int) -> dict[str, dict[str, np.ndarray]]:
        """The rows of sample ``index`` in every table: ``{table: {field: rows}}``."""
        return {table: self.rows(table, index) for table in self.manifest["tables"]}
