"""RoI pooling of a frame's boxes: the person, object and union features of a batch of frames.

``torchvision.ops.MultiScaleRoIAlign`` (``roi_align`` on the FPN level that suits the box's size) over the
detector's backbone feature maps, averaged over the ``roi_size x roi_size`` grid: ``F`` = the FPN width,
256. The boxes are the annotated ones (oracle mode) or the detector's (predicted mode); the union box is
the smallest box holding the person and the object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torchvision.ops import MultiScaleRoIAlign

from ..formats.action_genome import AGFrame
from .config import ExtractionConfig
from .detectors import ag_classes_of_detections

__all__ = ["FrameBoxes", "BoxFeatureExtractor", "roi_features"]

_LEVELS = ("0", "1", "2", "3")  # the FPN levels RoIAlign may pool from (strides 4 to 32)


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
class FrameBoxes:
    """One frame's chosen boxes (xyxy, in the frame's pixels) and the Action Genome class of each object."""

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
    ) -> list[tuple[FrameBoxes, Tensor, Tensor, Tensor] | None]:
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
        outputs: list[tuple[FrameBoxes, Tensor, Tensor, Tensor] | None] = [None] * len(frames)
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

    def boxes_from_annotations(self, frame: AGFrame) -> FrameBoxes | None:
        """Oracle mode: the frame's annotated person and visible object boxes (None without a person)."""
        if frame.person_box is None:
            return None
        visible = [o for o in frame.objects if o.visible and o.box_xyxy is not None]
        device = self.pooler_device
        return FrameBoxes(
            frame.key,
            torch.tensor(frame.person_box, dtype=torch.float32, device=device),
            torch.tensor([o.box_xyxy for o in visible], dtype=torch.float32, device=device).reshape(-1, 4),
            [o.class_index for o in visible],
        )

    def boxes_from_detections(self, found: dict[str, Tensor], frame: AGFrame) -> FrameBoxes | None:
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
        return FrameBoxes(
            frame.key,
            boxes[best[0]],
            boxes[[best[c] for c in objects]].reshape(-1, 4),
            objects,
        )

    @property
    def pooler_device(self) -> torch.device:
        return next(self.detector.parameters()).device
