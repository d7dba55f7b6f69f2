"""The torchvision Faster R-CNNs ``extract-features`` can use: built without downloading, and their COCO
classes in Action Genome's terms (:data:`AG_FROM_COCO`, else the annotated box a detection overlaps)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn
from torchvision.models import detection
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.ops import box_iou

from ..formats.class_names import AG_OBJECT_CLASSES

__all__ = ["AG_FROM_COCO", "DETECTORS", "build_detector", "ag_classes_of_detections"]

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
_COCO_CATEGORIES: list[str] = list(detection.FasterRCNN_ResNet50_FPN_V2_Weights.DEFAULT.meta["categories"])


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
