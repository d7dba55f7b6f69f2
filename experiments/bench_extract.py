"""Feature-extraction throughput: frames a second through ``extract-features`` (oracle boxes) on CPU.

The default detector (``fasterrcnn_resnet50_fpn_v2``, random weights: speed does not depend on them)
reads synthetic PNG frames of 480x270 / 480x360 and pools person, object and union RoI features, at
torchvision's default resize (short side 800) and at a short side of 400. One untimed warm-up video,
then the remaining videos timed end to end (read, transform, backbone, RoIAlign, write).
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import torch

from datamodules.box_feature_extraction import ExtractionConfig, build_detector, extract_features
from datamodules.formats.action_genome import read_action_genome
from datamodules.synthetic.frames import render_synthetic_frames
from datamodules.synthetic.scene_graphs import write_synthetic_scene_graphs

__all__ = ["run", "print_table"]

_VIDEOS = 2
_SIZES = ((800, 1333), (400, 667))


def run() -> list[dict]:
    """One row per resize: frames timed, seconds, frames/s."""
    torch.manual_seed(0)
    detector = build_detector("fasterrcnn_resnet50_fpn_v2", random_init=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_synthetic_scene_graphs(tmp, seed=0, num_videos=_VIDEOS + 1, feature_dim=8)
        frames = Path(tmp) / "frames"
        annotations = read_action_genome(paths["annotations"])
        render_synthetic_frames(annotations, frames)
        for min_size, max_size in _SIZES:
            out = Path(tmp) / f"features_{min_size}"
            config = ExtractionConfig(
                random_init=True, image_min_size=min_size, image_max_size=max_size, batch_size=8, device="cpu"
            )
            warm_up = replace(config, world_size=_VIDEOS + 1, rank=0)
            extract_features(paths["annotations"], frames, out, warm_up, detector, progress=False)
            summary = extract_features(paths["annotations"], frames, out, config, detector, progress=False)
            rows.append(
                {
                    "detector": config.detector,
                    "short_side": min_size,
                    "frames": summary["frames"],
                    "seconds": round(float(summary["seconds"]), 2),
                    "frames_per_s": round(float(summary["frames_per_second"]), 2),
                    "threads": torch.get_num_threads(),
                }
            )
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"  {'detector':<28} {'short side':>10} {'frames':>7} {'seconds':>8} {'frames/s':>9}")
    for row in rows:
        print(
            f"  {row['detector']:<28} {row['short_side']:>10} {row['frames']:>7} "
            f"{row['seconds']:>8} {row['frames_per_s']:>9}"
        )
