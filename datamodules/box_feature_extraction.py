"""``lvlm-var extract-features``: Action Genome RGB frames -> person, object and union RoI features.

Reads the frames in the layout the Action Genome toolkit dumps them (``frames/<VIDEO>.mp4/<FRAME>.png``)
and writes one :mod:`~datamodules.formats.box_features` ``.npz`` a video, which
:class:`~datamodules.ActionGenomeDataModule` reads through ``features_dir``.

- Boxes: ``mode="oracle"`` takes the person and object boxes of the Action Genome pickles (the paper's
  oracle setting); ``mode="predicted"`` detects them with a torchvision Faster R-CNN (the paper's RGB
  setting). A detection gets its Action Genome class from its COCO class through :data:`AG_FROM_COCO`
  when Action Genome has that object, else from the annotated object box it overlaps most (IoU at least
  ``match_iou``, class-agnostic), else it is dropped; one box per class and frame (the highest score),
  the highest-scoring person as the subject. A frame without a person box is left out of the video
  (the format allows a subset of frames) and counted; a video left without frames is reported.
- Features: ``torchvision.ops.MultiScaleRoIAlign`` (``roi_align`` on the FPN level that suits the box's
  size) over the detector's backbone feature maps, averaged over the ``roi_size x roi_size`` grid:
  ``F`` = the FPN width, 256. The union box is the smallest box holding the person and the object.
- Weights: from ``weights`` (a local ``state_dict`` file), else torchvision's cache
  (``torch.hub.get_dir()/checkpoints``); nothing is downloaded. ``random_init=True`` builds the detector
  with random weights, for tests and the RGB demo only: its features and detections mean nothing.
- Batched on the GPU when there is one; a progress bar over videos; resumable (a video whose ``.npz``
  exists is skipped, and files appear only complete, by rename); ``rank`` / ``world_size`` give each
  process every ``world_size``-th video; a frame that cannot be read is a
  :class:`~datamodules.formats.errors.FrameFormatError` naming the file, or with
  ``on_bad_sample="skip"`` its video is skipped and reported.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn
from torchvision.models import detection
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.ops import MultiScaleRoIAlign, box_iou
from tqdm import tqdm

from .bad_samples import BadSamplePolicy, OnBadSample, check_on_bad_sample
from .formats.action_genome import AGFrame, read_action_genome
from .formats.box_features import BoxFeatures, box_feature_path, write_box_features
from .formats.class_names import AG_OBJECT_CLASSES
from .formats.errors import DataFormatError
from .formats.frames import frame_path, read_frame

__all__ = [
    "AG_FROM_COCO",
    "DETECTORS",
    "ExtractionConfig",
    "BoxFeatureExtractor",
    "build_detector",
    "roi_features",
    "ag_classes_of_detections",
    "extract_features",
    "main",
]

# COCO category (torchvision's names) -> the Action Genome object it is. AG objects without a COCO class
# (blanket, box, broom, closet/cabinet, clothes, door, doorknob, doorway, floor, groceries, light, medicine,
# mirror, paper/notebook, picture, pillow, shelf, shoe, towel, vacuum, window) are matched by IoU.
AG_FROM_COCO: dict[str, str] = {
    "person": "person",
    "backpack": "bag",
    "handbag": "bag",
    "suitcase": "bag",
    "bed": "bed",
    "book": "book",
    "chair": "chair",
    "bottle": "cup/glass/bottle",
    "cup": "cup/glass/bottle",
    "wine glass": "cup/glass/bottle",
    "bowl": "dish",
    "banana": "food",
    "apple": "food",
    "orange": "food",
    "broccoli": "food",
    "carrot": "food",
    "hot dog": "food",
    "pizza": "food",
    "donut": "food",
    "cake": "food",
    "sandwich": "sandwich",
    "laptop": "laptop",
    "cell phone": "phone/camera",
    "refrigerator": "refrigerator",
    "couch": "sofa/couch",
    "dining table": "table",
    "tv": "television",
}


def _resnet101_fpn(**kwargs: object) -> nn.Module:
    # The paper's detector; torchvision ships no COCO weights for it, so only a local file loads.
    return detection.FasterRCNN(resnet_fpn_backbone(backbone_name="resnet101", weights=None), num_classes=91)


DETECTORS: dict[str, tuple[Callable[..., nn.Module], detection.FasterRCNN_ResNet50_FPN_V2_Weights | None]] = {
    "fasterrcnn_resnet50_fpn_v2": (
        detection.fasterrcnn_resnet50_fpn_v2,
        detection.FasterRCNN_ResNet50_FPN_V2_Weights.DEFAULT,
    ),
    "fasterrcnn_resnet50_fpn": (
        detection.fasterrcnn_resnet50_fpn,
        detection.FasterRCNN_ResNet50_FPN_Weights.DEFAULT,
    ),
    "fasterrcnn_resnet101_fpn": (_resnet101_fpn, None),
}
_LEVELS = ("0", "1", "2", "3")  # the FPN levels RoIAlign may pool from (strides 4 to 32)
_COCO_CATEGORIES: list[str] = list(detection.FasterRCNN_ResNet50_FPN_V2_Weights.DEFAULT.meta["categories"])


@dataclass(frozen=True)
class ExtractionConfig:
    """How features are extracted.

    Attributes:
        mode: ``"oracle"`` (annotated boxes) or ``"predicted"`` (detected boxes).
        detector: a name of :data:`DETECTORS`.
        weights: a local ``state_dict`` file of the detector; ``None``: torchvision's cache.
        random_init: random detector weights (tests, demo): the features mean nothing.
        batch_size: frames a forward pass.
        image_min_size, image_max_size: the detector's resize (torchvision: 800, 1333).
        roi_size: RoIAlign output grid.
        score_threshold: detections below this score are dropped (predicted mode).
        match_iou: IoU with an annotated box that gives a detection without an AG class that box's class.
        feature_dtype: ``"float16"`` or ``"float32"`` in the files.
        on_bad_sample: ``"raise"`` or ``"skip"`` (a video with an unreadable frame).
        rank, world_size: this process's shard: videos ``rank, rank + world_size, ...`` in sorted order.
        device: ``"cuda"`` when available unless given.
    """

    mode: Literal["oracle", "predicted"] = "oracle"
    detector: str = "fasterrcnn_resnet50_fpn_v2"
    weights: str | None = None
    random_init: bool = False
    batch_size: int = 8
    image_min_size: int = 800
    image_max_size: int = 1333
    roi_size: int = 7
    score_threshold: float = 0.5
    match_iou: float = 0.5
    feature_dtype: Literal["float16", "float32"] = "float16"
    on_bad_sample: OnBadSample = "raise"
    rank: int = 0
    world_size: int = 1
    device: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("oracle", "predicted"):
            raise ValueError(f"mode must be 'oracle' or 'predicted', got {self.mode!r}")
        if self.detector not in DETECTORS:
            raise ValueError(f"unknown detector {self.detector!r}; valid detectors: {', '.join(DETECTORS)}")
        for name in ("batch_size", "image_min_size", "image_max_size", "roi_size", "world_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank must be in [0, world_size={self.world_size}), got {self.rank}")
        for name in ("score_threshold", "match_iou"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.feature_dtype not in ("float16", "float32"):
            raise ValueError(f"feature_dtype must be 'float16' or 'float32', got {self.feature_dtype!r}")
        check_on_bad_sample(self.on_bad_sample)


def build_detector(name: str, weights: str | Path | None = None, random_init: bool = False) -> nn.Module:
    """A torchvision Faster R-CNN (91 COCO classes) in eval mode, without downloading anything.

    Raises:
        ValueError: unknown name.
        FileNotFoundError: no weights file given or in torchvision's cache (the message says where to
            get them).
    """
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; valid detectors: {', '.join(DETECTORS)}")
    builder, known = DETECTORS[name]
    if name == "fasterrcnn_resnet101_fpn":
        model = builder()
    else:
        model = builder(weights=None, weights_backbone=None, num_classes=91)
    if random_init:
        return model.eval()
    path = Path(weights) if weights is not None else None
    if path is None and known is not None:
        path = Path(torch.hub.get_dir()) / "checkpoints" / Path(known.url).name
    if path is None or not path.is_file():
        source = (
            f"torchvision's {known.url}" if known is not None else "a COCO-trained ResNet-101 FPN checkpoint"
        )
        raise FileNotFoundError(
            f"no weights for detector {name!r} at {path}; this tool downloads nothing: fetch {source} on a "
            'machine with internet (e.g. `python -c "import torchvision; torchvision.models.detection.'
            f"{name}(weights='DEFAULT')\"` fills torchvision's cache) and pass --weights FILE, or use "
            "--random-init for a test run whose features mean nothing"
        )
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def ag_classes_of_detections(
    labels: Tensor, boxes: Tensor, annotated_boxes: Tensor, annotated_classes: Sequence[int], match_iou: float
) -> list[int | None]:
    """The Action Genome object class of each detection, or ``None`` (dropped).

    Args:
        labels: ``(N,)`` COCO label indices (torchvision's 91-entry numbering).
        boxes: ``(N, 4)`` detected boxes, xyxy.
        annotated_boxes: ``(M, 4)`` the frame's annotated object boxes.
        annotated_classes: their ``M`` Action Genome class indices.
        match_iou: least IoU for a class-agnostic match.
    """
    iou = box_iou(boxes, annotated_boxes) if len(annotated_boxes) else boxes.new_zeros(len(boxes), 0)
    classes: list[int | None] = []
    for n, label in enumerate(labels.tolist()):
        name = AG_FROM_COCO.get(_COCO_CATEGORIES[label])
        if name is not None:
            classes.append(AG_OBJECT_CLASSES.index(name))
        elif iou.shape[1] and float(iou[n].max()) >= match_iou:
            classes.append(int(annotated_classes[int(iou[n].argmax())]))
        else:
            classes.append(None)
    return classes


def roi_features(
    pooler: MultiScaleRoIAlign,
    maps: dict[str, Tensor],
    boxes: list[Tensor],
    image_sizes: list[tuple[int, int]],
) -> list[Tensor]:
    """RoIAlign each image's boxes on the feature maps and average the grid: one ``(N_i, C)`` per image.

    Args:
        pooler: the multi-scale RoIAlign (it picks each box's level by its size, FPN's rule).
        maps: level name -> ``(B, C, H_l, W_l)`` feature maps of the batch.
        boxes: ``B`` tensors ``(N_i, 4)`` xyxy in the pixels of ``image_sizes``.
        image_sizes: ``(height, width)`` of each image as the backbone saw it.
    """
    pooled = pooler(maps, boxes, image_sizes)
    return list(pooled.mean((2, 3)).split([len(b) for b in boxes]))


@dataclass
class _FrameBoxes:
    key: str
    person: Tensor  # (4,)
    objects: Tensor  # (K, 4)
    classes: list[int] = field(default_factory=list)


class BoxFeatureExtractor(nn.Module):
    """Boxes of a batch of frames -> their person, object and union RoI features.

    Args:
        detector: a torchvision Faster R-CNN (its ``transform``, ``backbone``, ``rpn``, ``roi_heads``).
        config: the extraction settings.
    """

    def __init__(self, detector: nn.Module, config: ExtractionConfig) -> None:
        super().__init__()
        self.detector = detector
        self.config = config
        detector.transform.min_size = (config.image_min_size,)
        detector.transform.max_size = config.image_max_size
        self.pooler = MultiScaleRoIAlign(list(_LEVELS), output_size=config.roi_size, sampling_ratio=2)

    @torch.no_grad()
    def forward(
        self, images: list[Tensor], frames: list[AGFrame]
    ) -> list[tuple[_FrameBoxes, Tensor, Tensor, Tensor] | None]:
        """Features of each frame: ``(boxes, person (F,), objects (K, F), unions (K, F))`` or ``None``
        for a frame without a person box."""
        sizes = [tuple(image.shape[-2:]) for image in images]
        batch, _ = self.detector.transform(images)
        maps = self.detector.backbone(batch.tensors)
        if self.config.mode == "predicted":
            proposals, _ = self.detector.rpn(batch, maps)
            detections, _ = self.detector.roi_heads(maps, proposals, batch.image_sizes)
            detections = self.detector.transform.postprocess(detections, batch.image_sizes, sizes)
            chosen = [self.boxes_from_detections(d, f) for d, f in zip(detections, frames, strict=True)]
        else:
            chosen = [self.boxes_from_annotations(f) for f in frames]
        outputs: list[tuple[_FrameBoxes, Tensor, Tensor, Tensor] | None] = [None] * len(frames)
        boxes, owners = [], []
        for i, item in enumerate(chosen):
            if item is None:
                continue
            union = torch.cat(
                [
                    torch.minimum(item.objects[:, :2], item.person[:2]),
                    torch.maximum(item.objects[:, 2:], item.person[2:]),
                ],
                dim=1,
            )
            scale = torch.tensor(
                [batch.image_sizes[i][1] / sizes[i][1], batch.image_sizes[i][0] / sizes[i][0]] * 2,
                device=item.person.device,
            )
            boxes.append(torch.cat([item.person[None], item.objects, union]) * scale)
            owners.append(i)
        if not boxes:
            return outputs
        sizes_used = [batch.image_sizes[i] for i in owners]
        features = roi_features(self.pooler, {k: maps[k][owners] for k in _LEVELS}, boxes, sizes_used)
        for i, feature in zip(owners, features, strict=True):
            item = chosen[i]
            k = len(item.classes)
            outputs[i] = (item, feature[0], feature[1 : 1 + k], feature[1 + k :])
        return outputs

    def boxes_from_annotations(self, frame: AGFrame) -> _FrameBoxes | None:
        """Oracle mode: the frame's annotated person and visible object boxes (None without a person)."""
        if frame.person_box is None:
            return None
        visible = [o for o in frame.objects if o.visible and o.box_xyxy is not None]
        device = self.pooler_device
        return _FrameBoxes(
            frame.key,
            torch.tensor(frame.person_box, dtype=torch.float32, device=device),
            torch.tensor([o.box_xyxy for o in visible], dtype=torch.float32, device=device).reshape(-1, 4),
            [o.class_index for o in visible],
        )

    def boxes_from_detections(self, found: dict[str, Tensor], frame: AGFrame) -> _FrameBoxes | None:
        """Predicted mode: the best detection per Action Genome class (None without a person)."""
        keep = found["scores"] >= self.config.score_threshold
        labels, boxes, scores = found["labels"][keep], found["boxes"][keep], found["scores"][keep]
        visible = [o for o in frame.objects if o.visible and o.box_xyxy is not None]
        annotated = torch.tensor([o.box_xyxy for o in visible], dtype=torch.float32, device=boxes.device)
        annotated = annotated.reshape(-1, 4)
        classes = ag_classes_of_detections(
            labels, boxes, annotated, [o.class_index for o in visible], self.config.match_iou
        )
        best: dict[int, int] = {}
        for n, cls in enumerate(classes):  # one box per class: the highest-scoring one
            if cls is not None and (cls not in best or scores[n] > scores[best[cls]]):
                best[cls] = n
        if 0 not in best:
            return None
        objects = sorted(c for c in best if c != 0)
        return _FrameBoxes(
            frame.key,
            boxes[best[0]],
            boxes[[best[c] for c in objects]].reshape(-1, 4),
            objects,
        )

    @property
    def pooler_device(self) -> torch.device:
        return next(self.detector.parameters()).device


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
    video_id: str, kept: list[tuple[_FrameBoxes, Tensor, Tensor, Tensor]], dtype: np.dtype
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
    parser = argparse.ArgumentParser(prog="lvlm-var extract-features", description=__doc__.split("\n")[0])
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
