"""`make demo-rgb`: the RGB path end to end on synthetic frames.

Synthetic scene graphs -> PNG frames (:mod:`datamodules.synthetic.frames`) -> ``extract-features``
(oracle boxes, a RANDOM-INIT Faster R-CNN: no weights are downloaded here, so its RoI features are
random projections of the pixels, not COCO features) -> LaIAR fit and test with ``synthetic_laiar.yaml``
on those features. It shows that the pieces fit together; the mAP it prints says how much a randomly
initialised backbone keeps of the coloured boxes, nothing about a trained detector.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from datamodules.box_feature_extraction import ExtractionConfig, extract_features
from datamodules.formats.action_genome import read_action_genome
from datamodules.synthetic.frames import render_synthetic_frames
from datamodules.synthetic.scene_graphs import write_synthetic_scene_graphs
from experiments.runner import fit_and_test

__all__ = ["run_demo_rgb"]

_CONFIG = Path(__file__).resolve().parent / "synthetic_laiar.yaml"


def run_demo_rgb(out: Path, num_videos: int = 120, overrides: list[str] | None = None) -> dict[str, float]:
    """Write, render, extract, fit and test; return the test metrics and the extraction summary's rate."""
    torch.manual_seed(0)
    paths = write_synthetic_scene_graphs(out, seed=0, num_videos=num_videos, feature_dim=8)
    frames = out / "action_genome" / "frames"
    render_synthetic_frames(read_action_genome(paths["annotations"]), frames)
    features = out / "action_genome" / "features_rgb"
    config = ExtractionConfig(random_init=True, image_min_size=270, image_max_size=480)
    summary = extract_features(paths["annotations"], frames, features, config)
    result = fit_and_test(
        _CONFIG,
        [
            "--data.init_args.data_dir",
            str(out),
            "--data.init_args.features_dir",
            str(features),
            "--trainer.default_root_dir",
            str(out / "runs"),
            *(overrides or []),
        ],
        ckpt_path=None,
    )
    return {**result.metrics, "extract_frames_per_s": float(summary["frames_per_second"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.demo_rgb", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=Path("data/synthetic_rgb"))
    parser.add_argument("--videos", type=int, default=120)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    epochs = [
        "--trainer.max_epochs",
        str(args.epochs),
        "--model.init_args.selection_warmup_epochs",
        str(args.epochs // 2),
    ]
    print(json.dumps(run_demo_rgb(args.out, args.videos, epochs), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
