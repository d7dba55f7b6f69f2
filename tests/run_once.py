"""Session fixtures built once for the whole test run, also under pytest-xdist (``make test`` runs
``-n auto``): each worker is its own session, so the first worker to ask builds the folder under a file
lock in the run's shared temporary directory and the others reuse it (pytest-xdist's documented pattern).
A folder that tests write into (data stores are cached under the data directory) is copied per worker."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

__all__ = ["built_once", "worker_copy"]


def _under_xdist() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """The folder ``NAME`` of this run, filled by ``build(folder)`` once (by whichever worker comes first)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if _under_xdist() else base  # a worker's basetemp is <run>/popen-gwN
    folder, done = shared / name, shared / f"{name}.done"
    with FileLock(shared / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a build that raised in another worker is redone
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def worker_copy(tmp_path_factory: pytest.TempPathFactory, folder: Path) -> Path:
    """``folder`` itself in a serial run; under xdist this worker's own copy, so that one worker building a
    cache in it never replaces files another worker is reading."""
    if not _under_xdist():
        return folder
    copy = tmp_path_factory.mktemp(folder.name)
    shutil.copytree(folder, copy, dirs_exist_ok=True)  # copy2 keeps the mtimes that stores fingerprint
    return copy
