"""Resume: the LR schedule follows the resumed run's length, and a resume at an epoch boundary is exact.

A straight 4-epoch fit saves a checkpoint after every epoch; a fresh process state (other seed) resumed
from the epoch-2 checkpoint must log the same training losses and reach the same test metrics, to the
last digit, for LaIAR (Gumbel-Softmax selection, shuffled batches) and VST (k-means codebook start,
shuffled batches).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback, LightningModule, Trainer, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader, Dataset

from lvlm_var.dtformer import LaIARModule
from lvlm_var.vst import VSTConfig, VSTModule
from tests.laiar_batches import RandomSceneGraphDataset, one_cpu_thread, tiny_module_kwargs

__all__ = ["one_cpu_thread"]

VST = VSTConfig.tiny(num_classes=3)


class _Record(Callback):
    """Per-step learning rate and training loss."""

    def __init__(self) -> None:
        self.lr: dict[int, float] = {}
        self.loss: dict[int, float] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.lr[trainer.global_step] = trainer.optimizers[0].param_groups[0]["lr"]

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.loss[trainer.global_step - 1] = outputs["loss"].item()  # the step has been taken


def _laiar() -> tuple[LightningModule, Dataset, Dataset]:
    module = LaIARModule(**tiny_module_kwargs(lr=1e-3, warmup_fraction=0.2))
    return module, RandomSceneGraphDataset(12, seed=1), RandomSceneGraphDataset(6, seed=2)


def _vst_clips(count: int, seed: int) -> list[dict]:
    generator = torch.Generator().manual_seed(seed)
    return [
        {
            "skeleton": torch.randn(3, VST.num_frames, VST.num_joints, VST.num_bodies, generator=generator),
            "label": torch.tensor(i % VST.num_classes),
            "name": f"clip{i}",
        }
        for i in range(count)
    ]


def _vst() -> tuple[LightningModule, Dataset, Dataset]:
    return VSTModule(VST, learning_rate=1e-2, warmup_steps=2), _vst_clips(12, 1), _vst_clips(6, 2)


def _fit(
    build: Callable[[], tuple[LightningModule, Dataset, Dataset]],
    root: Path,
    max_epochs: int,
    seed: int = 0,
    ckpt_path: Path | None = None,
) -> tuple[_Record, dict[str, float]]:
    seed_everything(seed)
    module, train, test = build()
    record = _Record()
    trainer = Trainer(
        accelerator="cpu",
        max_epochs=max_epochs,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
        default_root_dir=root,
        num_sanity_val_steps=0,
        callbacks=[record, ModelCheckpoint(dirpath=root, save_top_k=-1, filename="{epoch}")],
    )
    trainer.fit(module, DataLoader(train, batch_size=4, shuffle=True), ckpt_path=ckpt_path)
    metrics = trainer.test(module, DataLoader(test, batch_size=3), verbose=False)[0]
    return record, metrics


@pytest.mark.parametrize("build", [_laiar, _vst], ids=["laiar", "vst"])
def test_resume_at_an_epoch_boundary_equals_the_straight_run(build, tmp_path: Path, one_cpu_thread) -> None:
    straight, straight_metrics = _fit(build, tmp_path / "straight", max_epochs=4)
    resumed, resumed_metrics = _fit(
        build, tmp_path / "resumed", max_epochs=4, seed=123, ckpt_path=tmp_path / "straight" / "epoch=1.ckpt"
    )
    assert sorted(resumed.loss) == [step for step in sorted(straight.loss) if step >= 6]
    assert {step: straight.loss[step] for step in resumed.loss} == resumed.loss
    assert resumed_metrics == straight_metrics


@pytest.mark.parametrize("build", [_laiar, _vst], ids=["laiar", "vst"])
def test_resume_with_more_epochs_follows_the_longer_schedule(build, tmp_path: Path, one_cpu_thread) -> None:
    short, _ = _fit(build, tmp_path / "short", max_epochs=2)
    assert short.lr[5] < 0.2 * max(short.lr.values())  # the 2-epoch schedule is near its end
    checkpoint = tmp_path / "short" / "epoch=1.ckpt"
    resumed, _ = _fit(build, tmp_path / "resumed", max_epochs=4, ckpt_path=checkpoint)
    straight, _ = _fit(build, tmp_path / "straight", max_epochs=4)
    assert sorted(resumed.lr) == list(range(6, 12))
    assert all(resumed.lr[step] > 0 for step in resumed.lr)
    assert resumed.lr == pytest.approx({step: straight.lr[step] for step in resumed.lr}, rel=1e-12)
