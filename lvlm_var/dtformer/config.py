"""Typed hyperparameters of LaIAR: relation encoders, DT-Former, the whole model and the learning scheme.

The paper (Wang et al., "Language Model Guided Interpretable Video Action Reasoning", CVPR 2024) gives
no implementation details (no T, K, D, depth, heads, batch size, optimiser). The presets below are our
choices, stated once here:

* ``T = 16`` frames per video and ``K = 8`` human-object pairs per frame for Charades / Action Genome
  (the paper's Table 1 reports 36.6 valid relation tokens per video without selection, i.e. about 2.3 pairs
  in each of 16 frames; ``K = 8`` leaves room for the busiest frames);
* ``T = 16``, ``K = 8`` for CAD-120 (49.8 valid tokens per video in Table 1: ~3 pairs per frame);
* RoI features of a Faster R-CNN ResNet-101 detector: ``F = 2048``;
* joint space ``D = 512``, 4 pre-LN transformer blocks, 8 heads, MLP ratio 4 (a ViT-S-like width at a depth
  that the few hundred tokens of a video need).

The dataclass defaults are the Charades preset, so an experiment YAML gives only the fields it changes
(jsonargparse builds each nested config from its defaults plus the YAML's keys; a ``preset`` field could
not tell a value the YAML gave from a default). ``LaIARConfig.preset(name, num_classes, **overrides)``
builds the named presets in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

__all__ = [
    "RelationEncoderConfig",
    "DTFormerConfig",
    "LaIARConfig",
    "LaIARLossConfig",
    "OptimConfig",
    "PRESETS",
]

PRESETS = ("charades", "cad120", "tiny")
NUM_ACTION_GENOME_RELATIONS = 26


def _check_positive(owner: object, *names: str) -> None:
    for name in names:
        value = getattr(owner, name)
        if value <= 0:
            raise ValueError(f"{type(owner).__name__}.{name} must be > 0, got {value}")


@dataclass
class RelationEncoderConfig:
    """Visual (Eq. 1) and semantic (Eq. 2) relation encoders and their joint-space projections.

    Attributes:
        feature_dim: ``F``, size of the subject / object / union RoI features.
        num_object_classes: size of the object vocabulary (``object_class`` indexes it).
        num_relations: ``R``, size of the relationship vocabulary (26 in Action Genome).
        part_dim: output size of each of ``W_s``, ``W_o``, ``W_u`` (Eq. 1) and of each category / relation
            embedding (Eq. 2); a relation feature is ``3 * part_dim`` wide.
        embed_dim: ``D``, the joint-space width fed to the DT-Former (must be even: half of every token is
            its own projection, half the GPO global vector).
        box_map: add ``f_box`` of the subject / object box map to the union feature (Eq. 1). The boxes'
            geometry tells relations apart in real video (a held object overlaps the hands); where it
            carries no relation, as in our synthetic data whose boxes drift at random, the map of each
            video's box layout is a fingerprint the video branch memorises (synthetic test mAP 0.93 with
            the map, 0.98 without: 40 epochs, video branch alone, no token selection, feature noise 0.5).
        box_map_size: side ``S`` of the rasterised 2-channel subject / object box map.
        box_hidden: hidden width of ``f_box``.
        global_context: concatenate the GPO-pooled video vector to every token (Sec. 3.1.1). Off, the
            global half of each token is zeros, so the DT-Former keeps width ``D``. The pooled vector is
            an order-free summary of the video: on data where the order of relations decides the action
            (our synthetic set) it is a shortcut the video branch fits the training set with (synthetic
            test mAP 0.90 with it, 0.98 without: the same runs, no box map).
        gpo_pe_dim: sinusoidal position-encoding width of the GPO weight generator.
        gpo_hidden: hidden size of the GPO bidirectional GRU.
        semantic_init_std: std of the initial subject, relation and object embeddings of Eq. 2 (BERT's
            0.02). Without ``semantic_norm`` it decides whether the language tokens differ at all at the
            start: at 0.02 the joint-space projection's bias dominates and every triplet starts in one
            direction (mean cosine 0.94 at the synthetic Charades size, 0.40 at std 1).
        semantic_norm: LayerNorm over each Eq. 2 feature ``[s_i, r_ij, s_j]`` before the joint-space
            projection ``f_s``, as BERT normalises its summed embeddings, so the initial std no longer
            sets the tokens' scale. On the synthetic Charades preset the language branch alone reached
            test mAP 0.193 in 6 epochs with it, 0.100 without (0.163 at std 1), but the same 0.4 in 20
            (README, Charades scale): a faster start, not a better model. Off by default, so the results
            measured without it stand; ``synthetic_charades_laiar.yaml`` turns it on.
        joint_norm: put every token on the sphere of radius ``sqrt(D/2)`` in the joint space, as VSE and
            GPO normalise their embeddings, before the DT-Former reads it. ``L_sim`` aligns directions
            only, so without this an aligned visual token can still differ from its semantic token in
            length, and a DT-Former shared by the branches (``share_weights``) reads the two differently.
    """

    feature_dim: int = 2048
    num_object_classes: int = 36
    num_relations: int = NUM_ACTION_GENOME_RELATIONS
    part_dim: int = 256
    embed_dim: int = 512
    box_map: bool = True
    box_map_size: int = 16
    box_hidden: int = 256
    global_context: bool = True
    gpo_pe_dim: int = 32
    gpo_hidden: int = 32
    semantic_init_std: float = 0.02
    semantic_norm: bool = False
    joint_norm: bool = False

    def __post_init__(self) -> None:
        _check_positive(
            self,
            "feature_dim",
            "num_object_classes",
            "num_relations",
            "part_dim",
            "embed_dim",
            "box_map_size",
            "box_hidden",
            "gpo_pe_dim",
            "gpo_hidden",
            "semantic_init_std",
        )
        if self.embed_dim % 2:
            raise ValueError(f"RelationEncoderConfig.embed_dim must be even, got {self.embed_dim}")
        if self.gpo_pe_dim % 2:
            raise ValueError(f"RelationEncoderConfig.gpo_pe_dim must be even, got {self.gpo_pe_dim}")

    @property
    def joint_dim(self) -> int:
        """Width of the per-token joint-space embedding compared by ``L_sim`` and the explanations."""
        return self.embed_dim // 2


@dataclass
class DTFormerConfig:
    """Dynamic Token Transformer (Sec. 3.1.2).

    Attributes:
        dim: token width (equals ``RelationEncoderConfig.embed_dim``).
        depth: ``L``, number of transformer blocks.
        num_heads: attention heads.
        mlp_ratio: hidden width of each block's MLP as a multiple of ``dim``.
        num_frames: largest ``T`` (size of the learnable position embedding along time).
        max_pairs: largest ``K`` (size of the position embedding along pairs).
        temporal_selection: select frames (Table 1 "T").
        spatial_selection: select pairs within a frame (Table 1 "S").
        selector_hidden: hidden width of the selector MLP ``sigma``; ``W_1``, ``W_2`` compress to
            ``dim // 2`` each.
        selector_context: the global vector concatenated to each token in Eq. 3. ``"class_token"`` is the
            paper's literal reading (the learnable ``[class]`` embedding, identical for every video at
            layer 0); ``"mean"`` uses the masked mean of the video's tokens (the DynamicViT reading of
            "contextual information of the entire sequence").
        selector_blocks: transformer blocks of the selectors' own that contextualise the tokens and the
            ``[class]`` token they decide on (0: the paper's Eq. 3 on the embedded tokens). At layer 0 a
            selector sees one token and the ``[class]`` embedding, neither of which knows the video, so
            a static ``box: holding`` distractor looks like the first half of *put box*. Only the
            decisions leave these blocks: the DT-Former's own blocks still read the embedded tokens, so
            what a dropped token holds never reaches the prediction through attention.
        gumbel_tau: Gumbel-Softmax temperature during training.
        init_keep_bias: initial bias of the selector's "keep" logit over its "drop" logit, so that training
            starts from keeping most tokens (0 starts from keeping half of them in each selector).
        eval_keep_threshold: ``None`` (default): in eval, each video keeps the number of tokens training
            keeps on average (``round(sum p)``, its most probable ones; see ``SpatioTemporalSelector``).
            A float: keep a token when its keep probability exceeds it (0.5 is the argmax). Training
            samples decisions, so a selector whose keep probabilities sit between 0.5 and 1 keeps fewer
            tokens in training than at a threshold; raising the threshold trades accuracy for tokens.
        selection_gradient: how unselected tokens leave attention in training: ``"attention_policy"``
            (attention weights multiplied by ``U`` and renormalised, DynamicViT; dropped tokens keep a
            gradient) or ``"masked_multiply"`` (the paper's ``Y = U X`` with dropped keys masked; only kept
            tokens pass gradients). See :class:`~lvlm_var.dtformer.dtformer.DTFormer`.
        drop_at_eval: at eval time gather only the kept tokens (inference cost falls with retention)
            instead of masking the dropped ones (same logits, full cost).
        dropout: dropout in attention output and MLP.
        readout: how the class scores are read. ``"class_token"`` is Eq. 6, a linear head on the
            ``[class]`` output. ``"token_max"`` applies the same head to the ``[class]`` output and to every
            kept token's output, and takes each class's largest score, as in multiple-instance learning.
            One 64-wide ``[class]`` vector cannot carry about 7 concurrent actions out of Charades' 157
            classes. Per-token scores can, because each action is carried by the tokens of its own object.
        rotary_time: also rotate queries and keys by each token's frame index (RoPE over ``t``; the
            ``[class]`` token sits at frame 0). Attention then sees how far apart two tokens are in time.
            The additive ``e_t`` alone did not teach the order of relations (README, "Charades scale").
    """

    dim: int = 512
    depth: int = 4
    num_heads: int = 8
    mlp_ratio: float = 4.0
    num_frames: int = 16
    max_pairs: int = 8
    temporal_selection: bool = True
    spatial_selection: bool = True
    selector_hidden: int = 256
    selector_context: Literal["class_token", "mean"] = "class_token"
    selector_blocks: int = 0
    gumbel_tau: float = 1.0
    init_keep_bias: float = 2.0
    eval_keep_threshold: float | None = None
    selection_gradient: Literal["attention_policy", "masked_multiply"] = "attention_policy"
    drop_at_eval: bool = True
    dropout: float = 0.1
    readout: Literal["class_token", "token_max"] = "class_token"
    rotary_time: bool = False

    def __post_init__(self) -> None:
        _check_positive(
            self, "dim", "depth", "num_heads", "mlp_ratio", "num_frames", "max_pairs", "selector_hidden"
        )
        _check_positive(self, "gumbel_tau")
        if self.dim % self.num_heads:
            raise ValueError(
                f"DTFormerConfig.dim ({self.dim}) must be divisible by num_heads ({self.num_heads})"
            )
        if self.dim % 2:
            raise ValueError(f"DTFormerConfig.dim must be even, got {self.dim}")
        if self.selector_context not in ("class_token", "mean"):
            raise ValueError(
                "DTFormerConfig.selector_context must be 'class_token' or 'mean', "
                f"got {self.selector_context!r}"
            )
        if self.selection_gradient not in ("attention_policy", "masked_multiply"):
            raise ValueError(
                "DTFormerConfig.selection_gradient must be 'attention_policy' or 'masked_multiply', "
                f"got {self.selection_gradient!r}"
            )
        if self.eval_keep_threshold is not None and not 0.0 < self.eval_keep_threshold < 1.0:
            raise ValueError(
                f"DTFormerConfig.eval_keep_threshold must be in (0, 1), got {self.eval_keep_threshold}"
            )
        if self.readout not in ("class_token", "token_max"):
            raise ValueError(
                f"DTFormerConfig.readout must be 'class_token' or 'token_max', got {self.readout!r}"
            )
        if self.rotary_time and (self.dim // self.num_heads) % 2:
            raise ValueError(
                f"DTFormerConfig.rotary_time needs an even head width, got dim {self.dim} / "
                f"num_heads {self.num_heads}"
            )
        if self.selector_blocks < 0:
            raise ValueError(f"DTFormerConfig.selector_blocks must be >= 0, got {self.selector_blocks}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"DTFormerConfig.dropout must be in [0, 1), got {self.dropout}")

    @classmethod
    def charades(cls) -> DTFormerConfig:
        """Charades / Action Genome: T=16, K=8, D=512, 4 blocks, 8 heads."""
        return cls(dim=512, depth=4, num_heads=8, num_frames=16, max_pairs=8)

    @classmethod
    def cad120(cls) -> DTFormerConfig:
        """CAD-120 (10 single-label activities): the Charades shapes, as the paper states neither."""
        return cls.charades()

    @classmethod
    def tiny(cls) -> DTFormerConfig:
        """For tests: T=4, K=3, D=16, 2 blocks, 2 heads, no dropout."""
        return cls(dim=16, depth=2, num_heads=2, num_frames=4, max_pairs=3, selector_hidden=8, dropout=0.0)


_ENCODER_PRESETS = {
    "charades": dict(feature_dim=2048, num_object_classes=36, part_dim=256, embed_dim=512),
    "cad120": dict(feature_dim=2048, num_object_classes=13, part_dim=256, embed_dim=512),
    "tiny": dict(
        feature_dim=12,
        num_object_classes=5,
        num_relations=4,
        part_dim=8,
        embed_dim=16,
        box_map_size=4,
        box_hidden=8,
        gpo_pe_dim=4,
        gpo_hidden=4,
    ),
}


@dataclass
class LaIARConfig:
    """The dual-branch LaIAR model.

    Attributes:
        num_classes: ``C`` action classes.
        class_names: the action names (``None``: ``class_0`` ...).
        object_class_names: the object vocabulary (``object_class`` indexes it); when given, its length
            sets ``encoder.num_object_classes`` (``None``: ``object_0`` ... for that many classes).
        relation_names: the relation vocabulary (the ``R`` channels of ``relations``); when given, its
            length sets ``encoder.num_relations`` (``None``: ``relation_0`` ...).
        encoder: relation encoders and joint space.
        dtformer: the DT-Former of each branch (``dim`` must equal ``encoder.embed_dim``).
        share_weights: one DT-Former for both branches. The paper says both "share the same DT-Former"
            (Sec. 3.1.2) and, in its conclusion, "share the same architecture"; and it calls them two
            models (video model, language model) of which only the video one is kept for inference. We
            read it as the same architecture with separate weights (``False``, default); ``True`` shares
            the transformer and selectors (the relation encoders and heads are always per branch).
        cross_modal_head: build ``P^{v2s}`` (needed only by ``L_xm``; ``LaIARModule`` builds it exactly
            when its loss uses ``L_xm``).
        head_prior: initial probability of every class in the multi-label heads: their biases start at
            ``-log((1 - p) / p)`` (RetinaNet's prior initialisation), so training does not spend its first
            steps pushing ``C`` logits from ``p = 0.5`` down to a rare positive rate. ``None``: bias 0
            (``LaIARModule`` fills in ``1 / C`` for a multi-label loss).

    ``encoder`` and ``dtformer`` may be given as dicts (as ``dataclasses.asdict`` stores them in checkpoints).
    """

    num_classes: int
    class_names: list[str] | None = None
    object_class_names: list[str] | None = None
    relation_names: list[str] | None = None
    encoder: RelationEncoderConfig = field(default_factory=RelationEncoderConfig)
    dtformer: DTFormerConfig = field(default_factory=DTFormerConfig)
    share_weights: bool = False
    cross_modal_head: bool = True
    head_prior: float | None = None

    def __post_init__(self) -> None:
        _check_positive(self, "num_classes")
        if isinstance(self.encoder, dict):
            self.encoder = RelationEncoderConfig(**self.encoder)
        if isinstance(self.dtformer, dict):
            self.dtformer = DTFormerConfig(**self.dtformer)
        if self.head_prior is not None and not 0.0 < self.head_prior < 1.0:
            raise ValueError(f"LaIARConfig.head_prior must be in (0, 1) or None, got {self.head_prior}")
        if self.encoder.embed_dim != self.dtformer.dim:
            raise ValueError(
                f"LaIARConfig: encoder.embed_dim ({self.encoder.embed_dim}) must equal dtformer.dim "
                f"({self.dtformer.dim})"
            )
        self.class_names = _vocabulary(self.class_names, self.num_classes, "class")
        if len(self.class_names) != self.num_classes:
            raise ValueError(
                f"LaIARConfig.class_names has {len(self.class_names)} names, expected num_classes="
                f"{self.num_classes}"
            )
        encoder = self.encoder
        self.object_class_names = _vocabulary(self.object_class_names, encoder.num_object_classes, "object")
        self.relation_names = _vocabulary(self.relation_names, encoder.num_relations, "relation")
        self.encoder = replace(
            self.encoder,
            num_object_classes=len(self.object_class_names),
            num_relations=len(self.relation_names),
        )

    @classmethod
    def preset(cls, name: str, num_classes: int, **overrides: Any) -> LaIARConfig:
        """Build a named preset; ``overrides`` replace fields of this config, the encoder or the DT-Former by
        name (``embed_dim`` also sets the DT-Former's ``dim`` unless ``dim`` is given).

        Raises:
            ValueError: unknown preset name or override key.
        """
        if name not in PRESETS:
            raise ValueError(f"unknown LaIAR preset {name!r}; valid presets: {', '.join(PRESETS)}")
        encoder = RelationEncoderConfig(**_ENCODER_PRESETS[name])
        dtformer = getattr(DTFormerConfig, name)()
        encoder_keys = {f.name for f in fields(RelationEncoderConfig)}
        dtformer_keys = {f.name for f in fields(DTFormerConfig)}
        model_keys = {f.name for f in fields(cls)} - {"num_classes", "encoder", "dtformer"}
        unknown = set(overrides) - encoder_keys - dtformer_keys - model_keys
        if unknown:
            valid = ", ".join(sorted(encoder_keys | dtformer_keys | model_keys))
            raise ValueError(f"unknown LaIAR override(s) {sorted(unknown)}; valid keys: {valid}")
        encoder = replace(encoder, **{k: v for k, v in overrides.items() if k in encoder_keys})
        dtformer = replace(dtformer, **{k: v for k, v in overrides.items() if k in dtformer_keys})
        if "embed_dim" in overrides and "dim" not in overrides:
            dtformer = replace(dtformer, dim=encoder.embed_dim)
        return cls(
            num_classes=num_classes,
            encoder=encoder,
            dtformer=dtformer,
            **{k: v for k, v in overrides.items() if k in model_keys},
        )


def _vocabulary(names: list[str] | None, size: int, stem: str) -> list[str]:
    return list(names) if names is not None else [f"{stem}_{i}" for i in range(size)]


@dataclass
class LaIARLossConfig:
    """The learning scheme (Sec. 3.2, Eq. 11): ``L = L_cls + delta L_sim + zeta L_tss + eta L_xm``.

    Attributes:
        multi_label: BCE-with-logits per class (Charades) instead of softmax cross-entropy (CAD-120).
        sim_weight: ``delta`` (paper: 0.1).
        tss_weight: ``zeta`` (paper: 1).
        xm_weight: ``eta`` (paper: 0.1).
        use_sim, use_tss, use_xm: switches for the Table 2 ablation.
        sparsity_weight: weight of the L1 term on ``u^s`` inside ``L_tss``; Eq. 9 adds it with weight 1.
        tss_detach_language: stop the MSE term of ``L_tss`` from moving the language selector (Eq. 9 does
            not detach; the L1 term always acts on the language selector).
        init_temperature: initial contrastive temperature (CLIP: 0.07, i.e. logit scale 1/0.07).
        max_logit_scale: clamp of the learnable logit scale (CLIP: 100).
        keep_ratio: target share of each video's tokens kept by both selectors, or ``None`` (the paper:
            the L1 term alone sets the sparsity). When set, ``keep_ratio_weight * L_ratio`` is added, with
            ``L_ratio`` DynamicViT's ratio loss: the squared gap between each video's kept share and the
            target, averaged over videos, summed over the two branches.
        keep_ratio_weight: weight of ``L_ratio`` (DynamicViT: 2).
        sim_positives: which semantic tokens count as a visual token's match in ``L_sim``. ``"pair"``
            (Eq. 8): only its own pair's. ``"same_relation"``: every token of the batch with the same
            object class and relations, since their semantic embeddings are identical. With ``"pair"``
            these are negatives, so the loss asks for a difference that does not exist. At Charades'
            scale a batch holds each (object, relation) many times, and ``"pair"`` made the video
            branch worse than training it alone (README, "Charades scale").
        selection_supervision: what ``L_tss`` and ``L_ratio`` compare: ``"samples"``, the hard
            Gumbel-Softmax decisions ``U`` of Eq. 9, or ``"probabilities"``, each selector's keep
            probabilities. Two selectors that both keep a token with probability 0.5 disagree on half
            the tokens in their samples, so the MSE of samples is mostly sampling noise.
    """

    multi_label: bool = True
    sim_weight: float = 0.1
    tss_weight: float = 1.0
    xm_weight: float = 0.1
    use_sim: bool = True
    use_tss: bool = True
    use_xm: bool = True
    sparsity_weight: float = 1.0
    tss_detach_language: bool = False
    init_temperature: float = 0.07
    max_logit_scale: float = 100.0
    keep_ratio: float | None = None
    keep_ratio_weight: float = 2.0
    selection_supervision: Literal["samples", "probabilities"] = "samples"
    sim_positives: Literal["pair", "same_relation"] = "pair"

    def __post_init__(self) -> None:
        if self.sim_positives not in ("pair", "same_relation"):
            raise ValueError(
                "LaIARLossConfig.sim_positives must be 'pair' or 'same_relation', "
                f"got {self.sim_positives!r}"
            )
        if self.selection_supervision not in ("samples", "probabilities"):
            raise ValueError(
                "LaIARLossConfig.selection_supervision must be 'samples' or 'probabilities', "
                f"got {self.selection_supervision!r}"
            )
        if self.keep_ratio is not None and not 0.0 < self.keep_ratio <= 1.0:
            raise ValueError(f"LaIARLossConfig.keep_ratio must be in (0, 1] or None, got {self.keep_ratio}")
        for name in ("sim_weight", "tss_weight", "xm_weight", "sparsity_weight", "keep_ratio_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"LaIARLossConfig.{name} must be >= 0, got {getattr(self, name)}")
        _check_positive(self, "init_temperature", "max_logit_scale")


@dataclass
class OptimConfig:
    """How ``LaIARModule`` trains (the paper gives no optimiser settings; these are ours).

    AdamW (no decay on biases, norms, embeddings and the logit scale) with a linear warm-up over
    ``warmup_fraction`` of the steps and a cosine decay to zero.

    Attributes:
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        warmup_fraction: share of the optimisation steps spent in linear warm-up.
        selector_lr_scale: learning rate of the token selectors over ``lr``. Adam normalises each
            parameter's step, so the weight of the L1 term in ``L_tss`` sets where the selectors settle but
            not how fast they move: its gradient has the same sign for every token, and each of the
            selector's ``2 x hidden`` output weights then moves by ``lr`` a step, shifting every keep logit
            by about ``hidden * lr`` per step. At the full rate both selectors dropped almost every token
            within the first epoch of our synthetic runs (whatever the L1 weight), before the task gradient
            could tell useful tokens from useless ones; a tenth of the rate lets it.
        selection_warmup_epochs: training epochs in which both branches keep every token before their
            selectors start (validation still selects). The paper trains selection from the start;
            DynamicViT trains its selector on a trained backbone. A selector that starts with the model
            drops tokens at random while it cannot yet tell them apart, and the classifier learns from
            those random subsets. On our synthetic set (40 epochs), selection from the start at
            ``selector_lr_scale=0.1`` reached test mAP 0.78; 20 warm-up epochs, then selection at the
            full rate, 0.92. The selectors get no gradient during the warm-up, so multi-GPU training with
            it needs ``strategy: ddp_find_unused_parameters_true``.
        language_warmup_epochs: training epochs at the start in which only the language model trains,
            on ``L_s`` alone with every token kept (the teacher's warm start), before Eq. 11 takes over;
            0 (the paper) trains both from the start. The scheme transfers what the language model knows,
            so a teacher still at the class prior has nothing to give (README, Charades scale). Counted
            from the first epoch, like ``selection_warmup_epochs``; the learning-rate schedule runs over
            the whole fit; validation (the video branch) means nothing until the warm start ends. The
            video branch gets no gradient meanwhile (under DDP:
            ``strategy: ddp_find_unused_parameters_true``).
    """

    lr: float = 1e-4
    weight_decay: float = 0.05
    warmup_fraction: float = 0.05
    selector_lr_scale: float = 0.1
    selection_warmup_epochs: int = 0
    language_warmup_epochs: int = 0

    def __post_init__(self) -> None:
        _check_positive(self, "lr", "selector_lr_scale")
        if self.weight_decay < 0:
            raise ValueError(f"OptimConfig.weight_decay must be >= 0, got {self.weight_decay}")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(f"OptimConfig.warmup_fraction must be in [0, 1), got {self.warmup_fraction}")
        if self.selection_warmup_epochs < 0:
            raise ValueError(
                f"OptimConfig.selection_warmup_epochs must be >= 0, got {self.selection_warmup_epochs}"
            )
        if self.language_warmup_epochs < 0:
            raise ValueError(
                f"OptimConfig.language_warmup_epochs must be >= 0, got {self.language_warmup_epochs}"
            )
