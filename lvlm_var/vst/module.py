"""``VSTModule``: trains the :class:`~lvlm_var.vst.tokenizer.VSTTokenizer` it wraps.

The tokenizer (``self.tokenizer``: encoder, quantizer, decoder, code names) turns skeleton clips into
action narratives; this LightningModule adds what only training needs: the reconstruction of positions
and velocities through the tokenizer's :class:`~lvlm_var.vst.decoder.VSTDecoder`, the
:class:`~lvlm_var.vst.head.TokenClassifierHead` on the quantized tokens, the bag-of-codes probe, metrics
and the optimizer. :func:`load_vst_tokenizer` reads just the tokenizer back from a checkpoint.

Training loss::

    position_weight * L1(positions) + velocity_weight * L1(velocities)      (frames with a body only)
    + commitment_weight * ||f - sg(q)||^2 + classification_weight * CE(head(q), label)
    + motion_weight * (CE(fastest body part of each step) + CE(its direction))    (from each token alone)

Logged keys: ``train/loss``, ``train/loss_position``, ``train/loss_velocity``, ``train/loss_commitment``,
``train/loss_classification``, ``train/loss_motion``, ``train/acc``, ``train/perplexity``,
``train/dead_codes``; the same losses and ``acc`` / ``perplexity`` / ``dead_codes`` under ``val/`` and
``test/``, plus ``val/probe_acc`` and ``test/probe_acc``: the accuracy of a bag-of-codes ridge probe
fitted on the codes of the current training epoch (so the tokens alone, without the head, show how much
class information they carry; saved with the checkpoint, so ``test`` on a checkpoint reports it), and
``val/name_part_acc``, ``val/name_part_direction_acc`` (and ``test/``): the share of narrative segments
whose code name's moving part (and direction) is true of the input clip in that segment
(:mod:`~lvlm_var.vst.name_accuracy`). Every training step shows its clips to the tokenizer
(:meth:`VSTTokenizer.observe`) and every epoch recalibrates its names (:meth:`VSTTokenizer.calibrate`).
Training, validation, test and predict step outputs carry ``tokens_kept`` ``(B,)`` (narrative segments)
and ``tokens_total`` ``(B,)`` (token steps) for ``TokenRetentionLogger``.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningModule
from torch import Tensor
from torchmetrics.classification import MulticlassAccuracy

from ..batches import SkeletonBatch
from ..distributed import distributed_world
from ..random_state import RandomStateCheckpointing
from ..schedule import WarmupCosine
from .config import VSTConfig
from .decoder import DecodedMotion
from .head import TokenClassifierHead
from .motion_head import StepMotionHead
from .name_accuracy import name_accuracy
from .narrative import ActionNarrative
from .probe import BagOfCodesProbe
from .quantizer import codebook_usage
from .tokenizer import VSTTokenizer

__all__ = ["VSTModule", "VSTOutput", "load_vst_tokenizer", "load_vst_probe"]

# Checkpoints written before the tokenizer became a submodule hold its parts at the top level.
_TOKENIZER_PARTS = ("encoder.", "quantizer.", "decoder.")


def _move_tokenizer_keys(state_dict: dict[str, Any], prefix: str = "") -> None:
    """Rename ``{prefix}encoder.*`` (and quantizer, decoder) to ``{prefix}tokenizer.encoder.*``, in place."""
    for key in [k for k in state_dict if k.startswith(tuple(prefix + p for p in _TOKENIZER_PARTS))]:
        state_dict[f"{prefix}tokenizer.{key[len(prefix):]}"] = state_dict.pop(key)


def _read_checkpoint(checkpoint_path: str | Path, map_location: str | torch.device) -> tuple[VSTConfig, dict]:
    """The VST config and the state dict (tokenizer keys under ``tokenizer.``) of a VSTModule checkpoint."""
    path = Path(checkpoint_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"VST checkpoint {str(path)!r} not found: train the VST first (a VSTModule fit) and pass its "
            "Lightning checkpoint"
        )
    # Older VST checkpoints keep their VSTConfig dataclass in the hyperparameters.
    with torch.serialization.safe_globals([VSTConfig]):
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    config = checkpoint.get("hyper_parameters", {}).get("config") if isinstance(checkpoint, dict) else None
    if config is None or "state_dict" not in checkpoint:
        raise ValueError(
            f"{path}: not a VSTModule checkpoint: expected 'hyper_parameters' with a VST 'config' and a "
            "'state_dict'"
        )
    state = dict(checkpoint["state_dict"])
    _move_tokenizer_keys(state)
    return (config if isinstance(config, VSTConfig) else VSTConfig(**config)), state


def load_vst_tokenizer(checkpoint_path: str | Path, map_location: str | torch.device = "cpu") -> VSTTokenizer:
    """The :class:`VSTTokenizer` of a :class:`VSTModule` Lightning checkpoint, without the training parts.

    Reads the checkpoint with ``torch.load(weights_only=True)``; checkpoints written before the tokenizer
    was a submodule load too.

    Raises:
        FileNotFoundError: no file at ``checkpoint_path``.
        ValueError: the file is not a VSTModule checkpoint (no VST config or no tokenizer weights).
    """
    config, state = _read_checkpoint(checkpoint_path, map_location)
    prefix = "tokenizer."
    tokenizer_state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not tokenizer_state:
        raise ValueError(
            f"{checkpoint_path}: the state_dict holds no VST tokenizer weights (keys 'tokenizer.*')"
        )
    tokenizer = VSTTokenizer(config)
    tokenizer.load_state_dict(tokenizer_state)
    return tokenizer


def load_vst_probe(
    checkpoint_path: str | Path, map_location: str | torch.device = "cpu"
) -> BagOfCodesProbe | None:
    """The bag-of-codes probe of a :class:`VSTModule` checkpoint: how much each code speaks for each class.

    Returns:
        The fitted probe, or ``None`` when the checkpoint holds none (written before the probe was saved,
        or before any validation fitted it).

    Raises:
        FileNotFoundError, ValueError: as :func:`load_vst_tokenizer`.
    """
    config, state = _read_checkpoint(checkpoint_path, map_location)
    prefix = "probe."
    probe_state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    probe = BagOfCodesProbe(config.codebook_size, config.num_classes, config.probe_ridge)
    if set(probe_state) != {"weights", "is_fitted"}:
        return None
    probe.load_state_dict(probe_state)
    return probe if probe.fitted else None


class VSTOutput(NamedTuple):
    """One forward pass of :class:`VSTModule`.

    Attributes:
        codes: ``(B, S)`` long codebook indices.
        quantized: ``(B, S, D)`` code vectors.
        commitment_loss: scalar.
        logits: ``(B, num_classes)`` of the token classification head.
        reconstruction: decoded positions and velocities, ``(B, 3, T, V, M)`` each.
    """

    codes: Tensor
    quantized: Tensor
    commitment_loss: Tensor
    logits: Tensor
    reconstruction: DecodedMotion


class VSTModule(RandomStateCheckpointing, LightningModule):
    """Trains a :class:`VSTTokenizer` (``self.tokenizer``) with reconstruction, commitment and a token head.

    Args:
        config: hyperparameters (or their dict, as stored in checkpoints); ``None`` is the NTU preset
            (:meth:`VSTConfig.ntu`).
        learning_rate: peak AdamW learning rate.
        weight_decay: AdamW weight decay.
        warmup_steps: linear warm-up steps before the cosine decay over the whole fit.
    """

    def __init__(
        self,
        config: VSTConfig | dict[str, Any] | None = None,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        warmup_steps: int = 200,
    ) -> None:
        super().__init__()
        if isinstance(config, dict):  # as stored in checkpoints
            config = VSTConfig(**config)
        self.config = config if config is not None else VSTConfig.ntu()
        # Plain data in the checkpoint, so it loads with torch.load(weights_only=True).
        self.save_hyperparameters(ignore=["config"])
        self.hparams["config"] = asdict(self.config)
        if learning_rate <= 0 or weight_decay < 0 or warmup_steps < 0:
            raise ValueError(
                f"VSTModule needs learning_rate > 0, weight_decay >= 0 and warmup_steps >= 0, got "
                f"{learning_rate}, {weight_decay}, {warmup_steps}"
            )
        cfg = self.config
        self.tokenizer = VSTTokenizer(cfg)
        self.head = TokenClassifierHead(cfg)
        self.motion_head = StepMotionHead(cfg)
        self.probe = BagOfCodesProbe(cfg.codebook_size, cfg.num_classes, cfg.probe_ridge)
        self.train_accuracy = MulticlassAccuracy(cfg.num_classes, average="micro")
        self.val_accuracy = MulticlassAccuracy(cfg.num_classes, average="micro")
        self.test_accuracy = MulticlassAccuracy(cfg.num_classes, average="micro")
        self.val_probe_accuracy = MulticlassAccuracy(cfg.num_classes, average="micro")
        self.test_probe_accuracy = MulticlassAccuracy(cfg.num_classes, average="micro")
        self.register_buffer("train_code_counts", torch.zeros(cfg.codebook_size), persistent=False)
        self.register_buffer("eval_code_counts", torch.zeros(cfg.codebook_size), persistent=False)
        self.register_buffer("eval_name_counts", torch.zeros(3), persistent=False)

    def configure_model(self) -> None:
        """Rebuild the quantizer, keeping its state, when the process group changed since construction.

        LightningCLI builds the module before DDP starts; the codebook must all-reduce its statistics once
        it runs in several processes. Safe to call more than once.
        """
        self.tokenizer.synchronize_codebook(distributed_world())

    # ----------------------------------------------------------------------------------------- forward

    def forward_features(self, skeleton: Tensor) -> Tensor:
        """Encoder features before quantization: ``(B, C, T, V, M)`` -> ``(B, S, D)``."""
        return self.tokenizer.forward_features(skeleton)

    def forward_head(self, quantized: Tensor) -> Tensor:
        """Class logits of the token head: ``(B, S, D)`` -> ``(B, num_classes)``."""
        return self.head(quantized)

    def forward(self, skeleton: Tensor) -> VSTOutput:
        """Encode, quantize, decode and classify ``skeleton`` ``(B, C, T, V, M)``."""
        quantized = self.tokenizer(skeleton)
        return VSTOutput(
            quantized.codes,
            quantized.quantized,
            quantized.commitment_loss,
            self.forward_head(quantized.quantized),
            self.tokenizer.decoder(quantized.quantized),
        )

    def tokenize(self, skeleton: Tensor, fps: float = 30.0) -> list[ActionNarrative]:
        """The tokenizer's narratives of ``skeleton`` (see :meth:`VSTTokenizer.tokenize`)."""
        return self.tokenizer.tokenize(skeleton, fps)

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        _move_tokenizer_keys(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args)

    # ------------------------------------------------------------------------------------------ training

    def _losses(self, batch: SkeletonBatch, output: VSTOutput) -> dict[str, Tensor]:
        cfg = self.config
        skeleton = batch["skeleton"]
        # Reconstruction counts only frames where a body is present (absent bodies are all zero), and
        # velocities only between two present frames (a body entering the scene is no motion).
        present = (skeleton.abs().sum(dim=(1, 3)) > 0).to(skeleton.dtype)  # (B, T, M)
        position_mask = present[:, None, :, None, :]
        velocity_mask = (present[:, 1:] * present[:, :-1])[:, None, :, None, :]
        velocity = (skeleton[:, :, 1:] - skeleton[:, :, :-1]) * cfg.frame_rate
        position_error = (output.reconstruction.positions - skeleton).abs() * position_mask
        velocity_error = (output.reconstruction.velocities[:, :, :-1] - velocity).abs() * velocity_mask
        per_frame = skeleton.shape[1] * skeleton.shape[3]
        losses = {
            "position": position_error.sum() / (position_mask.sum() * per_frame).clamp(min=1.0),
            "velocity": velocity_error.sum() / (velocity_mask.sum() * per_frame).clamp(min=1.0),
            "commitment": output.commitment_loss,
            "classification": F.cross_entropy(output.logits, batch["label"]),
            "motion": self.motion_head.loss(
                output.quantized, self.tokenizer.code_statistics.kinematics(skeleton)
            ),
        }
        losses["loss"] = (
            cfg.position_weight * losses["position"]
            + cfg.velocity_weight * losses["velocity"]
            + cfg.commitment_weight * losses["commitment"]
            + cfg.classification_weight * losses["classification"]
            + cfg.motion_weight * losses["motion"]
        )
        return losses

    def _log_losses(self, stage: str, losses: dict[str, Tensor], batch_size: int) -> None:
        evaluating = stage != "train"
        for key, value in losses.items():
            name = f"{stage}/loss" if key == "loss" else f"{stage}/loss_{key}"
            self.log(
                name,
                value,
                batch_size=batch_size,
                on_step=not evaluating,
                on_epoch=True,
                sync_dist=evaluating,
                prog_bar=key == "loss",
            )

    def _count_codes(self, counts: Tensor, codes: Tensor) -> None:
        counts += torch.bincount(codes.flatten(), minlength=self.config.codebook_size).to(counts.dtype)

    def _log_usage(self, stage: str, counts: Tensor) -> None:
        usage = codebook_usage(self.trainer.strategy.reduce(counts.clone(), reduce_op="sum"))
        self.log(f"{stage}/perplexity", usage.perplexity)
        self.log(f"{stage}/dead_codes", float(usage.dead_codes))

    def training_step(self, batch: SkeletonBatch, batch_idx: int) -> dict[str, Tensor]:
        output = self(batch["skeleton"])
        losses = self._losses(batch, output)
        batch_size = len(batch["label"])
        self._log_losses("train", losses, batch_size)
        self.train_accuracy(output.logits.detach(), batch["label"])
        self.log("train/acc", self.train_accuracy, on_step=False, on_epoch=True, batch_size=batch_size)
        self._count_codes(self.train_code_counts, output.codes)
        self.probe.accumulate(output.codes, batch["label"])
        self.tokenizer.observe(batch["skeleton"], output.codes)
        narratives = self.tokenizer.narratives(output.codes, self.config.frame_rate)
        return {"loss": losses["loss"], **self._retention(narratives, output.codes)}

    def on_train_epoch_start(self) -> None:
        self.train_code_counts.zero_()
        self.probe.reset()
        self.tokenizer.reset_statistics()

    def on_train_epoch_end(self) -> None:
        self._log_usage("train", self.train_code_counts)
        self.tokenizer.calibrate(self._reduce_sum)

    def _reduce_sum(self, tensor: Tensor) -> Tensor:
        return self.trainer.strategy.reduce(tensor, reduce_op="sum")

    # --------------------------------------------------------------------------------- evaluation

    def _retention(self, narratives: list[ActionNarrative], codes: Tensor) -> dict[str, Tensor]:
        kept = torch.tensor([float(len(n.segments)) for n in narratives], device=codes.device)
        return {"tokens_kept": kept, "tokens_total": torch.full_like(kept, float(codes.shape[1]))}

    def _evaluation_step(self, batch: SkeletonBatch, stage: str) -> dict[str, Any]:
        output = self(batch["skeleton"])
        losses = self._losses(batch, output)
        batch_size = len(batch["label"])
        self._log_losses(stage, losses, batch_size)
        accuracy = getattr(self, f"{stage}_accuracy")
        accuracy(output.logits, batch["label"])
        self.log(f"{stage}/acc", accuracy, on_step=False, on_epoch=True, batch_size=batch_size)
        self._count_codes(self.eval_code_counts, output.codes)
        if self.probe.fitted:
            getattr(self, f"{stage}_probe_accuracy").update(self.probe(output.codes), batch["label"])
        narratives = self.tokenizer.narratives(output.codes, self.config.frame_rate)
        calibration = self.tokenizer.code_calibration
        if calibration.seen:
            counts = name_accuracy(
                narratives,
                self.tokenizer.code_name_records,
                calibration.kinematics(batch["skeleton"]),
                calibration.thresholds(),
            )
            self.eval_name_counts += torch.tensor(counts, dtype=torch.float32, device=self.device)
        return {"loss": losses["loss"], **self._retention(narratives, output.codes)}

    def _start_evaluation(self) -> None:
        self.eval_code_counts.zero_()
        self.eval_name_counts.zero_()

    def _end_evaluation(self, stage: str) -> None:
        self._log_usage(stage, self.eval_code_counts)
        part, both, total = self._reduce_sum(self.eval_name_counts.clone()).tolist()
        if total > 0:
            self.log(f"{stage}/name_part_acc", part / total)
            self.log(f"{stage}/name_part_direction_acc", both / total)
        if self.probe.fitted:
            probe_accuracy = getattr(self, f"{stage}_probe_accuracy")
            self.log(f"{stage}/probe_acc", probe_accuracy.compute())
            probe_accuracy.reset()

    def on_validation_epoch_start(self) -> None:
        self._start_evaluation()
        # Validation runs before on_train_epoch_end: the probe and the names see this epoch's training
        # codes. A validation outside a fit, or the sanity check, keeps the checkpoint's probe and names.
        if self.trainer.state.fn == "fit" and not self.trainer.sanity_checking:
            self.probe.fit(self._reduce_sum)
            self.tokenizer.calibrate(self._reduce_sum)

    def validation_step(self, batch: SkeletonBatch, batch_idx: int) -> dict[str, Any]:
        return self._evaluation_step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self._end_evaluation("val")

    def on_test_epoch_start(self) -> None:
        self._start_evaluation()

    def test_step(self, batch: SkeletonBatch, batch_idx: int) -> dict[str, Any]:
        return self._evaluation_step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._end_evaluation("test")

    def predict_step(self, batch: SkeletonBatch, batch_idx: int, dataloader_idx: int = 0) -> dict[str, Any]:
        """Narratives of a batch as JSON-ready records (see ``callbacks.narrative_writer.NarrativeWriter``).

        Returns:
            ``records``: B dicts ``{"name", "label", "narrative", "codes", "num_segments"}`` (``label`` is
            None when the batch has none; ``narrative`` parses back with ``ActionNarrative.from_text``),
            ``tokens_kept`` ``(B,)`` and ``tokens_total`` ``(B,)``.
        """
        codes = self.tokenizer.encode(batch["skeleton"])
        narratives = self.tokenizer.narratives(codes, self.config.frame_rate)
        labels = batch["label"].tolist() if "label" in batch else [None] * len(narratives)
        records = [
            {
                "name": name,
                "label": label,
                "narrative": n.text,
                "codes": n.codes,
                "num_segments": len(n.segments),
            }
            for name, label, n in zip(batch["name"], labels, narratives, strict=True)
        ]
        return {"records": records, **self._retention(narratives, codes)}

    # ------------------------------------------------------------------------------------ optimizer

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=self.hparams.learning_rate, weight_decay=self.hparams.weight_decay
        )
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        scheduler = WarmupCosine(optimizer, total, min(self.hparams.warmup_steps, total // 2))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
