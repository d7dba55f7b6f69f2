"""``LaIARModule``: training of both LaIAR branches, evaluation and explanation with the video branch."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any, Literal, TypeVar

import torch
from lightning import LightningModule
from torch import Tensor
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassRecall, MultilabelAveragePrecision

from lvlm_var.batches import SceneGraphBatch
from lvlm_var.dtformer.config import LaIARConfig, LaIARLossConfig, OptimConfig
from lvlm_var.dtformer.dtformer import DTFormerOutput
from lvlm_var.dtformer.explain import (
    ExplainConfig,
    attribute_units,
    class_gradients,
    evidence_units,
    explain_classes,
    log_odds,
)
from lvlm_var.dtformer.kept_token_naming import TripletVocabulary, explain_video
from lvlm_var.dtformer.laiar import BranchFeatures, LaIAR
from lvlm_var.dtformer.losses import LaIARLoss, classification_loss
from lvlm_var.explanation import CitedEvidence, ClassExplanation, ExplanationRecord, select_rows
from lvlm_var.present_class_map import PresentClassAveragePrecision
from lvlm_var.random_state import RandomStateCheckpointing
from lvlm_var.schedule import WarmupCosine

__all__ = ["LaIARModule"]

Stage = Literal["val", "test", "predict"]
_Config = TypeVar("_Config")
_DEFAULT_LOSS, _DEFAULT_OPTIM, _DEFAULT_EXPLAIN = LaIARLossConfig(), OptimConfig(), ExplainConfig()


def _as_config(kind: type[_Config], value: _Config | dict[str, Any]) -> _Config:
    # a copy, so that changing one module's config changes neither a default nor another module's
    return kind(**value) if isinstance(value, dict) else replace(value)


class LaIARModule(RandomStateCheckpointing, LightningModule):
    """LaIAR on Lightning.

    Training runs both branches and optimises Eq. 11 (after ``optim.language_warmup_epochs`` epochs of the
    language model alone on ``L_s``, which log ``train/loss`` and ``train/loss_s``), logging ``train/loss``,
    ``train/loss_cls``, ``train/loss_v``, ``train/loss_s`` and, when enabled, ``train/loss_sim``,
    ``train/loss_tss``, ``train/loss_xm``, ``train/loss_ratio``, ``train/logit_scale``. Validation, test
    and predict run the video branch only (dropping unselected tokens unless
    ``model.dtformer.drop_at_eval=False``) and log ``{stage}/loss``
    (``L_v``) and the metrics: ``{stage}/mAP`` (multi-label, macro average precision over all classes, a
    class without positives counted as 0) and ``{stage}/mAP_present`` (over the classes with a positive,
    warning once with their names when some have none), or ``{stage}/mAR``
    (macro recall, the CAD-120 mean average recall) and ``{stage}/acc`` (single-label).

    Step outputs (read by ``TokenRetentionLogger`` and ``ExplanationWriter``): ``tokens_kept``,
    ``tokens_total``, ``temporal_keep_rate``, ``spatial_keep_rate`` (all ``(B,)``), and in test / predict
    (or validation with ``explain.in_validation``) ``explanations``, one :class:`ExplanationRecord` per
    video. Predict also returns ``probabilities`` ``(B, C)`` and ``video_id``.

    Args:
        model: the network, its vocabularies and sizes (:class:`LaIARConfig`; the defaults are the
            Charades preset). ``P^{v2s}`` is built exactly when ``loss.use_xm``.
        loss: the learning scheme, Eq. 11 (:class:`LaIARLossConfig`).
        optim: optimiser, schedule and selection warm-up (:class:`OptimConfig`).
        explain: the explanations of test, predict and optionally validation (:class:`ExplainConfig`).

    Each may also be the dict ``dataclasses.asdict`` makes of it, as checkpoints store them (plain data,
    so they load with ``torch.load(weights_only=True)``); the annotations name only the dataclasses so
    that the CLI checks every nested field's type. Invalid values raise ``ValueError`` from the configs'
    checks.
    """

    def __init__(
        self,
        model: LaIARConfig,
        loss: LaIARLossConfig = _DEFAULT_LOSS,
        optim: OptimConfig = _DEFAULT_OPTIM,
        explain: ExplainConfig = _DEFAULT_EXPLAIN,
    ) -> None:
        super().__init__()
        self.loss_config = _as_config(LaIARLossConfig, loss)
        self.optim_config = _as_config(OptimConfig, optim)
        self.explain_config = _as_config(ExplainConfig, explain)
        config = _as_config(LaIARConfig, model)
        # multi-label heads start at the class prior 1/C unless the config sets one (see LaIARConfig)
        prior = config.head_prior
        if prior is None and self.loss_config.multi_label and config.num_classes > 1:
            prior = 1.0 / config.num_classes
        self.config = replace(config, cross_modal_head=self.loss_config.use_xm, head_prior=prior)
        self.save_hyperparameters(ignore=["model", "loss", "optim", "explain"])
        self.hparams.update(
            model=asdict(self.config),
            loss=asdict(self.loss_config),
            optim=asdict(self.optim_config),
            explain=asdict(self.explain_config),
        )
        self.model = LaIAR(self.config)
        self.criterion = LaIARLoss(self.loss_config)
        self.val_metrics = self._metrics("val/")
        self.test_metrics = self._metrics("test/")
        self._vocabulary: TripletVocabulary | None = None
        # which relations each object class shows in the training annotations: explanations name a
        # token's relation among those (all of them for a class never seen, e.g. an old checkpoint)
        vocabulary = (len(self.config.object_class_names), len(self.config.relation_names))
        seen = torch.zeros(vocabulary, dtype=torch.bool)
        self.register_buffer("relation_seen", seen)

    def _metrics(self, prefix: str) -> MetricCollection:
        num_classes = self.config.num_classes
        if self.loss_config.multi_label:
            metrics = {
                "mAP": MultilabelAveragePrecision(num_labels=num_classes, average="macro"),
                "mAP_present": PresentClassAveragePrecision(self.config.class_names),
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
        self._count_relations(batch)
        if self.current_epoch < self.optim_config.language_warmup_epochs:
            return self._language_warmup_step(batch)
        select = self.current_epoch >= self.optim_config.selection_warmup_epochs
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
            semantic_content=torch.cat([batch["object_class"].unsqueeze(-1), batch["relations"]], -1),
        )
        self._log_train(terms, batch)
        return {"loss": terms["loss"], **self._retention(video.former, batch["mask"])}

    def _language_warmup_step(self, batch: SceneGraphBatch) -> dict[str, Tensor]:
        """``L_s`` alone, every token kept: the teacher's warm start (``optim.language_warmup_epochs``)."""
        language = self.model.forward_features(batch, "language", select=False)
        loss = classification_loss(
            self.model.forward_head(language, "language"), batch["labels"], self.loss_config.multi_label
        )
        self._log_train({"loss_s": loss, "loss": loss}, batch)
        return {"loss": loss, **self._retention(language.former, batch["mask"])}

    def _log_train(self, terms: dict[str, Tensor], batch: SceneGraphBatch) -> None:
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

    @torch.no_grad()
    def _count_relations(self, batch: SceneGraphBatch) -> None:
        mask = batch["mask"]
        shown = (batch["relations"][mask] > 0.5).float()
        objects = batch["object_class"][mask].long()
        counts = shown.new_zeros(self.relation_seen.shape).index_add_(0, objects, shown)
        self.relation_seen |= counts > 0

    def on_train_epoch_end(self) -> None:
        # every rank counted its own shard: the union over ranks (a no-op on one process)
        gathered = self.all_gather(self.relation_seen.float()).reshape(-1, *self.relation_seen.shape)
        self.relation_seen.copy_(gathered.amax(0) > 0)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["state_dict"].setdefault("relation_seen", torch.zeros_like(self.relation_seen))
        super().on_load_checkpoint(checkpoint)

    def _supervised_selection(self, features: BranchFeatures) -> Tensor:
        selection = features.former.selection
        if self.loss_config.selection_supervision == "probabilities":
            return selection.probability
        return selection.keep

    def validation_step(self, batch: SceneGraphBatch, batch_idx: int) -> dict[str, Any]:
        return self._evaluate(batch, "val", explain=self.explain_config.in_validation)

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
        multi_label = self.loss_config.multi_label
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
            outputs["explanations"], outputs["cited_evidence"] = self._explain(
                batch, features.joint, features.former.selection.keep, probabilities
            )
        return outputs

    @torch.no_grad()
    def score_with_evidence(self, batch: SceneGraphBatch, keep_mask: Tensor) -> Tensor:
        """``(B, C)`` video-branch class probabilities from the relation tokens of ``keep_mask`` alone
        (``(B, T, K)`` bool; the others are dropped, the selector is not run): the
        :class:`~lvlm_var.explanation.EvidenceScorer` interface."""
        logits = self._logits_with_evidence(batch, keep_mask)
        return torch.sigmoid(logits) if self.loss_config.multi_label else torch.softmax(logits, dim=-1)

    def _logits_with_evidence(self, batch: SceneGraphBatch, keep_mask: Tensor) -> Tensor:
        return self.model.forward_head(self.model.forward_features(batch, "video", keep=keep_mask), "video")

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
    ) -> tuple[list[ExplanationRecord], list[CitedEvidence]]:
        if self._vocabulary is None:
            self._vocabulary = TripletVocabulary.build(
                self.model.semantic_encoder,
                self.model.semantic_joint,
                self.config.object_class_names,
                self.config.relation_names,
            )
        records, cited = [], []
        for b, video_id in enumerate(batch["video_id"]):
            classes, cited_b = self._explain_classes(
                batch, b, joint[b].detach(), keep[b].detach(), probabilities[b].detach().float()
            )
            cited.extend(cited_b)
            records.append(
                explain_video(
                    sample_id=video_id,
                    vocabulary=self._vocabulary,
                    joint=joint[b].detach(),
                    keep=keep[b].detach(),
                    object_class=batch["object_class"][b],
                    frame_index=batch["frame_index"][b],
                    probabilities=probabilities[b].detach().float(),
                    class_names=self.config.class_names,
                    ground_truth=self._ground_truth(batch["labels"][b]),
                    top_k=self.explain_config.top_k,
                    relations_per_token=self.explain_config.relations_per_token,
                    min_run=self.explain_config.min_run,
                    naming=self.explain_config.naming,
                    classes=classes,
                )
            )
        return records, cited

    def _explain_classes(
        self, batch: SceneGraphBatch, row: int, joint: Tensor, keep: Tensor, probabilities: Tensor
    ) -> tuple[list[ClassExplanation], list[CitedEvidence]]:
        """Class-grounded evidence of one video (see :mod:`lvlm_var.dtformer.explain`)."""
        top = probabilities.topk(min(self.explain_config.classes, probabilities.shape[0]))
        least = self.explain_config.min_probability
        chosen = [int(c) for p, c in zip(top.values, top.indices, strict=True) if p >= least]
        if not chosen:
            return [], []
        video = select_rows(batch, [row])

        # attribution on the log-odds: a probability drop shrinks with p (1 - p), so a confident class's
        # evidence would look negligible (see lvlm_var.dtformer.explain)
        def score(masks: Tensor) -> Tensor:
            logits = self._logits_with_evidence(select_rows(video, [0] * len(masks)), masks)
            return log_odds(logits.float(), self.loss_config.multi_label)

        gradients = class_gradients(self.model, video, keep, chosen, self.loss_config.multi_label)
        kept = keep > 0.5
        classes, cited = [], []
        for c, gradient in zip(chosen, gradients, strict=True):
            units = evidence_units(
                self._vocabulary, joint, keep, batch["object_class"][row], batch["frame_index"][row],
                gradient, self.relation_seen,
            )
            _, attribution = attribute_units(score, keep, units)
            classes += explain_classes(
                units, attribution, probabilities, [c], self.config.class_names,
                self.config.object_class_names, self.explain_config.min_attribution,
            )
            mask = torch.zeros_like(kept)
            for unit, value in zip(units, attribution[:, c].tolist(), strict=True):
                if value >= self.explain_config.min_attribution:
                    mask |= unit.mask(tuple(kept.shape), kept.device)
            cited.append(CitedEvidence(row, c, mask, kept))
        return classes, cited

    def _ground_truth(self, label: Tensor) -> list[str]:
        if self.loss_config.multi_label:
            return [self.config.class_names[i] for i in (label > 0.5).nonzero().flatten().tolist()]
        return [self.config.class_names[int(label)]]

    def configure_optimizers(self) -> dict[str, Any]:
        groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
        for name, parameter in self.named_parameters():
            if parameter.requires_grad:
                embedding = name.endswith("_embed") or "semantic_encoder" in name
                key = (".selector." in name, parameter.ndim >= 2 and not embedding)
                groups.setdefault(key, []).append(parameter)
        optim = self.optim_config
        lr = optim.lr
        optimizer = torch.optim.AdamW(
            [
                {
                    "params": params,
                    "lr": lr * optim.selector_lr_scale if selector else lr,
                    "weight_decay": optim.weight_decay if decay else 0.0,
                }
                for (selector, decay), params in groups.items()
            ],
            lr=lr,
        )
        total = max(1, int(self.trainer.estimated_stepping_batches))
        scheduler = WarmupCosine(optimizer, total, int(total * optim.warmup_fraction))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
