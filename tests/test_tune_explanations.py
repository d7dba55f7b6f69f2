"""Choosing the attribution threshold on the validation split (experiments/tune_explanations.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from datamodules.synthetic.scene_graphs import write_synthetic_scene_graphs
from experiments.ablation import EXPERIMENT
from experiments.runner import fit_and_test
from experiments.tune_explanations import tune_min_attribution

NUM_VIDEOS, EPOCHS = 96, 3


def test_thresholds_are_chosen_on_validation_never_on_test(tmp_path: Path) -> None:
    # the experiment's own model on a small set of the same generator (the session set takes minutes)
    write_synthetic_scene_graphs(tmp_path / "data", seed=0, num_videos=NUM_VIDEOS)
    fit = fit_and_test(EXPERIMENT, [
        "--data.init_args.data_dir", str(tmp_path / "data"), "--data.init_args.val_fraction", "0.2",
        "--trainer.default_root_dir", str(tmp_path), "--trainer.max_epochs", str(EPOCHS),
    ])
    checkpoint = fit.cli.trainer.checkpoint_callback.best_model_path
    report = tune_min_attribution(checkpoint, thresholds=(1e9, 0.0))
    low, high = report["rows"]
    assert (low["threshold"], high["threshold"]) == (0.0, 1e9)
    # nothing drops the log-odds by 1e9: nothing is cited and nothing is named
    assert high["cited_steps"] == 0.0 and high["named"] == 0
    assert low["correct"] == high["correct"] > 0 and low["cited_steps"] > 0
    assert report["chosen"] == (0.0 if low["rate"] > 0 else 1e9)

    stored = torch.load(checkpoint, map_location="cpu", weights_only=False)
    stored["datamodule_hyper_parameters"]["val_fraction"] = 0.0
    on_test = tmp_path / "validates_on_test.ckpt"
    torch.save(stored, on_test)
    with pytest.raises(ValueError, match="val_fraction 0, so its validation split is the test split"):
        tune_min_attribution(on_test)
