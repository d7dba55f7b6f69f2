"""Fit an experiment YAML through the `lvlm-var` CLI path and test it: what the demo, the LVLM
pipeline and the ablation share."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lvlm_var.cli import run_lightning_cli

__all__ = ["FitResult", "fit_and_test"]


@dataclass
class FitResult:
    """A fitted and tested experiment: the CLI (trainer, model, datamodule), its test metrics, the time."""

    cli: Any
    metrics: dict[str, float]
    seconds: float


def fit_and_test(
    config: str | Path, overrides: list[str] | None = None, ckpt_path: str | None = "best"
) -> FitResult:
    """Run ``lvlm-var fit --config CONFIG OVERRIDES...`` in-process, then test ``ckpt_path``
    (``"best"`` falls back to the last weights when the experiment keeps no checkpoint)."""
    start = time.perf_counter()
    cli = run_lightning_cli(["fit", "--config", str(config), *(overrides or [])])
    if cli.trainer.checkpoint_callback is None:
        ckpt_path = None
    metrics = cli.trainer.test(cli.model, datamodule=cli.datamodule, ckpt_path=ckpt_path, verbose=False)[0]
    return FitResult(cli, {key: float(value) for key, value in metrics.items()}, time.perf_counter() - start)
