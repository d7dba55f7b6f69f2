"""``LaIARModule``: training of both LaIAR branches, evaluation and explanation with the video branch."""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from lightning import LightningModule
from torch import Tensor
from torch.optim.lr_scheduler import LambdaLR
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassRecall, MultilabelAveragePrecision

from lvlm_var.batches import SceneGraphBatch
from lvlm_var.dtformer.config import LaIARConfig, LaIARLossConfig
from lvlm_var.dtformer.dtformer import DTFormerOutput
from lvlm_var.dtformer.explain import Naming, TripletVocabulary, explain_video
from lvlm_var.dtformer.laiar import BranchFeatures, LaIAR
from lvlm_var.dtformer.losses import LaIARLoss, classification_loss
from lvlm_var.explanation import ExplanationRecord
from lvlm_var.present_class_map import PresentClassAveragePrecision

__all__ = ["LaIARModule"]

Stage = Literal["val", "test", "predict"]


class LaIARModule(LightningModule):
    """LaIAR on Lightning.

    Training runs both branches and optimises Eq. 11, logging ``train/loss``, ``train/loss_cls``,
    ``train/loss_v``, ``train/loss_s`` and, when enabled, ``train/loss_sim``, ``train/loss_tss``,
    ``train/loss_xm``, ``train/loss_ratio``, ``train/logit_scale``. Validation, test and predict run the
    video branch only (dropping unselected tokens unless ``drop_at_eval=False``) and log ``{stage}/loss``
    (``L_v``) and the metrics: ``{stage}/mAP`` (multi-label, macro average precision over all classes, a
    class without positives counted as 0) and ``{stage}/mAP_present`` (over the classes with a positive,
    warning once with their names when some have none), or ``{stage}/mAR``
    (macro recall, the CAD-120 mean average recall) and ``{stage}/acc`` (single-label).

    Step outputs (read by ``TokenRetentionLogger`` and ``ExplanationWriter``): ``tokens_kept``,
    ``tokens_total``, ``temporal_keep_rate``, ``spatial_keep_rate`` (all ``(B,)``), and in test / predict
    (or validation with ``explain_in_validation``) ``explanations``, one :class:`ExplanationRecord` per
    video. Predict also returns ``probabilities`` ``(B, C)`` and ``video_id``.

    The paper gives no optimiser settings; we use AdamW (``lr``, ``weight_decay``, no decay on biases,
    norms, embeddings and the logit scale) with a linear warm-up over ``warmup_fraction`` of the steps and
    a cosine decay to zero.

    Args:
        num_classes: ``C``.
        object_class_names: the object vocabulary (``object_class`` indexes it).
        relation_names: the relation vocabulary (the ``R`` channels of ``relations``).
        class_names: the action names (default ``class_0`` ...).
        multi_label: Charades-style multi-label (BCE, mAP) or single-label (CE, mAR, accuracy).
        preset: ``"charades"``, ``"cad120"`` or ``"tiny"`` (see :mod:`lvlm_var.dtformer.config`).
        feature_dim: override of the RoI feature size ``F``.
        embed_dim: override of ``D`` (encoder and DT-Former).
        part_dim: override of the width of each part of a relation feature (Eqs. 1-2).
        depth: override of the number of transformer blocks.
        num_heads: override of the attention heads.
        num_frames: override of the largest ``T``.
        max_pairs: override of the largest ``K``.
        box_map: feed ``f_box`` of the box pair into the visual relation (see ``RelationEncoderConfig``).
        global_context: concatenate the GPO video vector to every token (see ``RelationEncoderConfig``).
        share_weights: one DT-Former for both branches.
        temporal_selection: Table 1 "T".
        spatial_selection: Table 1 "S".
        selector_context: ``"class_token"`` or ``"mean"`` (see ``DTFormerConfig``).
        selector_blocks: transformer blocks that give the selectors video context (see ``DTFormerConfig``).
        selection_gradient: ``"attention_policy"`` or ``"masked_multiply"`` (see ``DTFormerConfig``).
        drop_at_eval: gather kept tokens at eval instead of masking.
        eval_keep_threshold: ``None``: at eval each video keeps as many tokens as training keeps on
            average; a float: the keep probability above which a token is kept (0.5: argmax).
        use_sim: Table 2 ``L_sim``.
        use_tss: Table 2 ``L_tss``.
        use_xm: Table 2 ``L_xm`` (also builds ``P^{v2s}``).
        sim_weight: ``delta``.
        tss_weight: ``zeta``.
        xm_weight: ``eta``.
        tss_sparsity_weight: weight of the L1 term on ``U^s`` inside ``L_tss`` (1 in Eq. 9). Larger values
            (or large learning rates) can drive both selectors to keep almost nothing.
        tss_detach_language: the language selector learns from ``L_s`` and the L1 term only, not from
            matching the video selector (see ``LaIARLossConfig``).
        keep_ratio: target share of tokens kept by both selectors (DynamicViT's ratio loss; ``None``, the
            paper, leaves the sparsity to the L1 term of ``L_tss``); see ``LaIARLossConfig``.
        keep_ratio_weight: weight of that loss.
        selection_supervision: what ``L_tss`` and the keep-ratio loss compare: ``"samples"``, the hard
            Gumbel-Softmax decisions ``U`` of Eq. 9, or ``"probabilities"``, each selector's keep
            probabilities. Two selectors that both keep a token with probability 0.5 disagree on half
            the tokens in their samples, so the MSE of samples is mostly sampling noise.
        lr: AdamW learning rate.
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
        weight_decay: AdamW weight decay.
        warmup_fraction: share of the optimisation steps spent in linear warm-up.
        explain_top_k: predictions kept in each explanation record.
        explain_relations_per_token: relations each kept token names in an explanation (Action Genome
            annotates about three per pair: attention, spatial, contacting); see
            :mod:`lvlm_var.dtformer.explain`.
        explain_min_run: temporal consistency of explanations: a relation must be named on at least
            this many consecutive kept tokens of a pair, and shorter gaps inside its run are bridged.
        explain_naming: ``"nearest"`` (the paper) or ``"contrast"``: a kept token names the relations it is
            more similar to than its pair's other kept tokens (see :mod:`lvlm_var.dtformer.explain`).
        explain_in_validation: also explain in validation (slower).

    Raises:
        ValueError: an unknown preset (the message lists the valid ones), ``class_names`` of the wrong
            length, ``warmup_fraction`` outside [0, 1), or an override that fails a config check.
    """

    def __init__(
        self,
        num_classes: int,
        object_class_names: list[str],
        relation_names: list[str],
        class_names: list[str] | None = None,
        multi_label: bool = True,
        preset: str = "charades",
        feature_dim: int | None = None,
        embed_dim: int | None = None,
        part_dim: int | None = None,
        depth: int | None = None,
        num_heads: int | None = None,
        num_frames: int | None = None,
        max_pairs: int | None = None,
        box_map: bool = True,
        global_context: bool = True,
        share_weights: bool = False,
        temporal_selection: bool = True,
        spatial_selection: bool = True,
        selector_context: Literal["class_token", "mean"] = "class_token",
        selector_blocks: int = 0,
        selection_gradient: Literal["attention_policy", "masked_multiply"] = "attention_policy",
        drop_at_eval: bool = True,
        eval_keep_threshold: float | None = None,
        use_sim: bool = True,
        use_tss: bool = True,
        use_xm: bool = True,
        sim_weight: float = 0.1,
        tss_weight: float = 1.0,
        xm_weight: float = 0.1,
        tss_sparsity_weight: float = 1.0,
        tss_detach_language: bool = False,
        keep_ratio: float | None = None,
        keep_ratio_weight: float = 2.0,
        selection_supervision: Literal["samples", "probabilities"] = "samples",
        lr: float = 1e-4,
        selector_lr_scale: float = 0.1,
        selection_warmup_epochs: int = 0,
        weight_decay: float = 0.05,
        warmup_fraction: float = 0.05,
        explain_top_k: int = 5,
        explain_relations_per_token: int = 3,
        explain_min_run: int = 1,
        explain_naming: Naming = "nearest",
        explain_in_validation: bool = False,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(f"class_names has {len(class_names)} names, expected num_classes={num_classes}")
        if explain_min_run < 1:
            raise ValueError(f"explain_min_run must be >= 1, got {explain_min_run}")
        if explain_naming not in ("nearest", "contrast"):
            raise ValueError(f"explain_naming must be 'nearest' or 'contrast', got {explain_naming!r}")
        if explain_relations_per_token < 1:
            raise ValueError(f"explain_relations_per_token must be >= 1, got {explain_relations_per_token}")
        if selection_warmup_epochs < 0:
            raise ValueError(f"selection_warmup_epochs must be >= 0, got {selection_warmup_epochs}")
        if selection_supervision not in ("samples", "probabilities"):
            raise ValueError(
                f"selection_supervision must be 'samples' or 'probabilities', got {selection_supervision!r}"
            )
        if selector_lr_scale <= 0:
            raise ValueError(f"selector_lr_scale must be > 0, got {selector_lr_scale}")
        if not 0.0 <= warmup_fraction < 1.0:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {warmup_fraction}")
        self.class_names = (
            list(class_names) if class_names is not None else [f"class_{i}" for i in range(num_classes)]
        )
        self.object_class_names = list(object_class_names)
        self.relation_names = list(relation_names)
        overrides: dict[str, Any] = {
            "num_object_classes": len(object_class_names),
            "num_relations": len(relation_names),
            "box_map": box_map,
            "global_context": global_context,
            "share_weights": share_weights,
            "cross_modal_head": use_xm,
            "temporal_selection": temporal_selection,
            "spatial_selection": spatial_selection,
            "selector_context": selector_context,
            "selector_blocks": selector_blocks,
            "selection_gradient": selection_gradient,
            "drop_at_eval": drop_at_eval,
            "eval_keep_threshold": eval_keep_threshold,
        }
        optional = {
            "feature_dim": feature_dim,
            "embed_dim": embed_dim,
            "part_dim": part_dim,
            "depth": depth,
            "num_heads": num_heads,
            "num_frames": num_frames,
            "max_pairs": max_pairs,
        }
        overrides.update({k: v for k, v in optional.items() if v is not None})
        # multi-label heads start at one positive class a video (see LaIARConfig.head_prior)
        head_prior = 1.0 / num_classes if multi_label and num_classes > 1 else None
        self.model = LaIAR(LaIARConfig.preset(preset, num_classes, head_prior=head_prior, **overrides))
        self.criterion = LaIARLoss(
            LaIARLossConfig(
                multi_label=multi_label,
                sim_weight=sim_weight,
                tss_weight=tss_weight,
                xm_weight=xm_weight,
                sparsity_weight=tss_sparsity_weight,
                tss_detach_language=tss_detach_language,
                keep_ratio=keep_ratio,
                keep_ratio_weight=keep_ratio_weight,
                use_sim=use_sim,
                use_tss=use_tss,
                use_xm=use_xm,
            )
        )
        self.val_metrics = self._metrics("val/")
        self.test_metrics = self._metrics("test/")
        self._vocabulary: TripletVocabulary | None = None

    def _metrics(self, prefix: str) -> MetricCollection:
        num_classes = self.hparams.num_classes
        if self.hparams.multi_label:
            metrics = {
                "mAP": MultilabelAveragePrecision(num_labels=num_classes, average="macro"),
                "mAP_present": PresentClassAveragePrecision(self.class_names),
            }
        else:
            metrics = {
                "mAR": MulticlassRecall(num_classes=num_classes, average="macro"),
                "acc": MulticlassAccuracy(num_classes=num_classes, average="micro"),
            }
        return MetricCollection(metrics, prefix=prefix)

    def forward(self, batch: SceneGraphBatch) -> Tensor:
        """``(B, C)`` video-branch logits."""
        return self.model(batch)

    def training_step(self, batch: SceneGraphBatch, batch_idx: int) -> dict[str, Tensor]:
        select = self.current_epoch >= self.hparams.selection_warmup_epochs
        video = self.model.forward_features(batch, "video", select=select)
        language = self.model.forward_features(batch, "language", select=select)
        video_to_language = (
            self.model.forward_cross_modal_head(video)
            if self.model.video_to_language_head is not None
            else None
        )
        terms = self.criterion(
            labels=batch["labels"],
            mask=batch["mask"],
            video_logits=self.model.forward_head(video, "video"),
            language_logits=self.model.forward_head(language, "language"),
            video_joint=video.joint,
            language_joint=language.joint,
            video_keep=self._supervised_selection(video),
            language_keep=self._supervised_selection(language),
            video_to_language_logits=video_to_language,
        )
        batch_size = batch["mask"].shape[0]
        for name, value in terms.items():
            self.log(
                f"train/{name}",
                value,
                on_step=True,
                on_epoch=True,
                sync_dist=True,
                batch_size=batch_size,
                prog_bar=name == "loss",
            )
        return {"loss": terms["loss"], **self._retention(video.former, batch["mask"])}

    def _supervised_selection(self, features: BranchFeatures) -> Tensor:
        selection = features.former.selection
        if self.hparams.selection_supervision == "probabilities":
            return selection.probability
        return selection.keep

    def validation_step(self, batch: SceneGraphBatch, batch_idx: int) -> dict[str, Any]:
        return self._evaluate(batch, "val", explain=self.hparams.explain_in_validation)

    def test_step(self, batch: SceneGraphBatch, batch_idx: int) -> dict[str, Any]:
        return self._evaluate(batch, "test", explain=True)

    def predict_step(self, batch: SceneGraphBatch, batch_idx: int, dataloader_idx: int = 0) -> dict[str, Any]:
        return self._evaluate(batch, "predict", explain=True)

    def on_validation_epoch_start(self) -> None:
        self._vocabulary = None

    def on_test_epoch_start(self) -> None:
        self._vocabulary = None

    def on_predict_epoch_start(self) -> None:
        self._vocabulary = None

    def _evaluate(self, batch: SceneGraphBatch, stage: Stage, explain: bool) -> dict[str, Any]:
        features = self.model.forward_features(batch, "video")
        logits = self.model.forward_head(features, "video")
        labels = batch["labels"]
        multi_label = self.hparams.multi_label
        outputs: dict[str, Any] = self._retention(features.former, batch["mask"])
        if stage != "predict":
            batch_size = logits.shape[0]
            self.log(
                f"{stage}/loss",
                classification_loss(logits, labels, multi_label),
                sync_dist=True,
                batch_size=batch_size,
            )
            metrics = self.val_metrics if stage == "val" else self.test_metrics
            metrics.update(logits, labels.long())
            self.log_dict(metrics, on_step=False, on_epoch=True, batch_size=batch_size)
        probabilities = torch.sigmoid(logits) if multi_label else torch.softmax(logits, dim=-1)
        if stage == "predict":
            outputs["probabilities"] = probabilities
            outputs["video_id"] = list(batch["video_id"])
        if explain:
            outputs["explanations"] = self._explain(
                batch, features.joint, features.former.selection.keep, probabilities
            )
        return outputs

    @staticmethod
    def _retention(former: DTFormerOutput, mask: Tensor) -> dict[str, Tensor]:
        selection = former.selection
        valid = mask.flatten(1).sum(1).clamp(min=1).to(selection.spatial.dtype)
        frames_valid = mask.any(-1).sum(1).clamp(min=1).to(selection.temporal.dtype)
        return {
            "tokens_kept": former.tokens_kept.detach(),
            "tokens_total": former.tokens_total.detach(),
            "temporal_keep_rate": (selection.temporal.detach().sum(1) / frames_valid),
            "spatial_keep_rate": (selection.spatial.detach().flatten(1).sum(1) / valid),
        }

    def _explain(
        self, batch: SceneGraphBatch, joint: Tensor, keep: Tensor, probabilities: Tensor
    ) -> list[ExplanationRecord]:
        if self._vocabulary is None:
            self._vocabulary = TripletVocabulary.build(
                self.model.semantic_encoder,
                self.model.semantic_joint,
                self.object_class_names,
                self.relation_names,
            )
        records = []
        for b, video_id in enumerate(batch["video_id"]):
            records.append(
                explain_video(
                    sample_id=video_id,
                    vocabulary=self._vocabulary,
                    joint=joint[b].detach(),
                    keep=keep[b].detach(),
                    object_class=batch["object_class"][b],
                    frame_index=batch["frame_index"][b],
                    probabilities=probabilities[b].detach().float(),
                    class_names=self.class_names,
                    ground_truth=self._ground_truth(batch["labels"][b]),
                    top_k=self.hparams.explain_top_k,
                    relations_per_token=self.hparams.explain_relations_per_token,
                    min_run=self.hparams.explain_min_run,
                    naming=self.hparams.explain_naming,
                )
            )
        return records

    def _ground_truth(self, label: Tensor) -> list[str]:
        if self.hparams.multi_label:
            return [self.class_names[i] for i in (label > 0.5).nonzero().flatten().tolist()]
        return [self.class_names[int(label)]]

    def configure_optimizers(self) -> dict[str, Any]:
        groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
        for name, parameter in self.named_parameters():
            if parameter.requires_grad:
                embedding = name.endswith("_embed") or "semantic_encoder" in name
                key = (".selector." in name, parameter.ndim >= 2 and not embedding)
                groups.setdefault(key, []).append(parameter)
        lr = self.hparams.lr
        optimizer = torch.optim.AdamW(
            [
                {
                    "params": params,
                    "lr": lr * self.hparams.selector_lr_scale if selector else lr,
                    "weight_decay": self.hparams.weight_decay if decay else 0.0,
                }
                for (selector, decay), params in groups.items()
            ],
            lr=lr,
        )
        total = max(1, int(self.trainer.estimated_stepping_batches))
        schedule = _WarmupCosine(warmup=int(total * self.hparams.warmup_fraction), total=total)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": LambdaLR(optimizer, schedule), "interval": "step"},
        }


class _WarmupCosine:
    """Learning-rate factor: linear warm-up, then cosine decay to zero at ``total`` steps."""

    def __init__(self, warmup: int, total: int) -> None:
        self.warmup = warmup
        self.total = total

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        progress = (step - self.warmup) / max(1, self.total - self.warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
