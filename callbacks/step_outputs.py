"""One dispatch of Lightning's per-stage batch/epoch hooks for callbacks that read step outputs."""

from __future__ import annotations

from typing import Any

from lightning import Callback, LightningModule, Trainer

__all__ = ["StepOutputCallback"]


class StepOutputCallback(Callback):
    """Base for callbacks that only read what the step hooks return.

    Subclasses override :meth:`on_stage_start` and :meth:`on_step_outputs`; ``stage`` is ``"train"``,
    ``"val"``, ``"test"`` or ``"predict"``. The validation sanity check is not a stage: it is skipped.
    """

    def on_stage_start(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Called at the start of every epoch of ``stage``."""

    def on_step_outputs(self, trainer: Trainer, pl_module: LightningModule, outputs: Any, stage: str) -> None:
        """Called with the outputs of every step of ``stage``."""

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.on_stage_start(trainer, pl_module, "train")

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            self.on_stage_start(trainer, pl_module, "val")

    def on_test_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.on_stage_start(trainer, pl_module, "test")

    def on_predict_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.on_stage_start(trainer, pl_module, "predict")

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self.on_step_outputs(trainer, pl_module, outputs, "train")

    def on_validation_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not trainer.sanity_checking:
            self.on_step_outputs(trainer, pl_module, outputs, "val")

    def on_test_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self.on_step_outputs(trainer, pl_module, outputs, "test")

    def on_predict_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self.on_step_outputs(trainer, pl_module, outputs, "predict")
