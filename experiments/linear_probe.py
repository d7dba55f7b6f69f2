"""The linear-probe baseline of LaIAR: logistic regression on each video's mean-pooled box features.

A video is the mean over its real human-object pairs of ``[person | object | union]`` RoI features; one
linear layer trained with the summed multi-label BCE (AdamW, full batch) predicts the classes. It sees
the same features as LaIAR's video branch but no order, no pairing and no language, which is what a
relation model must beat::

    python -m experiments.linear_probe --data data/synthetic_charades --frames 8 --pairs 11
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import DataLoader
from torchmetrics.classification import MultilabelAveragePrecision

from datamodules import ActionGenomeDataModule
from lvlm_var.dtformer.losses import classification_loss
from lvlm_var.present_class_map import PresentClassAveragePrecision

__all__ = ["linear_probe", "pooled_features"]


def pooled_features(loader: DataLoader) -> tuple[Tensor, Tensor]:
    """``(N, 3F)`` mean-pooled ``[person | object | union]`` features and ``(N, C)`` labels."""
    features, labels = [], []
    for batch in loader:
        mask = batch["mask"].unsqueeze(-1).float()
        parts = [batch[k] for k in ("subject_feature", "object_feature", "union_feature")]
        pooled = torch.cat(parts, dim=-1).mul(mask).sum((1, 2)) / mask.sum((1, 2)).clamp(min=1.0)
        features.append(pooled)
        labels.append(batch["labels"].float())
    return torch.cat(features), torch.cat(labels)


def linear_probe(
    datamodule: ActionGenomeDataModule, steps: int = 500, lr: float = 1e-2, weight_decay: float = 1e-3
) -> dict[str, float]:
    """Fit the probe on the training split and return test ``mAP`` and ``mAP_present``."""
    datamodule.prepare_data()
    datamodule.setup("fit")
    train_x, train_y = pooled_features(datamodule.train_dataloader())
    datamodule.setup("test")
    test_x, test_y = pooled_features(datamodule.test_dataloader())
    mean, std = train_x.mean(0), train_x.std(0).clamp(min=1e-6)
    probe = torch.nn.Linear(train_x.shape[1], train_y.shape[1])
    optimizer = torch.optim.AdamW(probe.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        optimizer.zero_grad()
        classification_loss(probe((train_x - mean) / std), train_y, multi_label=True).backward()
        optimizer.step()
    with torch.no_grad():
        scores = probe((test_x - mean) / std)
    targets = test_y.long()
    every = MultilabelAveragePrecision(num_labels=targets.shape[1], average="macro")
    present = PresentClassAveragePrecision(datamodule.class_names)
    return {
        "test/mAP": float(every(scores, targets)),
        "test/mAP_present": float(present(scores, targets)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.linear_probe", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/synthetic_charades"))
    parser.add_argument("--frames", type=int, default=8, help="frames_per_video of the experiment")
    parser.add_argument("--pairs", type=int, default=11, help="max_pairs of the experiment")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    datamodule = ActionGenomeDataModule(args.data, frames_per_video=args.frames, max_pairs=args.pairs)
    print(json.dumps(linear_probe(datamodule), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
