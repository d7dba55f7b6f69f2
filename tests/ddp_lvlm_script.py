"""A 2-process CPU DDP (gloo) fit + test of the NF4 tiny LLaVA classifier, run by ``tests/test_lvlm_ddp.py``.

Usage: ``python tests/ddp_lvlm_script.py TINY_LLAVA_DIR VST_CHECKPOINT OUT_DIR``. Plain ``strategy="ddp"``
(``find_unused_parameters=False``) fails if any trainable parameter gets no gradient on a rank. Each rank
writes ``OUT_DIR/rank{r}.json`` with a fingerprint of its trainable weights after fit (DDP keeps them
equal); rank zero also writes ``OUT_DIR/result.json`` (world size, test metrics, token summary) and
``OUT_DIR/explanations.jsonl``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lightning import Trainer, seed_everything
from lvlm_helpers import VST_FRAMES, tiny_config
from vst_synthetic_motions import CLASS_NAMES, synthetic_batches

from callbacks.explanation_writer import ExplanationWriter
from callbacks.token_retention import TokenRetentionLogger
from lvlm_var.distributed import end_distributed
from lvlm_var.lvlm.module import LVLMClassifierModule


def main(model_dir: Path, vst_checkpoint: Path, out_dir: Path) -> None:
    seed_everything(0, workers=True)
    module = LVLMClassifierModule(
        str(vst_checkpoint), list(CLASS_NAMES), tiny_config(model_dir, gradient_checkpointing=True)
    )
    retention = TokenRetentionLogger()
    writer = ExplanationWriter(out_dir / "explanations.jsonl")
    trainer = Trainer(
        accelerator="cpu",
        devices=2,
        strategy="ddp",
        max_steps=2,
        limit_val_batches=1,
        num_sanity_val_steps=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[retention, writer],
        default_root_dir=out_dir,
    )
    trainer.fit(
        module,
        synthetic_batches(16, 4, frames=VST_FRAMES),
        synthetic_batches(8, 4, frames=VST_FRAMES, seed=1),
    )
    fingerprint = {
        n: float(p.detach().double().abs().sum()) for n, p in module.named_parameters() if p.requires_grad
    }
    (out_dir / f"rank{trainer.global_rank}.json").write_text(json.dumps(fingerprint))
    metrics = trainer.test(module, synthetic_batches(8, 4, frames=VST_FRAMES, seed=2), verbose=False)
    if trainer.is_global_zero:
        result = {
            "world_size": trainer.world_size,
            "test": metrics[0],
            "summary": retention.summary,
            "written": writer.written,
        }
        (out_dir / "result.json").write_text(json.dumps(result))
    end_distributed()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
