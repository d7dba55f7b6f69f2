"""The batch layouts the models consume (the contract between DataModules and LightningModules)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import torch
from torch import Tensor

__all__ = ["SkeletonBatch", "SceneGraphBatch", "scene_graph_batch"]


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


def scene_graph_batch(
    subject_feature: Tensor,
    object_feature: Tensor,
    union_feature: Tensor,
    object_class: Tensor,
    relations: Tensor,
    labels: Tensor,
    *,
    boxes: Tensor | None = None,
    mask: Tensor | None = None,
    frame_index: Tensor | None = None,
    video_id: Sequence[str] | None = None,
) -> SceneGraphBatch:
    """A :class:`SceneGraphBatch` from its tensors, with defaults for what a user may not have.

    Args:
        subject_feature: ``(B, T, K, F)`` person-box features.
        object_feature: ``(B, T, K, F)`` object-box features.
        union_feature: ``(B, T, K, F)`` union-box features.
        object_class: ``(B, T, K)`` integer object classes; ``-1`` marks a padding slot.
        relations: ``(B, T, K, R)`` multi-hot relations (bool or float).
        labels: ``(B, C)`` multi-hot (multi-label) or ``(B,)`` class indices.
        boxes: ``(B, T, K, 8)`` normalised person then object ``xyxy``; default: both boxes the whole
            frame (the box map then carries no information).
        mask: ``(B, T, K)`` bool, real pairs; default ``object_class >= 0``.
        frame_index: ``(B, T)`` source frame numbers; default ``0 .. T-1``.
        video_id: ``B`` ids; default ``video_0 .. video_{B-1}``.

    Raises:
        ValueError: a tensor's shape does not match ``(B, T, K, ...)`` of ``subject_feature``, naming it.
    """
    if subject_feature.ndim != 4:
        raise ValueError(f"subject_feature must be (B, T, K, F), got {tuple(subject_feature.shape)}")
    size, frames, pairs, _ = subject_feature.shape
    if mask is None:
        mask = object_class >= 0
    if boxes is None:
        boxes = subject_feature.new_tensor([0.0, 0.0, 1.0, 1.0] * 2).expand(size, frames, pairs, 8)
    if frame_index is None:
        frame_index = torch.arange(frames, device=subject_feature.device).expand(size, frames)
    video_ids = [f"video_{i}" for i in range(size)] if video_id is None else list(video_id)
    expected = {
        "object_feature": (object_feature, (size, frames, pairs, subject_feature.shape[3])),
        "union_feature": (union_feature, (size, frames, pairs, subject_feature.shape[3])),
        "object_class": (object_class, (size, frames, pairs)),
        "relations": (relations, (size, frames, pairs, relations.shape[-1])),
        "boxes": (boxes, (size, frames, pairs, 8)),
        "mask": (mask, (size, frames, pairs)),
        "frame_index": (frame_index, (size, frames)),
    }
    for name, (tensor, shape) in expected.items():
        if tuple(tensor.shape) != shape:
            raise ValueError(
                f"{name} must have shape {shape} (B, T, K of subject_feature), got {tuple(tensor.shape)}"
            )
    if labels.ndim not in (1, 2) or labels.shape[0] != size:
        raise ValueError(f"labels must be (B={size}, C) or (B={size},), got {tuple(labels.shape)}")
    if len(video_ids) != size:
        raise ValueError(f"video_id must hold B={size} ids, got {len(video_ids)}")
    return SceneGraphBatch(
        video_id=video_ids,
        subject_feature=subject_feature,
        object_feature=object_feature,
        union_feature=union_feature,
        boxes=boxes,
        object_class=object_class.long(),
        relations=relations.float(),
        mask=mask.bool(),
        frame_index=frame_index.long(),
        labels=labels,
    )
