"""``NarrativeWriter``: one JSON line per clip with the VST tokenizer's action narrative."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_only

from .step_outputs import StepOutputCallback

__all__ = ["NarrativeWriter"]


class NarrativeWriter(StepOutputCallback):
    """Write the narratives of ``trainer.predict`` with a ``VSTModule`` as JSONL.

    Each line is one of the ``records`` of ``VSTModule.predict_step``: ``{"name", "label", "narrative",
    "codes", "num_segments"}``, the clip name, its label (``null`` when the batch has none), the narrative
    text (``<act_17> right hand rises (0.4 s) ...``), the codes of its segments and their number. The file
    is truncated at the start of every predict epoch. Under DDP every rank's records are gathered and rank
    zero writes them all (the order across ranks follows the sampler, not the data set). Nothing is
    logged.

    Args:
        output_path: the ``.jsonl`` file to write; its folder is created.
    """

    def __init__(self, output_path: str | Path) -> None:
        super().__init__()
        self.output_path = Path(output_path)

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if stage == "predict" and not callable(getattr(pl_module, "tokenize", None)):
            raise TypeError(
                f"NarrativeWriter needs a module with narratives (a VSTModule), "
                f"got {type(pl_module).__name__}"
            )

    @rank_zero_only
    def _start_file(self) -> None:
        self.output_path.parent.mkdir(parents=True, exist_ok=True)
        self.output_path.write_text("")

    @rank_zero_only
    def _append(self, records: list[dict[str, Any]]) -> None:
        with self.output_path.open("a", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record) + "\n")

    def on_stage_start(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if stage == "predict":
            self._start_file()

    def on_step_outputs(self, trainer: Trainer, pl_module: LightningModule, outputs: Any, stage: str) -> None:
        if stage != "predict":
            return
        if not isinstance(outputs, dict) or "records" not in outputs:
            raise KeyError(
                "NarrativeWriter: predict_step outputs lack 'records' (a list of one dict per clip)"
            )
        records = list(outputs["records"])
        if trainer.world_size > 1:
            gathered: list[list[dict[str, Any]]] = [[] for _ in range(trainer.world_size)]
            torch.distributed.all_gather_object(gathered, records)
            records = [record for rank_records in gathered for record in rank_records]
        self._append(records)
