"""Runs one tiny epoch of DataModules under 2-process CPU DDP (gloo); used by tests/test_datamodule_ddp.py.

Usage: ``python tests/ddp_datamodule_script.py OUT_DIR {mmap|litdata} KIND DATA_DIR [KIND DATA_DIR ...]``
with ``KIND`` in ``skeleton``, ``scene_graph`` (the store backend applies to each). Lightning's ``ddp``
strategy re-runs this script for rank 1 at the first fit; each further ``KIND`` is fitted by a new Trainer
in the same process group (one launch, as a cluster job runs several stages). Every rank writes
``OUT_DIR/<KIND>/rank<r>.json`` with the samples it trained and validated on and its batch sizes, so the
test can check the sharding.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from lightning.pytorch import LightningDataModule, LightningModule, Trainer, seed_everything
from torch import Tensor, nn

from datamodules.scene_graph_datamodule import ActionGenomeDataModule
from datamodules.skeleton_datamodule import NTUSkeletonDataModule
from lvlm_var.distributed import end_distributed

GLOBAL_BATCH_SIZE = 4


def _skeleton_features(batch: dict) -> Tensor:
    return batch["skeleton"].mean(dim=(2, 3, 4))  # (B, 3)


def _scene_graph_features(batch: dict) -> Tensor:
    return batch["union_feature"].mean(dim=(1, 2))  # (B, F)


class TinyClassifier(LightningModule):
    """A linear probe on pooled inputs: enough to run real steps, gradients and a synced metric."""

    def __init__(self, kind: str, in_features: int, num_classes: int, out_dir: Path) -> None:
        super().__init__()
        self.kind = kind
        self.head = nn.Linear(in_features, num_classes)
        self.out_dir = out_dir
        self.seen: dict[str, list[str]] = {"train": [], "val": []}
        self.batch_sizes: list[int] = []

    def _step(self, batch: dict, stage: str) -> Tensor:
        if self.kind == "skeleton":
            logits = self.head(_skeleton_features(batch))
            loss = nn.functional.cross_entropy(logits, batch["label"])
            self.seen[stage].extend(batch["name"])
        else:
            logits = self.head(_scene_graph_features(batch))
            loss = nn.functional.binary_cross_entropy_with_logits(logits, batch["labels"])
            self.seen[stage].extend(batch["video_id"])
        if stage == "train":
            self.batch_sizes.append(len(logits))
        self.log(f"{stage}/loss", loss, sync_dist=True, batch_size=len(logits))
        return loss

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._step(batch, "val")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def on_fit_end(self) -> None:
        record = {
            "rank": self.global_rank,
            "world_size": self.trainer.world_size,
            "seen": self.seen,
            "batch_sizes": self.batch_sizes,
            "per_device_batch_size": self.trainer.datamodule.batch_size_per_device,
        }
        (self.out_dir / f"rank{self.global_rank}.json").write_text(json.dumps(record))


def _datamodule(kind: str, data_dir: Path, store: str) -> tuple[LightningDataModule, int]:
    options = {"batch_size": GLOBAL_BATCH_SIZE, "num_workers": 1, "store": store}
    if kind == "skeleton":
        return NTUSkeletonDataModule(data_dir, benchmark="ntu60-xsub", clip_length=8, **options), 3
    module = ActionGenomeDataModule(data_dir, frames_per_video=4, max_pairs=3, **options)
    return module, module.feature_dim


def main() -> None:
    out_dir, store, runs = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    for kind, data_dir in zip(runs[::2], runs[1::2], strict=True):
        seed_everything(0, workers=True)
        datamodule, in_features = _datamodule(kind, Path(data_dir), store)
        (out_dir / kind).mkdir(parents=True, exist_ok=True)
        model = TinyClassifier(kind, in_features, datamodule.num_classes, out_dir / kind)
        trainer = Trainer(
            accelerator="cpu",
            devices=2,
            strategy="ddp",
            max_epochs=1,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
        )
        trainer.fit(model, datamodule=datamodule)
    end_distributed()


if __name__ == "__main__":
    main()
