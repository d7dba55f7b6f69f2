"""The settings of ``extract-features``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..bad_samples import OnBadSample, check_on_bad_sample
from .detectors import DETECTORS

__all__ = ["ExtractionConfig"]


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
