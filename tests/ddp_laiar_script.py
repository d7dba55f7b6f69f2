"""A 2-process CPU DDP (gloo) fit + test of a tiny LaIAR, run by ``tests/test_callbacks.py`` in a subprocess.

Usage: ``python tests/ddp_laiar_script.py OUT_DIR``. Writes ``OUT_DIR/explanations.jsonl`` (ExplanationWriter)
and ``OUT_DIR/result.json`` (rank zero): the token-retention summary, the test metrics, and the contrastive
loss computed with negatives gathered over both ranks next to the same loss on one process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from laiar_batches import RandomSceneGraphDataset, tiny_module_kwargs
from lightning import Trainer, seed_everything
from torch.utils.data import DataLoader

from callbacks.explanation_writer import ExplanationWriter
from callbacks.token_retention import TokenRetentionLogger
from lvlm_var.distributed import end_distributed
from lvlm_var.dtformer import LaIARModule, RelationContrastiveLoss

NUM_TEST_VIDEOS = 5  # odd: the DistributedSampler pads rank 1 with a duplicate


def _gathered_contrastive_loss() -> tuple[float, float]:
    """This rank's half of a fixed batch with global negatives, averaged over ranks; and the full loss."""
    generator = torch.Generator().manual_seed(0)
    visual = torch.randn(2, 1, 2, 6, generator=generator)
    semantic = torch.randn(2, 1, 2, 6, generator=generator)
    mask = torch.ones(2, 1, 2, dtype=torch.bool)
    loss = RelationContrastiveLoss()
    rank = dist.get_rank()
    local = loss(visual[rank : rank + 1], semantic[rank : rank + 1], mask[rank : rank + 1])
    dist.all_reduce(local, op=dist.ReduceOp.SUM)
    distributed = local.item() / dist.get_world_size()
    with torch.no_grad():
        # the reference on one process: every row is local, nothing gathered
        x = torch.nn.functional.normalize(visual.reshape(4, 6), dim=-1)
        y = torch.nn.functional.normalize(semantic.reshape(4, 6), dim=-1)
        logits = loss.scale() * x @ y.T
        targets = torch.arange(4)
        full = (
            torch.nn.functional.cross_entropy(logits, targets)
            + torch.nn.functional.cross_entropy(logits.T, targets)
        ) / 2
    return distributed, full.item()


def main(out_dir: Path) -> None:
    torch.set_num_threads(1)  # two processes on a shared 2-core machine
    seed_everything(0, workers=True)
    module = LaIARModule(**tiny_module_kwargs())
    retention = TokenRetentionLogger()
    writer = ExplanationWriter(out_dir / "explanations.jsonl", top_k=3)
    trainer = Trainer(
        accelerator="cpu",
        devices=2,
        strategy="ddp",
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[retention, writer],
        default_root_dir=out_dir,
    )
    train = DataLoader(RandomSceneGraphDataset(8), batch_size=2)
    trainer.fit(module, train, DataLoader(RandomSceneGraphDataset(4, seed=1), batch_size=2))
    metrics = trainer.test(module, DataLoader(RandomSceneGraphDataset(NUM_TEST_VIDEOS, seed=2), batch_size=2))
    distributed, full = _gathered_contrastive_loss()
    if trainer.is_global_zero:
        result = {
            "world_size": trainer.world_size,
            "summary": retention.summary,
            "test": metrics[0],
            "written": writer.written,
            "contrastive_distributed": distributed,
            "contrastive_full": full,
        }
        (out_dir / "result.json").write_text(json.dumps(result))
    end_distributed()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
