"""Trains on a litdata store and is killed, or resumes, mid-epoch; used by tests/test_litdata_resume.py.

Usage: ``python tests/litdata_resume_script.py {kill|resume} DATA_DIR RUN_DIR``. Every training batch's sample
names are appended to ``RUN_DIR/<mode>.jsonl`` as the step runs. ``kill`` checkpoints after every step and
SIGKILLs its own process when batch ``KILL_AT`` starts (no clean shutdown, as a preempted job); ``resume``
continues from the newest checkpoint to the end of the epoch.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import torch
from lightning.pytorch import LightningModule, Trainer, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import Tensor, nn

from datamodules.skeleton_datamodule import NTUSkeletonDataModule

KILL_AT = 3


class NameRecorder(LightningModule):
    """A linear probe that writes each training batch's names to a file before stepping."""

    def __init__(self, log_file: Path, kill_at: int | None) -> None:
        super().__init__()
        self.head = nn.Linear(3, 2)
        self.log_file = log_file
        self.kill_at = kill_at

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        if batch_idx == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        with self.log_file.open("a") as handle:
            handle.write(json.dumps({"step": self.global_step, "names": list(batch["name"])}) + "\n")
        return self.head(batch["skeleton"].mean(dim=(2, 3, 4))).logsumexp(dim=1).mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main() -> None:
    mode, data_dir, run_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    seed_everything(0, workers=True)
    # a str, as a YAML gives it: checkpoints hold the hyperparameters and load with weights_only
    datamodule = NTUSkeletonDataModule(
        str(data_dir), clip_length=4, batch_size=1, num_workers=2, store="litdata"
    )
    checkpoints = run_dir / "checkpoints"
    trainer = Trainer(
        accelerator="cpu",
        max_epochs=1,
        logger=False,
        limit_val_batches=0,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[ModelCheckpoint(dirpath=checkpoints, every_n_train_steps=1, save_top_k=-1)],
    )
    model = NameRecorder(run_dir / f"{mode}.jsonl", KILL_AT if mode == "kill" else None)
    newest = max(checkpoints.glob("*.ckpt"), key=lambda p: p.stat().st_mtime_ns) if mode == "resume" else None
    trainer.fit(model, datamodule=datamodule, ckpt_path=newest)


if __name__ == "__main__":
    main()
