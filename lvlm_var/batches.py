"""The batch layouts the models consume (the contract between DataModules and LightningModules)."""

from __future__ import annotations

from typing import TypedDict

from torch import Tensor

__all__ = ["SkeletonBatch", "SceneGraphBatch"]


class SkeletonBatch(TypedDict):
    """A batch of skeleton clips (NTU RGB+D, NW-UCLA)."""

    skeleton: Tensor  # (B, C=3, T, V, M) float32, xyz per joint, bodies last; zeros for absent bodies
    label: Tensor  # (B,) long, 0-based class index
    name: list[str]  # B sample names, e.g. "S001C002P003R002A023"


class SceneGraphBatch(TypedDict):
    """A batch of human-object relation tokens: T frames, K human-object pairs per frame."""

    video_id: list[str]  # B video ids
    subject_feature: Tensor  # (B, T, K, F) RoI feature of the person box
    object_feature: Tensor  # (B, T, K, F) RoI feature of the object box
    union_feature: Tensor  # (B, T, K, F) RoI feature of the union box
    boxes: Tensor  # (B, T, K, 8) person xyxy then object xyxy, divided by frame width / height
    object_class: Tensor  # (B, T, K) long, Action Genome object class index (person is the subject)
    relations: Tensor  # (B, T, K, R) float multi-hot over the R=26 Action Genome relationships
    mask: Tensor  # (B, T, K) bool, True where a real human-object pair is present
    frame_index: Tensor  # (B, T) long, frame number in the source video
    labels: Tensor  # (B, C) float multi-hot (Charades) or (B,) long (single-label, CAD-120)
