"""``ExplanationWriter``: one JSONL line (``ExplanationRecord.to_json()``) per video of a test / predict."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch.distributed as dist
from lightning import LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info

from lvlm_var.explanation import ExplanationRecord

from .step_outputs import StepOutputCallback

__all__ = ["ExplanationWriter"]


class ExplanationWriter(StepOutputCallback):
    """Collect the ``explanations`` of test / predict step outputs and write them as JSONL on rank zero.

    Under DDP every rank's records are gathered with ``all_gather_object`` at the end of the run; the
    ``DistributedSampler`` pads the last batches with repeated videos, so records are de-duplicated by
    ``sample_id`` (first one wins) and written sorted by ``sample_id``. Logs nothing; reads only.

    Args:
        output_path: the ``.jsonl`` file (parent folders are created). Overwritten by each run.
        top_k: keep at most this many predictions per record (``None``: as the module produced them).
        stages: the stages to write: ``"test"``, ``"predict"`` or both.

    Raises:
        ValueError: ``top_k < 1`` or an unknown stage.
    """

    def __init__(
        self, output_path: str | Path, top_k: int | None = None, stages: tuple[str, ...] = ("test", "predict")
    ) -> None:
        super().__init__()
        if top_k is not None and top_k < 1:
            raise ValueError(f"ExplanationWriter.top_k must be >= 1 or None, got {top_k}")
        unknown = set(stages) - {"test", "predict"}
        if unknown:
            raise ValueError(
                f"ExplanationWriter.stages: unknown {sorted(unknown)}; valid stages: test, predict"
            )
        self.output_path = Path(output_path)
        self.top_k = top_k
        self.stages = tuple(stages)
        self.written: int = 0
        self._records: list[ExplanationRecord] = []

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if self.output_path.is_dir():
            raise ValueError(
                f"ExplanationWriter.output_path {self.output_path} is a folder; give a .jsonl file"
            )

    def _start(self) -> None:
        self._records = []

    def _collect(self, pl_module: LightningModule, outputs: Any, stage: str) -> None:
        if stage not in self.stages:
            return
        if not isinstance(outputs, Mapping) or "explanations" not in outputs:
            raise ValueError(
                f"ExplanationWriter: the {stage} step of {type(pl_module).__name__} must return a dict with "
                "'explanations' (a list of ExplanationRecord)"
            )
        for record in outputs["explanations"]:
            if self.top_k is not None:
                record = replace(record, predictions=record.predictions[: self.top_k])
            self._records.append(record)

    def _write(self, trainer: Trainer, stage: str) -> None:
        if stage not in self.stages:
            return
        records = [record.to_json() for record in self._records]
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            gathered: list[list[dict[str, Any]] | None] = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, records)
            records = [record for part in gathered for record in part or []]
        if trainer.is_global_zero:
            unique: dict[str, dict[str, Any]] = {}
            for record in records:
                unique.setdefault(record["sample_id"], record)
            self.output_path.parent.mkdir(parents=True, exist_ok=True)
            with self.output_path.open("w", encoding="utf-8") as handle:
                for sample_id in sorted(unique):
                    handle.write(json.dumps(unique[sample_id]) + "\n")
            self.written = len(unique)
            rank_zero_info(f"ExplanationWriter: {self.written} records -> {self.output_path}")
        self._records = []

    def on_stage_start(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        self._start()

    def on_step_outputs(self, trainer: Trainer, pl_module: LightningModule, outputs: Any, stage: str) -> None:
        self._collect(pl_module, outputs, stage)

    def on_test_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._write(trainer, "test")

    def on_predict_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._write(trainer, "predict")
