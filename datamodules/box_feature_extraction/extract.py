"""The ``extract-features`` loop and command: every video of a shard -> one box-feature ``.npz``.

Resumable (a video whose ``.npz`` exists is skipped, and files appear only complete, by rename);
``rank`` / ``world_size`` give each process every ``world_size``-th video; a frame that cannot be read is
a :class:`~datamodules.formats.errors.FrameFormatError` naming the file, or with
``on_bad_sample="skip"`` its video is skipped and reported.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from tqdm import tqdm

from ..bad_samples import BadSamplePolicy
from ..formats.action_genome import AGFrame, read_action_genome
from ..formats.box_features import BoxFeatures, box_feature_path, write_box_features
from ..formats.errors import DataFormatError
from ..formats.frames import frame_path, read_frame
from .config import ExtractionConfig
from .detectors import DETECTORS, build_detector
from .roi import BoxFeatureExtractor, FrameBoxes

__all__ = ["extract_features", "main"]


def extract_features(
    annotation_dir: str | Path,
    frames_dir: str | Path,
    out_dir: str | Path,
    config: ExtractionConfig | None = None,
    detector: nn.Module | None = None,
    progress: bool = True,
) -> dict[str, object]:
    """Extract every video of this rank's shard that has no ``.npz`` in ``out_dir`` yet.

    Args:
        annotation_dir: the Action Genome ``annotations/`` folder (pickles and class files).
        frames_dir: the ``frames/`` folder.
        out_dir: where ``<VIDEO_ID>.npz`` go.
        config: the settings; ``ExtractionConfig()`` when ``None``.
        detector: a built detector (default: :func:`build_detector` from ``config``).
        progress: show a progress bar.

    Returns:
        A summary: ``videos`` (this shard), ``written``, ``already_done``, ``skipped`` (``[{"source",
        "error"}]``), ``empty`` (videos without a frame with a person), ``frames``, ``frames_without_person``,
        ``seconds`` and ``frames_per_second``.

    Raises:
        FrameFormatError: an unreadable frame, with ``on_bad_sample="raise"``.
    """
    config = config or ExtractionConfig()
    device = torch.device(config.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    detector = detector or build_detector(config.detector, config.weights, config.random_init)
    extractor = BoxFeatureExtractor(detector, config).to(device).eval()
    annotations = read_action_genome(annotation_dir)
    out_dir, frames_dir = Path(out_dir), Path(frames_dir)
    partial = out_dir / f".partial-rank{config.rank}"
    partial.mkdir(parents=True, exist_ok=True)
    videos = sorted(annotations.videos)[config.rank :: config.world_size]
    policy = BadSamplePolicy(config.on_bad_sample, root=frames_dir)
    summary: dict[str, object] = {"videos": len(videos), "written": 0, "already_done": 0, "empty": []}
    frames_seen = frames_without_person = 0
    start = time.perf_counter()
    for video_id in tqdm(videos, desc="extract-features", unit="video", disable=not progress):
        if box_feature_path(out_dir, video_id).exists():
            summary["already_done"] += 1
            continue
        frames = annotations.videos[video_id]
        images = policy.run(
            frames_dir / f"{video_id}.mp4", functools.partial(_read_images, frames_dir, frames, device)
        )
        if images is None:
            continue
        results = []
        for i in range(0, len(frames), config.batch_size):
            results += extractor(images[i : i + config.batch_size], frames[i : i + config.batch_size])
        frames_seen += len(frames)
        kept = [r for r in results if r is not None]
        frames_without_person += len(frames) - len(kept)
        if not kept:
            summary["empty"].append(video_id)
            continue
        features = _video_features(video_id, kept, np.dtype(config.feature_dtype))
        write_box_features(box_feature_path(partial, video_id), features)
        os.replace(box_feature_path(partial, video_id), box_feature_path(out_dir, video_id))
        summary["written"] += 1
    if not any(partial.iterdir()):
        partial.rmdir()
    seconds = time.perf_counter() - start
    summary.update(
        skipped=policy.skipped,
        frames=frames_seen,
        frames_without_person=frames_without_person,
        seconds=seconds,
        frames_per_second=frames_seen / seconds if seconds > 0 else float("nan"),
    )
    return summary


def _read_images(frames_dir: Path, frames: list[AGFrame], device: torch.device) -> list[Tensor]:
    images = []
    for frame in frames:
        pixels = read_frame(frame_path(frames_dir, frame.key))
        images.append(torch.from_numpy(pixels).to(device).permute(2, 0, 1).float().div_(255.0))
    return images


def _video_features(
    video_id: str, kept: list[tuple[FrameBoxes, Tensor, Tensor, Tensor]], dtype: np.dtype
) -> BoxFeatures:
    num_slots = max(len(item.classes) for item, *_ in kept)
    dim = kept[0][1].shape[-1]
    frames, person = len(kept), np.zeros((len(kept), dim), dtype)
    object_class = np.full((frames, num_slots), -1, np.int16)
    objects = np.zeros((frames, num_slots, dim), dtype)
    unions = np.zeros((frames, num_slots, dim), dtype)
    for t, (item, person_feature, object_feature, union_feature) in enumerate(kept):
        k = len(item.classes)
        person[t] = person_feature.float().cpu().numpy()
        object_class[t, :k] = item.classes
        objects[t, :k] = object_feature.float().cpu().numpy()
        unions[t, :k] = union_feature.float().cpu().numpy()
    return BoxFeatures(video_id, [item.key for item, *_ in kept], object_class, person, objects, unions)


def main(argv: list[str] | None = None) -> int:
    """``lvlm-var extract-features``."""
    parser = argparse.ArgumentParser(
        prog="lvlm-var extract-features",
        description="Action Genome RGB frames -> person, object and union RoI features.",
    )
    parser.add_argument(
        "--ag-dir", type=Path, required=True, help="Action Genome root (annotations/, frames/)"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder of <VIDEO_ID>.npz")
    parser.add_argument("--frames-dir", type=Path, help="default: AG_DIR/frames")
    parser.add_argument("--mode", choices=("oracle", "predicted"), default="oracle")
    parser.add_argument("--detector", choices=tuple(DETECTORS), default="fasterrcnn_resnet50_fpn_v2")
    parser.add_argument("--weights", help="local state_dict file (default: torchvision's cache)")
    parser.add_argument(
        "--random-init", action="store_true", help="random detector weights (tests/demo only)"
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--image-min-size", type=int, default=800)
    parser.add_argument("--image-max-size", type=int, default=1333)
    parser.add_argument("--on-bad-sample", choices=("raise", "skip"), default="raise")
    parser.add_argument("--rank", type=int, default=int(os.environ.get("RANK", 0)))
    parser.add_argument("--world-size", type=int, default=int(os.environ.get("WORLD_SIZE", 1)))
    parser.add_argument("--device", help="default: cuda when available")
    args = parser.parse_args(argv)
    config = ExtractionConfig(
        mode=args.mode,
        detector=args.detector,
        weights=args.weights,
        random_init=args.random_init,
        batch_size=args.batch_size,
        image_min_size=args.image_min_size,
        image_max_size=args.image_max_size,
        on_bad_sample=args.on_bad_sample,
        rank=args.rank,
        world_size=args.world_size,
        device=args.device,
    )
    frames_dir = args.frames_dir or args.ag_dir / "frames"
    try:
        summary = extract_features(args.ag_dir / "annotations", frames_dir, args.out, config)
    except (DataFormatError, FileNotFoundError) as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=1))
    return 0
