"""VST tokenization throughput on CPU at the NTU preset: clips per second, warm-up excluded.

Run ``python -m experiments.bench_vst``; ``run()`` returns the table rows for ``make bench``.
"""

from __future__ import annotations

import time

import torch

from lvlm_var.vst import VSTConfig, VSTTokenizer

__all__ = ["run", "print_table"]


def run(batch_size: int = 32, repeats: int = 3, warmup: int = 1, seed: int = 0) -> list[dict]:
    """Time ``VSTTokenizer.encode`` (skeleton to codes) and ``tokenize`` (to narratives) on random clips.

    Args:
        batch_size: clips per call (64 frames, 25 joints, 2 bodies each).
        repeats: timed calls per measurement (their mean is reported).
        warmup: untimed calls before timing.
        seed: seed of the weights and clips.

    Returns:
        One row per measurement: ``stage``, ``device``, ``batch_size``, ``threads``, ``seconds_per_batch``,
        ``clips_per_second``.
    """
    torch.manual_seed(seed)
    config = VSTConfig.ntu()
    module = VSTTokenizer(config).eval()
    skeleton = torch.randn(batch_size, 3, config.num_frames, config.num_joints, config.num_bodies) * 0.3
    module.encode(skeleton)  # k-means initialises the fresh codebook on the first batch it sees
    module.refresh_code_names()
    rows = []
    for stage, call in (("encode", module.encode), ("tokenize", module.tokenize)):
        for _ in range(warmup):
            call(skeleton)
        start = time.perf_counter()
        for _ in range(repeats):
            call(skeleton)
        seconds = (time.perf_counter() - start) / repeats
        rows.append(
            {
                "stage": stage,
                "device": "cpu",
                "batch_size": batch_size,
                "threads": torch.get_num_threads(),
                "seconds_per_batch": round(seconds, 4),
                "clips_per_second": round(batch_size / seconds, 1),
            }
        )
    return rows


def print_table(rows: list[dict]) -> None:
    columns = list(rows[0])
    widths = [max(len(c), *(len(str(row[c])) for row in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths, strict=True)))


if __name__ == "__main__":
    print_table(run())
