"""TokenRetentionLogger and ExplanationWriter, on one process and on a 2-process CPU DDP run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from laiar_batches import RandomSceneGraphDataset, one_cpu_thread, tiny_module_kwargs
from lightning import LightningModule, Trainer, seed_everything
from torch.utils.data import DataLoader, Subset

from callbacks.explanation_writer import ExplanationWriter
from callbacks.token_retention import TokenRetentionLogger
from lvlm_var.dtformer import LaIARModule
from lvlm_var.explanation import ExplanationRecord

# ``one_cpu_thread`` is imported as a fixture.
pytestmark = pytest.mark.usefixtures(one_cpu_thread.__name__)

REPO = Path(__file__).resolve().parents[1]


class _FixedRetentionModule(LightningModule):
    """Reports fixed retention numbers: 2 and 4 of 4 tokens kept, so the means are known."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)

    def _outputs(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        return {
            "loss": self.layer(batch).mean(),
            "tokens_kept": torch.tensor([2.0, 4.0]),
            "tokens_total": torch.tensor([4.0, 4.0]),
            "temporal_keep_rate": torch.tensor([0.5, 1.0]),
        }

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> dict[str, torch.Tensor]:
        return self._outputs(batch)

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> dict[str, torch.Tensor]:
        return self._outputs(batch)

    def test_step(self, batch: torch.Tensor, batch_idx: int) -> dict[str, torch.Tensor]:
        return {"loss": self.layer(batch).mean()}

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _trainer(tmp_path: Path, callbacks: list, **kwargs: object) -> Trainer:
    return Trainer(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        callbacks=callbacks,
        **kwargs,
    )


def test_token_retention_logs_means_and_keeps_a_summary(tmp_path: Path) -> None:
    logger = TokenRetentionLogger()
    trainer = _trainer(tmp_path, [logger], max_epochs=1, limit_train_batches=3, limit_val_batches=2)
    data = DataLoader(torch.ones(6, 2, 1), batch_size=None)
    trainer.fit(_FixedRetentionModule(), data, data)
    metrics = trainer.callback_metrics
    for split in ("train", "val"):
        assert metrics[f"{split}/tokens_kept"].item() == pytest.approx(3.0)
        assert metrics[f"{split}/tokens_total"].item() == pytest.approx(4.0)
        assert metrics[f"{split}/token_keep_rate"].item() == pytest.approx(0.75)
        assert metrics[f"{split}/temporal_keep_rate"].item() == pytest.approx(0.75)
        assert f"{split}/spatial_keep_rate" not in metrics
    assert logger.summary["train"] == {
        "tokens_kept": 3.0,
        "tokens_total": 4.0,
        "token_keep_rate": 0.75,
        "temporal_keep_rate": 0.75,
        "videos": 6.0,
    }
    assert logger.summary["val"]["videos"] == 4.0  # the sanity check is not counted


def test_token_retention_names_the_missing_outputs(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, [TokenRetentionLogger()], limit_test_batches=1)
    with pytest.raises(
        ValueError, match="the test step of _FixedRetentionModule must return a dict with 'tokens_kept'"
    ):
        trainer.test(_FixedRetentionModule(), DataLoader(torch.ones(2, 2, 1), batch_size=None), verbose=False)


def test_token_retention_with_laiar_predict(tmp_path: Path) -> None:
    logger = TokenRetentionLogger()
    module = LaIARModule(**tiny_module_kwargs())
    outputs = _trainer(tmp_path, [logger]).predict(
        module, DataLoader(RandomSceneGraphDataset(5), batch_size=2)
    )
    kept = torch.cat([o["tokens_kept"] for o in outputs])
    assert logger.summary["predict"]["tokens_kept"] == pytest.approx(kept.mean().item())
    assert logger.summary["predict"]["videos"] == 5.0
    assert 0.0 <= logger.summary["predict"]["spatial_keep_rate"] <= 1.0


def _read(path: Path) -> list[ExplanationRecord]:
    return [ExplanationRecord.from_json(json.loads(line)) for line in path.read_text().splitlines()]


def test_explanation_writer_one_record_per_video(tmp_path: Path) -> None:
    seed_everything(0)
    path = tmp_path / "out" / "explanations.jsonl"
    writer = ExplanationWriter(path, top_k=2)
    module = LaIARModule(**tiny_module_kwargs())
    _trainer(tmp_path, [writer]).test(
        module, DataLoader(RandomSceneGraphDataset(7), batch_size=3), verbose=False
    )
    records = _read(path)
    assert [r.sample_id for r in records] == [f"video_{i:03d}" for i in range(7)]
    assert all(r.method == "laiar" and len(r.predictions) == 2 for r in records)
    assert writer.written == 7


def test_explanation_writer_deduplicates_repeated_videos(tmp_path: Path) -> None:
    path = tmp_path / "predict.jsonl"
    module = LaIARModule(**tiny_module_kwargs())
    # what a DistributedSampler does to an uneven data set: repeat videos to fill the last batches
    data = Subset(RandomSceneGraphDataset(4), [0, 1, 2, 3, 0, 1])
    _trainer(tmp_path, [ExplanationWriter(path)]).predict(module, DataLoader(data, batch_size=2))
    assert [r.sample_id for r in _read(path)] == [f"video_{i:03d}" for i in range(4)]


def test_explanation_writer_checks_its_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ExplanationWriter.top_k must be >= 1 or None, got 0"):
        ExplanationWriter(tmp_path / "x.jsonl", top_k=0)
    with pytest.raises(ValueError, match=r"ExplanationWriter.stages: unknown \['fit'\]"):
        ExplanationWriter(tmp_path / "x.jsonl", stages=("fit",))
    trainer = _trainer(tmp_path, [ExplanationWriter(tmp_path)], limit_test_batches=1)
    with pytest.raises(ValueError, match="is a folder; give a .jsonl file"):
        trainer.test(_FixedRetentionModule(), DataLoader(torch.ones(2, 2, 1), batch_size=None), verbose=False)


def test_explanation_writer_names_the_missing_outputs(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, [ExplanationWriter(tmp_path / "x.jsonl")], limit_test_batches=1)
    with pytest.raises(ValueError, match="must return a dict with 'explanations'"):
        trainer.test(_FixedRetentionModule(), DataLoader(torch.ones(2, 2, 1), batch_size=None), verbose=False)


def test_two_process_ddp_fit_and_test(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.pop("LOCAL_RANK", None)
    completed = subprocess.run(
        [sys.executable, str(REPO / "tests" / "ddp_laiar_script.py"), str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["world_size"] == 2
    assert {"train", "val", "test"} <= set(result["summary"])
    assert result["summary"]["test"]["videos"] == 6.0  # 5 videos, the sampler repeats one on rank 1
    assert 0.0 <= result["test"]["test/mAP"] <= 1.0
    records = _read(tmp_path / "explanations.jsonl")
    assert sorted(r.sample_id for r in records) == [f"video_{i:03d}" for i in range(5)]
    assert result["written"] == 5 and all(len(r.predictions) == 3 for r in records)
    assert result["contrastive_distributed"] == pytest.approx(result["contrastive_full"], rel=1e-5)
