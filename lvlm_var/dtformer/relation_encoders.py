"""Relation features of a human-object pair: visual (Eq. 1) and semantic (Eq. 2)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lvlm_var.dtformer.config import RelationEncoderConfig

__all__ = ["rasterize_box_pair", "VisualRelationEncoder", "SemanticRelationEncoder"]


def rasterize_box_pair(boxes: Tensor, size: int) -> Tensor:
    """The 2-channel binary spatial configuration map of a subject and an object box.

    Args:
        boxes: ``(..., 8)`` subject ``x1 y1 x2 y2`` then object ``x1 y1 x2 y2``, normalised to [0, 1] by
            the frame width / height.
        size: side ``S`` of the map.

    Returns:
        ``(..., 2, S, S)`` float, 1 inside the subject box (channel 0) / object box (channel 1). A pixel is
        inside when its centre is; a box smaller than a pixel still marks the pixel holding its centre.
    """
    centres = (torch.arange(size, device=boxes.device, dtype=boxes.dtype) + 0.5) / size
    x1, y1, x2, y2 = boxes.unflatten(-1, (2, 4)).unbind(-1)  # each (..., 2)
    cell_x = ((x1 + x2) / 2 * size).floor().clamp(0, size - 1)
    cell_y = ((y1 + y2) / 2 * size).floor().clamp(0, size - 1)
    index = torch.arange(size, device=boxes.device, dtype=boxes.dtype)
    inside_x = ((centres >= x1[..., None]) & (centres <= x2[..., None])) | (index == cell_x[..., None])
    inside_y = ((centres >= y1[..., None]) & (centres <= y2[..., None])) | (index == cell_y[..., None])
    return (inside_y[..., :, None] & inside_x[..., None, :]).to(boxes.dtype)


class VisualRelationEncoder(nn.Module):
    """Eq. 1: ``v = [W_s v_i, W_o v_j, W_u phi(u_ij + f_box(b_i, b_j))]``.

    ``f_box`` flattens the 2-channel ``S x S`` box map and maps it with a two-layer MLP to the width of the
    union feature, to which it is added. Our union features are already pooled RoI vectors, so the
    flattening ``phi`` of the paper (of a ``C x 7 x 7`` RoI map) has nothing left to do. With
    ``config.box_map`` False there is no ``f_box`` and the union feature goes in alone.

    Args:
        config: encoder hyperparameters.
    """

    def __init__(self, config: RelationEncoderConfig) -> None:
        super().__init__()
        self.box_map_size = config.box_map_size
        self.subject = nn.Linear(config.feature_dim, config.part_dim)
        self.object = nn.Linear(config.feature_dim, config.part_dim)
        self.union = nn.Linear(config.feature_dim, config.part_dim)
        self.box = (
            nn.Sequential(
                nn.Linear(2 * config.box_map_size**2, config.box_hidden),
                nn.ReLU(),
                nn.Linear(config.box_hidden, config.feature_dim),
            )
            if config.box_map
            else None
        )

    @property
    def out_dim(self) -> int:
        return 3 * self.subject.out_features

    def forward(
        self, subject_feature: Tensor, object_feature: Tensor, union_feature: Tensor, boxes: Tensor
    ) -> Tensor:
        """Encode every pair.

        Args:
            subject_feature: ``(B, T, K, F)`` person RoI features.
            object_feature: ``(B, T, K, F)`` object RoI features.
            union_feature: ``(B, T, K, F)`` union-box RoI features.
            boxes: ``(B, T, K, 8)`` normalised person then object boxes.

        Returns:
            ``(B, T, K, 3 * part_dim)`` visual relation features.
        """
        union = union_feature
        if self.box is not None:
            union = union + self.box(rasterize_box_pair(boxes, self.box_map_size).flatten(-3))
        return torch.cat([self.subject(subject_feature), self.object(object_feature), self.union(union)], -1)


class SemanticRelationEncoder(nn.Module):
    """Eq. 2: ``s = [s_i, r_ij, s_j]`` from the subject class, the relations and the object class.

    Action Genome subjects are always the person, so ``s_i`` is one learned vector. ``r_ij`` pools the
    embeddings of all relations annotated for the pair (a pair often has several, e.g. ``looking_at`` and
    ``holding``): an embedding bag with mean pooling over the multi-hot vector, zeros for none. ``s_j``
    embeds the object class.

    Args:
        config: encoder hyperparameters.
    """

    def __init__(self, config: RelationEncoderConfig) -> None:
        super().__init__()
        self.num_object_classes = config.num_object_classes
        self.num_relations = config.num_relations
        std = config.semantic_init_std
        self.subject = nn.Parameter(torch.randn(config.part_dim) * std)
        self.relation = nn.Parameter(torch.randn(config.num_relations, config.part_dim) * std)
        self.object = nn.Embedding(config.num_object_classes, config.part_dim)
        nn.init.normal_(self.object.weight, std=std)
        self.norm = nn.LayerNorm(self.out_dim) if config.semantic_norm else None

    @property
    def out_dim(self) -> int:
        return 3 * self.relation.shape[1]

    def forward(self, object_class: Tensor, relations: Tensor) -> Tensor:
        """Encode every pair.

        Args:
            object_class: ``(...)`` long object class indices (padding may hold any valid index).
            relations: ``(..., R)`` float multi-hot relations.

        Returns:
            ``(..., 3 * part_dim)`` semantic relation features.

        Raises:
            ValueError: an object class or the relation vocabulary size does not fit the embeddings.
        """
        if relations.shape[-1] != self.num_relations:
            raise ValueError(
                f"relations: expected {self.num_relations} relation channels (last dim), got "
                f"{relations.shape[-1]}"
            )
        if object_class.numel() and (object_class.min() < 0 or object_class.max() >= self.num_object_classes):
            raise ValueError(
                f"object_class: expected indices in [0, {self.num_object_classes}), got range "
                f"[{int(object_class.min())}, {int(object_class.max())}]"
            )
        relation_weights = relations / relations.sum(-1, keepdim=True).clamp(min=1.0)
        relation = relation_weights @ self.relation
        subject = self.subject.expand_as(relation)
        features = torch.cat([subject, relation, self.object(object_class)], dim=-1)
        return features if self.norm is None else self.norm(features)
