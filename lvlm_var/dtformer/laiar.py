"""LaIAR: a video model and a language model, each a relation encoder + joint space + DT-Former + head."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from torch import Tensor, nn

from lvlm_var.batches import SceneGraphBatch
from lvlm_var.dtformer.config import LaIARConfig
from lvlm_var.dtformer.dtformer import DTFormer, DTFormerOutput
from lvlm_var.dtformer.gpo import JointSpaceEncoder
from lvlm_var.dtformer.relation_encoders import SemanticRelationEncoder, VisualRelationEncoder

__all__ = ["LaIAR", "BranchFeatures", "Branch"]

Branch = Literal["video", "language"]


@dataclass
class BranchFeatures:
    """Features of one branch for one batch.

    Attributes:
        joint: ``(B, T, K, D/2)`` per-token joint-space embeddings (``v-hat`` / ``s-hat``).
        former: the DT-Former output (``former.z`` is ``(B, D)``, ``former.selection.keep`` is ``U``).
    """

    joint: Tensor
    former: DTFormerOutput


class LaIAR(nn.Module):
    """The dual-branch model of Fig. 2.

    The video branch reads RoI features and boxes (Eq. 1), the language branch reads object classes and
    relations (Eq. 2); both map to the joint space (``f_v``, ``f_s``) and run a DT-Former. Heads: ``P^v``
    and ``P^{v2s}`` on the video representation, ``P^s`` on the language one. Only the video branch is
    needed at inference.

    Args:
        config: model hyperparameters.
    """

    def __init__(self, config: LaIARConfig) -> None:
        super().__init__()
        self.config = config
        encoder = config.encoder
        self.visual_encoder = VisualRelationEncoder(encoder)
        self.semantic_encoder = SemanticRelationEncoder(encoder)
        self.visual_joint = JointSpaceEncoder(
            self.visual_encoder.out_dim,
            encoder.embed_dim,
            encoder.gpo_pe_dim,
            encoder.gpo_hidden,
            encoder.global_context,
            encoder.joint_norm,
        )
        self.semantic_joint = JointSpaceEncoder(
            self.semantic_encoder.out_dim,
            encoder.embed_dim,
            encoder.gpo_pe_dim,
            encoder.gpo_hidden,
            encoder.global_context,
            encoder.joint_norm,
        )
        self.video_former = DTFormer(config.dtformer)
        self.language_former = self.video_former if config.share_weights else DTFormer(config.dtformer)
        self.video_head = nn.Linear(config.dtformer.dim, config.num_classes)
        self.language_head = nn.Linear(config.dtformer.dim, config.num_classes)
        self.video_to_language_head = (
            nn.Linear(config.dtformer.dim, config.num_classes) if config.cross_modal_head else None
        )
        if config.head_prior is not None:
            bias = -math.log((1.0 - config.head_prior) / config.head_prior)
            for head in (self.video_head, self.language_head, self.video_to_language_head):
                if head is not None:
                    nn.init.constant_(head.bias, bias)

    def forward_features(
        self,
        batch: SceneGraphBatch,
        branch: Branch = "video",
        drop: bool | None = None,
        select: bool = True,
        keep: Tensor | None = None,
    ) -> BranchFeatures:
        """Encode one branch.

        Args:
            batch: a :class:`SceneGraphBatch`.
            branch: ``"video"`` (visual tokens) or ``"language"`` (semantic tokens).
            drop: passed to :meth:`DTFormer.forward`.
            select: passed to :meth:`DTFormer.forward`.
            keep: passed to :meth:`DTFormer.forward`.

        Returns:
            the branch's :class:`BranchFeatures`.

        Raises:
            ValueError: unknown branch.
        """
        mask = batch["mask"]
        if branch == "video":
            relations = self.visual_encoder(
                batch["subject_feature"], batch["object_feature"], batch["union_feature"], batch["boxes"]
            )
            tokens, joint = self.visual_joint(relations, mask)
            former = self.video_former(tokens, mask, drop=drop, select=select, keep=keep)
        elif branch == "language":
            # padding slots may hold any placeholder class (e.g. -1); they are masked downstream
            object_class = batch["object_class"].masked_fill(~mask, 0)
            relations = self.semantic_encoder(object_class, batch["relations"])
            tokens, joint = self.semantic_joint(relations, mask)
            former = self.language_former(tokens, mask, drop=drop, select=select, keep=keep)
        else:
            raise ValueError(f"unknown LaIAR branch {branch!r}; valid branches: video, language")
        return BranchFeatures(joint=joint, former=former)

    def forward_head(self, features: BranchFeatures, branch: Branch = "video") -> Tensor:
        """``(B, C)`` class logits: ``P^v`` for the video branch, ``P^s`` for the language branch."""
        head = self.video_head if branch == "video" else self.language_head
        return features.former.read(head)

    def forward_cross_modal_head(self, features: BranchFeatures) -> Tensor:
        """``(B, C)`` logits ``P^{v2s}``: the video model's estimate of the language model's prediction.

        Raises:
            RuntimeError: the model was built without the cross-modal head.
        """
        if self.video_to_language_head is None:
            raise RuntimeError("LaIAR was built with cross_modal_head=False; P^v2s is not available")
        return features.former.read(self.video_to_language_head)

    def forward(self, batch: SceneGraphBatch) -> Tensor:
        """``(B, C)`` video-branch logits: the inference path."""
        return self.forward_head(self.forward_features(batch, "video"), "video")
