"""experiments.language_branch: the language model alone on the Charades preset, and its order metric."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from datamodules import ActionGenomeDataModule
from datamodules.synthetic.charades_scale import (
    CharadesScaleConfig,
    charades_scale_actions,
    write_synthetic_charades_scale,
)
from experiments.language_branch import order_accuracy, train_language_branch, twin_classes


def test_twins_swap_the_two_relations_of_one_object() -> None:
    actions = charades_scale_actions()
    twins = twin_classes()
    for i, j in enumerate(twins.tolist()):
        if i != j:
            assert actions[j].objects == actions[i].objects
            assert (actions[j].relation_before, actions[j].relation_after) == (
                actions[i].relation_after,
                actions[i].relation_before,
            )
            assert twins[j] == i


def test_order_accuracy_counts_positives_that_beat_their_twin() -> None:
    twins = torch.tensor([1, 0, 2])  # classes 0 and 1 are twins, class 2 has none
    labels = torch.tensor([[1, 0, 1], [0, 1, 0]])
    scores = torch.tensor([[0.9, 0.1, 0.0], [0.8, 0.2, 0.0]])
    assert order_accuracy(scores, labels, twins) == 0.5  # video 0 right, video 1 wrong; class 2 left out


@pytest.mark.parametrize("readout,rotary_time", [("class_token", False), ("token_max", True)])
def test_one_epoch_reports_loss_map_and_order(tmp_path: Path, readout: str, rotary_time: bool) -> None:
    torch.manual_seed(0)
    config = CharadesScaleConfig.cpu()
    write_synthetic_charades_scale(tmp_path, seed=1, num_videos=40, feature_dim=8, config=config)
    datamodule = ActionGenomeDataModule(tmp_path, frames_per_video=8, max_pairs=11, batch_size=16)
    (record,) = train_language_branch(
        datamodule, epochs=1, temporal_embedding=False, readout=readout, rotary_time=rotary_time
    )
    assert set(record) == {"loss", "mAP", "order"}
    assert record["loss"] > 0 and 0.0 <= record["mAP"] <= 1.0 and 0.0 <= record["order"] <= 1.0
