"""Choosing the attribution threshold on the validation split (experiments/tune_explanations.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from experiments.ablation import AblationRow, run_row
from experiments.tune_explanations import tune_min_attribution


def test_thresholds_are_scored_on_validation_and_test_is_refused(synthetic_root: Path, tmp_path: Path) -> None:
    checkpoint = run_row(AblationRow("full"), str(synthetic_root), tmp_path, epochs=1)["checkpoint"]
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
