"""Benchmark: the store build (1 vs N parse workers, both backends) and the training data throughput.

A synthetic NTU set of ``num_files`` ``.skeleton`` files (the real format, written by
:mod:`datamodules.synthetic.ntu`) is generated in a temporary folder and read once untimed (page cache).
Then:

- **build**: ``NTUSkeletonDataModule.prepare_data()`` into a fresh cache, for every backend and worker
  count: raw files -> parsed store (the litdata rows include chunking by ``litdata.optimize`` with as
  many workers); files/s and the speed-up over one worker;
- **epoch**: ``epochs`` (5) training epochs of the default pipeline (``clip_length`` 64, view normalisation,
  augmentation, global batch 64) from each backend's store with DataLoader ``num_workers`` 0 and 2;
  the first batch of each epoch (worker start-up) is excluded; batches/s and the litdata / mmap ratio.

The numbers depend on the machine's load, so the run also measures how much CPU the machine gives
``n`` busy processes against one in the same wall time (``cpu_share``: n on an idle n-core machine);
a build cannot be sped up beyond it. The JSON records the load average too.

Usage::

    python -m experiments.bench_store                  # 2,016 files, 1 and 2 workers
    python -m experiments.bench_store --files 500 --workers 1 2 4
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from datamodules.skeleton_datamodule import NTUSkeletonDataModule
from datamodules.store_datamodule import STORE_BACKENDS
from datamodules.synthetic.ntu import NTU_SYNTHETIC_ACTIONS, SyntheticNTUConfig, write_synthetic_ntu

__all__ = ["run", "print_table", "main"]

NTU120_FILES = 114_480
_CAMERAS = (1, 2, 3)
_BENCHMARK = "ntu120-xsub"  # every synthetic performer (1-48) is in its training or test split


def _synthetic_config(num_files: int) -> SyntheticNTUConfig:
    """The smallest synthetic NTU set with at least ``num_files`` clips (all actions, all cameras)."""
    per_performer = len(NTU_SYNTHETIC_ACTIONS) * len(_CAMERAS)
    performers = tuple(range(1, -(-num_files // per_performer) + 1))
    return SyntheticNTUConfig(
        actions=tuple(sorted(NTU_SYNTHETIC_ACTIONS)), performers=performers, cameras=_CAMERAS, num_missing=0
    )


def _burn(seconds: float) -> float:
    started, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        pass
    return time.process_time() - cpu


def _cpu_share(processes: int, seconds: float = 2.0) -> float:
    """CPU time ``processes`` busy processes get in ``seconds`` of wall time, over what one process gets."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with context.Pool(processes) as pool:
        many = sum(pool.map(_burn, [seconds] * processes))
    with context.Pool(1) as pool:
        one = pool.map(_burn, [seconds])[0]
    return many / one


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the parse and optimize workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _time_build(data: Path, cache: Path, store: str, workers: int) -> tuple[float, float]:
    shutil.rmtree(cache, ignore_errors=True)
    module = NTUSkeletonDataModule(data, _BENCHMARK, cache_dir=cache, store=store, build_workers=workers)
    started, cpu = time.perf_counter(), _cpu_seconds()
    module.prepare_data()
    return time.perf_counter() - started, _cpu_seconds() - cpu


def _time_epochs(
    data: Path, cache: Path, store: str, num_workers: int, epochs: int
) -> tuple[int, int, float]:
    """Batches, clips and seconds summed over ``epochs`` training epochs (one epoch is ~0.3 s: too noisy)."""
    module = NTUSkeletonDataModule(data, _BENCHMARK, cache_dir=cache, store=store, num_workers=num_workers)
    module.setup()
    batches, clips, seconds = 0, 0, 0.0
    for _ in range(epochs):
        started = None
        for batch in module.train_dataloader():
            if started is None:
                started = time.perf_counter()  # warm-up excluded: the first batch carries worker start-up
                continue
            clips += len(batch["label"])
            batches += 1
        seconds += time.perf_counter() - started
    return batches, clips, seconds


def run(
    num_files: int = 2000,
    workers: tuple[int, ...] = (1, 2),
    loader_workers: tuple[int, ...] = (0, 2),
    data: Path | None = None,
    epochs: int = 5,
):
    """Build and read the stores; see the module docstring.

    Args:
        num_files: at least this many synthetic files are generated (unless ``data`` is given).
        workers: parse worker counts of the store builds; the first is the speed-up's reference.
        loader_workers: DataLoader ``num_workers`` of the epoch runs.
        data: an existing folder of ``.skeleton`` files to use instead of a generated set.
        epochs: training epochs timed per store and loader setting (their sums are reported).

    Returns:
        Rows ``{"kind": "build", "store", "workers", "files", "seconds", "cpu_seconds", "files_per_s",
        "speedup"}`` and ``{"kind": "epoch", "store", "num_workers", "batches", "clips", "seconds",
        "batches_per_s", "clips_per_s", "vs_mmap"}`` (``vs_mmap`` compares clips/s: litdata drops the
        incomplete last batch so that every rank takes the same number of steps), plus one
        ``{"kind": "machine", "cpus", "load_average", "load_average_after", "cpu_share"}``.
    """
    rows: list[dict] = [
        {
            "kind": "machine",
            "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg()),
            "cpu_share": {count: _cpu_share(count) for count in workers if count > 1},
        }
    ]
    with tempfile.TemporaryDirectory() as tmp:
        if data is None:
            data = Path(tmp) / "ntu"
            write_synthetic_ntu(data, seed=0, config=_synthetic_config(num_files), write_missing_list=False)
        files = sorted(data.rglob("*.skeleton"))
        for path in files:  # warm-up: every file in the page cache
            path.read_bytes()
        for store in STORE_BACKENDS:
            single = None
            for count in workers:
                seconds, cpu_seconds = _time_build(data, Path(tmp) / f"cache-{store}", store, count)
                single = seconds if single is None else single
                rows.append(
                    {
                        "kind": "build",
                        "store": store,
                        "workers": count,
                        "files": len(files),
                        "seconds": seconds,
                        "cpu_seconds": cpu_seconds,
                        "files_per_s": len(files) / seconds,
                        "speedup": single / seconds,
                    }
                )
        for num_workers in loader_workers:
            mmap_rate = None
            for store in STORE_BACKENDS:
                batches, clips, seconds = _time_epochs(
                    data, Path(tmp) / f"cache-{store}", store, num_workers, epochs
                )
                rate = clips / seconds
                mmap_rate = rate if mmap_rate is None else mmap_rate
                rows.append(
                    {
                        "kind": "epoch",
                        "store": store,
                        "num_workers": num_workers,
                        "batches": batches,
                        "clips": clips,
                        "seconds": seconds,
                        "batches_per_s": batches / seconds,
                        "clips_per_s": rate,
                        "vs_mmap": rate / mmap_rate,
                    }
                )
    rows[0]["load_average_after"] = list(os.getloadavg())
    return rows


def print_table(rows: list[dict]) -> None:
    machine = rows[0]
    print(f"machine: {machine['cpus']} CPUs, load average {machine['load_average'][0]:.1f} at the start")
    for count, share in machine["cpu_share"].items():
        print(f"CPU given to {count} busy processes vs 1 (the most {count} workers can gain): {share:.2f}x")
    print(
        f"{'store build':<14}{'workers':>8}{'files':>7}{'seconds':>9}{'CPU s':>8}{'files/s':>9}"
        f"{'speed-up':>10}"
    )
    for r in (r for r in rows if r["kind"] == "build"):
        print(
            f"{r['store']:<14}{r['workers']:>8}{r['files']:>7}{r['seconds']:>9.2f}{r['cpu_seconds']:>8.1f}"
            f"{r['files_per_s']:>9.1f}{r['speedup']:>9.2f}x"
        )
    print(
        f"{'epoch':<14}{'loader workers':>15}{'batches':>8}{'seconds':>9}{'batches/s':>10}{'clips/s':>9}"
        f"{'vs mmap':>9}"
    )
    for r in (r for r in rows if r["kind"] == "epoch"):
        print(
            f"{r['store']:<14}{r['num_workers']:>15}{r['batches']:>8}{r['seconds']:>9.2f}"
            f"{r['batches_per_s']:>10.2f}{r['clips_per_s']:>9.1f}{r['vs_mmap']:>8.2f}x"
        )
    after = machine.get("load_average_after", [float("nan")])[0]
    print(f"load average at the end: {after:.1f}")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000, help="at least this many synthetic files")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="parse worker counts")
    parser.add_argument("--data", type=Path, default=None, help="existing .skeleton folder to use instead")
    options = parser.parse_args(argv)
    rows = run(options.files, tuple(options.workers), data=options.data)
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
