"""Final check of the VST tokenizer: a short CPU training on four synthetic actions.

Run with ``pytest tests/test_vst_synthetic_training.py -m slow -s`` to see the numbers and narratives.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import torch
from lightning.pytorch import Trainer, seed_everything
from vst_synthetic_motions import CLASS_NAMES, synthetic_batches

from lvlm_var.vst import VSTConfig, VSTModule


@pytest.mark.slow
def test_short_training_gives_class_meaningful_used_codes() -> None:
    seed_everything(0, workers=True)
    config = VSTConfig.small(num_classes=len(CLASS_NAMES))
    train = synthetic_batches(384, 32, config.num_frames, seed=1)
    val = synthetic_batches(128, 64, config.num_frames, seed=2)
    module = VSTModule(config, learning_rate=3e-3, warmup_steps=20)
    trainer = Trainer(
        max_epochs=10,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the check's budget is CPU time; on a shared machine threads only contend
    try:
        start = time.process_time()
        trainer.fit(module, train, val)
        cpu_seconds = time.process_time() - start
    finally:
        torch.set_num_threads(threads)
    metrics = {key: float(value) for key, value in trainer.callback_metrics.items()}
    narratives, labels = [], []
    for batch in val:
        narratives += module.tokenize(batch["skeleton"], fps=config.frame_rate)
        labels += batch["label"].tolist()
    mean_segments = sum(len(n.segments) for n in narratives) / len(narratives)
    print(
        f"\nCPU {cpu_seconds:.0f} s; val/acc {metrics['val/acc']:.3f}, "
        f"val/probe_acc {metrics['val/probe_acc']:.3f}, "
        f"val/perplexity {metrics['val/perplexity']:.1f}, val/dead_codes {metrics['val/dead_codes']:.0f} of "
        f"{config.codebook_size}, train/perplexity {metrics['train/perplexity']:.1f}, "
        f"mean segments {mean_segments:.2f} of {config.num_steps} steps"
    )
    names = module.tokenizer.code_names
    for label, class_name in enumerate(CLASS_NAMES):
        counts = Counter(c for n, y in zip(narratives, labels, strict=True) if y == label for c in n.codes)
        print(f"{class_name}: " + "; ".join(f"<act_{c}> {names[c]} x{k}" for c, k in counts.most_common(3)))
    assert metrics["val/acc"] >= 0.9
    assert metrics["val/probe_acc"] >= 0.8
    assert metrics["val/perplexity"] >= 8.0
    assert metrics["val/dead_codes"] < config.codebook_size / 2
    assert 1.0 <= mean_segments <= config.num_steps
    assert cpu_seconds < 180
    torch.testing.assert_close(torch.tensor(float(len(narratives))), torch.tensor(128.0))
