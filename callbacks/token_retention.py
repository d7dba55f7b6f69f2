"""``TokenRetentionLogger``: how many relation tokens the token selection keeps, per split and epoch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from lightning import LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info

from .step_outputs import StepOutputCallback

__all__ = ["TokenRetentionLogger"]

_RATES = ("temporal_keep_rate", "spatial_keep_rate")
_KEYS = ("tokens_kept", "tokens_total", "token_keep_rate", *_RATES)


class TokenRetentionLogger(StepOutputCallback):
    """Log the token retention that the modules report in their step outputs; never changes training.

    Reads, from each ``on_{train,validation,test,predict}_batch_end`` output dict, ``tokens_kept`` and
    ``tokens_total`` (``(B,)`` kept / valid tokens per video) and, when present, ``temporal_keep_rate``
    and ``spatial_keep_rate`` (``(B,)``). Logged keys (epoch means over videos, ``sync_dist=True``), for
    ``split`` in ``train``, ``val``, ``test``:

    * ``{split}/tokens_kept``: kept tokens per video (the paper's "Num");
    * ``{split}/tokens_total``: valid tokens per video;
    * ``{split}/token_keep_rate``: mean over videos of kept / valid;
    * ``{split}/temporal_keep_rate``: kept frames / valid frames (when reported);
    * ``{split}/spatial_keep_rate``: pairs kept by the spatial selector / valid pairs (when reported).

    Predict cannot log, so its numbers appear only in :attr:`summary`. At the end of fit, test and
    predict, the last epoch's means of every split seen (summed over all ranks) are stored in
    :attr:`summary` (``{split: {key: value}}``) and printed on rank zero.
    """

    def __init__(self) -> None:
        super().__init__()
        self.summary: dict[str, dict[str, float]] = {}
        # split -> key -> [sum over videos, number of videos that reported the key]
        self._totals: dict[str, dict[str, list[float]]] = {}

    def _start(self, split: str) -> None:
        self._totals[split] = {key: [0.0, 0.0] for key in _KEYS}

    def _record(self, pl_module: LightningModule, outputs: Any, split: str) -> None:
        if not isinstance(outputs, Mapping) or "tokens_kept" not in outputs or "tokens_total" not in outputs:
            raise ValueError(
                f"TokenRetentionLogger: the {split} step of {type(pl_module).__name__} must return a dict "
                "with 'tokens_kept' and 'tokens_total' ((B,) tensors)"
            )
        kept = outputs["tokens_kept"].detach().float()
        total = outputs["tokens_total"].detach().float()
        values = {"tokens_kept": kept, "tokens_total": total, "token_keep_rate": kept / total.clamp(min=1.0)}
        values.update({key: outputs[key].detach().float() for key in _RATES if key in outputs})
        totals = self._totals.setdefault(split, {key: [0.0, 0.0] for key in _KEYS})
        for key, value in values.items():
            totals[key][0] += float(value.sum())
            totals[key][1] += value.numel()
            if split != "predict":
                pl_module.log(
                    f"{split}/{key}",
                    value.mean(),
                    on_step=False,
                    on_epoch=True,
                    sync_dist=True,
                    batch_size=value.numel(),
                )

    def _summarise(self, trainer: Trainer, splits: tuple[str, ...]) -> None:
        # Every rank reduces the same tensor for every split, so no collective depends on local data.
        for split in splits:
            totals = self._totals.get(split, {key: [0.0, 0.0] for key in _KEYS})
            local = torch.tensor([totals[key] for key in _KEYS], dtype=torch.float64)
            reduced = trainer.strategy.reduce(local.to(trainer.strategy.root_device), reduce_op="sum").cpu()
            means = {key: s / n for key, (s, n) in zip(_KEYS, reduced.tolist(), strict=True) if n > 0}
            if means:
                self.summary[split] = {**means, "videos": reduced[0, 1].item()}
        lines = [
            f"{split}: " + ", ".join(f"{key}={value:.3f}" for key, value in self.summary[split].items())
            for split in splits
            if split in self.summary
        ]
        if lines:
            rank_zero_info("Token retention (means per video)\n  " + "\n  ".join(lines))

    def on_stage_start(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        self._start(stage)

    def on_step_outputs(self, trainer: Trainer, pl_module: LightningModule, outputs: Any, stage: str) -> None:
        self._record(pl_module, outputs, stage)

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._summarise(trainer, ("train", "val"))

    def on_test_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._summarise(trainer, ("test",))

    def on_predict_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._summarise(trainer, ("predict",))
