"""LaIAR (Wang et al., CVPR 2024): relation encoders, GPO joint space, DT-Former, losses, explanations."""

from lvlm_var.dtformer.config import (
    DTFormerConfig,
    LaIARConfig,
    LaIARLossConfig,
    OptimConfig,
    RelationEncoderConfig,
)
from lvlm_var.dtformer.dtformer import DTFormer, DTFormerOutput, PackedLayout, TransformerBlock
from lvlm_var.dtformer.explain import ExplainConfig
from lvlm_var.dtformer.gpo import GeneralizedPooling, JointSpaceEncoder
from lvlm_var.dtformer.kept_token_naming import TripletVocabulary, explain_video
from lvlm_var.dtformer.laiar import BranchFeatures, LaIAR
from lvlm_var.dtformer.losses import (
    LaIARLoss,
    RelationContrastiveLoss,
    classification_loss,
    cross_modal_loss,
    keep_ratio_loss,
    token_selection_supervision_loss,
)
from lvlm_var.dtformer.module import LaIARModule
from lvlm_var.dtformer.relation_encoders import (
    SemanticRelationEncoder,
    VisualRelationEncoder,
    rasterize_box_pair,
)
from lvlm_var.dtformer.token_selector import Selection, SpatioTemporalSelector, TokenSelector

__all__ = [
    "BranchFeatures",
    "DTFormer",
    "DTFormerConfig",
    "DTFormerOutput",
    "ExplainConfig",
    "GeneralizedPooling",
    "JointSpaceEncoder",
    "LaIAR",
    "LaIARConfig",
    "LaIARLoss",
    "LaIARLossConfig",
    "LaIARModule",
    "OptimConfig",
    "PackedLayout",
    "RelationContrastiveLoss",
    "RelationEncoderConfig",
    "Selection",
    "SemanticRelationEncoder",
    "SpatioTemporalSelector",
    "TokenSelector",
    "TransformerBlock",
    "TripletVocabulary",
    "VisualRelationEncoder",
    "classification_loss",
    "cross_modal_loss",
    "explain_video",
    "keep_ratio_loss",
    "rasterize_box_pair",
    "token_selection_supervision_loss",
]
