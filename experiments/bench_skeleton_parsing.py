"""Benchmark: our NTU ``.skeleton`` reader against the line-by-line reader a user would write.

Both readers build the same :class:`NTUSkeletonFile` (checked on every file before timing). Each
reader first reads every file once untimed (warm-up: page cache, imports), then the readers take
turns over ``repeats`` timed passes and each one's best pass is reported as files/s and frames/s.

Usage::

    python -m experiments.bench_skeleton_parsing --data data/synthetic   # a folder with .skeleton files
    python -m experiments.bench_skeleton_parsing                         # generates a synthetic set first
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from datamodules.formats.ntu_skeleton import NTUBodyInfo, NTUSkeletonFile, read_ntu_skeleton
from datamodules.synthetic.ntu import write_synthetic_ntu

__all__ = ["read_ntu_skeleton_reference", "run", "print_table", "main"]


def read_ntu_skeleton_reference(path: str | Path) -> NTUSkeletonFile:
    """The straightforward reader: one ``readline()`` per line, one ``float()`` per value."""
    counts, bodies, joints = [], [], []
    with open(path) as handle:
        num_frames = int(handle.readline())
        for _ in range(num_frames):
            num_bodies = int(handle.readline())
            counts.append(num_bodies)
            for _ in range(num_bodies):
                v = handle.readline().split()
                bodies.append(
                    NTUBodyInfo(
                        int(v[0]),
                        int(v[1]),
                        int(v[2]),
                        int(v[3]),
                        int(v[4]),
                        int(v[5]),
                        int(v[6]),
                        float(v[7]),
                        float(v[8]),
                        int(v[9]),
                    )
                )
                num_joints = int(handle.readline())
                body = np.zeros((num_joints, 12))
                for j in range(num_joints):
                    body[j] = [float(x) for x in handle.readline().split()]
                joints.append(body)
    stacked = np.stack(joints) if joints else np.zeros((0, 25, 12))
    return NTUSkeletonFile(np.array(counts, dtype=np.int64), bodies, stacked)


def _time_readers(
    readers: dict[str, Callable[[Path], NTUSkeletonFile]], files: list[Path], repeats: int
) -> dict[str, float]:
    """Best-of-``repeats`` seconds per reader for one pass over ``files``; the passes of the
    readers alternate so that a change in machine load hits both alike."""
    for reader in readers.values():  # warm-up, not timed
        for path in files:
            reader(path)
    best = dict.fromkeys(readers, float("inf"))
    for _ in range(repeats):
        for name, reader in readers.items():
            start = time.perf_counter()
            for path in files:
                reader(path)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def run(data_dir: str | Path, repeats: int = 3, max_files: int | None = None) -> list[dict]:
    """Time both readers on the ``.skeleton`` files under ``data_dir`` (searched recursively).

    Args:
        data_dir: folder holding ``.skeleton`` files (e.g. a synthetic set's root).
        repeats: timed passes per reader; the fastest counts.
        max_files: use only the first files (sorted by name).

    Returns:
        One row per reader: ``reader``, ``files``, ``frames``, ``seconds``, ``files_per_s``,
        ``frames_per_s``, ``speedup`` (relative to the reference reader).

    Raises:
        FileNotFoundError: no ``.skeleton`` file under ``data_dir``.
        RuntimeError: the two readers disagree on a file.
    """
    files = sorted(Path(data_dir).rglob("*.skeleton"))[:max_files]
    if not files:
        raise FileNotFoundError(f"no .skeleton files under {data_dir}")
    frames = 0
    for path in files:
        ours = read_ntu_skeleton(path)
        if ours != read_ntu_skeleton_reference(path):
            raise RuntimeError(f"readers disagree on {path}")
        frames += ours.num_frames
    readers = {
        "reference (readline loop)": read_ntu_skeleton_reference,
        "read_ntu_skeleton": read_ntu_skeleton,
    }
    seconds = _time_readers(readers, files, repeats)
    reference = seconds["reference (readline loop)"]
    return [
        {
            "reader": name,
            "files": len(files),
            "frames": frames,
            "seconds": s,
            "files_per_s": len(files) / s,
            "frames_per_s": frames / s,
            "speedup": reference / s,
        }
        for name, s in seconds.items()
    ]


def print_table(rows: list[dict]) -> None:
    print(
        f"{'reader':<28}{'files':>7}{'frames':>9}{'seconds':>10}{'files/s':>10}{'frames/s':>11}{'speed-up':>10}"
    )
    for r in rows:
        print(
            f"{r['reader']:<28}{r['files']:>7}{r['frames']:>9}{r['seconds']:>10.3f}"
            f"{r['files_per_s']:>10.1f}{r['frames_per_s']:>11.0f}{r['speedup']:>9.2f}x"
        )


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder with .skeleton files (default: generate a synthetic set in a temp dir)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-files", type=int, default=None)
    args = parser.parse_args(argv)
    if args.data is None:
        with tempfile.TemporaryDirectory() as tmp:
            write_synthetic_ntu(tmp)
            rows = run(tmp, args.repeats, args.max_files)
    else:
        rows = run(args.data, args.repeats, args.max_files)
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
