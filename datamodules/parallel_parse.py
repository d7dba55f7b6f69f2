"""Parse the raw files of a store build in a pool of worker processes, in the order they were listed.

Parsing is CPU-bound (numpy's float parsing dominates the NTU reader), so the lever is processes: each
:class:`ParseJob` (one raw file, or one video) runs in a worker and its samples come back in job order,
so a parallel build appends exactly what a one-process build appends. A :class:`DataFormatError` in a
worker is sent back as a value and handed to the :class:`~datamodules.bad_samples.BadSamplePolicy` in
the parent, so ``on_bad_sample`` behaves as in a serial build; any other exception is a bug and stops
the build.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .bad_samples import BadSamplePolicy
from .formats.errors import DataFormatError
from .progress import progress_bar

__all__ = ["ParseJob", "StoredSample", "build_workers_for", "parse_jobs"]

# a worker pool's start-up and teardown (a fork of a process that holds torch) costs more than it saves
# below a few hundred files (~156 files/s a core), so an unset worker count parses small sets in-process
_SERIAL_BELOW = 256

StoredSample = tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]
"""``(metadata, {table: {field: rows}})``, what :meth:`ClipStoreWriter.append` takes."""


@dataclass(frozen=True)
class ParseJob:
    """One unit of parsing work.

    Attributes:
        source: the raw file the samples come from (named in the skip list).
        parse: a picklable callable (a module-level function or a ``functools.partial`` of one) returning
            the samples of ``source``; it raises the format's :class:`DataFormatError` for a bad file.
    """

    source: Path
    parse: Callable[[], list[StoredSample]]


def build_workers_for(num_items: int, requested: int | None) -> int:
    """The pool size for ``num_items`` of work: ``requested``, or if None every CPU this process may use
    (1 below a few hundred items)."""
    if requested is not None:
        return requested
    if num_items < _SERIAL_BELOW:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _run(job: ParseJob) -> list[StoredSample] | DataFormatError:
    try:
        return job.parse()
    except DataFormatError as error:
        return error


def _unwrap(outcome: list[StoredSample] | DataFormatError) -> list[StoredSample]:
    if isinstance(outcome, DataFormatError):
        raise outcome
    return outcome


def parse_jobs(
    jobs: list[ParseJob], policy: BadSamplePolicy, num_workers: int, description: str
) -> Iterator[StoredSample]:
    """Every sample of every job, in job order, parsed by ``num_workers`` processes.

    Args:
        jobs: the work, in the order the store lists its samples.
        policy: what to do with a job that raises a :class:`DataFormatError` (raise, or skip and record).
        num_workers: worker processes; 1 parses in this process.
        description: the progress bar's label (shown only when stderr is a terminal).

    Yields:
        ``(metadata, tables)`` for every sample, in order.

    Raises:
        ValueError: ``num_workers`` below 1.
        DataFormatError: a bad file under ``on_bad_sample="raise"``.
    """
    if num_workers < 1:
        raise ValueError(f"the store build needs at least 1 worker process, got num_workers={num_workers}")
    with progress_bar(len(jobs), description) as progress:
        if num_workers == 1 or len(jobs) < 2:
            outcomes: Iterator[Any] = map(_run, jobs)
            yield from _accept(jobs, outcomes, policy, progress)
            return
        # fork, where the platform has it: the workers need no fresh interpreter (spawn re-imports torch,
        # seconds per worker), and prepare_data runs before any CUDA context exists.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        chunksize = max(1, min(64, len(jobs) // (num_workers * 16)))
        with multiprocessing.get_context(method).Pool(min(num_workers, len(jobs))) as pool:
            yield from _accept(jobs, pool.imap(_run, jobs, chunksize=chunksize), policy, progress)


def _accept(
    jobs: list[ParseJob], outcomes: Iterator[Any], policy: BadSamplePolicy, progress: tqdm
) -> Iterator[StoredSample]:
    for job, outcome in zip(jobs, outcomes, strict=True):
        samples = policy.run(job.source, lambda o=outcome: _unwrap(o))
        progress.update()
        if samples is not None:
            yield from samples
